/**
 * Kensa model folders: model.json + weights.bin (tfjs layers format) + kensa-model.json (classes,
 * input size, preprocessing, threshold). Written by the main side, read by the engine and the main side.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelWeightsError } from '../../../shared/errors.ts';
import type { KensaModelInfo } from '../../../shared/training-types.ts';
import type { SavedModelArtifacts } from '../../engine/job-types.ts';

export const MODEL_INFO_FILE = 'kensa-model.json';
export const MODEL_FILES = ['model.json', 'weights.bin', MODEL_INFO_FILE] as const;
/** Files only some models have: an anomaly model's memory bank (ml/anomaly/files.ts). */
export const OPTIONAL_MODEL_FILES = ['anomaly-bank.bin'] as const;

/** The files of the model in `dir`: the three every model has, then the optional ones it has. */
export function modelFilesOf(dir: string): string[] {
  return [...MODEL_FILES, ...OPTIONAL_MODEL_FILES.filter((f) => existsSync(join(dir, f)))];
}

export function readModelInfo(dir: string): KensaModelInfo {
  const f = join(dir, MODEL_INFO_FILE);
  if (!existsSync(f)) throw new ModelWeightsError(`${dir} is not a Kensa model folder (no ${MODEL_INFO_FILE}).`, { dir });
  let info: KensaModelInfo;
  try {
    info = JSON.parse(readFileSync(f, 'utf8')) as KensaModelInfo;
  } catch (err) {
    throw new ModelWeightsError(`${f} is not valid JSON: ${(err as Error).message}`, { file: f });
  }
  if (info.format !== 'kensa-model' || info.version !== 1)
    throw new ModelWeightsError(`${f} has an unknown format (${String(info.format)} v${String(info.version)}).`, { file: f });
  if (!existsSync(join(dir, 'model.json'))) throw new ModelWeightsError(`model.json is missing from ${dir}.`, { dir });
  return info;
}

/** Writes artifacts from the engine as model.json + weights.bin, and the description beside them. */
export function writeModelFolder(dir: string, artifacts: SavedModelArtifacts, info: KensaModelInfo): string[] {
  mkdirSync(dir, { recursive: true });
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'Kensa (TensorFlow.js 4.22)',
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData));
  writeFileSync(join(dir, MODEL_INFO_FILE), JSON.stringify(info, null, 2));
  return [...MODEL_FILES];
}

/** Rewrites kensa-model.json (e.g. a new threshold) through a temporary file, so a reader never sees half of it. */
export function writeModelInfo(dir: string, info: KensaModelInfo): void {
  const f = join(dir, MODEL_INFO_FILE);
  const tmp = `${f}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info, null, 2));
  renameSync(tmp, f);
}
