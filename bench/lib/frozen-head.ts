/**
 * The benches' plain baseline: a softmax head on frozen features, Adam 1e-3, 300 epochs of batches of 32 (the
 * "twenty-line script" the presets must beat), on the same JS head the trainer uses.
 */
import { buildHead, HEAD_LAYERS } from '../../src-main/engine/model/mobilenet.ts';
import { JsHead } from '../../src-main/engine/train/js-head.ts';
import { createRng, shuffleInPlace } from '../../src-main/services/training/train/rng.ts';

/** Rows of C features each (row-major) and their class indices. */
export interface FeatureRows {
  x: Float32Array;
  y: number[];
}

export function fitFrozenHead(tr: FeatureRows, C: number, K: number, seed: number, epochs = 300): JsHead {
  const head = buildHead(C, K, seed);
  const [k0, b0] = head.getLayer(HEAD_LAYERS.dense).getWeights();
  const js = new JsHead(k0!.dataSync() as Float32Array, b0!.dataSync() as Float32Array, C, K, 1e-3);
  head.dispose();
  const rng = createRng(seed);
  const order = tr.y.map((_, i) => i);
  const buf = new Float32Array(32 * C);
  for (let e = 1; e <= epochs; e++) {
    shuffleInPlace(order, rng);
    for (let b = 0; b < order.length; b += 32) {
      const part = order.slice(b, b + 32);
      part.forEach((i, j) => buf.set(tr.x.subarray(i * C, (i + 1) * C), j * C));
      const labels = part.map((i) => tr.y[i]!);
      js.step(
        buf.subarray(0, part.length * C),
        labels,
        labels.map(() => 1),
        undefined,
      );
    }
  }
  return js;
}
