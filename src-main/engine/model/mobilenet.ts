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
import {
  checkInputSize,
  HEAD_LAYERS,
  makeDivisible,
  V1_BLOCKS,
  V2_BLOCKS,
  type BackboneSpec,
} from '../../services/training/model/backbone-table.ts';

// The backbone table is TF-free (backbone-table.ts); re-exported for the engine-side code that imports it from here.
export {
  blockOfLayer,
  checkInputSize,
  featureShapeAfter,
  HEAD_LAYERS,
  parseBackbone,
  type BackboneSpec,
} from '../../services/training/model/backbone-table.ts';

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
