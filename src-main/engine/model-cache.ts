/**
 * Engine side: saved Kensa models built once and kept (small LRU), for predict / evaluate and for
 * other job types (heatmaps) that need the same classifier.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { KensaModelInfo } from '../shared/training-types.ts';
import { buildClassifier, parseBackbone } from './model/mobilenet.ts';
import { readModelInfo } from '../services/training/model/saved-model.ts';
import { useBackend } from './model/tf-util.ts';
import { assignWeightsByName, readWeightSet } from './model/weights.ts';

interface Entry {
  key: string;
  model: tf.LayersModel;
  info: KensaModelInfo;
}

const MAX_MODELS = 2;
const cache: Entry[] = [];

/** The classifier of a Kensa model folder, built on `backend` (cached by folder and file time). */
export async function loadClassifier(dir: string, backend: string): Promise<{ model: tf.LayersModel; info: KensaModelInfo }> {
  const key = `${dir}|${statSync(join(dir, 'model.json')).mtimeMs}|${backend}`;
  const hit = cache.findIndex((e) => e.key === key);
  if (hit >= 0) {
    const [e] = cache.splice(hit, 1);
    cache.unshift(e!);
    return e!;
  }
  const info = readModelInfo(dir);
  await useBackend(backend);
  const model = buildClassifier(parseBackbone(info.backbone), info.inputSize, info.classes.length, 0);
  assignWeightsByName(model, readWeightSet(dir));
  cache.unshift({ key, model, info });
  while (cache.length > MAX_MODELS) cache.pop()!.model.dispose();
  return { model, info };
}

export function clearModelCache(): void {
  while (cache.length) cache.pop()!.model.dispose();
}
