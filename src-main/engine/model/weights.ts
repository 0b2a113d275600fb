/**
 * Reads weights from a TensorFlow.js layers-format folder (model.json + shards) and assigns them to a
 * model's layers by Keras layer name ("conv_pw_13_bn/moving_mean"), so the same ImageNet weights load
 * into a MobileNet built at any input size.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelWeightsError } from '../../shared/errors.ts';
import { readModelJson } from '../../services/training/model/model-json.ts';

export { readModelJson, type WeightsManifestGroup } from '../../services/training/model/model-json.ts';

/** Weights by name ('layer/weight') as plain arrays: no tensors until they are assigned. */
export interface WeightSet {
  dir: string;
  /** Short content hash of model.json and the shards: part of the embedding-cache key. */
  fingerprint: string;
  byName: Map<string, { shape: number[]; values: Float32Array }>;
}

export function readWeightSet(dir: string): WeightSet {
  const json = readModelJson(dir);
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw new ModelWeightsError(`${join(dir, 'model.json')} lists no weights (weightsManifest is missing or empty).`, { dir });
  }
  const hash = createHash('sha256').update(readFileSync(join(dir, 'model.json')));
  const byName = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const group of manifest) {
    const buffers: Buffer[] = [];
    for (const p of group.paths) {
      const file = join(dir, p);
      if (!existsSync(file))
        throw new ModelWeightsError(
          `Weight file ${p} is missing from ${dir} (listed in model.json). Copy the complete model folder again.`,
          { dir, file: p },
        );
      const b = readFileSync(file);
      hash.update(b);
      buffers.push(b);
    }
    const buf = Buffer.concat(buffers);
    const expected = group.weights.reduce((acc, w) => acc + bytesOf(w), 0);
    if (buf.byteLength < expected) {
      throw new ModelWeightsError(
        `Weight files ${group.paths.join(', ')} in ${dir} are truncated (${buf.byteLength} bytes, ${expected} expected).`,
        { dir, files: group.paths },
      );
    }
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const tensors = tf.io.decodeWeights(ab, group.weights);
    for (const [name, t] of Object.entries(tensors)) {
      byName.set(name, { shape: t.shape.slice(), values: t.dataSync() as Float32Array });
      t.dispose();
    }
  }
  return { dir, fingerprint: hash.digest('hex').slice(0, 16), byName };
}

function bytesOf(w: tf.io.WeightsManifestEntry): number {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const q = (w as { quantization?: { dtype: string } }).quantization;
  if (q) return n * (q.dtype === 'uint8' ? 1 : 2);
  return n * 4;
}

/** 'conv_dw_1/depthwise_kernel' → 'depthwise_kernel' (tfjs may add a uniqueness suffix to the variable name). */
function weightSuffix(v: tf.LayerVariable): string {
  const name = v.originalName ?? v.name;
  return name.slice(name.lastIndexOf('/') + 1).replace(/_\d+$/, '');
}

/** Where a weight is looked up: Keras-converted files may carry a scope prefix ("model/conv1/kernel"). */
function lookup(set: WeightSet, layer: string, suffix: string): { shape: number[]; values: Float32Array } | undefined {
  return set.byName.get(`${layer}/${suffix}`) ?? [...set.byName.entries()].find(([k]) => k.endsWith(`/${layer}/${suffix}`))?.[1];
}

export interface AssignOptions {
  /** Only layers whose name passes (default all with weights). */
  include?: (layerName: string) => boolean;
  /** Layers allowed to be absent from the file (e.g. the new head). */
  optional?: (layerName: string) => boolean;
}

/** Assigns weights to `model`'s layers by name; returns the names of layers loaded. */
export function assignWeightsByName(model: tf.LayersModel, set: WeightSet, opts: AssignOptions = {}): string[] {
  const loaded: string[] = [];
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    if (opts.include && !opts.include(layer.name)) continue;
    const values: tf.Tensor[] = [];
    let ok = true;
    for (const v of layer.weights) {
      const suffix = weightSuffix(v);
      const w = lookup(set, layer.name, suffix);
      if (!w) {
        ok = false;
        if (!opts.optional?.(layer.name)) missing.push(`${layer.name}/${suffix}`);
        continue;
      }
      if (w.shape.length !== v.shape.length || w.shape.some((d, i) => d !== v.shape[i])) {
        ok = false;
        mismatched.push(`${layer.name}/${suffix}: file [${w.shape.join(',')}], model [${v.shape.join(',')}]`);
        continue;
      }
      values.push(tf.tensor(w.values, w.shape));
    }
    if (ok) {
      layer.setWeights(values);
      loaded.push(layer.name);
    }
    tf.dispose(values);
  }
  if (mismatched.length) {
    throw new ModelWeightsError(
      `The weights in ${set.dir} do not fit this model (another backbone or width?): ${mismatched.slice(0, 3).join('; ')}${mismatched.length > 3 ? ` and ${mismatched.length - 3} more` : ''}.`,
      { dir: set.dir, mismatched },
    );
  }
  if (missing.length) {
    throw new ModelWeightsError(
      `The weights in ${set.dir} lack ${missing.length} tensor(s) this model needs, e.g. ${missing.slice(0, 3).join(', ')}. Is it the right model folder?`,
      { dir: set.dir, missing },
    );
  }
  return loaded;
}

/** Total size in bytes of a weights folder (for estimates). */
export function folderBytes(dir: string): number {
  const json = readModelJson(dir);
  let n = 0;
  for (const g of json.weightsManifest ?? []) for (const p of g.paths) if (existsSync(join(dir, p))) n += statSync(join(dir, p)).size;
  return n;
}
