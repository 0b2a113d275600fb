/** One optimiser step through TensorFlow.js (fine-tuning: tail → dropout → head, guidance optionally added). */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../services/training/train/rng.ts';
import { guidanceLossTensor, type GuideTarget } from '../guide/guidance.ts';
import { maskedMean } from '../model/masked-pool.ts';
import { HEAD_LAYERS } from '../model/mobilenet.ts';
import type { TrainingRun } from './run-state.ts';

/** One optimiser step of (tail →) dropout → head on a batch; returns [loss, correct]. */
export function trainStep(
  run: TrainingRun,
  opt: tf.Optimizer,
  vars: tf.Variable[],
  input: tf.Tensor,
  tail: tf.LayersModel | null,
  labels: number[],
  weights: number[],
  dropRng: Rng,
  guide?: { mapped: tf.LayersModel; targets: (GuideTarget | null)[] },
  /**
   * Letterbox with masked padding: the photo cells [B, gh, gw, 1] and the tail returning [map, pooled] (null: no
   * tail, the input is the map); the head sees the map's mean over the photo's cells.
   */
  pool?: { mask: tf.Tensor; mapped: tf.LayersModel | null },
): [number, number] {
  const B = labels.length;
  const C = run.spec.featureChannels;
  const rate = run.inp.config.dropout;
  const mask = new Float32Array(B * C);
  for (let i = 0; i < mask.length; i++) mask[i] = rate > 0 ? (dropRng.next() >= rate ? 1 / (1 - rate) : 0) : 1;
  let correct: tf.Tensor | null = null;
  /** With guidance the optimised cost adds the guidance term; the reported loss stays the cross-entropy. */
  let crossEntropy: tf.Tensor | null = null;
  const cost = tf.tidy((): tf.Scalar => {
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), run.numClasses);
    const w = tf.tensor1d(labels.map((l) => weights[l]!));
    const m = tf.tensor2d(mask, [B, C]);
    return opt.minimize(
      () => {
        let f: tf.Tensor;
        let maps: tf.Tensor | null = null;
        if (pool) {
          maps = pool.mapped ? (pool.mapped.apply(input, { training: true }) as tf.Tensor[])[0]! : input;
          f = maskedMean(maps, pool.mask);
        } else if (guide) [maps, f] = guide.mapped.apply(input, { training: true }) as [tf.Tensor, tf.Tensor];
        else f = tail ? (tail.apply(input, { training: true }) as tf.Tensor) : input;
        const p = run.head!.apply(tf.mul(f, m), { training: true }) as tf.Tensor;
        correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32')));
        const ce = tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), 1));
        const mean = tf.div(tf.sum(tf.mul(ce, w)), B) as tf.Scalar;
        if (!guide || !maps) return mean;
        crossEntropy = tf.keep(mean);
        const kernel = run.head!.getLayer(HEAD_LAYERS.dense).getWeights()[0]!;
        return tf.add(mean, guidanceLossTensor(maps, kernel, labels, guide.targets, run.guideWeight)) as tf.Scalar;
      },
      true,
      vars,
    )!;
  });
  const loss = ((crossEntropy as tf.Tensor | null) ?? cost).dataSync()[0]!;
  const acc = (correct as tf.Tensor | null)?.dataSync()[0] ?? 0;
  tf.dispose([cost, correct as tf.Tensor | null, crossEntropy as tf.Tensor | null].filter((t): t is tf.Tensor => t !== null));
  return [loss, acc];
}
