/**
 * Training domain types shared by the engine, the main side, the CLI and the UI (wizard, curves,
 * reports). Plain data only: everything here crosses IPC and is stored as JSON in the catalog.
 */
import type { SerializedError } from './errors.ts';
import type { BackendName, BackendReport } from './types.ts';

export const MOBILENET_V1_ALPHAS = ['0.25', '0.5', '0.75', '1.0'] as const;
export const MOBILENET_V2_ALPHAS = ['0.35', '0.5', '0.75', '1.0'] as const;
export type BackboneId = `mobilenet_v1_${(typeof MOBILENET_V1_ALPHAS)[number]}` | `mobilenet_v2_${(typeof MOBILENET_V2_ALPHAS)[number]}`;
export const BACKBONES: readonly BackboneId[] = [
  ...MOBILENET_V1_ALPHAS.map((a) => `mobilenet_v1_${a}` as const),
  ...MOBILENET_V2_ALPHAS.map((a) => `mobilenet_v2_${a}` as const),
];
/** Square input sizes accepted (pixels); multiples of 32 are recommended. */
export const INPUT_SIZE_MIN = 96;
export const INPUT_SIZE_MAX = 640;

/** binary: "ok" vs "defect" (any defect type); multiclass: OK (when labelled) + each defect type. */
export type TrainingTaskKind = 'binary' | 'multiclass';
/** How class imbalance is countered. */
export type ImbalanceMode = 'classWeights' | 'balancedSampling' | 'none';
/**
 * fixed: the study's x3 (original, rotated 180°, rotated 180° and mirrored) as fixed copies (cacheable);
 * random: one of those variants drawn per image per epoch (cacheable); none: originals only.
 */
export type AugmentationMode = 'none' | 'fixed' | 'random';

export interface AugmentationConfig {
  mode: AugmentationMode;
  /** Extra random rotation of ±deg per draw (0 = off). Random extras bypass the embedding cache. */
  rotationDeg: number;
  /** Brightness jitter as a fraction of full scale, e.g. 0.1 (0 = off). */
  brightness: number;
  /** Contrast jitter, e.g. 0.1 = factor in [0.9, 1.1] (0 = off). */
  contrast: number;
  /** Random crop keeping at least this fraction of the side, resized back (1 = off). */
  cropMinScale: number;
}

export type SplitConfig =
  /** Use the split stored in the catalog per image (falls back to random when it has no validation images). */
  | { mode: 'catalog' }
  /** Stratified random split of the labelled images at run time. */
  | { mode: 'random'; valFraction: number; testFraction: number; seed: number };

/** What the wizard / CLI asks for. Fields left out take {@link DEFAULT_TRAIN_CONFIG}'s values. */
export interface TrainConfig {
  name: string;
  task: TrainingTaskKind;
  backbone: BackboneId;
  inputSize: number;
  /** Folder of pretrained weights (tfjs layers format); null = find the ImageNet weights for the backbone. */
  weightsDir: string | null;
  /** Phase 1, transfer learning (frozen backbone, head only). 0 skips it. */
  epochs: number;
  learningRate: number;
  batchSize: number;
  /** Head dropout rate before the dense softmax. */
  dropout: number;
  /** Early stopping on validation loss with best-weights restore; 0 = off. */
  patience: number;
  imbalance: ImbalanceMode;
  augmentation: AugmentationConfig;
  /** Phase 2, fine-tuning: the last N backbone blocks are unfrozen (v1: 0..13, v2: 0..17). */
  fineTuneBlocks: number;
  fineTuneEpochs: number;
  fineTuneLearningRate: number;
  seed: number;
  split: SplitConfig;
  /** Cache backbone embeddings on disk for the transfer phase (project cache/ folder). */
  useEmbeddingCache: boolean;
  /** Continue from a saved run: its model (backbone + head) is the starting point. */
  continueFromRunId: number | null;
  /** Defect type keys (labels) that take part; left out = every labelled class. Other images are left out of all splits. */
  labels?: string[];
}

export const DEFAULT_AUGMENTATION: AugmentationConfig = { mode: 'fixed', rotationDeg: 0, brightness: 0, contrast: 0, cropMinScale: 1 };

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  name: '',
  task: 'binary',
  backbone: 'mobilenet_v1_0.25',
  inputSize: 224,
  weightsDir: null,
  epochs: 60,
  learningRate: 2e-4,
  batchSize: 32,
  dropout: 0.2,
  patience: 10,
  imbalance: 'classWeights',
  augmentation: DEFAULT_AUGMENTATION,
  fineTuneBlocks: 0,
  fineTuneEpochs: 0,
  fineTuneLearningRate: 2e-5,
  seed: 1,
  split: { mode: 'catalog' },
  useEmbeddingCache: true,
  continueFromRunId: null,
};

export type TrainConfigInput = Partial<Omit<TrainConfig, 'augmentation' | 'split'>> & {
  augmentation?: Partial<AugmentationConfig>;
  split?: SplitConfig;
};

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'imported';
export type TrainingPhase = 'transfer' | 'finetune';

export interface EpochMetrics {
  loss: number;
  accuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  learningRate: number;
}

export interface EpochRecord extends EpochMetrics {
  phase: TrainingPhase;
  /** 1-based within the phase. */
  epoch: number;
  /** 1-based over the whole run (transfer epochs, then fine-tuning epochs): the x axis of curves. */
  globalEpoch: number;
  durationMs: number;
}

export interface ClassInfo {
  /** 'ok' / 'defect' for binary, the defect type key for multiclass. */
  key: string;
  nameEn: string;
  nameJa: string;
  color: string;
  isOk: boolean;
}

export interface PerClassMetrics {
  key: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface CurvePoint {
  threshold: number;
  /** ROC: false-positive rate / true-positive rate; PR: recall / precision. */
  x: number;
  y: number;
}

export interface BinaryMetrics {
  /** ROC AUC of P(defect). */
  auc: number;
  roc: CurvePoint[];
  pr: CurvePoint[];
  /** Decision threshold on P(defect) (Youden's J on this split, or the one given). */
  threshold: number;
  /** Share of defect images flagged at the threshold. */
  defectRecall: number;
  /** Share of OK images flagged at the threshold. */
  falseAlarmRate: number;
}

export interface Evaluation {
  split: 'train' | 'val' | 'test';
  count: number;
  accuracy: number;
  loss: number;
  classes: string[];
  perClass: PerClassMetrics[];
  macroF1: number;
  /** confusion[actual][predicted] = count. */
  confusion: number[][];
  /** confusionImageIds[actual][predicted] = the image ids in that cell. */
  confusionImageIds: number[][][];
  binary: BinaryMetrics | null;
}

export interface DatasetSnapshotEntry {
  imageId: number;
  label: string;
  classIndex: number;
  split: 'train' | 'val' | 'test';
}

export interface PhaseSummary {
  phase: TrainingPhase;
  epochsRun: number;
  epochsPlanned: number;
  bestEpoch: number | null;
  bestValLoss: number | null;
  stoppedEarly: boolean;
  durationMs: number;
}

export interface RunDurations {
  totalMs: number;
  embeddingsMs: number;
  transferMs: number;
  fineTuneMs: number;
  evaluationMs: number;
}

export interface RunSummary {
  id: number;
  name: string;
  status: RunStatus;
  task: TrainingTaskKind;
  backbone: BackboneId;
  inputSize: number;
  classes: string[];
  /** Training / inference backend that ran it. */
  backend: { training: BackendName; inference: BackendName } | null;
  trainCount: number;
  valCount: number;
  testCount: number;
  valAccuracy: number | null;
  valLoss: number | null;
  testAccuracy: number | null;
  parentRunId: number | null;
  taskId: string | null;
  isActive: boolean;
  hasModel: boolean;
  createdAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: SerializedError | null;
}

export interface RunDetail extends RunSummary {
  config: TrainConfig;
  classInfo: ClassInfo[];
  weightsSource: string;
  epochs: EpochRecord[];
  phases: PhaseSummary[];
  durations: RunDurations | null;
  evaluations: Evaluation[];
  modelDir: string | null;
}

export interface BatchLossRecord {
  phase: TrainingPhase;
  epoch: number;
  batch: number;
  loss: number;
}

export interface Prediction {
  /** Image id for catalog images; null for files given by path. */
  imageId: number | null;
  path: string | null;
  /** Index into `classes` of the most probable class (binary: uses the model's decision threshold). */
  predicted: number;
  predictedKey: string;
  probabilities: number[];
}

export interface PredictResult {
  runId: number;
  classes: string[];
  threshold: number | null;
  predictions: Prediction[];
}

export interface TrainingEstimate {
  backend: { training: BackendName; inference: BackendName };
  trainImages: number;
  valImages: number;
  /** Samples per epoch after augmentation copies. */
  samplesPerEpoch: number;
  parameters: { total: number; trainableFineTune: number };
  /** Measured on this machine: backbone forward ms per image at the input size. */
  backboneMsPerImage: number;
  embeddingSeconds: number;
  transferEpochSeconds: number;
  fineTuneEpochSeconds: number;
  totalSeconds: number;
  /** Peak engine memory estimate (weights + activations for one batch + optimizer state). */
  peakMemoryMB: number;
  notes: string[];
}

/** The model description saved beside model.json as kensa-model.json. */
export interface KensaModelInfo {
  format: 'kensa-model';
  version: 1;
  runId: number | null;
  name: string;
  task: TrainingTaskKind;
  backbone: BackboneId;
  inputSize: number;
  classes: ClassInfo[];
  /** Binary decision threshold on P(defect); null for multiclass. */
  threshold: number | null;
  preprocessing: { resize: 'fill'; channels: 'rgb (grey repeated)'; scale: '[-1,1]' };
  layers: { lastConv: string; gap: string; dropout: string; dense: string };
  metrics: { valAccuracy: number | null; valLoss: number | null; testAccuracy: number | null };
  createdAt: string;
  kensaVersion: string;
}

export interface ExportResult {
  dir: string;
  files: string[];
}

export type { BackendReport };
