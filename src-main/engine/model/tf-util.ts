/** TensorFlow.js helpers shared by the trainer and engine jobs: backend switching, weight snapshots, I/O. */
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../shared/types.ts';
import type { WeightSet } from './weights.ts';
import type { SavedModelArtifacts } from '../../services/engine/job-types.ts';

/** The tfjs backend name for a Kensa backend name. */
export function tfBackendName(b: BackendName): string {
  return b === 'tfjs-node' || b === 'tfjs-node-gpu' ? 'tensorflow' : b;
}

/** Switches the global tfjs backend (cheap once initialised). Tensors stay on the backend that made them. */
export async function useBackend(name: string): Promise<void> {
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`TensorFlow backend ${name} could not be started`);
  }
}

/** Copies every weight of a model into plain arrays (by 'layer/weight' name), e.g. a best-epoch checkpoint. */
export function snapshotWeights(model: tf.LayersModel, label = '(memory)'): WeightSet {
  const byName = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const layer of model.layers) {
    for (const v of layer.weights) {
      const name = v.originalName ?? v.name;
      const suffix = name.slice(name.lastIndexOf('/') + 1).replace(/_\d+$/, '');
      byName.set(`${layer.name}/${suffix}`, { shape: v.shape.slice() as number[], values: (v.read().dataSync() as Float32Array).slice() });
    }
  }
  return { dir: label, fingerprint: '', byName };
}

/** Merges weight sets; later ones win. */
export function mergeWeightSets(label: string, ...sets: WeightSet[]): WeightSet {
  const byName = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const s of sets) for (const [k, v] of s.byName) byName.set(k, v);
  return { dir: label, fingerprint: sets.map((s) => s.fingerprint).join('+'), byName };
}

/** Serialises a model to tfjs layers-format artifacts (topology + one weights buffer). */
export async function modelArtifacts(model: tf.LayersModel): Promise<SavedModelArtifacts> {
  let out: SavedModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData;
      const buf = data instanceof ArrayBuffer ? data : data ? tf.io.concatenateArrayBuffers(data as ArrayBuffer[]) : new ArrayBuffer(0);
      out = { modelTopology: a.modelTopology as object, weightSpecs: a.weightSpecs ?? [], weightData: buf };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out!;
}

export type { SavedModelArtifacts };

/**
 * The values of the tensor `fn` builds (intermediates freed), read after the tidy scope. Never return a typed array
 * from `tf.tidy`: tidy walks its result for tensors with a for-in over every element, putting each distinct value in a
 * Set; for a fine-tuning prefix batch (32 x 20 x 20 x 384 floats at 320 px) that walk cost about 0.3 s an image, three
 * times the forward pass itself, and nothing on zeros (one distinct value), which is what the estimate timed.
 */
export function readTidy(fn: () => tf.Tensor): Float32Array {
  const t = tf.tidy(fn);
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

/** MobileNet preprocessing on a batch of RGB bytes: [n, s, s, 3] float in [-1, 1]. */
export function pixelsToBatch(pixels: Uint8Array[], size: number): tf.Tensor4D {
  const n = pixels.length;
  const all = new Float32Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    const p = pixels[i]!;
    const off = i * size * size * 3;
    for (let j = 0; j < p.length; j++) all[off + j] = p[j]! / 127.5 - 1;
  }
  return tf.tensor4d(all, [n, size, size, 3]);
}
