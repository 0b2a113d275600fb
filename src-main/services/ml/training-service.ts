/**
 * Main side of training: reads the dataset from the catalog, records runs (migration 003), queues
 * runs on the 'training' task queue and drives the engine process through EngineClient. The engine
 * never writes the catalog: epochs, evaluations and the model come back by message and are written here.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConflictError, ModelWeightsError, NotFoundError, ValidationError, serializeError } from '../../shared/errors.ts';
import {
  BACKBONES,
  DEFAULT_TRAIN_CONFIG,
  type BackboneWeightsReport,
  type ClassInfo,
  type DatasetSnapshotEntry,
  type ExportResult,
  type KensaModelInfo,
  type PhaseSummary,
  type PredictResult,
  type RunDetail,
  type RunSummary,
  type TrainConfig,
  type TrainConfigInput,
  type TrainingEstimate,
} from '../../shared/training-types.ts';
import {
  checkAim,
  countsAt,
  DEFAULT_AIM,
  decideClass,
  evaluationAt,
  FALLBACK_THRESHOLD,
  scoresOf,
  chooseThreshold,
  type OperatingAim,
  type OperatingPointChoice,
} from '../../shared/operating-point.ts';
import type { BackendName, TaskSnapshot } from '../../shared/types.ts';
import { listDatasetSamples } from '../catalog/dataset.ts';
import { listTypes } from '../db/repos/defect-types.ts';
import * as runs from '../db/repos/runs.ts';
import { builtInWeightsDirs } from '../paths.ts';
import type { Project } from '../projects/project.ts';
import type { Services } from '../services.ts';
import type { TaskContext } from '../tasks/task-manager.ts';
import { APP_VERSION } from '../version.ts';
import { checkTarget, copyFileAtomic } from '../export-file.ts';
import { variantsFor } from './data/augment.ts';
import type { EngineSample } from './data/source.ts';
import { EngineClient, type EngineLauncher } from '../engine/client.ts';
import { checkInputSize, HEAD_LAYERS, parseBackbone } from './model/backbone-table.ts';
import { MODEL_INFO_FILE, modelFilesOf, readModelInfo, writeModelFolder, writeModelInfo } from './model/saved-model.ts';
import { resizeOfModel } from './data/geometry.ts';
import { readModelJson } from './model/model-json.ts';
import { applyOperatingPoint, evaluate } from './train/metrics.ts';
import { stratifiedGroupFolds } from './train/folds.ts';
import { createRng, shuffleInPlace } from './train/rng.ts';
import { ANOMALY_DEFAULT_BACKBONE, anomalySplit, checkAnomalyConfig, executeAnomalyRun } from './anomaly/anomaly-run.ts';

const DEFECT_CLASS: ClassInfo = { key: 'defect', nameEn: 'defect', nameJa: '不良', color: '#e5484d', isOk: false };

/** Fills defaults and checks a configuration; throws ValidationError with a message for the wizard. */
export function resolveConfig(input: TrainConfigInput): TrainConfig {
  const c: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    ...input,
    augmentation: { ...DEFAULT_TRAIN_CONFIG.augmentation, ...(input.augmentation ?? {}) },
    split: input.split ?? DEFAULT_TRAIN_CONFIG.split,
  } as TrainConfig;
  // Anomaly detection scores best on v2 1.0's features (measured on elpv, bench/anomaly.ts).
  if (c.task === 'anomaly' && input.backbone === undefined) c.backbone = ANOMALY_DEFAULT_BACKBONE;
  const spec = parseBackbone(c.backbone);
  checkInputSize(c.inputSize);
  const int = (v: number, lo: number, hi: number, what: string) => {
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw new ValidationError(`${what} must be a whole number from ${lo} to ${hi} (got ${v}).`);
  };
  int(c.epochs, 0, 10000, 'Epochs');
  int(c.fineTuneEpochs, 0, 10000, 'Fine-tuning epochs');
  int(c.batchSize, 1, 512, 'Batch size');
  int(c.fineTuneBlocks, 0, spec.blocks, `Fine-tuned blocks for ${c.backbone}`);
  int(c.patience, 0, 10000, 'Early-stopping patience');
  if (c.fineTunePatience !== undefined) int(c.fineTunePatience, 0, 10000, 'Fine-tuning early-stopping patience');
  if (c.lrSchedule !== undefined && c.lrSchedule !== 'warmupCosine' && c.lrSchedule !== 'constant')
    throw new ValidationError(`Unknown learning-rate schedule "${String(c.lrSchedule)}" (warmupCosine or constant).`);
  if (c.guideWeight !== undefined && !(c.guideWeight >= 0 && c.guideWeight <= 100))
    throw new ValidationError('The guidance weight must be from 0 to 100 (e.g. 1).');
  if (c.bestEpoch !== undefined && c.bestEpoch !== 'valLoss' && c.bestEpoch !== 'accuracyNearBestPointing')
    throw new ValidationError(`Unknown best-epoch rule "${String(c.bestEpoch)}" (valLoss or accuracyNearBestPointing).`);
  if (c.resize !== undefined && c.resize !== 'squash' && c.resize !== 'letterbox')
    throw new ValidationError(`Unknown resize "${String(c.resize)}" (squash or letterbox).`);
  if (c.resize === 'letterbox' && c.task === 'anomaly')
    throw new ValidationError('Letterbox is for classifiers; anomaly models squash the photos (leave resize out).');
  if (c.stopSmoothing !== undefined && !(c.stopSmoothing > 0 && c.stopSmoothing <= 1))
    throw new ValidationError('The early-stopping smoothing must be above 0 and at most 1 (1 = the raw validation loss).');
  if (!(c.learningRate > 0 && c.learningRate < 1)) throw new ValidationError('The learning rate must be between 0 and 1 (e.g. 0.0002).');
  if (!(c.fineTuneLearningRate > 0 && c.fineTuneLearningRate < 1))
    throw new ValidationError('The fine-tuning learning rate must be between 0 and 1 (e.g. 0.00002).');
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new ValidationError('Dropout must be from 0 to just below 1.');
  if (c.epochs + c.fineTuneEpochs === 0 && c.task !== 'anomaly')
    throw new ValidationError('Set at least one epoch of transfer learning or fine-tuning.');
  if (!['binary', 'multiclass', 'anomaly'].includes(c.task)) throw new ValidationError(`Unknown task "${c.task}".`);
  if (c.task === 'anomaly') checkAnomalyConfig(c);
  if (!['classWeights', 'balancedSampling', 'none'].includes(c.imbalance))
    throw new ValidationError(`Unknown imbalance mode "${c.imbalance}".`);
  const a = c.augmentation;
  if (!['none', 'fixed', 'random'].includes(a.mode)) throw new ValidationError(`Unknown augmentation mode "${a.mode}".`);
  if (
    a.rotationDeg < 0 ||
    a.rotationDeg > 45 ||
    a.brightness < 0 ||
    a.brightness > 0.5 ||
    a.contrast < 0 ||
    a.contrast > 0.5 ||
    a.cropMinScale < 0.5 ||
    a.cropMinScale > 1
  ) {
    throw new ValidationError('Augmentation out of range: rotation 0–45°, brightness and contrast 0–0.5, crop scale 0.5–1.');
  }
  if (
    c.split.mode === 'random' &&
    !(c.split.valFraction > 0 && c.split.valFraction + c.split.testFraction < 1 && c.split.testFraction >= 0)
  ) {
    throw new ValidationError('The validation and test fractions must be positive and leave images for training.');
  }
  if (
    c.split.mode === 'fold' &&
    !(
      Number.isInteger(c.split.folds) &&
      c.split.folds >= 2 &&
      c.split.folds <= 20 &&
      Number.isInteger(c.split.fold) &&
      c.split.fold >= 0 &&
      c.split.fold < c.split.folds &&
      (c.split.groupBy === 'none' || c.split.groupBy === 'batch')
    )
  ) {
    throw new ValidationError('Cross-validation needs 2 to 20 folds, a fold number below that, and grouping "none" or "batch".');
  }
  if (c.labels !== undefined) {
    if (!Array.isArray(c.labels) || !c.labels.every((l) => typeof l === 'string'))
      throw new ValidationError('The labels to train on must be a list of defect type keys.');
    c.labels = [...new Set(c.labels)];
    if (!c.labels.length) throw new ValidationError('Choose at least two labels to train on.');
  }
  if (c.operatingPoint !== undefined) c.operatingPoint = aimArg(c.operatingPoint);
  if (c.operatingPoint?.kind === 'manual')
    throw new ValidationError('Choose what the threshold is for: miss no defect, balanced or fewest false alarms.');
  if (!c.name) c.name = `${c.backbone} ${c.inputSize}px ${c.task}`;
  return c;
}

/** An operating-point aim from the API or the CLI, checked (ValidationError with a message for the user). */
export function aimArg(aim: unknown): OperatingAim {
  try {
    return checkAim(aim);
  } catch (err) {
    throw new ValidationError((err as Error).message);
  }
}

/** Finds the ImageNet weights folder for a backbone (user folders first, then resources/models, ../shared/models). */
export function findBackboneWeights(backbone: string, searchDirs: string[]): string {
  const spec = parseBackbone(backbone);
  for (const d of searchDirs) for (const f of spec.weightFolders) if (existsSync(join(d, f, 'model.json'))) return join(d, f);
  throw new ModelWeightsError(
    `ImageNet weights for ${backbone} were not found (looked for ${spec.weightFolders[0]} in ${searchDirs.join(', ')}). ` +
      'Choose a folder with the TensorFlow.js layers-format MobileNet weights, or another backbone.',
    { backbone, searched: searchDirs },
  );
}

/** Every backbone's weights folder as Start would find it (findBackboneWeights' rule), or null where none is found. */
export function locateBackboneWeights(searchDirs: string[]): BackboneWeightsReport {
  return {
    searched: searchDirs,
    backbones: BACKBONES.map((backbone) => {
      const spec = parseBackbone(backbone);
      let dir: string | null = null;
      for (const d of searchDirs)
        for (const f of spec.weightFolders) if (dir === null && existsSync(join(d, f, 'model.json'))) dir = join(d, f);
      return { backbone, dir, folderName: spec.weightFolders[0]! };
    }),
  };
}

interface Dataset {
  classInfo: ClassInfo[];
  okIndex: number | null;
  snapshot: (DatasetSnapshotEntry & { sha256: string })[];
}

/**
 * One fold of k-fold cross-validation: the catalog's test images stay the locked test set; the others are split into
 * stratified folds (each import batch kept whole with groupBy 'batch'), fold `fold` validating and the rest training.
 */
function foldSplit<T extends { imageId: number; classIndex: number; split: 'train' | 'val' | 'test' }>(
  db: Project['db'],
  snapshot: T[],
  sp: Extract<TrainConfig['split'], { mode: 'fold' }>,
): T[] {
  const pool = snapshot.filter((s) => s.split !== 'test');
  const batchOf = new Map<number, number | null>();
  if (sp.groupBy === 'batch')
    for (const r of db.prepare('SELECT id, batch_id FROM images').all() as { id: number; batch_id: number | null }[])
      batchOf.set(r.id, r.batch_id);
  const folds = stratifiedGroupFolds(
    pool.map((s) => ({ classIndex: s.classIndex, group: sp.groupBy === 'batch' ? (batchOf.get(s.imageId) ?? null) : null })),
    sp.folds,
    sp.seed,
  );
  const foldOf = new Map(pool.map((s, i) => [s, folds[i]!]));
  return snapshot.map((s) => (s.split === 'test' ? s : { ...s, split: foldOf.get(s) === sp.fold ? 'val' : 'train' }));
}

/** Reads labelled images and builds the classes and the split for a run. */
export function buildDataset(project: Project, config: TrainConfig): Dataset {
  const db = project.db;
  const types = listTypes(db);
  const typeByKey = new Map(types.map((t) => [t.key, t]));
  let samples = listDatasetSamples(db);
  if (config.labels) {
    // Only the chosen labels take part: images of the others are left out of every split.
    const unknown = config.labels.filter((l) => !typeByKey.has(l));
    if (unknown.length)
      throw new ValidationError(`Unknown label(s): ${unknown.join(', ')}. Choose from: ${types.map((t) => t.key).join(', ')}.`);
    const chosen = new Set(config.labels);
    if (config.task !== 'multiclass' && !config.labels.some((l) => typeByKey.get(l)!.isOk))
      throw new ValidationError('OK-vs-defect training needs the OK label: tick OK and at least one defect type.');
    samples = samples.filter((s) => chosen.has(s.label));
  }
  let classInfo: ClassInfo[];
  let indexOf: (label: string) => number;
  if (config.task === 'binary' || config.task === 'anomaly') {
    const ok = types.find((t) => t.isOk);
    const okKeys = new Set(types.filter((t) => t.isOk).map((t) => t.key));
    classInfo = [
      ok
        ? { key: ok.key, nameEn: ok.nameEn, nameJa: ok.nameJa, color: ok.color, isOk: true }
        : { key: 'ok', nameEn: 'OK', nameJa: '良品', color: '#2e9e5b', isOk: true },
      DEFECT_CLASS,
    ];
    indexOf = (l) => (okKeys.has(l) ? 0 : 1);
  } else {
    const used = new Set(samples.map((s) => s.label));
    classInfo = types
      .filter((t) => used.has(t.key))
      .map((t) => ({ key: t.key, nameEn: t.nameEn, nameJa: t.nameJa, color: t.color, isOk: t.isOk }));
    const idx = new Map(classInfo.map((c, i) => [c.key, i]));
    indexOf = (l) => idx.get(l)!;
  }
  let snapshot = samples.map((s) => ({
    imageId: s.imageId,
    sha256: s.sha256,
    label: s.label,
    classIndex: indexOf(s.label),
    split: s.split,
  }));
  const needsResplit = config.split.mode === 'random' || !snapshot.some((s) => s.split === 'val');
  if (config.split.mode === 'fold') snapshot = foldSplit(db, snapshot, config.split);
  else if (needsResplit && snapshot.length) {
    const sp = config.split.mode === 'random' ? config.split : { valFraction: 0.24, testFraction: 0, seed: config.seed };
    const rng = createRng(sp.seed);
    const byClass = new Map<number, typeof snapshot>();
    for (const s of snapshot) byClass.set(s.classIndex, [...(byClass.get(s.classIndex) ?? []), s]);
    snapshot = [];
    for (const [, list] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
      const sh = shuffleInPlace(list.slice(), rng);
      const nVal = Math.round(sh.length * sp.valFraction);
      const nTest = Math.round(sh.length * sp.testFraction);
      sh.forEach((s, k) => snapshot.push({ ...s, split: k < nVal ? 'val' : k < nVal + nTest ? 'test' : 'train' }));
    }
  }
  // Anomaly detection learns from OK images only; its defect images validate (and set the threshold).
  if (config.task === 'anomaly') return { classInfo, okIndex: 0, snapshot: anomalySplit(snapshot, 0) };
  const present = new Set(snapshot.map((s) => s.classIndex));
  if (config.task === 'binary' && present.size < 2) {
    const hasOk = present.has(0);
    throw new ValidationError(
      `OK-vs-defect training needs labelled ${hasOk ? 'defect' : 'OK'} images too; this project has ${hasOk ? 'only OK' : 'only defect'} images labelled. ` +
        'Label some, or choose the multi-class task.',
    );
  }
  if (classInfo.length < 2) throw new ValidationError('Training needs labelled images of at least two classes. Label more images first.');
  const trainClasses = new Set(snapshot.filter((s) => s.split === 'train').map((s) => s.classIndex));
  const missing = classInfo.filter((_, i) => !trainClasses.has(i)).map((c) => c.nameEn);
  if (missing.length)
    throw new ValidationError(`No training images of: ${missing.join(', ')}. Label more, or move some from validation to training.`);
  void typeByKey;
  // The defect score 1 - P(OK) (and so the operating point) exists whenever OK is one of the classes.
  const ok = classInfo.findIndex((c) => c.isOk);
  return { classInfo, okIndex: config.task === 'binary' ? 0 : ok >= 0 ? ok : null, snapshot };
}

export class TrainingService {
  readonly engine: EngineClient;
  private readonly s: Services;

  constructor(s: Services, opts: { launcher?: EngineLauncher; env?: NodeJS.ProcessEnv } = {}) {
    this.s = s;
    this.engine = new EngineClient({ ...(opts.launcher ? { launcher: opts.launcher } : {}), ...(opts.env ? { env: opts.env } : {}) });
    this.engine.onReport((r) => s.events.emit('backend', r));
    // Runs left running by a stopped Kensa are marked failed by every project open (projects/recover.ts).
    s.projects.onClose(() => {
      for (const t of s.tasks.list())
        if (t.kind === 'training' && (t.state === 'running' || t.state === 'paused' || t.state === 'queued')) s.tasks.cancel(t.id);
    });
    s.onDispose(() => this.engine.dispose());
    s.useLiveBackendReport(() => this.engine.report);
  }

  private weightsDirs(): string[] {
    return [...this.s.settings.get().weightsDirs, ...builtInWeightsDirs(this.s.resourcesDir)];
  }

  /** Weights availability per backbone in the folders Start searches. */
  backboneWeights(): BackboneWeightsReport {
    return locateBackboneWeights(this.weightsDirs());
  }

  private modelDirOf(project: Project, rel: string | null): string | null {
    if (!rel) return null;
    return isAbsolute(rel) ? rel : join(project.dir, rel);
  }

  // ------------------------------------------------------------------ runs

  start(input: TrainConfigInput): TaskSnapshot & { runId: number } {
    const project = this.s.projects.require();
    const config = resolveConfig(input);
    let parentModelDir: string | null = null;
    let parent: RunDetail | null = null;
    if (config.continueFromRunId !== null) {
      parent = runs.getRunDetail(project.db, config.continueFromRunId);
      parentModelDir = this.modelDirOf(project, parent.modelDir);
      if (!parentModelDir || !existsSync(join(parentModelDir, 'model.json')))
        throw new ValidationError(`Run ${parent.id} has no saved model to continue from.`);
      config.backbone = parent.backbone;
      config.inputSize = parent.inputSize;
      config.task = parent.task;
      // A letterboxed model goes on seeing letterboxed photos unless the run asks otherwise.
      if (input.resize === undefined && resizeOfModel(readModelInfo(parentModelDir)) === 'letterbox') config.resize = 'letterbox';
    }
    const weightsDir = config.weightsDir ?? findBackboneWeights(config.backbone, this.weightsDirs());
    readModelJson(weightsDir); // clear error now rather than in the engine
    const ds = buildDataset(project, config);
    if (parent && parent.classes.join('|') !== ds.classInfo.map((c) => c.key).join('|')) {
      throw new ValidationError(
        `Run ${parent.id} was trained on the classes ${parent.classes.join(', ')}; the project now has ${ds.classInfo.map((c) => c.key).join(', ')}. Start a new run instead.`,
      );
    }
    const runId = runs.insertRun(project.db, {
      name: config.name,
      status: 'queued',
      config,
      classInfo: ds.classInfo,
      weightsSource: parent ? `run ${parent.id} (${parentModelDir})` : weightsDir,
      parentRunId: parent?.id ?? null,
      taskId: null,
      snapshot: ds.snapshot,
    });
    const snap = this.s.tasks.start(
      'training',
      `Training: ${config.name}`,
      (ctx) => this.execute(ctx, project, runId, config, ds, weightsDir, parentModelDir),
      { queue: 'training', what: { kind: 'training', name: config.name } },
    );
    runs.setRunTask(project.db, runId, snap.id);
    this.s.events.emit('trainingRun', { runId, status: 'queued' });
    return { ...snap, runId };
  }

  private async execute(
    ctx: TaskContext,
    project: Project,
    runId: number,
    config: TrainConfig,
    ds: Dataset,
    weightsDir: string,
    parentModelDir: string | null,
  ): Promise<{ runId: number }> {
    const db = project.db;
    const stillOpen = () => this.s.projects.project === project;
    const emitRun = (status: RunSummary['status']) => this.s.events.emit('trainingRun', { runId, status });
    if (ctx.signal.aborted) {
      runs.finishRun(db, runId, { status: 'cancelled' });
      emitRun('cancelled');
      return { runId };
    }
    runs.markRunStarted(db, runId, null);
    emitRun('running');
    // Pausable from the start: a pause while the engine starts is passed on when the job begins.
    const offPausable = ctx.onPauseChange(() => undefined);
    ctx.update({ message: 'Starting the training engine…', step: { kind: 'engine-starting' } });
    try {
      const { report } = await this.engine.ensureStarted();
      const backend = { training: report.training, inference: report.inference };
      runs.setRunBackend(db, runId, backend);
      if (config.task === 'anomaly') {
        const okIndex = ds.okIndex ?? 0;
        await executeAnomalyRun({ ctx, engine: this.engine, project, runId, config, ...ds, okIndex, weightsDir, stillOpen });
        if (runs.getActiveRunId(db) === null) {
          runs.setActiveRunId(db, runId);
          this.s.events.emit('activeModel', { runId });
        }
        emitRun('succeeded');
        return { runId };
      }
      const samples: EngineSample[] = ds.snapshot.map((s) => ({ id: s.imageId, key: s.sha256, label: s.classIndex, split: s.split }));
      const totalEpochs = config.epochs + config.fineTuneEpochs;
      // The run's length from the start, so the UI's one progress figure (epochs done + batches) is right at once.
      ctx.update({ epoch: { current: 0, total: totalEpochs } });
      const result = await this.engine.run(
        'train',
        {
          runId,
          config,
          classes: ds.classInfo.map((c) => c.key),
          okIndex: ds.okIndex,
          samples,
          source: { kind: 'catalog', projectDir: project.dir },
          backboneWeightsDir: weightsDir,
          initialModelDir: parentModelDir,
          cacheDir: config.useEmbeddingCache ? project.paths.cache : null,
        },
        {
          signal: ctx.signal,
          pause: ctx,
          onEvent: (e) => {
            if (!stillOpen()) return;
            switch (e.kind) {
              case 'phase':
                ctx.update({
                  message:
                    e.phase === 'embeddings'
                      ? 'Computing backbone embeddings…'
                      : e.phase === 'transfer'
                        ? 'Transfer learning (head only)…'
                        : e.phase === 'finetune'
                          ? `Fine-tuning the last ${config.fineTuneBlocks} blocks…`
                          : 'Evaluating…',
                  step:
                    e.phase === 'finetune'
                      ? { kind: 'finetune', blocks: config.fineTuneBlocks }
                      : { kind: e.phase === 'embeddings' || e.phase === 'transfer' ? e.phase : 'evaluate' },
                });
                break;
              case 'embeddings':
                ctx.progress(e.done, e.total, 'images');
                break;
              case 'batch':
                ctx.progress(e.batch, e.batches, 'batches');
                this.s.events.emit('trainingBatch', {
                  runId,
                  taskId: ctx.id,
                  phase: e.phase,
                  epoch: e.epoch,
                  batch: e.batch,
                  batches: e.batches,
                  loss: e.loss,
                });
                break;
              case 'epoch':
                runs.insertEpoch(
                  db,
                  runId,
                  { ...e.metrics, phase: e.phase, epoch: e.epoch, globalEpoch: e.globalEpoch, durationMs: e.durationMs },
                  e.batchLosses,
                );
                ctx.update({ epoch: { current: e.globalEpoch, total: totalEpochs }, metrics: numericMetrics(e.metrics) });
                this.s.events.emit('trainingEpoch', {
                  runId,
                  taskId: ctx.id,
                  phase: e.phase,
                  epoch: e.epoch,
                  globalEpoch: e.globalEpoch,
                  totalEpochs,
                  metrics: e.metrics,
                });
                break;
            }
          },
        },
      );
      if (!stillOpen()) throw new ConflictError('The project was closed during training.');
      // The operating point for the user's aim, chosen on validation; the locked test split is put at it once.
      const op = applyOperatingPoint(result.evaluations, config.operatingPoint ?? DEFAULT_AIM);
      result.evaluations = op.evaluations;
      if (op.choice) result.threshold = op.choice.threshold;
      let modelRel: string | null = null;
      if (result.model) {
        modelRel = join('models', String(runId));
        const info: KensaModelInfo = {
          format: 'kensa-model',
          version: 1,
          runId,
          name: config.name,
          task: config.task,
          backbone: config.backbone,
          inputSize: config.inputSize,
          classes: ds.classInfo,
          threshold: result.threshold,
          tta: config.tta ?? false,
          operatingPoint: op.choice,
          preprocessing: {
            resize: config.resize === 'letterbox' ? 'letterbox' : 'fill',
            channels: 'rgb (grey repeated)',
            scale: '[-1,1]',
          },
          layers: {
            lastConv: parseBackbone(config.backbone).lastConvLayer,
            gap: HEAD_LAYERS.gap,
            dropout: HEAD_LAYERS.dropout,
            dense: HEAD_LAYERS.dense,
          },
          metrics: {
            valAccuracy: result.evaluations.find((x) => x.split === 'val')?.accuracy ?? result.bestValAccuracy,
            valLoss: result.evaluations.find((x) => x.split === 'val')?.loss ?? result.bestValLoss,
            testAccuracy: result.evaluations.find((x) => x.split === 'test')?.accuracy ?? null,
          },
          createdAt: new Date().toISOString(),
          kensaVersion: APP_VERSION,
        };
        writeModelFolder(join(project.dir, modelRel), result.model, info);
      }
      for (const ev of result.evaluations) runs.upsertEvaluation(db, runId, ev);
      const val = result.evaluations.find((x) => x.split === 'val');
      const status = result.status === 'cancelled' ? 'cancelled' : 'succeeded';
      runs.finishRun(db, runId, {
        status,
        modelDir: modelRel,
        threshold: result.threshold,
        operatingPoint: op.choice,
        valAccuracy: val?.accuracy ?? result.bestValAccuracy,
        valLoss: val?.loss ?? result.bestValLoss,
        phases: result.phases,
        durations: result.durations,
      });
      if (status === 'succeeded' && modelRel && runs.getActiveRunId(db) === null) {
        if (learnedOnlyInFirstEpoch(result.phases)) {
          // Its checkpoint is the first epoch's head and nothing after it did better: not a model to inspect with
          // unasked. The run stays in Runs, where it can still be made the active model.
          ctx.update({ message: 'Not made the active model: validation was best after the first epoch and never improved.' });
        } else {
          runs.setActiveRunId(db, runId);
          this.s.events.emit('activeModel', { runId });
        }
      }
      emitRun(status);
      return { runId };
    } catch (err) {
      const cancelled = ctx.signal.aborted || (err as Error).name === 'CancelledError';
      if (stillOpen())
        runs.finishRun(db, runId, { status: cancelled ? 'cancelled' : 'failed', error: cancelled ? null : serializeError(err) });
      emitRun(cancelled ? 'cancelled' : 'failed');
      throw err;
    } finally {
      offPausable();
    }
  }

  list(): RunSummary[] {
    return runs.listRuns(this.s.projects.require().db);
  }

  get(runId: number): RunDetail {
    const p = this.s.projects.require();
    const d = runs.getRunDetail(p.db, runId);
    return { ...d, modelDir: this.modelDirOf(p, d.modelDir) };
  }

  batchLosses(runId: number) {
    return runs.getRunBatchLosses(this.s.projects.require().db, runId);
  }

  delete(runId: number): void {
    const p = this.s.projects.require();
    const r = runs.getRunDetail(p.db, runId);
    if (r.status === 'queued' || r.status === 'running') throw new ConflictError(`Run ${runId} is ${r.status}. Cancel it first.`);
    const wasActive = r.isActive;
    runs.deleteRun(p.db, runId);
    const dir = this.modelDirOf(p, r.modelDir);
    if (dir && dir.startsWith(p.paths.models)) rmSync(dir, { recursive: true, force: true });
    this.s.events.emit('trainingRun', { runId, status: 'deleted' });
    if (wasActive) this.s.events.emit('activeModel', { runId: null });
  }

  rename(runId: number, name: string): RunSummary {
    const p = this.s.projects.require();
    if (!name.trim()) throw new ValidationError('Give the run a name.');
    runs.renameRun(p.db, runId, name.trim());
    this.s.events.emit('trainingRun', { runId, status: runs.getRunSummary(p.db, runId).status });
    return runs.getRunSummary(p.db, runId);
  }

  setActive(runId: number | null): void {
    const p = this.s.projects.require();
    if (runId !== null) {
      const r = runs.getRunSummary(p.db, runId);
      if (!r.hasModel) throw new ValidationError(`Run ${runId} has no model (status ${r.status}).`);
    }
    runs.setActiveRunId(p.db, runId);
    this.s.events.emit('activeModel', { runId });
  }

  getActive(): RunSummary | null {
    const p = this.s.projects.require();
    const id = runs.getActiveRunId(p.db);
    if (id === null) return null;
    try {
      return runs.getRunSummary(p.db, id);
    } catch {
      return null;
    }
  }

  /** A run's model folder (absolute), or the active model's. */
  modelDir(runId?: number): { runId: number; dir: string } {
    const p = this.s.projects.require();
    const id = runId ?? runs.getActiveRunId(p.db);
    if (id === null || id === undefined) throw new ValidationError('No model is selected: train one or choose an active model first.');
    const d = runs.getRunDetail(p.db, id);
    const dir = this.modelDirOf(p, d.modelDir);
    if (!dir || !existsSync(join(dir, 'model.json'))) throw new NotFoundError(`Run ${id} has no saved model.`, { runId: id });
    return { runId: id, dir };
  }

  // ------------------------------------------------------------------ inference

  /** `opts.tta`: test-time augmentation (mean softmax of the x3 variants); left out = the model's own setting. */
  async predict(
    target: { imageIds?: number[]; paths?: string[] },
    runId?: number,
    signal?: AbortSignal,
    opts: { tta?: boolean } = {},
  ): Promise<PredictResult> {
    const p = this.s.projects.require();
    const { runId: id, dir } = this.modelDir(runId);
    const info = readModelInfo(dir);
    const samples: EngineSample[] = [];
    const ids = target.imageIds ?? [];
    if (ids.length) {
      const rows = p.db.prepare(`SELECT id, sha256 FROM images WHERE id IN (${ids.map(() => '?').join(',')})`).all(...ids) as {
        id: number;
        sha256: string;
      }[];
      const byId = new Map(rows.map((r) => [r.id, r.sha256]));
      for (const i of ids) {
        const sha = byId.get(i);
        if (!sha) throw new NotFoundError(`Image ${i} is not in the catalog.`, { imageId: i });
        samples.push({ id: i, key: sha, label: -1, split: 'test' });
      }
    }
    for (const path of target.paths ?? []) {
      const abs = resolve(path);
      if (!existsSync(abs)) throw new NotFoundError(`The file ${abs} does not exist.`, { path: abs });
      samples.push({ id: -(samples.length + 1), key: abs, label: -1, split: 'test', path: abs });
    }
    if (!samples.length) return { runId: id, classes: info.classes.map((c) => c.key), threshold: info.threshold, predictions: [] };
    const res = await this.engine.run(
      'predict',
      { modelDir: dir, samples, source: { kind: 'catalog', projectDir: p.dir }, ...(opts.tta !== undefined ? { tta: opts.tta } : {}) },
      signal ? { signal } : {},
    );
    const ok = info.classes.findIndex((c) => c.isOk);
    const predictions = samples.map((s, i) => {
      const probs = res.probabilities[i]!;
      // The stored threshold decides OK vs defect (then the most probable defect type); without one, the most probable class.
      const predicted = decideClass(probs, ok >= 0 ? ok : null, info.threshold);
      return {
        imageId: s.path ? null : s.id,
        path: s.path ?? null,
        predicted,
        predictedKey: info.classes[predicted]!.key,
        probabilities: probs,
      };
    });
    return { runId: id, classes: info.classes.map((c) => c.key), threshold: info.threshold, predictions };
  }

  /** `opts.tta`: test-time augmentation; left out = the model's own setting (on for runs trained with it). */
  async evaluateRun(runId: number, split: 'val' | 'test', opts: { tta?: boolean } = {}): Promise<RunDetail> {
    const p = this.s.projects.require();
    const { dir } = this.modelDir(runId);
    const info = readModelInfo(dir);
    const snap = runs.getRunSnapshot(p.db, runId).filter((s) => s.split === split && s.imageId > 0);
    if (!snap.length) throw new ValidationError(`Run ${runId} has no ${split === 'val' ? 'validation' : 'test'} images.`);
    const samples: EngineSample[] = snap.map((s) => ({ id: s.imageId, key: s.sha256, label: s.classIndex, split }));
    const res = await this.engine.run('predict', {
      modelDir: dir,
      samples,
      source: { kind: 'catalog', projectDir: p.dir },
      ...(opts.tta !== undefined ? { tta: opts.tta } : {}),
    });
    const scored = samples.map((s, i) => ({ id: s.id, label: s.label, probs: res.probabilities[i]! }));
    const ok = info.classes.findIndex((c) => c.isOk);
    const okIndex = ok >= 0 ? ok : null;
    // At the stored threshold (the one Inspect uses). Without one, validation chooses for the run's aim; the test
    // split never chooses its own threshold.
    const stored = runs.getRunThreshold(p.db, runId);
    const threshold = stored ?? (split === 'test' ? FALLBACK_THRESHOLD : undefined);
    const aim = runs.getRunDetail(p.db, runId).config.operatingPoint ?? DEFAULT_AIM;
    const ev = evaluate(
      split,
      scored,
      info.classes.map((c) => c.key),
      { okIndex, aim, ...(threshold !== undefined ? { threshold } : {}) },
    );
    runs.upsertEvaluation(p.db, runId, ev);
    return this.get(runId);
  }

  /**
   * Stores a run's decision threshold: chosen on its validation scores for `aim`, or `threshold` as set by hand
   * (aim manual). The stored evaluations move to it, and so does the model folder's kensa-model.json, which
   * Inspect, predict, the CLI and exported copies read.
   */
  setOperatingPoint(runId: number, aimIn: OperatingAim, threshold?: number): RunDetail {
    const p = this.s.projects.require();
    const aim = aimArg(aimIn);
    const d = runs.getRunDetail(p.db, runId);
    if (d.status === 'queued' || d.status === 'running') throw new ConflictError(`Run ${runId} is ${d.status}. Wait for it to finish.`);
    if (!d.classInfo.some((c) => c.isOk))
      throw new ValidationError('This model has no OK class, so there is no defect score to put a threshold on.');
    const val = d.evaluations.find((e) => e.split === 'val');
    const sc = val ? scoresOf(val) : null;
    let choice: OperatingPointChoice;
    if (aim.kind === 'manual') {
      if (!(typeof threshold === 'number' && threshold >= 0 && threshold <= 1))
        throw new ValidationError('The threshold must be between 0 and 1.');
      choice = { aim, threshold, basis: 'manual', reason: null, counts: sc ? countsAt(sc.scores, sc.positive, threshold) : null };
    } else {
      if (!sc)
        throw new ValidationError(
          `Run ${runId} keeps no validation scores to choose a threshold on. Evaluate it on the validation set first.`,
        );
      choice = chooseThreshold(sc.scores, sc.positive, aim);
    }
    const { dir } = this.modelDir(runId);
    writeModelInfo(dir, { ...readModelInfo(dir), threshold: choice.threshold, operatingPoint: choice });
    p.db.transaction(() => {
      runs.setRunOperatingPoint(p.db, runId, choice);
      for (const e of d.evaluations) if (e.binary) runs.upsertEvaluation(p.db, runId, evaluationAt(e, choice.threshold));
    })();
    this.s.events.emit('trainingRun', { runId, status: d.status });
    return this.get(runId);
  }

  async estimate(input: TrainConfigInput): Promise<TrainingEstimate> {
    const config = resolveConfig(input);
    const p = this.s.projects.project;
    let trainImages = 0;
    let valImages = 0;
    let testImages = 0;
    let numClasses = 2;
    if (p) {
      try {
        const ds = buildDataset(p, config);
        trainImages = ds.snapshot.filter((s) => s.split === 'train').length;
        valImages = ds.snapshot.filter((s) => s.split === 'val').length;
        testImages = ds.snapshot.filter((s) => s.split === 'test').length;
        numClasses = ds.classInfo.length;
      } catch {
        // Estimates work before the dataset is ready: counts stay 0.
      }
    }
    const { report } = await this.engine.ensureStarted();
    const r = await this.engine.run('estimate', {
      backbone: config.backbone,
      inputSize: config.inputSize,
      batchSize: config.batchSize,
      fineTuneBlocks: config.fineTuneBlocks,
      trainImages,
      valImages,
      testImages,
      variants: config.augmentation.mode === 'fixed' ? variantsFor('fixed').length : 1,
      epochs: config.epochs,
      patience: config.patience,
      fineTuneEpochs: config.fineTuneEpochs,
      fineTunePatience: config.fineTunePatience ?? 5,
      numClasses,
      cachedFraction: 0,
      tta: config.tta ?? false,
    });
    return { ...r, backend: { training: report.training as BackendName, inference: report.inference as BackendName } };
  }

  // ------------------------------------------------------------------ export / import

  /** Copies the model files into `dir`, each atomically; FileExistsError when one is there already, unless `overwrite`. */
  exportModel(runId: number, dirIn: string, opts: { overwrite?: boolean | undefined } = {}): ExportResult {
    const { dir: src } = this.modelDir(runId);
    const dir = resolve(dirIn);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ValidationError(`${dir} is a file. Choose a folder.`, { path: dir });
    const files = modelFilesOf(src);
    for (const f of files) checkTarget(join(dir, f), opts.overwrite);
    mkdirSync(dir, { recursive: true });
    // The description last: a folder with kensa-model.json is a whole model.
    for (const f of [...files.filter((x) => x !== MODEL_INFO_FILE), MODEL_INFO_FILE]) copyFileAtomic(join(src, f), join(dir, f), opts);
    return { dir, files };
  }

  importModel(dirIn: string): RunSummary {
    const p = this.s.projects.require();
    const dir = resolve(dirIn);
    const info = readModelInfo(dir);
    parseBackbone(info.backbone);
    readModelJson(dir);
    const config = resolveConfig({
      name: info.name || `Imported ${info.backbone}`,
      task: info.task,
      backbone: info.backbone,
      inputSize: info.inputSize,
      epochs: 0,
      fineTuneEpochs: 1,
    });
    const id = runs.insertImportedRun(p.db, {
      name: config.name,
      config,
      classInfo: info.classes,
      weightsSource: `imported from ${dir}`,
      threshold: info.threshold,
      operatingPoint: info.operatingPoint ?? null,
    });
    const rel = join('models', String(id));
    mkdirSync(join(p.dir, rel), { recursive: true });
    for (const f of readdirSync(dir)) if (modelFilesOf(dir).includes(f)) cpSync(join(dir, f), join(p.dir, rel, f));
    runs.setRunModelDir(p.db, id, rel);
    this.s.events.emit('trainingRun', { runId: id, status: 'imported' });
    return runs.getRunSummary(p.db, id);
  }

  async debugCrashEngine(): Promise<void> {
    await this.engine.crash();
  }
}

/**
 * Whether a run's model is its first epoch's: the transfer phase's best epoch was epoch 1 and early stopping ended it,
 * and fine-tuning (if any) never improved on that. Such a run does not become the active model by itself.
 */
export function learnedOnlyInFirstEpoch(phases: PhaseSummary[]): boolean {
  const transfer = phases.find((p) => p.phase === 'transfer');
  const fine = phases.find((p) => p.phase === 'finetune');
  return !!transfer && transfer.bestEpoch === 1 && transfer.stoppedEarly && (!fine || fine.bestEpoch === null);
}

function numericMetrics(m: {
  loss: number;
  accuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  learningRate: number;
}): Record<string, number> {
  const out: Record<string, number> = { loss: m.loss, accuracy: m.accuracy, learningRate: m.learningRate };
  if (m.valLoss !== null) out.valLoss = m.valLoss;
  if (m.valAccuracy !== null) out.valAccuracy = m.valAccuracy;
  return out;
}

const services = new WeakMap<Services, TrainingService>();
const launchers = new WeakMap<Services, EngineLauncher>();

/** Electron main calls this before the first training call to run the engine in a utilityProcess. */
export function setEngineLauncher(s: Services, launcher: EngineLauncher): void {
  if (services.has(s)) throw new Error('setEngineLauncher must be called before the training service starts');
  launchers.set(s, launcher);
}

/** The one TrainingService of a Services instance (created on first use). */
export function trainingService(s: Services): TrainingService {
  let t = services.get(s);
  if (!t) {
    const launcher = launchers.get(s);
    t = new TrainingService(s, launcher ? { launcher } : {});
    services.set(s, t);
  }
  return t;
}
