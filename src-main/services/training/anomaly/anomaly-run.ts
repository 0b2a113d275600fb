/**
 * Main side of an anomaly run (task 'anomaly'): sends the run's images to the engine's 'anomaly-fit' job, then
 * writes the model folder (the backbone segment as model.json + weights.bin, the bank as anomaly-bank.bin, and
 * kensa-model.json with the bank parameters) and stores the evaluations like any run. The scores are normalised
 * so that the threshold sits at 0.5 on the defect score, so Inspect, predict, eval, the report and its slider
 * treat an anomaly run like a binary one. Never imports TensorFlow.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, ValidationError } from '../../../shared/errors.ts';
import { DEFAULT_AIM, type OperatingPointChoice } from '../../../shared/operating-point.ts';
import type {
  AnomalyBankInfo,
  AnomalyConfig,
  AnomalyModelParams,
  ClassInfo,
  DatasetSnapshotEntry,
  KensaModelInfo,
  TrainConfig,
} from '../../../shared/training-types.ts';
import * as runs from '../../db/repos/runs.ts';
import type { Project } from '../../projects/project.ts';
import type { TaskContext } from '../../tasks/task-manager.ts';
import { APP_VERSION } from '../../version.ts';
import type { EngineSample } from '../data/source.ts';
import type { EngineService } from '../../engine/engine-service.ts';
import { MODEL_INFO_FILE, readModelInfo, writeModelFolder } from '../model/saved-model.ts';
import { DEFAULT_MAX_TILES } from '../data/tiles.ts';

import { ANOMALY_BANK_FILE } from './files.ts';

export { ANOMALY_BANK_FILE };

/** The backbone an anomaly run uses unless one is chosen (best image AUROC on elpv among the bundled weights). */
export const ANOMALY_DEFAULT_BACKBONE = 'mobilenet_v2_1.0';

/** The bank(s) in words: "1,234 patches", or "one bank per core type: rotor 1,234 patches, stator 2,345 patches". */
export function bankWords(p: Pick<AnomalyModelParams, 'bankRows' | 'banks'>): string {
  const n = (x: number) => x.toLocaleString('en-US');
  if (!p.banks?.length) return `${n(p.bankRows)} patches`;
  return `one bank per core type: ${p.banks.map((b) => `${b.coreType} ${n(b.rows)} patches`).join(', ')}`;
}

/** The per-type banks of the anomaly model in `dir` (absent: one bank, no model, or not an anomaly model). */
export function anomalyBanksOf(dir: string | null): AnomalyBankInfo[] | undefined {
  if (!dir || !existsSync(join(dir, MODEL_INFO_FILE))) return undefined;
  try {
    const banks = readModelInfo(dir).anomaly?.banks;
    return banks?.length ? banks : undefined;
  } catch {
    // A damaged model folder is reported where the model is used; the report still opens.
    return undefined;
  }
}

/** Checks the anomaly settings and the input size (multiple of 32 so the two feature grids align). */
export function checkAnomalyConfig(c: TrainConfig): void {
  if (c.inputSize % 32 !== 0)
    throw new ValidationError(`For anomaly detection the input size must be a multiple of 32 (got ${c.inputSize}), e.g. 224 or 256.`);
  const a: Partial<AnomalyConfig> = c.anomaly ?? {};
  if (a.coresetFraction !== undefined && !(a.coresetFraction > 0 && a.coresetFraction <= 1))
    throw new ValidationError('The coreset fraction must be above 0 and at most 1 (e.g. 0.1 keeps 10 % of the good patches).');
  if (a.projectDim !== undefined && !(Number.isInteger(a.projectDim) && a.projectDim >= 0 && a.projectDim <= 4096))
    throw new ValidationError('The projection size must be a whole number from 0 (no projection) to 4096.');
  if (c.maxTiles !== undefined && !(Number.isInteger(c.maxTiles) && c.maxTiles >= 1 && c.maxTiles <= 64))
    throw new ValidationError(`The most tiles per photo must be a whole number from 1 to 64 (got ${c.maxTiles}).`);
}

/**
 * kensa-model.json's preprocessing for an anomaly model's resize mode (anomaly.resize; absent = squash, 'fill'), so
 * that the main side's heatmaps put its maps back as a classifier's (geometry.ts gridToOriginal: letterboxed maps cut
 * back to the photo, tiled ones arrive stitched).
 */
export function preprocessingOf(p: Pick<AnomalyModelParams, 'resize' | 'maxTiles'>): KensaModelInfo['preprocessing'] {
  const base = { channels: 'rgb (grey repeated)', scale: '[-1,1]' } as const;
  if (p.resize === 'letterbox') return { resize: 'letterbox', ...base, padMask: true };
  if (p.resize === 'tile') return { resize: 'tile', ...base, tiles: { maxTiles: p.maxTiles ?? DEFAULT_MAX_TILES } };
  return { resize: 'fill', ...base };
}

/**
 * The anomaly task learns from OK images only: defect images the split put into training are moved to validation,
 * where they help set the threshold. Needs OK images in training.
 */
export function anomalySplit<T extends DatasetSnapshotEntry>(snapshot: T[], okIndex: number): T[] {
  const out = snapshot.map((s) => (s.split === 'train' && s.classIndex !== okIndex ? { ...s, split: 'val' as const } : s));
  if (!out.some((s) => s.split === 'train' && s.classIndex === okIndex))
    throw new ValidationError('Anomaly detection learns from OK images: label some images OK (and keep some in training) first.');
  return out;
}

export async function executeAnomalyRun(a: {
  ctx: TaskContext;
  engine: EngineService;
  project: Project;
  runId: number;
  config: TrainConfig;
  classInfo: ClassInfo[];
  okIndex: number;
  snapshot: (DatasetSnapshotEntry & { sha256: string })[];
  weightsDir: string;
  stillOpen: () => boolean;
}): Promise<{ modelRel: string; operatingPoint: OperatingPointChoice }> {
  const { ctx, project, runId, config } = a;
  const samples: EngineSample[] = a.snapshot.map((s) => ({ id: s.imageId, key: s.sha256, label: s.classIndex, split: s.split }));
  const aim = config.operatingPoint ?? DEFAULT_AIM;
  const result = await a.engine.run(
    'anomaly-fit',
    {
      config,
      okIndex: a.okIndex,
      classes: a.classInfo.map((c) => c.key),
      samples,
      source: { kind: 'catalog', projectDir: project.dir },
      backboneWeightsDir: a.weightsDir,
      aim,
    },
    {
      signal: ctx.signal,
      pause: ctx,
      onEvent: (e) => {
        if (!a.stillOpen()) return;
        if (e.kind === 'progress') ctx.progress(e.done, e.total, e.unit);
        else
          ctx.update({
            message:
              e.phase === 'features'
                ? 'Learning good patches…'
                : e.phase === 'coreset'
                  ? 'Choosing the memory bank (coreset)…'
                  : 'Scoring validation images…',
            step: { kind: e.phase === 'features' ? 'embeddings' : e.phase === 'coreset' ? 'transfer' : 'evaluate' },
          });
      },
    },
  );
  if (!a.stillOpen()) throw new ConflictError('The project was closed during training.');
  const modelRel = join('models', String(runId));
  const dir = join(project.dir, modelRel);
  const val = result.evaluations.find((e) => e.split === 'val') ?? null;
  const test = result.evaluations.find((e) => e.split === 'test') ?? null;
  // Without defect images in validation the threshold comes from the good images alone (stated in the parameters).
  const operatingPoint: OperatingPointChoice = result.threshold.choice ?? {
    aim,
    threshold: 0.5,
    basis: 'default',
    reason: 'no-defect-images',
    counts: null,
  };
  const info: KensaModelInfo = {
    format: 'kensa-model',
    version: 1,
    runId,
    name: config.name,
    task: 'anomaly',
    backbone: config.backbone,
    inputSize: config.inputSize,
    classes: a.classInfo,
    threshold: 0.5,
    operatingPoint,
    preprocessing: preprocessingOf(result.params),
    layers: { lastConv: result.params.taps[1], gap: '', dropout: '', dense: '' },
    metrics: { valAccuracy: val?.accuracy ?? null, valLoss: null, testAccuracy: test?.accuracy ?? null },
    createdAt: new Date().toISOString(),
    kensaVersion: APP_VERSION,
    anomaly: result.params,
  };
  // The bank first, the description last: a folder with kensa-model.json is a whole model.
  mkdirSync(dir, { recursive: true });
  const b = result.bank;
  writeFileSync(join(dir, ANOMALY_BANK_FILE), new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  writeModelFolder(dir, result.artifacts, info);
  for (const ev of result.evaluations) runs.upsertEvaluation(project.db, runId, ev);
  const d = result.durations;
  runs.finishRun(project.db, runId, {
    status: 'succeeded',
    modelDir: modelRel,
    threshold: 0.5,
    operatingPoint,
    valAccuracy: val?.accuracy ?? null,
    valLoss: null,
    testAccuracy: test?.accuracy ?? null,
    phases: [],
    durations: { totalMs: d.totalMs, embeddingsMs: d.featuresMs, transferMs: d.coresetMs, fineTuneMs: 0, evaluationMs: d.evaluationMs },
  });
  ctx.update({
    message: `Memory bank: ${bankWords(result.params)} from ${result.trainImages} good images; threshold = ${result.threshold.description}.`,
  });
  return { modelRel, operatingPoint };
}
