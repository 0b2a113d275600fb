/**
 * The localisation curve of a training run: the CAM pointing game and energy in region of the validation images
 * that have regions, measured after every epoch with the head (and tail) of that epoch.
 *
 * - Transfer phase (frozen backbone): the validation images' last conv maps (gh x gw x C, 7x7 at 224) are computed
 *   once, in the same pass as their embeddings; each epoch then costs one CAM (C multiply-adds per node) per image.
 * - Fine-tuning: the validation pass already runs the tail; it is run up to the conv map instead of the pooled
 *   vector, the head is applied to the pooled map, and the CAM is taken from the map (no extra forward pass).
 */
import * as tf from '@tensorflow/tfjs';
import { HEAD_LAYERS } from '../model/mobilenet.ts';
import {
  LocalisationTally,
  prepareTarget,
  scoreBatch,
  type EpochLocalisation,
  type LocalisationTarget,
} from '../../services/training/guide/localisation.ts';
import type { RegionMask } from '../../services/training/guide/regions.ts';
import { contentCells, type Rect } from '../../services/training/data/geometry.ts';
import type { SampleSource } from '../../services/training/data/source.ts';

/**
 * A model that returns [conv map, pooled vector] of a segment built with `gap: true` (shares its layers and
 * weights: do not dispose it, dispose the segment).
 */
export function withMaps(segment: tf.LayersModel): tf.LayersModel {
  const gap = segment.getLayer(HEAD_LAYERS.gap);
  const maps = gap.input as tf.SymbolicTensor;
  return tf.model({ inputs: segment.inputs, outputs: [maps, segment.outputs[0]!], name: `${segment.name}_maps` });
}

export class EpochLocaliser {
  private readonly masks: ReadonlyMap<number, RegionMask>;
  private readonly classes: string[];
  private readonly targets = new Map<number, LocalisationTarget | null>();
  private grid: { gw: number; gh: number } | null = null;
  /** Transfer phase: the conv maps of the localised validation samples (by sample index), computed once. */
  readonly cachedMaps = new Map<number, Float32Array>();
  /** Letterbox with masked padding: where each localised sample's photo lies in the input (its size `inputSize`). */
  private readonly contents = new Map<number, Rect>();
  private inputSize = 0;
  private readonly cells = new Map<string, Float32Array>();

  constructor(masks: ReadonlyMap<number, RegionMask>, classes: string[]) {
    this.masks = masks;
    this.classes = classes;
  }

  /** Whether sample `i` has regions to be scored against. */
  has(i: number): boolean {
    return this.masks.has(i);
  }

  get active(): boolean {
    return this.masks.size > 0;
  }

  /** The prepared target of sample i on a gw x gh grid (prepared once per grid size). */
  targetOf(i: number, gw: number, gh: number): LocalisationTarget | null {
    if (!this.grid || this.grid.gw !== gw || this.grid.gh !== gh) {
      this.targets.clear();
      this.grid = { gw, gh };
    }
    if (!this.targets.has(i)) {
      const m = this.masks.get(i);
      this.targets.set(i, m ? prepareTarget(m.mask, m.width, m.height, gw, gh, m.tolerance) : null);
    }
    return this.targets.get(i) ?? null;
  }

  /** Letterbox with masked padding: reads where the localised samples' photos lie, so their padding is never scored. */
  async useContents(source: SampleSource, size: number): Promise<void> {
    if (!source.contentOf || this.inputSize === size) return;
    this.inputSize = size;
    for (const i of this.masks.keys()) this.contents.set(i, await source.contentOf(i, size));
  }

  /** Sample i's photo cells on a gw x gh grid (null: nothing masked). */
  private cellsOf(i: number, gw: number, gh: number): Float32Array | null {
    const r = this.contents.get(i);
    if (!r) return null;
    const k = `${i}:${gw}x${gh}`;
    let c = this.cells.get(k);
    if (!c) this.cells.set(k, (c = contentCells(r, this.inputSize, gw, gh)));
    return c;
  }

  /** A tally to fill during one validation pass. */
  tally(): LocalisationTally {
    return new LocalisationTally();
  }

  /**
   * Scores one batch of conv maps of the tail being trained with the head's current kernel (time counted in the tally).
   * @param maps [n, gh, gw, C]
   */
  scoreTensor(tally: LocalisationTally, maps: tf.Tensor, samples: number[], labels: number[], head: tf.LayersModel, K: number): void {
    const t0 = performance.now();
    const kernel = head.getLayer(HEAD_LAYERS.dense).getWeights()[0]!.dataSync() as Float32Array;
    const data = maps.dataSync() as Float32Array;
    tally.ms += performance.now() - t0;
    this.score(tally, data, maps.shape, samples, labels, kernel, K);
  }

  /**
   * Scores one batch of conv maps.
   * @param maps [n, gh, gw, C] values, row-major
   */
  score(
    tally: LocalisationTally,
    maps: Float32Array,
    shape: readonly number[],
    samples: number[],
    labels: number[],
    kernel: Float32Array,
    K: number,
  ): void {
    const t0 = performance.now();
    const [n, gh, gw, C] = shape as [number, number, number, number];
    scoreBatch(
      tally,
      maps,
      n,
      gh * gw,
      C,
      kernel,
      K,
      (j) => labels[j]!,
      (j) => this.targetOf(samples[j]!, gw, gh),
      (j) => this.cellsOf(samples[j]!, gw, gh),
    );
    tally.ms += performance.now() - t0;
  }

  /** Scores the cached transfer-phase maps with the head's kernel [C x K]. */
  scoreCached(labelOf: (i: number) => number, kernel: Float32Array, K: number, shape: readonly number[]): EpochLocalisation | null {
    const t = this.tally();
    for (const [i, m] of this.cachedMaps) this.score(t, m, [1, ...shape], [i], [labelOf(i)], kernel, K);
    return t.result(this.classes);
  }

  result(t: LocalisationTally): EpochLocalisation | null {
    return t.result(this.classes);
  }
}
