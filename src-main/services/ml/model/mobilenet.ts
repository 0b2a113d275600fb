/**
 * MobileNet v1 / v2 built with tf.layers at any square input size, with Keras layer names so ImageNet
 * weights load by name. Blocks are addressable: 0 is the stem (conv1 / Conv1), then v1's 13
 * depthwise-separable blocks (conv_dw_k + conv_pw_k) or v2's 17 inverted-residual blocks
 * (expanded_conv, block_1 … block_16; Conv_1 / out_relu belong to the last one).
 *
 * Padding: 'same' everywhere. For the stride-2 convolutions this equals Keras' ZeroPadding2D
 * (correct_pad) + 'valid' at both even and odd sizes, so v2 files with *_pad layers load unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { INPUT_SIZE_MAX, INPUT_SIZE_MIN, type BackboneId } from '../../../shared/training-types.ts';
import { ValidationError } from '../../../shared/errors.ts';

export interface BackboneSpec {
  id: BackboneId;
  version: 1 | 2;
  alpha: number;
  /** Number of addressable blocks after the stem (v1: 13, v2: 17). */
  blocks: number;
  /** Name of the last conv activation (the CAM feature layer). */
  lastConvLayer: string;
  /** Channels of the last conv features (= embedding size). */
  featureChannels: number;
  /** Folder names the ImageNet weights are looked for under (in weight directories). */
  weightFolders: string[];
  bnMomentum: number;
}

export const HEAD_LAYERS = { gap: 'gap', dropout: 'head_dropout', dense: 'head_dense' } as const;

export function parseBackbone(id: string): BackboneSpec {
  const m = /^mobilenet_v([12])_(\d\.\d+)$/.exec(id);
  const v1Alphas = ['0.25', '0.5', '0.75', '1.0'];
  const v2Alphas = ['0.35', '0.5', '0.75', '1.0'];
  if (!m || !(m[1] === '1' ? v1Alphas : v2Alphas).includes(m[2]!)) {
    throw new ValidationError(
      `Unknown backbone "${id}". Choose mobilenet_v1_{${v1Alphas.join(',')}} or mobilenet_v2_{${v2Alphas.join(',')}}.`,
    );
  }
  const version = Number(m[1]) as 1 | 2;
  const alpha = Number(m[2]);
  const a = m[2]!;
  if (version === 1) {
    return {
      id: id as BackboneId,
      version,
      alpha,
      blocks: 13,
      lastConvLayer: 'conv_pw_13_relu',
      featureChannels: Math.floor(1024 * alpha),
      weightFolders: [`mobilenet_v1_${a}_224`, `mobilenet_v1_${a}_224_no_top`, `mobilenet_v1_${a}`],
      bnMomentum: 0.99,
    };
  }
  return {
    id: id as BackboneId,
    version,
    alpha,
    blocks: 17,
    lastConvLayer: 'out_relu',
    featureChannels: alpha > 1 ? makeDivisible(1280 * alpha, 8) : 1280,
    weightFolders: [`mobilenet_v2_${a}_224_no_top`, `mobilenet_v2_${a}_224`, `mobilenet_v2_${a}`],
    bnMomentum: 0.999,
  };
}

export function checkInputSize(size: number): void {
  if (!Number.isInteger(size) || size < INPUT_SIZE_MIN || size > INPUT_SIZE_MAX) {
    throw new ValidationError(`Input size must be a whole number of pixels from ${INPUT_SIZE_MIN} to ${INPUT_SIZE_MAX} (got ${size}).`);
  }
}

function makeDivisible(v: number, divisor = 8, minValue = divisor): number {
  let n = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

type Sym = tf.SymbolicTensor;

function bn(spec: BackboneSpec, name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ axis: -1, epsilon: 1e-3, momentum: spec.bnMomentum, name });
}
function relu6(name: string): tf.layers.Layer {
  return tf.layers.reLU({ maxValue: 6, name });
}
function conv(filters: number, kernel: number, strides: number, name: string): tf.layers.Layer {
  return tf.layers.conv2d({ filters, kernelSize: kernel, strides, padding: 'same', useBias: false, name });
}
function dwConv(strides: number, name: string): tf.layers.Layer {
  return tf.layers.depthwiseConv2d({ kernelSize: 3, strides, padding: 'same', depthMultiplier: 1, useBias: false, name });
}

const V1_BLOCKS: [number, number][] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];
// [filters, stride, expansion] for blocks 1..17 (block 1 = expanded_conv).
const V2_BLOCKS: [number, number, number][] = [
  [16, 1, 1],
  [24, 2, 6],
  [24, 1, 6],
  [32, 2, 6],
  [32, 1, 6],
  [32, 1, 6],
  [64, 2, 6],
  [64, 1, 6],
  [64, 1, 6],
  [64, 1, 6],
  [96, 1, 6],
  [96, 1, 6],
  [96, 1, 6],
  [160, 2, 6],
  [160, 1, 6],
  [160, 1, 6],
  [320, 1, 6],
];

/** Applies block `b` (0 = stem) to `x`. */
function applyBlock(spec: BackboneSpec, b: number, x: Sym): Sym {
  const a = spec.alpha;
  const ap = (l: tf.layers.Layer, t: Sym): Sym => l.apply(t) as Sym;
  if (spec.version === 1) {
    if (b === 0) return ap(relu6('conv1_relu'), ap(bn(spec, 'conv1_bn'), ap(conv(Math.floor(32 * a), 3, 2, 'conv1'), x)));
    const [filters, stride] = V1_BLOCKS[b - 1]!;
    let y = ap(dwConv(stride, `conv_dw_${b}`), x);
    y = ap(relu6(`conv_dw_${b}_relu`), ap(bn(spec, `conv_dw_${b}_bn`), y));
    y = ap(conv(Math.floor(filters * a), 1, 1, `conv_pw_${b}`), y);
    return ap(relu6(`conv_pw_${b}_relu`), ap(bn(spec, `conv_pw_${b}_bn`), y));
  }
  if (b === 0) return ap(relu6('Conv1_relu'), ap(bn(spec, 'bn_Conv1'), ap(conv(makeDivisible(32 * a, 8), 3, 2, 'Conv1'), x)));
  const [filters, stride, expansion] = V2_BLOCKS[b - 1]!;
  const id = b - 1;
  const prefix = id === 0 ? 'expanded_conv_' : `block_${id}_`;
  const inChannels = x.shape[x.shape.length - 1]!;
  const pointwise = makeDivisible(Math.floor(filters * a), 8);
  let y = x;
  if (id > 0) {
    y = ap(conv(expansion * inChannels, 1, 1, `${prefix}expand`), y);
    y = ap(relu6(`${prefix}expand_relu`), ap(bn(spec, `${prefix}expand_BN`), y));
  }
  y = ap(dwConv(stride, `${prefix}depthwise`), y);
  y = ap(relu6(`${prefix}depthwise_relu`), ap(bn(spec, `${prefix}depthwise_BN`), y));
  y = ap(bn(spec, `${prefix}project_BN`), ap(conv(pointwise, 1, 1, `${prefix}project`), y));
  if (inChannels === pointwise && stride === 1) y = tf.layers.add({ name: `${prefix}add` }).apply([x, y]) as Sym;
  if (b === spec.blocks) {
    y = ap(bn(spec, 'Conv_1_bn'), ap(conv(spec.featureChannels, 1, 1, 'Conv_1'), y));
    y = ap(relu6('out_relu'), y);
  }
  return y;
}

/** The block a backbone layer belongs to (0 = stem), or -1 for head layers. */
export function blockOfLayer(spec: BackboneSpec, name: string): number {
  if (spec.version === 1) {
    if (name.startsWith('conv1')) return 0;
    const m = /^conv_(?:dw|pw)_(\d+)/.exec(name);
    return m ? Number(m[1]) : -1;
  }
  if (name.startsWith('Conv1') || name === 'bn_Conv1') return 0;
  if (name.startsWith('expanded_conv')) return 1;
  if (name.startsWith('Conv_1') || name === 'out_relu') return spec.blocks;
  const m = /^block_(\d+)_/.exec(name);
  return m ? Number(m[1]) + 1 : -1;
}

/** Keeps BatchNormalization in inference mode (moving statistics, no updates) even in a training step. */
export function freezeBatchNorm(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.trainable = false;
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  }
}

/**
 * Backbone segment: blocks [from, to] (inclusive; 0 = stem) on an input of `inputShape` ([h, w, c]).
 * With `gap`, global average pooling is appended (the embedding model).
 */
export function buildSegment(
  spec: BackboneSpec,
  from: number,
  to: number,
  inputShape: number[],
  opts: { gap?: boolean; name?: string } = {},
): tf.LayersModel {
  const input = tf.input({ shape: inputShape, name: `input_${from}` });
  let x: Sym = input;
  for (let b = from; b <= to; b++) x = applyBlock(spec, b, x);
  if (opts.gap) x = tf.layers.globalAveragePooling2d({ name: HEAD_LAYERS.gap }).apply(x) as Sym;
  const model = tf.model({ inputs: input, outputs: x, name: opts.name ?? `${spec.id}_${from}_${to}` });
  freezeBatchNorm(model);
  return model;
}

/** The dense softmax layer both the classifier and the head on embeddings end in (same name, so weights move). */
function headDense(numClasses: number, seed: number): tf.layers.Layer {
  return tf.layers.dense({
    units: numClasses,
    activation: 'softmax',
    name: HEAD_LAYERS.dense,
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
  });
}

/** The head on embeddings: input [C] → dense softmax (dropout is applied by the trainer). */
export function buildHead(channels: number, numClasses: number, seed: number): tf.LayersModel {
  const input = tf.input({ shape: [channels], name: 'embedding' });
  const out = headDense(numClasses, seed).apply(input) as Sym;
  return tf.model({ inputs: input, outputs: out, name: 'head' });
}

/**
 * The full classifier the study describes: backbone → global average pooling → dropout → dense softmax,
 * no hidden dense layer, so CAM is exact (M_c = Σ_k w_kc f_k over `spec.lastConvLayer`).
 */
export function buildClassifier(spec: BackboneSpec, size: number, numClasses: number, dropout: number, seed = 1): tf.LayersModel {
  checkInputSize(size);
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let x: Sym = input;
  for (let b = 0; b <= spec.blocks; b++) x = applyBlock(spec, b, x);
  x = tf.layers.globalAveragePooling2d({ name: HEAD_LAYERS.gap }).apply(x) as Sym;
  x = tf.layers.dropout({ rate: dropout, name: HEAD_LAYERS.dropout }).apply(x) as Sym;
  const out = headDense(numClasses, seed).apply(x) as Sym;
  const model = tf.model({ inputs: input, outputs: out, name: `kensa_${spec.id}_${size}` });
  freezeBatchNorm(model);
  return model;
}

/** Copies weights between models for every layer name they share; returns how many layers were copied. */
export function copyWeightsByName(from: tf.LayersModel, to: tf.LayersModel): number {
  const src = new Map(from.layers.map((l) => [l.name, l]));
  let n = 0;
  for (const layer of to.layers) {
    const s = src.get(layer.name);
    if (!s || layer.weights.length === 0) continue;
    const w = s.getWeights();
    layer.setWeights(w);
    n++;
  }
  return n;
}

/** Output shape [h, w, c] of the backbone after block `b` at `size` (by building nothing: arithmetic). */
export function featureShapeAfter(spec: BackboneSpec, b: number, size: number): number[] {
  let s = Math.ceil(size / 2);
  let c = spec.version === 1 ? Math.floor(32 * spec.alpha) : makeDivisible(32 * spec.alpha, 8);
  for (let k = 1; k <= b; k++) {
    if (spec.version === 1) {
      const [f, st] = V1_BLOCKS[k - 1]!;
      s = Math.ceil(s / st);
      c = Math.floor(f * spec.alpha);
    } else {
      const [f, st] = V2_BLOCKS[k - 1]!;
      s = Math.ceil(s / st);
      c = k === spec.blocks ? spec.featureChannels : makeDivisible(Math.floor(f * spec.alpha), 8);
    }
  }
  return [s, s, c];
}
