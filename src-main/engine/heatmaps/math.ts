/**
 * Heatmap math over a `tf.LayersModel` (pure: tensors in, small arrays out; no catalog, no files).
 *
 * - CAM (Zhou et al.): exact for conv → GAP → dense softmax. M_c(y,x) = Σ_k w_{k,c} f_k(y,x) over the last
 *   conv feature maps; one forward pass of a two-output model [features, probabilities].
 * - Grad-CAM (Selvaraju et al.) at any layer with a 4-D output: weights α_k = mean_{y,x} ∂S_c/∂A_k, map ReLU(Σ_k α_k A_k).
 * - Saliency (Simonyan et al.): max over channels of |∂S_c/∂x|.
 * - SmoothGrad (Smilkov et al.): saliency averaged over n copies x + N(0, σ²), run through the network in batches.
 *
 * S_c is the class logit (the pre-softmax score of the dense head) when the last layer is a dense softmax, else the
 * class probability. Every function keeps its tensors in tf.tidy; results come back as plain Float32Arrays.
 */
import * as tf from '@tensorflow/tfjs';
import type { HeatmapMethod } from '../../shared/heatmap-types.ts';
import { windowGrad } from '../wasm-grads/activation-grads.ts';
import { isOutOfMemory } from '../../shared/errors.ts';
import { fillGaussian } from './gaussian.ts';
import { argmax, type Grid } from '../../services/heatmaps/grid.ts';

// Post-processing on plain arrays lives in grid.ts (TF-free, so the process that owns the catalog can use it).
export { argmax, normalise, normaliseFor, resizeBilinear, type Grid } from '../../services/heatmaps/grid.ts';

export type { HeatmapMethod };

/** The layers CAM needs: the feature layer feeding global average pooling, and the dense head after it. */
export interface CamLayers {
  features: tf.layers.Layer;
  gap: tf.layers.Layer;
  dense: tf.layers.Layer;
}

const className = (l: tf.layers.Layer): string => l.getClassName();

/** The layer whose output a layer consumes (first inbound node, first input). */
function inputLayerOf(model: tf.LayersModel, layer: tf.layers.Layer): tf.layers.Layer {
  const sym = layer.inboundNodes[0]?.inputTensors[0];
  const src = sym?.sourceLayer as tf.layers.Layer | undefined;
  if (!src || !model.layers.includes(src)) throw new Error(`Layer ${layer.name} has no input layer in ${model.name}`);
  return src;
}

/**
 * Finds the CAM layers: a GlobalAveragePooling2D (named `gapName` when given, else the last one) and the last
 * Dense layer. Throws when the model has no GAP head (use Grad-CAM then).
 */
export function findCamLayers(model: tf.LayersModel, gapName?: string): CamLayers {
  const gaps = model.layers.filter((l) => className(l) === 'GlobalAveragePooling2D' && (!gapName || l.name === gapName));
  const gap = gaps[gaps.length - 1];
  if (!gap) throw new Error(`Model ${model.name} has no global average pooling layer: CAM needs a GAP head (use Grad-CAM).`);
  const denses = model.layers.filter((l) => className(l) === 'Dense');
  const dense = denses[denses.length - 1];
  if (!dense) throw new Error(`Model ${model.name} has no dense head.`);
  return { features: inputLayerOf(model, gap), gap, dense };
}

/** The last layer with a 4-D output before global pooling: Grad-CAM's default layer. */
export function defaultGradCamLayer(model: tf.LayersModel): string {
  try {
    return findCamLayers(model).features.name;
  } catch {
    const convs = model.layers.filter((l) => {
      const s = l.outputShape as number[];
      return Array.isArray(s) && s.length === 4 && typeof s[0] !== 'object';
    });
    const last = convs[convs.length - 1];
    if (!last) throw new Error(`Model ${model.name} has no layer with a spatial output.`);
    return last.name;
  }
}

/** Layers with a spatial (4-D) output, in model order: the choices for Grad-CAM. */
export function spatialLayers(model: tf.LayersModel): string[] {
  return model.layers
    .filter((l) => className(l) !== 'InputLayer')
    .filter((l) => {
      const s = l.outputShape as unknown;
      return Array.isArray(s) && s.length === 4 && !Array.isArray(s[0]);
    })
    .map((l) => l.name);
}

/**
 * Batch normalisation folded into the convolution before it (inference mode): kernel' = kernel · γ/√(σ²+ε),
 * bias' = β − μ·γ/√(σ²+ε) (+ the conv's own bias, scaled). The gradient graph then has one conv and one add per
 * conv+BN pair instead of a batch-norm gradient, and convolutions run unfused so no filter gradient is computed.
 */
interface FoldPlan {
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

function foldPlan(model: tf.LayersModel): FoldPlan {
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

/** The largest float32 below 6: y < 6 as y ≤ this, for the ReLU6 mask read from the output. */
const BELOW_SIX = Math.fround(6 - 2 ** -21);

/**
 * conv(x) + bias, then ReLU or ReLU6, as one fused forward kernel with a gradient for x only.
 * Backward: the activation's mask is read from the output (0 < y < 6 ⇔ 0 < z < 6, z the pre-activation; the stock
 * ReLU6 gradient also passes z = 6 exactly, a measure-zero difference), then the conv's input gradient: no filter
 * or bias gradient is computed, they are constants here.
 * @param x [N, H, W, Cin] → [N, H', W', Cout]
 */
function fusedConvActivation(
  x: tf.Tensor4D,
  f: { kernel: tf.Tensor4D; bias: tf.Tensor1D },
  depthwise: boolean,
  strides: [number, number],
  pad: 'same' | 'valid',
  max: 6 | null,
): tf.Tensor4D {
  const activation = max === 6 ? 'relu6' : 'relu';
  const forward = (xx: tf.Tensor, save: tf.GradSaveFunc) => {
    // The kernel itself, not tf.fused.*: under tf.grad those fall back to conv, add and activation as three
    // kernels (tfjs-core's shouldFuse), and this op brings its own gradient anyway.
    const attrs = { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined, activation };
    const y = tf
      .engine()
      .runKernel(
        depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D',
        { x: xx, filter: f.kernel, bias: f.bias },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor4D;
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const dz = windowGrad(dy, saved[0]!, { lo: 0, hi: max === 6 ? BELOW_SIX : Infinity, includeLo: false });
        const attrs = { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined, inputShape: x.shape };
        const kernel = depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput';
        return tf.engine().runKernel(kernel, { dy: dz, filter: f.kernel }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      },
    };
  };
  // customGrad's declared signature takes (...Tensor | GradSaveFunc); this one is (x, save).
  const op = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor4D;
}

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
function runGraph(
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
function hasSoftmaxHead(model: tf.LayersModel): boolean {
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

// ------------------------------------------------------------------ CAM

/** A model with two outputs [last conv features, probabilities] sharing the classifier's layers (one forward pass). */
export interface CamModel {
  model: tf.LayersModel;
  layers: CamLayers;
}

const camModels = new WeakMap<tf.LayersModel, CamModel>();

/** The CAM model of a classifier (built once per classifier; shares its weights, owns nothing to dispose). */
export function camModel(model: tf.LayersModel, gapName?: string): CamModel {
  const hit = camModels.get(model);
  if (hit && (!gapName || hit.layers.gap.name === gapName)) return hit;
  const layers = findCamLayers(model, gapName);
  const two = tf.model({
    inputs: model.inputs,
    outputs: [layers.features.output as tf.SymbolicTensor, model.outputs[0]!],
    name: `${model.name}_cam`,
  });
  const cm = { model: two, layers };
  camModels.set(model, cm);
  return cm;
}

/**
 * Features and probabilities in one pass: through the BN-folded graph (faster than the layers' own ops on wasm and
 * cpu), or the two-output model when folding is off.
 * @returns [features [N, h, w, K], probabilities [N, C]]
 */
function camForward(model: tf.LayersModel, two: tf.LayersModel, layers: CamLayers, x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor2D] {
  if (!gradientFolding.enabled) return two.predict(x) as [tf.Tensor4D, tf.Tensor2D];
  const record = new Map<string, tf.Tensor>();
  const logits = hasSoftmaxHead(model);
  const out = runGraph(model, x, { logits, record, fast: foldPlan(model), exact: new Set([layers.features.name]) }) as tf.Tensor2D;
  return [record.get(layers.features.name) as tf.Tensor4D, logits ? tf.softmax(out) : out];
}

export interface CamResult {
  /** One raw map per image per requested class: maps[i][j] for image i, class classes[j] ([h, w] of the features). */
  maps: Grid[][];
  /** Softmax probabilities per image. */
  probabilities: number[][];
}

/**
 * Class activation maps of a batch for some classes (null entry = the predicted class of that image).
 * Raw values (not normalised): M_c = Σ_k w_{k,c} f_k.
 * @param x [N, H, W, 3] preprocessed input
 */
export function cam(model: tf.LayersModel, x: tf.Tensor4D, classes: (number | null)[] | 'all' = [null]): CamResult {
  const { model: two, layers } = camModel(model);
  const [probT, mapsT] = tf.tidy(() => {
    const [f, p] = camForward(model, two, layers, x);
    const [n, h, w, k] = f.shape;
    const kernel = layers.dense.getWeights()[0] as tf.Tensor2D; // [K, C]
    /** [N, h, w, C] */
    const m = tf.reshape(tf.matMul(tf.reshape(f, [n * h * w, k]), kernel), [n, h, w, kernel.shape[1]]) as tf.Tensor4D;
    return [p, m];
  });
  const [n, h, w] = mapsT.shape as [number, number, number, number];
  const probs = probT.arraySync() as number[][];
  const all = mapsT.dataSync() as Float32Array;
  const C = mapsT.shape[3]!;
  probT.dispose();
  mapsT.dispose();
  const maps: Grid[][] = [];
  for (let i = 0; i < n; i++) {
    const wanted = classes === 'all' ? probs[i]!.map((_, c) => c) : classes.map((c) => c ?? argmax(probs[i]!));
    maps.push(
      wanted.map((c) => {
        const data = new Float32Array(h * w);
        for (let p = 0; p < h * w; p++) data[p] = all[(i * h * w + p) * C + c]!;
        return { width: w, height: h, data };
      }),
    );
  }
  return { maps, probabilities: probs };
}

/** Plain forward pass (for comparisons and benches). @param x [N, H, W, 3] @returns probabilities */
export function forward(model: tf.LayersModel, x: tf.Tensor4D): number[][] {
  const p = tf.tidy(() => model.predict(x) as tf.Tensor2D);
  const out = p.arraySync() as number[][];
  p.dispose();
  return out;
}

// ------------------------------------------------------------------ gradients

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

/**
 * Input gradients ∂S_c/∂x of a batch (each image's own class).
 * @param x [N, H, W, 3]
 * @param cls class per image
 * @returns [N, H, W, 3] (a tensor the caller owns)
 */
function inputGradient(model: tf.LayersModel, x: tf.Tensor4D, cls: number[]): tf.Tensor4D {
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
