/**
 * Training guided by regions ("right for the right reasons", on the CAM): for a defect image with regions, the
 * guidance loss is the share of its true-class CAM's mass outside the regions, 1 − energy in region, measured as the
 * localisation curve measures it (bilinear mass of each node inside the regions, localisation.ts), on the map above
 * its own mean:
 *
 *   M_j = Σ_c f_jc W_ck,   v_j = max(0, M_j − mean(M)),   E = Σ_j v_j a_j / Σ_j v_j T_j,   L = 1 − E
 *
 * a_j / T_j: node j's interpolated mass inside the regions / over the image. L is 0 for a map that is high only on
 * nodes entirely inside the regions and grows as mass moves out. Centring on the mean makes L blind to a uniform
 * shift of the map, which the head's bias would otherwise offer as a way out (a map pushed below zero everywhere
 * has no mass and no gradient). TF-free: the transfer phase (JsHead on cached conv maps) uses it directly;
 * fine-tuning builds the same expression in tfjs (guidanceLossTensor).
 */
import * as tf from '@tensorflow/tfjs';
import type { FixedVariant } from '../../services/training/data/augment.ts';
import type { LocalisationTarget } from '../../services/training/guide/localisation.ts';

/** Per-node region mass (a) and image mass (T) of one image in one fixed variant. */
export interface GuideTarget {
  a: Float32Array;
  T: Float32Array;
}

/** Default weight of the guidance term beside the cross-entropy. */
export const DEFAULT_GUIDE_WEIGHT = 1;

/**
 * The target of a fixed variant of the image: 1 = rotated 180° (nodes reversed), 2 = upside down (rows reversed),
 * as augment.ts applyVariant; bilinear alignment is symmetric, so the node masses permute exactly.
 */
export function variantTarget(t: LocalisationTarget, v: FixedVariant): GuideTarget {
  const { gw, gh } = t;
  if (v === 0) return { a: t.inside, T: t.total };
  const a = new Float32Array(gw * gh);
  const T = new Float32Array(gw * gh);
  for (let y = 0; y < gh; y++)
    for (let x = 0; x < gw; x++) {
      const src = v === 1 ? (gh - 1 - y) * gw + (gw - 1 - x) : (gh - 1 - y) * gw + x;
      a[y * gw + x] = t.inside[src]!;
      T[y * gw + x] = t.total[src]!;
    }
  return { a, T };
}

/**
 * Guidance loss of one raw CAM (1 − energy in region of the map above its mean); writes dL/dM into `grad` when given.
 * A constant map has no mass to move: loss 1 and a zero gradient.
 */
export function guidanceLoss(map: ArrayLike<number>, t: GuideTarget, grad?: Float32Array): number {
  const N = t.a.length;
  let mean = 0;
  for (let j = 0; j < N; j++) mean += map[j]!;
  mean /= N;
  let A = 0;
  let B = 0;
  for (let j = 0; j < N; j++) {
    const v = map[j]! - mean;
    if (v > 0) {
      A += v * t.a[j]!;
      B += v * t.T[j]!;
    }
  }
  if (grad) grad.fill(0);
  if (!(B > 0)) return 1;
  const E = A / B;
  if (grad) {
    // dL/dv_j on the nodes above the mean, then through the centring: dv_j/dM_k = δ_jk − 1/N.
    let s = 0;
    for (let j = 0; j < N; j++)
      if (map[j]! - mean > 0) {
        grad[j] = -(t.a[j]! - E * t.T[j]!) / B;
        s += grad[j]!;
      }
    for (let j = 0; j < N; j++) grad[j]! -= s / N;
  }
  return 1 - E;
}

/**
 * Adds the guidance term of a batch to the head's kernel gradient (transfer phase): for each image j with a target,
 * weight/n · Σ_nodes f_node · dL/dM_node into column y_j of gW [C x K]. Returns the batch's mean guidance loss
 * over the guided images (NaN when none).
 * @param maps per image: its conv map [nodes x C], or null (no regions: trains as without guidance)
 */
export function addGuidanceGradient(
  gW: Float32Array,
  W: Float32Array,
  C: number,
  K: number,
  maps: (Float32Array | null)[],
  targets: (GuideTarget | null)[],
  labels: number[],
  weight: number,
): number {
  const n = labels.length;
  let sum = 0;
  let guided = 0;
  for (let i = 0; i < n; i++) {
    const f = maps[i];
    const t = targets[i];
    if (!f || !t) continue;
    const y = labels[i]!;
    const nodes = t.a.length;
    const m = new Float32Array(nodes);
    for (let p = 0; p < nodes; p++) {
      let s = 0;
      const o = p * C;
      for (let c = 0; c < C; c++) s += f[o + c]! * W[c * K + y]!;
      m[p] = s;
    }
    const g = new Float32Array(nodes);
    sum += guidanceLoss(m, t, g);
    guided++;
    const w = weight / n;
    for (let p = 0; p < nodes; p++) {
      const gp = g[p]! * w;
      if (gp === 0) continue;
      const o = p * C;
      for (let c = 0; c < C; c++) gW[c * K + y]! += f[o + c]! * gp;
    }
  }
  return guided ? sum / guided : NaN;
}

/**
 * The guidance term in tfjs (fine-tuning): weight · Σ_i has_i (1 − E_i) / B over a batch of conv maps.
 * @param maps [B, gh, gw, C] @param kernel [C, K] @param labels class per image
 * @param targets per image, or null (no regions)
 */
export function guidanceLossTensor(
  maps: tf.Tensor,
  kernel: tf.Tensor,
  labels: number[],
  targets: (GuideTarget | null)[],
  weight: number,
): tf.Scalar {
  const [B, gh, gw, C] = maps.shape as [number, number, number, number];
  const N = gh * gw;
  const K = kernel.shape[1]!;
  const a = new Float32Array(B * N);
  const T = new Float32Array(B * N);
  const has = new Float32Array(B);
  targets.forEach((t, i) => {
    if (!t) return;
    a.set(t.a, i * N);
    T.set(t.T, i * N);
    has[i] = 1;
  });
  return tf.tidy(() => {
    const m = tf.reshape(tf.matMul(tf.reshape(maps, [B * N, C]), kernel), [B, N, K]);
    const y = tf.reshape(tf.oneHot(tf.tensor1d(labels, 'int32'), K), [B, 1, K]);
    const cam = tf.sum(tf.mul(m, y), 2); // [B, N]
    const v = tf.relu(tf.sub(cam, tf.mean(cam, 1, true)));
    const inside = tf.sum(tf.mul(v, tf.tensor2d(a, [B, N])), 1);
    const total = tf.sum(tf.mul(v, tf.tensor2d(T, [B, N])), 1);
    const e = tf.div(inside, tf.add(total, 1e-12));
    const l = tf.mul(tf.sub(1, e), tf.tensor1d(has));
    return tf.mul(tf.div(tf.sum(l), B), weight) as tf.Scalar;
  });
}
