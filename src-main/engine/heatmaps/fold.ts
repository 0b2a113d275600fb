/** Batch normalisation folded into the convolutions before it, once per model (the fast graph's weights). */
import * as tf from '@tensorflow/tfjs';
import { className } from './layers.ts';

/**
 * Batch normalisation folded into the convolution before it (inference mode): kernel' = kernel · γ/√(σ²+ε),
 * bias' = β − μ·γ/√(σ²+ε) (+ the conv's own bias, scaled). The gradient graph then has one conv and one add per
 * conv+BN pair instead of a batch-norm gradient, and convolutions run unfused so no filter gradient is computed.
 */
export interface FoldPlan {
  /** Conv layer name → folded kernel and bias. */
  convs: Map<string, { kernel: tf.Tensor4D; bias: tf.Tensor1D }>;
  /** BN layers folded away (identity in the fast graph) → the conv they are folded into. */
  folded: Map<string, string>;
  /**
   * Conv → the ReLU / ReLU6 layer that alone consumes its BN: the three run as one fused conv + bias + activation
   * (one kernel forward, a one-pass mask and the input gradient backward; see fusedConvActivation).
   */
  acts: Map<string, { relu: string; bn: string; max: 6 | null }>;
}

const foldPlans = new WeakMap<tf.LayersModel, FoldPlan>();

export function foldPlan(model: tf.LayersModel): FoldPlan {
  const hit = foldPlans.get(model);
  if (hit) return hit;
  const plan: FoldPlan = { convs: new Map(), folded: new Map(), acts: new Map() };
  for (const bn of model.layers) {
    if (className(bn) !== 'BatchNormalization') continue;
    const conv = bn.inboundNodes[0]?.inboundLayers[0] as tf.layers.Layer | undefined;
    if (!conv || !['Conv2D', 'DepthwiseConv2D'].includes(className(conv)) || conv.outboundNodes.length !== 1) continue;
    const cc = conv.getConfig() as { activation?: string; useBias?: boolean };
    const bc = bn.getConfig() as { axis?: number | number[]; epsilon?: number; center?: boolean; scale?: boolean };
    const axis = Array.isArray(bc.axis) ? bc.axis[0] : bc.axis;
    if ((cc.activation && cc.activation !== 'linear') || (axis !== -1 && axis !== 3)) continue;
    const w = bn.getWeights();
    let i = 0;
    const gamma = bc.scale !== false ? w[i++]! : null;
    const beta = bc.center !== false ? w[i++]! : null;
    const mean = w[i]!;
    const variance = w[i + 1]!;
    const [kernel, convBias] = conv.getWeights();
    const folded = tf.tidy(() => {
      /** [C] */
      let scale = tf.rsqrt(tf.add(variance, bc.epsilon ?? 1e-3));
      if (gamma) scale = tf.mul(scale, gamma);
      /** [C] */
      let shift = tf.neg(tf.mul(mean, scale));
      if (beta) shift = tf.add(shift, beta);
      if (convBias && cc.useBias !== false) shift = tf.add(shift, tf.mul(convBias, scale));
      const k = kernel as tf.Tensor4D;
      // Conv2D kernel [kh, kw, in, out]: scale the output channels; depthwise [kh, kw, C, mult]: channel c·mult + m.
      const s4 = className(conv) === 'Conv2D' ? tf.reshape(scale, [1, 1, 1, -1]) : tf.reshape(scale, [1, 1, k.shape[2], k.shape[3]]);
      return { kernel: tf.mul(k, s4) as tf.Tensor4D, bias: shift as tf.Tensor1D };
    });
    // Kept: plans are built lazily inside callers' tidy scopes and live as long as the model.
    tf.keep(folded.kernel);
    tf.keep(folded.bias);
    plan.convs.set(conv.name, folded);
    plan.folded.set(bn.name, conv.name);
    const act = bn.outboundNodes.length === 1 ? (bn.outboundNodes[0]!.outboundLayer as tf.layers.Layer) : undefined;
    const ac = act && className(act) === 'ReLU' ? (act.getConfig() as { maxValue?: number | null }) : undefined;
    const dil = (conv.getConfig() as { dilationRate?: number | number[] }).dilationRate ?? 1;
    const dilated = (Array.isArray(dil) ? dil : [dil]).some((d) => d !== 1);
    if (act && ac && (ac.maxValue === 6 || ac.maxValue == null) && !dilated) {
      plan.acts.set(conv.name, { relu: act.name, bn: bn.name, max: ac.maxValue === 6 ? 6 : null });
    }
  }
  foldPlans.set(model, plan);
  // The folded weights live as long as the model: disposing the model frees them too.
  const dispose = model.dispose.bind(model);
  model.dispose = () => {
    releaseHeatmapResources(model);
    return dispose();
  };
  return plan;
}

/** Frees what the heatmap functions keep per model (folded weights); called by model.dispose(). */
export function releaseHeatmapResources(model: tf.LayersModel): void {
  const plan = foldPlans.get(model);
  if (!plan) return;
  foldPlans.delete(model);
  for (const f of plan.convs.values()) {
    f.kernel.dispose();
    f.bias.dispose();
  }
}
