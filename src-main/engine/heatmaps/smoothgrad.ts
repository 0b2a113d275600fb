/**
 * SmoothGrad (Smilkov et al.): saliency averaged over n copies x + N(0, σ²), run through the network in batches
 * whose noise is drawn in JS (gaussian.ts) and whose maps are reduced where it is cheapest.
 */
import * as tf from '@tensorflow/tfjs';
import { isOutOfMemory } from '../../shared/errors.ts';
import { argmax, type Grid } from '../../services/heatmaps/grid.ts';
import { fillGaussian } from './gaussian.ts';
import { forward } from './graph.ts';
import { inputGradient } from './saliency.ts';

export interface SmoothGradOptions {
  /** Number of noisy copies (default 50, as in the study). */
  n?: number;
  /** Noise standard deviation as a fraction of the input range (default 0.1). */
  sigma?: number;
  /** Input range (max − min) of the preprocessed input: 2 for MobileNet's [-1, 1]. */
  inputRange?: number;
  /** Copies per batch (default: defaultSmoothGradBatch for the backend); 1 = one by one. */
  batchSize?: number;
  /** Noise seed; copy i uses seed + i, so any batching draws the same noise. */
  seed?: number;
  /** Where each batch's maps are reduced (default: saliencyReductionFor the current backend). */
  reduction?: SaliencyReduction;
}

/**
 * Copies per SmoothGrad batch: at 224 × 224, 25 on wasm and cpu (bounded heap, and larger batches gained nothing
 * there) and 50 on native TensorFlow (a GPU runs all 50 copies of the study's default at once); scaled down with
 * the pixel count. A batch that runs out of memory is split (smoothGrad), so these are starting points.
 */
export function defaultSmoothGradBatch(height: number, width: number, backend = 'wasm'): number {
  const at224 = backend === 'tensorflow' ? 50 : 25;
  return Math.max(1, Math.min(at224, Math.floor((at224 * 224 * 224) / (height * width))));
}

/**
 * Where a batch's saliency maps are reduced: on the device for native TensorFlow (a GPU would otherwise send the
 * whole gradient back), in JS elsewhere (wasm reduces a 3-wide innermost axis as a scalar loop, ≈ 12 ms per
 * 25 × 224 × 224 batch, and its Sum kernel crashes on that shape).
 */
export type SaliencyReduction = 'device' | 'js';

export function saliencyReductionFor(backend: string): SaliencyReduction {
  return backend === 'tensorflow' ? 'device' : 'js';
}

/**
 * Adds Σ over the batch of max_c |g| into `acc`.
 * @param g [m, H, W, C] input gradients (not disposed)
 * @param acc [H·W] running sum, updated in place
 */
function accumulateSaliency(g: tf.Tensor4D, acc: Float64Array, how: SaliencyReduction): void {
  const [m, H, W, C] = g.shape;
  const L = H * W;
  if (how === 'device') {
    const sum = tf.tidy(() => tf.sum(tf.max(tf.abs(g), 3), 0));
    const d = sum.dataSync();
    sum.dispose();
    for (let p = 0; p < L; p++) acc[p]! += d[p]!;
    return;
  }
  const d = g.dataSync() as Float32Array;
  for (let j = 0; j < m; j++) {
    const off = j * L * C;
    for (let p = 0; p < L; p++) {
      let best = 0;
      for (let c = 0; c < C; c++) {
        const v = Math.abs(d[off + p * C + c]!);
        if (v > best) best = v;
      }
      acc[p]! += best;
    }
  }
}

/**
 * Frees what a failed tf.grad left behind: tfjs-core 4.22 disposes the tensors its tape saved for the backward pass
 * only when the gradient succeeds, so a batch that ran out of memory would leak them (and run out again sooner).
 */
function releaseAbandonedTape(): void {
  const { state } = tf.engine() as unknown as { state: { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null } };
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}

/**
 * SmoothGrad of ONE image: mean over n noisy copies of the saliency map, copies run `batchSize` at a time.
 * Copy i is x + std · z with z drawn by fillGaussian(seed + i), whatever the batching. A batch that runs out of
 * memory is retried in halves; `batchSize` in the result is the size that ran, for the caller's next image.
 * @param x [1, H, W, 3]
 */
export function smoothGrad(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  classIndex: number | null,
  opts: SmoothGradOptions = {},
  signal?: AbortSignal,
): { map: Grid; probabilities: number[]; batchSize: number } {
  const n = opts.n ?? 50;
  const std = (opts.sigma ?? 0.1) * (opts.inputRange ?? 2);
  const [, H, W, C] = x.shape;
  const backend = tf.getBackend();
  let bs = Math.max(1, Math.min(n, opts.batchSize ?? defaultSmoothGradBatch(H, W, backend)));
  const seed = opts.seed ?? 1;
  const how = opts.reduction ?? saliencyReductionFor(backend);
  const probabilities = forward(model, x)[0]!;
  const c = classIndex ?? argmax(probabilities);
  const image = x.dataSync() as Float32Array;
  const L = H * W * C;
  /** [H·W] running sum of the copies' saliency */
  const acc = new Float64Array(H * W);
  for (let i0 = 0; i0 < n;) {
    if (signal?.aborted) throw Object.assign(new Error('Cancelled by the user'), { name: 'CancelledError' });
    const m = Math.min(bs, n - i0);
    // The noisy copies are made in JS and uploaded once: one tensor instead of m noise tensors, m adds and a concat.
    const noisy = new Float32Array(m * L);
    for (let j = 0; j < m; j++) fillGaussian(noisy.subarray(j * L, (j + 1) * L), seed + i0 + j, std, image);
    let g: tf.Tensor4D;
    try {
      g = tf.tidy(() =>
        inputGradient(
          model,
          tf.tensor4d(noisy, [m, H, W, C]),
          Array.from({ length: m }, () => c),
        ),
      );
    } catch (err) {
      releaseAbandonedTape();
      if (m === 1 || !isOutOfMemory(err)) throw err;
      bs = Math.ceil(m / 2);
      continue;
    }
    try {
      accumulateSaliency(g, acc, how);
    } finally {
      g.dispose();
    }
    i0 += m;
  }
  const data = new Float32Array(H * W);
  for (let p = 0; p < data.length; p++) data[p] = acc[p]! / n;
  return { map: { width: W, height: H, data }, probabilities, batchSize: bs };
}
