/** Grad-CAM (Selvaraju et al.) at any layer with a 4-D output: α_k = mean_{y,x} ∂S_c/∂A_k, map ReLU(Σ_k α_k A_k). */
import * as tf from '@tensorflow/tfjs';
import type { Grid } from '../../services/heatmaps/grid.ts';
import { foldPlan } from './fold.ts';
import { gradientFolding, hasSoftmaxHead, runGraph } from './graph.ts';
import { defaultGradCamLayer } from './layers.ts';

/**
 * Grad-CAM at `layerName` (default: the last conv features) for class c of each image (null: predicted).
 * @param x [N, H, W, 3]
 * @returns per image the ReLU'd map on the layer's grid, and the probabilities
 */
export function gradCam(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  classIndex: number | null | (number | null)[],
  layerName?: string,
): { maps: Grid[]; probabilities: number[][] } {
  const layer = layerName ?? defaultGradCamLayer(model);
  if (!model.layers.some((l) => l.name === layer)) throw new Error(`Model has no layer ${layer}`);
  const logits = hasSoftmaxHead(model);
  const { mapsT, probsT } = tf.tidy(() => {
    const recorded = new Map<string, tf.Tensor>();
    /** [N, classes] */
    const fast = gradientFolding.enabled ? foldPlan(model) : undefined;
    const exact = new Set([layer]);
    const scores0 = runGraph(model, x, { logits, record: recorded, exact, ...(fast ? { fast } : {}) }) as tf.Tensor2D;
    const n = x.shape[0];
    const cls = perImageClasses(classIndex, n, scores0);
    /** [N, C] one-hot selecting each image's class */
    const sel = tf.oneHot(tf.tensor1d(cls, 'int32'), scores0.shape[1]!).toFloat();
    /** [N, h, w, K] */
    const A = recorded.get(layer)! as tf.Tensor4D;
    const g = tf.grad((a: tf.Tensor) =>
      tf.sum(tf.mul(runGraph(model, x, { logits, feed: { layer, value: a }, recorded, exact, ...(fast ? { fast } : {}) }), sel)),
    )(A) as tf.Tensor4D;
    /** [N, 1, 1, K] */
    const alpha = tf.mean(g, [1, 2], true);
    /** [N, h, w] */
    const m = tf.relu(tf.sum(tf.mul(alpha, A), 3));
    const probs = logits ? tf.softmax(scores0) : scores0;
    return { mapsT: m, probsT: probs };
  });
  const [n, h, w] = mapsT.shape as [number, number, number];
  const all = mapsT.dataSync() as Float32Array;
  const probabilities = probsT.arraySync() as number[][];
  mapsT.dispose();
  probsT.dispose();
  const maps: Grid[] = [];
  for (let i = 0; i < n; i++) maps.push({ width: w, height: h, data: all.slice(i * h * w, (i + 1) * h * w) });
  return { maps, probabilities };
}

function perImageClasses(classIndex: number | null | (number | null)[], n: number, scores: tf.Tensor2D): number[] {
  const list = Array.isArray(classIndex) ? classIndex : Array.from({ length: n }, () => classIndex);
  if (list.every((c) => c !== null)) return list as number[];
  const am = tf.tidy(() => tf.argMax(scores, 1)).dataSync();
  return list.map((c, i) => c ?? am[i]!);
}
