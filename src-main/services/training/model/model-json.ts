/**
 * Reads a TensorFlow.js layers-format model.json with clear errors. TF-free (types only), so the process that owns
 * the catalog can check a weights or model folder without loading TensorFlow; weights.ts reads the shards.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { ModelWeightsError } from '../../../shared/errors.ts';

export interface WeightsManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

export interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: WeightsManifestGroup[];
}

export function readModelJson(dir: string): ModelJson {
  const file = join(dir, 'model.json');
  if (!existsSync(dir))
    throw new ModelWeightsError(
      `The weights folder ${dir} does not exist. Choose a folder with a model.json (TensorFlow.js layers format).`,
      { dir },
    );
  if (!existsSync(file))
    throw new ModelWeightsError(
      `No model.json in ${dir}. Pretrained weights must be in TensorFlow.js layers format (model.json beside its weight files).`,
      { dir },
    );
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ModelJson;
  } catch (err) {
    throw new ModelWeightsError(`${file} is not valid JSON: ${(err as Error).message}`, { file });
  }
}

/** Loads every weight of a layers-format folder; clear errors for missing or truncated shards. */
