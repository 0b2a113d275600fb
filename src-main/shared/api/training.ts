/** Training operations: runs (start, list, inspect, delete), the active model, prediction, export/import, estimates. */
import type {
  BackboneWeightsReport,
  EpochMetrics,
  ExportResult,
  PredictResult,
  RunDetail,
  RunSummary,
  TrainConfigInput,
  TrainingEstimate,
  TrainingPhase,
  BatchLossRecord,
} from '../training-types.ts';
import type { OperatingAim } from '../operating-point.ts';
import type { TaskSnapshot } from '../types.ts';
import type { SweepEstimate, SweepSpec, SweepStarted, SweepView } from '../sweep.ts';
import type { CrossValidationRecord, CrossValidationSpec, CrossValidationStarted, CrossValidationView } from '../cross-validation.ts';

export interface TrainingApi {
  /**
   * Queues a training run on the 'training' task queue and returns its task snapshot (kind 'training';
   * `result` is `{ runId }` when it finishes). Cancel with `cancelTask(snapshot.id)`: training stops within
   * one batch and the best model so far is kept.
   */
  startTraining(config: TrainConfigInput): Promise<TaskSnapshot & { runId: number }>;
  listRuns(): Promise<RunSummary[]>;
  /** Parameters, per-epoch curves, phases, durations and evaluations of one run. */
  getRun(runId: number): Promise<RunDetail>;
  /** Per-batch training losses (long; for the detailed loss curve). */
  getRunBatchLosses(runId: number): Promise<BatchLossRecord[]>;
  /** Deletes the run record and its model files; refused while it is queued or running. */
  deleteRun(runId: number): Promise<void>;
  renameRun(runId: number, name: string): Promise<RunSummary>;
  /** The run whose model the project uses for inspection and heatmaps (null clears it). */
  setActiveModel(runId: number | null): Promise<void>;
  getActiveModel(): Promise<RunSummary | null>;
  /** Classifies catalog images (by id) or image files (by path) with a run's model (default: the active one). */
  predict(target: { imageIds?: number[]; paths?: string[] }, runId?: number): Promise<PredictResult>;
  /** Re-evaluates a run's model on a split of its dataset snapshot (stored with the run). */
  evaluateRun(runId: number, split: 'val' | 'test'): Promise<RunDetail>;
  /**
   * Stores the run's decision threshold on P(defect) in the run and its model ("Use this threshold"): chosen on its
   * validation scores for `aim`, or `threshold` as set by hand with aim `{ kind: 'manual' }`. Inspect, predict and
   * the CLI use it from then on; the stored evaluations are put at it.
   */
  setOperatingPoint(runId: number, aim: OperatingAim, threshold?: number): Promise<RunDetail>;
  /**
   * Writes model.json + weights.bin + kensa-model.json into `dir` (created if needed). FileExistsError when `dir`
   * already holds one of them, unless `overwrite`.
   */
  exportModel(runId: number, dir: string, opts?: { overwrite?: boolean }): Promise<ExportResult>;
  /** Imports a folder written by exportModel as a run with status 'imported'. */
  importModel(dir: string): Promise<RunSummary>;
  /**
   * Saves a run's self-contained HTML report (built by the UI from what it shows) to `file` (.html added when missing),
   * like every export: FileExistsError when the file is there, unless `overwrite`; written atomically.
   */
  saveRunReport(runId: number, html: string, file: string, opts?: { overwrite?: boolean }): Promise<{ path: string }>;
  /** Memory and time estimate for a configuration on the detected backend (measured in the engine). */
  estimateTraining(config: TrainConfigInput): Promise<TrainingEstimate>;
  /** Which backbones have ImageNet weights in the weights folders (Settings and the built-in ones), and where. */
  listBackboneWeights(): Promise<BackboneWeightsReport>;
  /**
   * The study's sweep: queues one run per (input size, fine-tuned blocks) of `spec` over `base` on the 'training'
   * queue (one after another); each run's config carries the sweep tag. Every point is checked before any is queued.
   */
  startSweep(base: TrainConfigInput, spec: SweepSpec): Promise<SweepStarted>;
  /** A sweep's runs (size, N, validation accuracy) and its best run. */
  getSweep(sweepId: string): Promise<SweepView>;
  /** The sum of the sweep's run estimates. */
  estimateSweep(base: TrainConfigInput, spec: SweepSpec): Promise<SweepEstimate>;
  /**
   * k-fold cross-validation: one task (kind 'crossValidation') trains folds × repeats runs one after another over the
   * catalog's non-test images, each tagged with the group and its fold. Cancelling it (`cancelTask(taskId)`) lets the
   * fold in progress finish and keeps the finished folds.
   */
  startCrossValidation(base: TrainConfigInput, spec: CrossValidationSpec): Promise<CrossValidationStarted>;
  /** The project's cross-validation groups, newest first. */
  listCrossValidations(): Promise<CrossValidationRecord[]>;
  /** One group: per-fold accuracy and AUC, mean ± sd, the pooled Wilson interval, the images wrong in every fold. */
  getCrossValidation(id: string): Promise<CrossValidationView>;
}

export const trainingOperations = [
  'startTraining',
  'listRuns',
  'getRun',
  'getRunBatchLosses',
  'deleteRun',
  'renameRun',
  'setActiveModel',
  'getActiveModel',
  'predict',
  'evaluateRun',
  'setOperatingPoint',
  'exportModel',
  'importModel',
  'saveRunReport',
  'estimateTraining',
  'listBackboneWeights',
  'startSweep',
  'getSweep',
  'estimateSweep',
  'startCrossValidation',
  'listCrossValidations',
  'getCrossValidation',
] as const satisfies readonly (keyof TrainingApi)[];

export interface TrainingEvents {
  /** After each epoch (for live curves). */
  trainingEpoch: {
    runId: number;
    taskId: string;
    phase: TrainingPhase;
    epoch: number;
    globalEpoch: number;
    totalEpochs: number;
    metrics: EpochMetrics;
  };
  /** Every training batch, throttled to ~10 per second. */
  trainingBatch: { runId: number; taskId: string; phase: TrainingPhase; epoch: number; batch: number; batches: number; loss: number };
  /** A run's record changed (created, started, finished, deleted, renamed); reload it. */
  trainingRun: { runId: number; status: RunSummary['status'] | 'deleted' };
  /** The project's active model changed. */
  activeModel: { runId: number | null };
}
