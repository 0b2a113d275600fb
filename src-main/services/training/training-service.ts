/**
 * Main side of training: queues runs on the 'training' task queue (the task body is train/training-run.ts, the
 * dataset train/dataset.ts, the configuration train/config.ts), keeps the runs of the open project, predicts and
 * evaluates with a run's model and sets its operating point, all through the EngineService. The engine never writes
 * the catalog: epochs, evaluations and the model come back by message and are written here.
 */
import { existsSync, rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConflictError, NotFoundError, ValidationError } from '../../shared/errors.ts';
import type {
  BackboneWeightsReport,
  ExportResult,
  PredictResult,
  RunDetail,
  RunSummary,
  TrainConfigInput,
  TrainingEstimate,
} from '../../shared/training-types.ts';
import {
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
import { imageShas } from '../db/repos/image-lookups.ts';
import * as runs from '../db/repos/runs.ts';
import type { EngineService } from '../engine/engine-service.ts';
import type { EventBus } from '../events.ts';
import { builtInWeightsDirs } from '../paths.ts';
import type { ProjectManager } from '../projects/project-manager.ts';
import type { Project } from '../projects/project.ts';
import type { SettingsStore } from '../settings/store.ts';
import type { TaskManager } from '../tasks/task-manager.ts';
import { anomalyBanksOf } from './anomaly/anomaly-run.ts';
import { hasRandomExtras, variantsFor } from './data/augment.ts';
import { resizeOfModel } from './data/geometry.ts';
import type { EngineSample } from './data/source.ts';
import { findBackboneWeights, locateBackboneWeights } from './model/backbone-weights.ts';
import { readModelJson } from './model/model-json.ts';
import { exportModelFolder, importModelFolder } from './model/model-transfer.ts';
import { readModelInfo, writeModelInfo } from './model/saved-model.ts';
import { aimArg, checkTileConfig, resolveConfig } from './train/config.ts';
import { buildDataset } from './train/dataset.ts';
import { evaluate } from './train/metrics.ts';
import { executeTrainingRun } from './train/training-run.ts';

export interface TrainingServiceDeps {
  settings: SettingsStore;
  /** Packaged resources (resources/models holds built-in backbone weights). */
  resourcesDir: string;
  projects: ProjectManager;
  tasks: TaskManager;
  events: EventBus;
  engine: EngineService;
}

export class TrainingService {
  private readonly settings: SettingsStore;
  private readonly resourcesDir: string;
  private readonly projects: ProjectManager;
  private readonly tasks: TaskManager;
  private readonly events: EventBus;
  private readonly engine: EngineService;

  constructor(deps: TrainingServiceDeps) {
    this.settings = deps.settings;
    this.resourcesDir = deps.resourcesDir;
    this.projects = deps.projects;
    this.tasks = deps.tasks;
    this.events = deps.events;
    this.engine = deps.engine;
    // Runs left running by a stopped Kensa are marked failed by every project open (projects/recover.ts).
    this.projects.onClose(() => {
      for (const t of this.tasks.list())
        if (t.kind === 'training' && (t.state === 'running' || t.state === 'paused' || t.state === 'queued')) this.tasks.cancel(t.id);
    });
  }

  private weightsDirs(): string[] {
    return [...this.settings.get().weightsDirs, ...builtInWeightsDirs(this.resourcesDir)];
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
    const project = this.projects.require();
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
      // A letterboxed or tiled model goes on seeing its photos the same way unless the run asks otherwise.
      const parentResize = resizeOfModel(readModelInfo(parentModelDir));
      if (input.resize === undefined && parentResize !== 'squash') config.resize = parentResize;
      if (config.resize === 'tile') checkTileConfig(config);
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
    const snap = this.tasks.start(
      'training',
      `Training: ${config.name}`,
      (ctx) =>
        executeTrainingRun({
          ctx,
          project,
          runId,
          config,
          ds,
          weightsDir,
          parentModelDir,
          engine: this.engine,
          events: this.events,
          stillOpen: () => this.projects.project === project,
        }),
      { queue: 'training', what: { kind: 'training', name: config.name } },
    );
    runs.setRunTask(project.db, runId, snap.id);
    this.events.emit('trainingRun', { runId, status: 'queued' });
    return { ...snap, runId };
  }

  list(): RunSummary[] {
    return runs.listRuns(this.projects.require().db);
  }

  get(runId: number): RunDetail {
    const p = this.projects.require();
    const d = runs.getRunDetail(p.db, runId);
    const modelDir = this.modelDirOf(p, d.modelDir);
    return { ...d, modelDir, ...(d.task === 'anomaly' ? { anomalyBanks: anomalyBanksOf(modelDir) } : {}) };
  }

  batchLosses(runId: number) {
    return runs.getRunBatchLosses(this.projects.require().db, runId);
  }

  delete(runId: number): void {
    const p = this.projects.require();
    const r = runs.getRunDetail(p.db, runId);
    if (r.status === 'queued' || r.status === 'running') throw new ConflictError(`Run ${runId} is ${r.status}. Cancel it first.`);
    const wasActive = r.isActive;
    runs.deleteRun(p.db, runId);
    const dir = this.modelDirOf(p, r.modelDir);
    if (dir && dir.startsWith(p.paths.models)) rmSync(dir, { recursive: true, force: true });
    this.events.emit('trainingRun', { runId, status: 'deleted' });
    if (wasActive) this.events.emit('activeModel', { runId: null });
  }

  rename(runId: number, name: string): RunSummary {
    const p = this.projects.require();
    if (!name.trim()) throw new ValidationError('Give the run a name.');
    runs.renameRun(p.db, runId, name.trim());
    this.events.emit('trainingRun', { runId, status: runs.getRunSummary(p.db, runId).status });
    return runs.getRunSummary(p.db, runId);
  }

  setActive(runId: number | null): void {
    const p = this.projects.require();
    if (runId !== null) {
      const r = runs.getRunSummary(p.db, runId);
      if (!r.hasModel) throw new ValidationError(`Run ${runId} has no model (status ${r.status}).`);
    }
    runs.setActiveRunId(p.db, runId);
    this.events.emit('activeModel', { runId });
  }

  getActive(): RunSummary | null {
    const p = this.projects.require();
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
    const p = this.projects.require();
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
    const p = this.projects.require();
    const { runId: id, dir } = this.modelDir(runId);
    const info = readModelInfo(dir);
    const samples: EngineSample[] = [];
    const ids = target.imageIds ?? [];
    if (ids.length) {
      const byId = imageShas(p.db, ids);
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
        ...(res.tiles ? { tile: res.tiles[i]! } : {}),
      };
    });
    return { runId: id, classes: info.classes.map((c) => c.key), threshold: info.threshold, predictions };
  }

  /** `opts.tta`: test-time augmentation; left out = the model's own setting (on for runs trained with it). */
  async evaluateRun(runId: number, split: 'val' | 'test', opts: { tta?: boolean } = {}): Promise<RunDetail> {
    const p = this.projects.require();
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
    const p = this.projects.require();
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
    this.events.emit('trainingRun', { runId, status: d.status });
    return this.get(runId);
  }

  async estimate(input: TrainConfigInput): Promise<TrainingEstimate> {
    const config = resolveConfig(input);
    const p = this.projects.project;
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
      lrSchedule: config.lrSchedule ?? 'warmupCosine',
      randomAugmentation: hasRandomExtras(config.augmentation),
      dropout: config.dropout,
      // Anomaly runs: trainImages are the good training images (buildDataset moved the defects to validation).
      ...(config.task === 'anomaly' ? { task: config.task, anomaly: config.anomaly ?? {} } : {}),
    });
    return { ...r, backend: { training: report.training as BackendName, inference: report.inference as BackendName } };
  }

  // ------------------------------------------------------------------ export / import

  /** Copies the model files into `dir`, each atomically; FileExistsError when one is there already, unless `overwrite`. */
  exportModel(runId: number, dirIn: string, opts: { overwrite?: boolean | undefined } = {}): ExportResult {
    return exportModelFolder(this.modelDir(runId).dir, dirIn, opts);
  }

  /** A model folder (kensa-model.json + weights) copied into the project as an imported run. */
  importModel(dirIn: string): RunSummary {
    const p = this.projects.require();
    const id = importModelFolder(p, dirIn);
    this.events.emit('trainingRun', { runId: id, status: 'imported' });
    return runs.getRunSummary(p.db, id);
  }
}
