/**
 * What crosses the process boundary for each engine job: parameters, progress events and results, as plain
 * (structured-clone-able) data. TF-free and types only, so the main side (protocol.ts, client.ts, the heatmap and
 * training services) never reaches a file under src-main/engine/, not even for a type. The engine's jobs
 * (src-main/engine/jobs/*) implement these; engine/jobs/index.ts checks each job against its entry in `EngineJobs`.
 */
import type { io } from '@tensorflow/tfjs';
import type { HeatmapMethod } from '../../shared/heatmap-types.ts';
import type { OperatingAim, OperatingPointChoice } from '../../shared/operating-point.ts';
import type {
  AnomalyConfig,
  AnomalyModelParams,
  BackboneId,
  EpochMetrics,
  Evaluation,
  PhaseSummary,
  RunDurations,
  TrainConfig,
  TrainingEstimate,
  TrainingPhase,
  TrainingTaskKind,
} from '../../shared/training-types.ts';
import type { EngineSample } from '../training/data/source.ts';
import type { TileGrid } from '../training/data/tiles.ts';

// ------------------------------------------------------------------ common

/** Where the engine reads the samples' pixels: files on disk, or the catalog over a read-only connection. */
export type SourceSpec = { kind: 'files' } | { kind: 'catalog'; projectDir: string };

/** A model serialised in tfjs layers format (topology + one weights buffer), for the main side to write. */
export interface SavedModelArtifacts {
  modelTopology: object;
  weightSpecs: io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

export type ProgressEvent = { kind: 'progress'; done: number; total: number };

// ------------------------------------------------------------------ train

export type TrainerEvent =
  | { kind: 'phase'; phase: TrainingPhase | 'embeddings' | 'evaluation'; epochs: number }
  | { kind: 'embeddings'; done: number; total: number; cached: number }
  | { kind: 'batch'; phase: TrainingPhase; epoch: number; globalEpoch: number; batch: number; batches: number; loss: number }
  | {
      kind: 'epoch';
      phase: TrainingPhase;
      epoch: number;
      globalEpoch: number;
      totalEpochs: number;
      metrics: EpochMetrics;
      durationMs: number;
      batchLosses: number[];
      improved: boolean;
    };

export interface TrainerOutput {
  status: 'completed' | 'cancelled';
  phases: PhaseSummary[];
  durations: RunDurations;
  evaluations: Evaluation[];
  /** Binary decision threshold (from validation), or null. */
  threshold: number | null;
  /** Null when cancelled before any checkpoint existed. */
  model: SavedModelArtifacts | null;
  bestValLoss: number | null;
  bestValAccuracy: number | null;
}

export interface TrainJobParams {
  runId: number;
  config: TrainConfig;
  classes: string[];
  okIndex: number | null;
  samples: EngineSample[];
  source: SourceSpec;
  /** Folder of the ImageNet (or user) backbone weights, tfjs layers format. */
  backboneWeightsDir: string;
  /** Continue from run: that run's model folder. */
  initialModelDir: string | null;
  /** Project cache folder (embeddings), or null. */
  cacheDir: string | null;
}

export type TrainJobEvent = TrainerEvent;
export type TrainJobResult = TrainerOutput & { backends: { training: string; inference: string } };

// ------------------------------------------------------------------ predict

export interface PredictJobParams {
  modelDir: string;
  samples: EngineSample[];
  source: SourceSpec;
  /** Test-time augmentation (mean softmax of the x3 fixed variants); left out = the model's own setting (kensa-model.json). */
  tta?: boolean;
}

export interface PredictJobResult {
  /** probabilities[i] for samples[i]. */
  probabilities: number[][];
  ids: number[];
  /** Tiled models: tiles[i] = the index (in its photo's tile grid) of the worst tile, whose probabilities decided. */
  tiles?: number[];
}

export type PredictJobEvent = ProgressEvent;

// ------------------------------------------------------------------ estimate

export interface EstimateJobParams {
  backbone: BackboneId;
  inputSize: number;
  batchSize: number;
  fineTuneBlocks: number;
  trainImages: number;
  valImages: number;
  /** Test images (evaluated once at the end). */
  testImages?: number;
  variants: number;
  epochs: number;
  /** Transfer-phase early-stopping patience (0 = off): the phase is expected to stop before its planned epochs. */
  patience?: number;
  fineTuneEpochs: number;
  fineTunePatience?: number;
  numClasses: number;
  cachedFraction: number;
  /** Test-time augmentation in the final evaluation (x3 forward passes). */
  tta?: boolean;
  /** The transfer phase's learning-rate schedule (default warm-up + cosine): how long early stopping lets it run. */
  lrSchedule?: 'warmupCosine' | 'constant';
  /** Random augmentation extras: every epoch's inputs differ, so fine-tuning recomputes the frozen prefix each epoch. */
  randomAugmentation?: boolean;
  /** The head's dropout rate (a mask is drawn for every transfer batch). */
  dropout?: number;
  /**
   * Anomaly runs (task 'anomaly'): trainImages are the good images the bank learns from, valImages + testImages the
   * images scored to set the threshold; the estimate times the fit's passes instead of a classifier's.
   */
  task?: TrainingTaskKind;
  /** Anomaly runs: the memory-bank settings asked for (left out: the engine's defaults). */
  anomaly?: Partial<AnomalyConfig>;
}

export type EstimateJobResult = Omit<TrainingEstimate, 'backend'>;

// ------------------------------------------------------------------ heatmaps

export interface HeatmapJobRequest {
  method: HeatmapMethod;
  /** Class indices to map; null in the list = each image's predicted class. */
  classes: (number | null)[];
  /** Grad-CAM layer (default: the last conv features). */
  layer?: string;
  /** SmoothGrad: copies, noise (fraction of the input range), copies per batch, seed. */
  n?: number;
  sigma?: number;
  batchSize?: number;
  seed?: number;
}

export interface HeatmapsJobParams {
  modelDir: string;
  samples: EngineSample[];
  source: SourceSpec;
  requests: HeatmapJobRequest[];
  /** Images per CAM batch (default 16). */
  camBatch?: number;
}

export interface HeatmapMapEvent {
  kind: 'map';
  imageId: number;
  method: HeatmapMethod;
  /** The class mapped (resolved: never null). */
  classIndex: number;
  width: number;
  height: number;
  data: Float32Array;
  probabilities: number[];
  /** Milliseconds of compute for this map (CAM: the batch's share). */
  ms: number;
}

export type HeatmapsJobEvent = HeatmapMapEvent | ProgressEvent | { kind: 'error'; imageId: number; message: string };

export interface HeatmapsJobResult {
  maps: number;
  backends: { forward: string; gradients: string };
}

// ------------------------------------------------------------------ anomaly

export type AnomalyThresholdBasis = 'good-percentile' | 'good-max' | 'operating-point' | 'train-fallback';

export interface AnomalyThreshold {
  /** Raw-score threshold (normalised score 0.5). */
  raw: number;
  basis: AnomalyThresholdBasis;
  /** Words for logs and the CLI. */
  description: string;
  /** The operating-point choice on normalised scores when defect images took part. */
  choice: OperatingPointChoice | null;
}

export interface AnomalyFitParams {
  config: TrainConfig;
  /** Class index of OK in `samples` (0: the run's classes are OK, defect). */
  okIndex: number;
  classes: string[];
  samples: EngineSample[];
  source: SourceSpec;
  backboneWeightsDir: string;
  aim: OperatingAim;
}

export type AnomalyFitEvent =
  { kind: 'phase'; phase: 'features' | 'coreset' | 'evaluate' } | { kind: 'progress'; done: number; total: number; unit: 'images' };

export interface AnomalyFitResult {
  artifacts: SavedModelArtifacts;
  /** Bank rows [bankRows * dim], float32. */
  bank: Float32Array;
  params: AnomalyModelParams;
  threshold: AnomalyThreshold;
  evaluations: Evaluation[];
  trainImages: number;
  candidates: number;
  durations: { featuresMs: number; coresetMs: number; evaluationMs: number; totalMs: number };
  /** Largest resident set size of the engine during the fit (MB). */
  peakRssMB: number;
  backends: { training: string; inference: string };
}

export interface AnomalyScoreParams {
  modelDir: string;
  samples: EngineSample[];
  source: SourceSpec;
  /** Also return each image's patch distances (grid x grid). */
  maps: boolean;
}

export interface AnomalyScoreResult {
  ids: number[];
  raw: number[];
  /** Normalised scores (0.5 = the threshold). */
  scores: number[];
  /** probabilities[i] in the model's class order (OK, defect), as a classifier's predict returns them. */
  probabilities: number[][];
  grid: number;
  /** Patch distances per image (only when asked for), in raw units; tiled models: each tile's grid in turn. */
  patches: Float32Array[] | null;
  /** Tiled anomaly models, with patches: each image's tile grid (services/training/data/tiles.ts). */
  tiles?: (TileGrid | null)[];
  rawThreshold: number;
}

export type AnomalyScoreEvent = ProgressEvent;

// ------------------------------------------------------------------ the registry

/** Every engine job by kind. Adding one: an entry here, then jobs/<name>.ts and its place in jobs/index.ts. */
export interface EngineJobs {
  train: { params: TrainJobParams; event: TrainJobEvent; result: TrainJobResult };
  predict: { params: PredictJobParams; event: PredictJobEvent; result: PredictJobResult };
  estimate: { params: EstimateJobParams; event: never; result: EstimateJobResult };
  heatmaps: { params: HeatmapsJobParams; event: HeatmapsJobEvent; result: HeatmapsJobResult };
  'anomaly-fit': { params: AnomalyFitParams; event: AnomalyFitEvent; result: AnomalyFitResult };
  'anomaly-score': { params: AnomalyScoreParams; event: AnomalyScoreEvent; result: AnomalyScoreResult };
}

export type EngineJobKind = keyof EngineJobs;
export type JobParams<K extends EngineJobKind> = EngineJobs[K]['params'];
export type JobResult<K extends EngineJobKind> = EngineJobs[K]['result'];
export type JobEvent<K extends EngineJobKind> = EngineJobs[K]['event'];
