/**
 * The MobileNet v1/v2 backbones as plain data: their blocks, layer names, feature shapes at an input size and
 * where their weights are looked for. TF-free, so the process that owns the catalog (heatmap layer lists, training
 * checks) can use it without loading TensorFlow; ml/model/mobilenet.ts builds the layers from it.
 */
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

export function makeDivisible(v: number, divisor = 8, minValue = divisor): number {
  let n = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

export const V1_BLOCKS: [number, number][] = [
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
export const V2_BLOCKS: [number, number, number][] = [
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
