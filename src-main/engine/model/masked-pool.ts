/**
 * Global average pooling over the photo's cells only (letterbox with the padding masked out): the head sees the mean
 * of the feature-grid cells whose receptive-field centre lies in the photo (geometry.ts contentCells), so a 2:1
 * photo's embedding does not depend on how much grey surrounds it. Differentiable (plain tf ops), so the same pool
 * serves transfer embeddings, fine-tuning steps, prediction and TTA.
 */
import * as tf from '@tensorflow/tfjs';
import { contentCells, contentUnderVariant, type Rect } from '../../services/training/data/geometry.ts';
import type { SampleSource } from '../../services/training/data/source.ts';
import { HEAD_LAYERS } from './mobilenet.ts';

/**
 * Cell masks of a batch as [B, gh, gw, 1] (1 = photo), each content rectangle seen under its fixed variant.
 * @param rects per sample, the content rectangle in the size x size input before the variant
 */
export function cellMaskBatch(rects: Rect[], variants: number[], size: number, gh: number, gw: number): tf.Tensor4D {
  const data = new Float32Array(rects.length * gh * gw);
  rects.forEach((r, j) => data.set(contentCells(contentUnderVariant(r, size, variants[j] ?? 0), size, gw, gh), j * gh * gw));
  return tf.tensor4d(data, [rects.length, gh, gw, 1]);
}

/**
 * Mean of `features` [B, gh, gw, C] over the cells where `mask` [B, gh, gw, 1] is 1: [B, C].
 * With a mask of ones this is global average pooling.
 */
export function maskedMean(features: tf.Tensor, mask: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const sum = tf.sum(tf.mul(features, mask), [1, 2]);
    const count = tf.maximum(tf.sum(mask, [1, 2]), 1);
    return tf.div(sum, count) as tf.Tensor2D;
  });
}

/** The content rectangles of samples in a source that masks its padding (null when it does not). */
export async function contentsOf(source: SampleSource, samples: number[], size: number): Promise<Rect[] | null> {
  if (!source.contentOf) return null;
  return Promise.all(samples.map((i) => source.contentOf!(i, size)));
}

/**
 * A classifier (backbone → GAP → dropout → dense softmax) run with masked pooling: the backbone up to the GAP
 * layer's input, the masked mean, then the dense layer (dropout is the identity outside training). Shares the
 * classifier's layers and weights: dispose the classifier, not this.
 */
export function maskedClassifier(full: tf.LayersModel): (batch: tf.Tensor, mask: tf.Tensor) => tf.Tensor {
  const gap = full.getLayer(HEAD_LAYERS.gap);
  const features = tf.model({ inputs: full.inputs, outputs: gap.input as tf.SymbolicTensor, name: `${full.name}_features` });
  const dense = full.getLayer(HEAD_LAYERS.dense);
  return (batch, mask) =>
    tf.tidy(() => dense.apply(maskedMean(features.apply(batch, { training: false }) as tf.Tensor, mask)) as tf.Tensor);
}
