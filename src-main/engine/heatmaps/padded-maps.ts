/**
 * Heatmaps of a letterboxed model whose padding is masked out of pooling: every map (CAM, Grad-CAM, saliency,
 * SmoothGrad, on whatever grid it comes) has its padded cells set to the photo's smallest value before the main
 * side normalises it, so its maximum can never sit in the grey; the probabilities sent with it are the model's
 * own, pooled over the photo's cells, as predict and Inspect compute them.
 */
import * as tf from '@tensorflow/tfjs';
import type { HeatmapsJobEvent } from '../../services/engine/job-types.ts';
import { contentCells, suppressPadding, type Rect } from '../../services/training/data/geometry.ts';
import type { EngineSample, SampleSource } from '../../services/training/data/source.ts';
import { cellMaskBatch, maskedClassifier } from '../model/masked-pool.ts';
import { HEAD_LAYERS } from '../model/mobilenet.ts';
import { pixelsToBatch, useBackend } from '../model/tf-util.ts';
import { loadClassifier } from '../model-cache.ts';

export class PaddedMaps {
  private readonly size: number;
  private readonly rects = new Map<number, Rect>();
  private readonly probs = new Map<number, number[]>();

  constructor(size: number) {
    this.size = size;
  }

  /** Reads where a batch's photos lie and scores it with masked pooling (indices into samples; px in the same order). */
  async load(
    source: SampleSource,
    indices: number[],
    samples: EngineSample[],
    backend: string,
    modelDir: string,
    px: Uint8Array[],
  ): Promise<void> {
    if (!source.contentOf || !indices.length) return;
    const rects = await Promise.all(indices.map((i) => source.contentOf!(i, this.size)));
    this.rects.clear();
    this.probs.clear();
    indices.forEach((i, j) => this.rects.set(samples[i]!.id, rects[j]!));
    const { model } = await loadClassifier(modelDir, backend);
    await useBackend(backend);
    const shape = (model.getLayer(HEAD_LAYERS.gap).input as tf.SymbolicTensor).shape;
    const run = maskedClassifier(model);
    const probs = tf.tidy(
      () => run(pixelsToBatch(px, this.size), cellMaskBatch(rects, [], this.size, shape[1]!, shape[2]!)).arraySync() as number[][],
    );
    indices.forEach((i, j) => this.probs.set(samples[i]!.id, probs[j]!));
  }

  /** The masked model's predicted class of an image of the current batch (null: not loaded). */
  predicted(imageId: number): number | null {
    const p = this.probs.get(imageId);
    return p ? p.indexOf(Math.max(...p)) : null;
  }

  /** A map event with its padding suppressed and the masked model's probabilities; other events unchanged. */
  apply(e: HeatmapsJobEvent): HeatmapsJobEvent {
    if (e.kind !== 'map') return e;
    const r = this.rects.get(e.imageId);
    if (!r) return e;
    const data = suppressPadding(Float32Array.from(e.data), contentCells(r, this.size, e.width, e.height));
    return { ...e, data, probabilities: this.probs.get(e.imageId) ?? e.probabilities };
  }
}
