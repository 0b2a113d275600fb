/**
 * Runs a classifier layer by layer on concrete tensors, on the BN-folded fast graph (fold.ts, fused-conv.ts) or the
 * layers' own ops: the forward pass every heatmap method and its gradient go through.
 */
import * as tf from '@tensorflow/tfjs';
import type { FoldPlan } from './fold.ts';
import { fusedConvActivation } from './fused-conv.ts';
import { className } from './layers.ts';

/** Per pass over the graph: which layers must keep their exact outputs, and the ReLUs a fused conv has applied. */
interface FastPass {
  plan: FoldPlan;
  /**
   * Layers whose own output is read (CAM features, the Grad-CAM layer): a conv among them is neither folded nor
   * fused, a BN among them not fused with its ReLU.
   */
  exact: ReadonlySet<string>;
  /** ReLU layers already applied by a fused conv in this pass (identity when reached). */
  applied: Set<string>;
}

/** The fast op for a layer of the gradient graph, or null to use the layer itself. */
function fastLayer(layer: tf.layers.Layer, x: tf.Tensor, pass: FastPass): tf.Tensor | null {
  const { plan } = pass;
  const name = className(layer);
  if (pass.applied.has(layer.name)) return x;
  const foldedInto = plan.folded.get(layer.name);
  // A conv whose own output is read runs unfolded (its output is not the BN's), and so does its BN.
  if (foldedInto !== undefined) return pass.exact.has(foldedInto) ? null : x;
  const f = pass.exact.has(layer.name) ? undefined : plan.convs.get(layer.name);
  if (f) {
    const c = layer.getConfig() as { strides?: number | number[]; padding?: 'same' | 'valid'; dilationRate?: number | number[] };
    const strides = (Array.isArray(c.strides) ? c.strides : [c.strides ?? 1, c.strides ?? 1]) as [number, number];
    const dil = (Array.isArray(c.dilationRate) ? c.dilationRate : [c.dilationRate ?? 1, c.dilationRate ?? 1]) as [number, number];
    const act = plan.acts.get(layer.name);
    if (act && !pass.exact.has(layer.name) && !pass.exact.has(act.bn)) {
      pass.applied.add(act.relu);
      return fusedConvActivation(x as tf.Tensor4D, f, name !== 'Conv2D', strides, c.padding ?? 'valid', act.max);
    }
    const y =
      name === 'Conv2D'
        ? tf.conv2d(x as tf.Tensor4D, f.kernel, strides, c.padding ?? 'valid', 'NHWC', dil)
        : tf.depthwiseConv2d(x as tf.Tensor4D, f.kernel, strides, c.padding ?? 'valid', 'NHWC', dil);
    return tf.add(y, f.bias);
  }
  if (name === 'ReLU') {
    const c = layer.getConfig() as { maxValue?: number | null };
    if (c.maxValue === 6) return tf.relu6(x);
    if (c.maxValue == null) return tf.relu(x);
  }
  return null;
}

/**
 * Runs the model layer by layer on concrete tensors. `feed` replaces a layer's output (for gradients w.r.t. an
 * intermediate tensor); `recorded` supplies outputs of layers not downstream of the fed one. The last dense layer
 * with a softmax activation is applied without it when `logits` is set.
 * @returns the output tensor of `until` (default: the model output) — [N, classes] for the head.
 */
export function runGraph(
  model: tf.LayersModel,
  x: tf.Tensor,
  opts: {
    logits?: boolean;
    until?: string;
    feed?: { layer: string; value: tf.Tensor };
    recorded?: Map<string, tf.Tensor>;
    record?: Map<string, tf.Tensor>;
    fast?: FoldPlan;
    /** With `fast`: layers whose exact output is read (not fused into a following activation). */
    exact?: ReadonlySet<string>;
  } = {},
): tf.Tensor {
  const values = new Map<string, tf.Tensor>();
  const pass: FastPass | undefined = opts.fast ? { plan: opts.fast, exact: opts.exact ?? new Set(), applied: new Set() } : undefined;
  const inSym = model.inputs[0]!;
  values.set(inSym.name, x);
  const outLayer = model.outputLayers[0]!;
  let downstream: Set<string> | null = null;
  if (opts.feed) downstream = new Set([opts.feed.layer]);
  for (const layer of model.layers) {
    if (className(layer) === 'InputLayer') continue;
    const node = layer.inboundNodes[0];
    if (!node) continue;
    const ins = node.inputTensors;
    let out: tf.Tensor;
    if (opts.feed && layer.name === opts.feed.layer) {
      out = opts.feed.value;
    } else if (downstream && opts.recorded && !ins.some((s) => downstream!.has((s.sourceLayer as tf.layers.Layer).name))) {
      const r = opts.recorded.get(layer.name);
      if (!r) continue; // not needed
      out = r;
    } else {
      const args = ins.map((s) => {
        const v = values.get(s.name);
        if (!v) throw new Error(`Missing value for ${s.name} (layer ${layer.name})`);
        return v;
      });
      if (opts.logits && layer === outLayer && className(layer) === 'Dense') {
        const [kernel, bias] = layer.getWeights();
        const lin = tf.matMul(args[0] as tf.Tensor2D, kernel as tf.Tensor2D);
        out = bias ? tf.add(lin, bias) : lin;
      } else {
        const quick = pass && args.length === 1 ? fastLayer(layer, args[0]!, pass) : null;
        out = quick ?? (layer.apply(args.length === 1 ? args[0]! : args, { training: false }) as tf.Tensor);
      }
      if (downstream && ins.some((s) => downstream!.has((s.sourceLayer as tf.layers.Layer).name))) downstream.add(layer.name);
    }
    values.set(node.outputTensors[0]!.name, out);
    opts.record?.set(layer.name, out);
    if (opts.until && layer.name === opts.until) return out;
  }
  return values.get(model.outputs[0]!.name)!;
}

/** CAM and gradient methods run on the BN-folded graph (switch off to compare with the layers' own ops). */
export const gradientFolding = { enabled: true };

/** Whether the head ends in a dense softmax (so a logit exists). */
export function hasSoftmaxHead(model: tf.LayersModel): boolean {
  const l = model.outputLayers[0]!;
  if (className(l) !== 'Dense') return false;
  const act = (l.getConfig() as { activation?: string }).activation;
  return act === 'softmax';
}

/**
 * The class score S_c: logit of class c when the head is a dense softmax, else the model output.
 * @param x [N, H, W, 3]
 * @returns [N, classes]
 */
export function classScores(model: tf.LayersModel, x: tf.Tensor4D): tf.Tensor2D {
  return runGraph(model, x, { logits: hasSoftmaxHead(model) }) as tf.Tensor2D;
}

/** Plain forward pass (for comparisons and benches). @param x [N, H, W, 3] @returns probabilities */
export function forward(model: tf.LayersModel, x: tf.Tensor4D): number[][] {
  const p = tf.tidy(() => model.predict(x) as tf.Tensor2D);
  const out = p.arraySync() as number[][];
  p.dispose();
  return out;
}
