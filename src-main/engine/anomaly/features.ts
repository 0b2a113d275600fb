/**
 * Patch features for anomaly detection (PatchCore-style) from the ImageNet MobileNet backbone: two taps at
 * stride 8 and 16 (v1: conv_pw_5_relu and conv_pw_11_relu; v2: the last block output at each stride), each
 * averaged over its 3x3 neighbourhood, the coarse one resized onto the fine grid, concatenated, and optionally
 * projected by a seeded Gaussian random matrix to fewer dimensions. Engine side only.
 */
import * as tf from '@tensorflow/tfjs';
import { ValidationError } from '../../shared/errors.ts';
import { heatmapLayers } from '../../services/heatmaps/layers.ts';
import { buildSegment, featureShapeAfter, parseBackbone, type BackboneSpec } from '../model/mobilenet.ts';
import { assignWeightsByName, type WeightSet } from '../model/weights.ts';
import { createRng } from '../../services/training/train/rng.ts';

export interface AnomalyTap {
  /** Layer name as mobilenet.ts names it. */
  name: string;
  /** Backbone block the layer closes. */
  block: number;
  stride: number;
  channels: number;
}

/** The two feature taps: the last block output at stride 8 and at stride 16. */
export function anomalyTaps(backbone: string): [AnomalyTap, AnomalyTap] {
  const layers = heatmapLayers(backbone, 224);
  const last = (stride: number): AnomalyTap => {
    const l = layers.filter((x) => x.stride === stride).pop();
    if (!l) throw new ValidationError(`Backbone ${backbone} has no layer at stride ${stride}.`);
    return { name: l.name, block: l.block, stride, channels: l.channels };
  };
  return [last(8), last(16)];
}

/** Input sizes must be a multiple of 32 so the stride-8 and stride-16 grids align exactly (2:1). */
export function checkAnomalySize(size: number): void {
  if (!Number.isInteger(size) || size % 32 !== 0 || size < 96 || size > 640)
    throw new ValidationError(`For anomaly detection the input size must be a multiple of 32 from 96 to 640 (got ${size}).`);
}

export interface PatchFeatureExtractor {
  readonly spec: BackboneSpec;
  readonly size: number;
  readonly taps: [AnomalyTap, AnomalyTap];
  /** Patch grid side (size / 8). */
  readonly grid: number;
  /** Dimensions per patch before projection (sum of the taps' channels). */
  readonly rawDim: number;
  /** Dimensions per patch after projection (= rawDim without one). */
  readonly dim: number;
  /** The backbone segment up to the coarse tap (saved as the anomaly model's model.json + weights.bin). */
  readonly model: tf.LayersModel;
  /**
   * Patch features of a preprocessed batch.
   * @param x [n, size, size, 3] in [-1, 1]
   * @returns [n * grid * grid, dim], image-major then row-major patches
   */
  embed(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

export interface ExtractorOptions {
  backbone: string;
  size: number;
  weights: WeightSet;
  /** Projected dimensions; 0 or >= rawDim keeps every dimension. */
  projectDim: number;
  seed: number;
}

/**
 * A seeded Gaussian projection matrix scaled by 1/sqrt(outDim) (distances kept in expectation).
 * @returns [inDim * outDim] row-major ([inDim, outDim])
 */
export function projectionMatrix(inDim: number, outDim: number, seed: number): Float32Array {
  const rng = createRng(seed ^ 0x5eed);
  const m = new Float32Array(inDim * outDim);
  const scale = 1 / Math.sqrt(outDim);
  for (let i = 0; i < m.length; i += 2) {
    // Box-Muller: two normal draws per pair of uniforms.
    const u = Math.max(rng.next(), 1e-12);
    const v = rng.next();
    const r = Math.sqrt(-2 * Math.log(u)) * scale;
    m[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < m.length) m[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return m;
}

export function createExtractor(opts: ExtractorOptions): PatchFeatureExtractor {
  checkAnomalySize(opts.size);
  const spec = parseBackbone(opts.backbone);
  const taps = anomalyTaps(opts.backbone);
  const [fine, coarse] = taps;
  const segment = buildSegment(spec, 0, coarse.block, [opts.size, opts.size, 3], { name: `anomaly_${spec.id}` });
  assignWeightsByName(segment, opts.weights);
  const model = tf.model({
    inputs: segment.inputs,
    outputs: [segment.getLayer(fine.name).output as tf.SymbolicTensor, segment.getLayer(coarse.name).output as tf.SymbolicTensor],
  });
  const grid = featureShapeAfter(spec, fine.block, opts.size)[0]!;
  const rawDim = fine.channels + coarse.channels;
  const dim = opts.projectDim > 0 && opts.projectDim < rawDim ? opts.projectDim : rawDim;
  const projection = dim < rawDim ? tf.tensor2d(projectionMatrix(rawDim, dim, opts.seed), [rawDim, dim]) : null;
  return {
    spec,
    size: opts.size,
    taps,
    grid,
    rawDim,
    dim,
    model: segment,
    embed(x) {
      return tf.tidy(() => {
        const [f, c] = model.predict(x) as tf.Tensor4D[];
        const fa = tf.avgPool(f!, 3, 1, 'same');
        const ca = tf.image.resizeBilinear(tf.avgPool(c!, 3, 1, 'same'), [grid, grid], false, true);
        const cat = tf.concat([fa, ca], 3).reshape([-1, rawDim]) as tf.Tensor2D;
        return projection ? tf.matMul(cat, projection) : cat;
      });
    },
    dispose() {
      segment.dispose();
      projection?.dispose();
    },
  };
}
