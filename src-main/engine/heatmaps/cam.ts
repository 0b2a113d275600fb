/** CAM (Zhou et al.): M_c = Σ_k w_{k,c} f_k over the last conv features, from one forward pass. */
import * as tf from '@tensorflow/tfjs';
import { argmax, type Grid } from '../../services/heatmaps/grid.ts';
import { foldPlan } from './fold.ts';
import { gradientFolding, hasSoftmaxHead, runGraph } from './graph.ts';
import { findCamLayers, type CamLayers } from './layers.ts';

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
