/** Input gradients ∂S_c/∂x and plain saliency (Simonyan et al.): max over channels of |∂S_c/∂x|. */
import * as tf from '@tensorflow/tfjs';
import { argmax, type Grid } from '../../services/heatmaps/grid.ts';
import { foldPlan } from './fold.ts';
import { forward, gradientFolding, hasSoftmaxHead, runGraph } from './graph.ts';

/**
 * Input gradients ∂S_c/∂x of a batch (each image's own class).
 * @param x [N, H, W, 3]
 * @param cls class per image
 * @returns [N, H, W, 3] (a tensor the caller owns)
 */
export function inputGradient(model: tf.LayersModel, x: tf.Tensor4D, cls: number[]): tf.Tensor4D {
  return tf.tidy(() => {
    const logits = hasSoftmaxHead(model);
    const numClasses = (model.outputs[0]!.shape[1] as number) ?? 1;
    /** [N, C] */
    const sel = tf.oneHot(tf.tensor1d(cls, 'int32'), numClasses).toFloat();
    const fast = gradientFolding.enabled ? foldPlan(model) : undefined;
    return tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(runGraph(model, xx, { logits, ...(fast ? { fast } : {}) }), sel)))(x) as tf.Tensor4D;
  });
}

/**
 * Saliency of a batch: max over channels of |∂S_c/∂x|.
 * @param x [N, H, W, 3]
 * @returns [N, H, W] (a tensor the caller owns)
 */
function saliencyTensor(model: tf.LayersModel, x: tf.Tensor4D, cls: number[]): tf.Tensor3D {
  return tf.tidy(() => tf.max(tf.abs(inputGradient(model, x, cls)), 3) as tf.Tensor3D);
}

/** Predicted class of each image of a batch. @param x [N, H, W, 3] */
export function predictClasses(model: tf.LayersModel, x: tf.Tensor4D): { classes: number[]; probabilities: number[][] } {
  const probabilities = forward(model, x);
  return { classes: probabilities.map(argmax), probabilities };
}

/**
 * Plain input-gradient saliency of one or more images.
 * @param x [N, H, W, 3]
 */
export function saliency(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  classIndex: number | null | (number | null)[],
): { maps: Grid[]; probabilities: number[][] } {
  const { classes: pred, probabilities } = predictClasses(model, x);
  const list = Array.isArray(classIndex) ? classIndex : pred.map(() => classIndex);
  const cls = list.map((c, i) => c ?? pred[i]!);
  const t = saliencyTensor(model, x, cls);
  const [n, h, w] = t.shape;
  const all = t.dataSync() as Float32Array;
  t.dispose();
  const maps: Grid[] = [];
  for (let i = 0; i < n; i++) maps.push({ width: w, height: h, data: all.slice(i * h * w, (i + 1) * h * w) });
  return { maps, probabilities };
}
