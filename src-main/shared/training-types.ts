/**
 * Training domain types shared by the engine, the main side, the CLI and the UI (wizard, curves,
 * reports). Plain data only: everything here crosses IPC and is stored as JSON in the catalog.
 */
import type { SerializedError } from './errors.ts';
import type { EvalSample, OperatingAim, OperatingPointChoice } from './operating-point.ts';
import type { BackendName, BackendReport } from './types.ts';
import type { SweepTag } from './sweep.ts';
import type { CrossValidationTag } from './cross-validation.ts';

export const MOBILENET_V1_ALPHAS = ['0.25', '0.5', '0.75', '1.0'] as const;
export const MOBILENET_V2_ALPHAS = ['0.35', '0.5', '0.75', '1.0'] as const;
export type BackboneId = `mobilenet_v1_${(typeof MOBILENET_V1_ALPHAS)[number]}` | `mobilenet_v2_${(typeof MOBILENET_V2_ALPHAS)[number]}`;
export const BACKBONES: readonly BackboneId[] = [
  ...MOBILENET_V1_ALPHAS.map((a) => `mobilenet_v1_${a}` as const),
  ...MOBILENET_V2_ALPHAS.map((a) => `mobilenet_v2_${a}` as const),
];
/** Where one backbone's ImageNet weights were found: `dir` is null when no weights folder holds them. */
export interface BackboneWeights {
  backbone: BackboneId;
  dir: string | null;
  /** The folder name looked for (the TensorFlow.js MobileNet hosting name, e.g. mobilenet_v1_1.0_224). */
  folderName: string;
}

/** Weights availability of every backbone, and the weights folders searched (user folders first). */
export interface BackboneWeightsReport {
  backbones: BackboneWeights[];
  searched: string[];
}
/** Square input sizes accepted (pixels); multiples of 32 are recommended. */
export const INPUT_SIZE_MIN = 96;
export const INPUT_SIZE_MAX = 640;

/**
 * binary: "ok" vs "defect" (any defect type); multiclass: OK (when labelled) + each defect type;
 * anomaly: learns from OK images only (PatchCore-style memory bank); defect images only validate and set the threshold.
 */
export type TrainingTaskKind = 'binary' | 'multiclass' | 'anomaly';
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
  | { mode: 'random'; valFraction: number; testFraction: number; seed: number }
  /**
   * k-fold cross-validation: fold `fold` (0-based) of `folds` validates, the others train; images in the catalog's test
   * split stay the locked test set. Folds are stratified by class and keep each import batch in one fold with
   * groupBy 'batch'.
   */
  | { mode: 'fold'; folds: number; fold: number; seed: number; groupBy: 'none' | 'batch' };

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
  /** Early stopping on the smoothed validation loss (epochs without a new low), best-weights restore; 0 = off. */
  patience: number;
  /**
   * Transfer-phase learning rate: 'warmupCosine' (linear warm-up, then a half cosine from learningRate down to
   * 2 % of it at the last planned epoch; the default) or 'constant'. Left out = 'warmupCosine'.
   */
  lrSchedule?: 'warmupCosine' | 'constant';
  /** Transfer phase: weight of the newest epoch in the moving average of validation loss early stopping watches (1 = raw); default 0.3. */
  stopSmoothing?: number;
  imbalance: ImbalanceMode;
  augmentation: AugmentationConfig;
  /** Phase 2, fine-tuning: the last N backbone blocks are unfrozen (v1: 0..13, v2: 0..17). */
  fineTuneBlocks: number;
  fineTuneEpochs: number;
  fineTuneLearningRate: number;
  /** Early-stopping patience of the fine-tuning phase (its epochs cost minutes, not milliseconds); left out = 5. */
  fineTunePatience?: number;
  /**
   * Which epoch's weights the run keeps: 'valLoss' (lowest validation loss; the default) or 'accuracyNearBestPointing'
   * (best validation accuracy among the epochs whose CAM pointing is within 2 points of the best; needs validation
   * images with regions, otherwise the lowest validation loss).
   */
  bestEpoch?: 'valLoss' | 'accuracyNearBestPointing';
  /**
   * Training guided by regions: for defect images with regions, a loss on the share of the true class's CAM outside
   * the regions (images without regions train as without it). Not with random rotations or crops. Default off.
   */
  guideRegions?: boolean;
  /** Weight of that loss beside the cross-entropy (default 1). */
  guideWeight?: number;
  /**
   * Test-time augmentation: the run's evaluation (and, by default, the model's predictions in Inspect and the CLI)
   * average the softmax of the study's x3 variants (original, rotated 180°, rotated 180° and mirrored). Left out = off.
   */
  tta?: boolean;
  /**
   * How photos become the square model input: 'squash' (stretched; the default, and every run from before the option)
   * or 'letterbox' (aspect kept, padded in neutral grey) or 'tile' (large or elongated photos: a grid of square windows,
   * services/training/data/tiles.ts, each one model input; the image's score is its worst tile). Saved with the model:
   * predict, Inspect and heatmaps use it.
   */
  resize?: 'squash' | 'letterbox' | 'tile';
  /** Tile only: the most tiles per photo (the tile side grows until the grid fits; default DEFAULT_MAX_TILES). */
  maxTiles?: number;
  /**
   * Letterbox only: the padding is left out of the global average pool and of the maps (the head averages only the
   * feature cells over the photo). Left out = the default (DEFAULT_PAD_MASK in services/training/data/geometry.ts). Saved with the model.
   */
  padMask?: boolean;
  seed: number;
  split: SplitConfig;
  /** Cache backbone embeddings on disk for the transfer phase (project cache/ folder). */
  useEmbeddingCache: boolean;
  /** Continue from a saved run: its model (backbone + head) is the starting point. */
  continueFromRunId: number | null;
  /** Defect type keys (labels) that take part; left out = every labelled class. Other images are left out of all splits. */
  labels?: string[];
  /** What the decision threshold is chosen for on validation after training; left out = balanced (Youden's J). */
  operatingPoint?: OperatingAim;
  /** Anomaly task only: memory-bank settings (left out = the defaults). */
  anomaly?: Partial<AnomalyConfig>;
  /** Set on the runs a sweep queued (shared/sweep.ts): which sweep and which (size, N) point. */
  sweep?: SweepTag;
  /** Set on the runs of a cross-validation group (shared/cross-validation.ts): which group and which fold. */
  crossValidation?: CrossValidationTag;
}

/** Anomaly task settings. */
export interface AnomalyConfig {
  /** Share of the good patches kept in the memory bank by greedy k-center coreset sampling (0 < F <= 1). */
  coresetFraction: number;
  /** Dimensions per patch after the seeded random projection (0 = all). */
  projectDim: number;
  /** Standardise each image's brightness and contrast before the backbone. */
  normaliseIntensity: boolean;
  /**
   * Test-time flips, stored with the model (left out: none). 'h' also scores each image mirrored: +0.0045 AUROC on
   * elpv for twice the scoring time (bench/anomaly.ts --flips h).
   */
  flips?: AnomalyFlips;
}

/** What an anomaly model keeps beside its files (kensa-model.json's `anomaly` block). */
export interface AnomalyModelParams extends AnomalyConfig {
  backbone: BackboneId;
  inputSize: number;
  /** The two feature taps (stride 8, stride 16). */
  taps: [string, string];
  seed: number;
  /** Per-image coreset candidates as a multiple of the final fraction. */
  candidateFactor: number;
  /** Dimensions of the copy coreset distances are taken on. */
  coresetProjectDim: number;
  /** Bank rows at most, whatever the fraction. */
  maxBankRows: number;
  /** Rows in anomaly-bank.bin. */
  bankRows: number;
  /** Values per bank row. */
  dim: number;
  /** Raw worst-patch distance at which the normalised score is 0.5 (the decision threshold). */
  rawThreshold: number;
  /** How rawThreshold was chosen, in words. */
  thresholdBasis: string;
  /** Gaussian smoothing of the map, in input pixels. */
  smoothingSigma: number;
  /**
   * One memory bank per core type, in anomaly-bank.bin's row order (absent: one bank of all good images). Each
   * bank's distances are divided by its scale (set on that type's held-out good images), so one threshold fits all.
   */
  banks?: AnomalyBankInfo[];
  /** Test-time flips: the image is also scored mirrored, maps put back, each patch keeps the smaller distance. */
  flips?: AnomalyFlips;
  /**
   * How photos become inputs (engine/anomaly/photo-inputs.ts): absent = squash (every model from before the option);
   * letterbox: the padding's patches are out of the bank and the score; tile: every tile's patches, worst over tiles.
   */
  resize?: 'squash' | 'letterbox' | 'tile';
  /** Tile: the most tiles per photo (tiles.ts tileGrid; absent = DEFAULT_MAX_TILES). */
  maxTiles?: number;
}

export type AnomalyFlips = 'none' | 'h' | 'hv';

/** One core type's memory bank in an anomaly model. */
export interface AnomalyBankInfo {
  /** Core type of the good images it was learnt from. */
  coreType: string;
  rows: number;
  images: number;
  /** Distances to this bank are divided by it (1: raw feature units). */
  scale: number;
}

export const DEFAULT_AUGMENTATION: AugmentationConfig = { mode: 'fixed', rotationDeg: 0, brightness: 0, contrast: 0, cropMinScale: 1 };

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  name: '',
  task: 'binary',
  backbone: 'mobilenet_v1_0.25',
  inputSize: 224,
  weightsDir: null,
  epochs: 300,
  learningRate: 1e-3,
  batchSize: 32,
  dropout: 0.2,
  patience: 30,
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
  /**
   * Localisation of the validation images that have defect regions (left out when none has): CAM of the true class,
   * pointing game (share of maps whose maximum lies in a region, 4-pixel tolerance), mean energy in region, and
   * their chance levels (mean region area; share of map cells a random peak would hit), as the heatmap scores.
   */
  valPointing?: number;
  valEnergy?: number;
  valRegionArea?: number;
  valPointingChance?: number;
  valLocalisedCount?: number;
  /** Time the measurement took in this epoch (ms). */
  valLocalisationMs?: number;
  /** By class key: images scored, pointing, energy. */
  valPointingByClass?: Record<string, { count: number; pointing: number; energy: number }>;
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
  /** Class index of OK when the model has one (the defect score is 1 - P(OK)); absent in evaluations stored before it was kept. */
  okIndex?: number | null;
  /** Threshold on P(defect) that accuracy, the confusion matrix and per-class figures are at; null = most probable class. */
  threshold?: number | null;
  /** Accuracy of the most probable class (Keras' accuracy), for comparison with published figures. */
  argmaxAccuracy?: number;
  /** Per-image probabilities, so the report can show every figure at another threshold. */
  samples?: EvalSample[];
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
  /** Stored decision threshold on P(defect) (Inspect, predict and the CLI use it); null = most probable class. */
  threshold: number | null;
  /** How the stored threshold was chosen; null for runs from before it was kept. */
  operatingPoint: OperatingPointChoice | null;
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
  /** An anomaly model's banks when it has one per core type (the report names them); absent otherwise. */
  anomalyBanks?: AnomalyBankInfo[];
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
  /** Tiled models: the index (row-major in the photo's tile grid) of the worst tile, whose probabilities decided. */
  tile?: number;
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
  testImages: number;
  /** Samples per epoch after augmentation copies. */
  samplesPerEpoch: number;
  parameters: { total: number; trainableFineTune: number };
  /** Measured on this machine: backbone forward ms per image at the input size. */
  backboneMsPerImage: number;
  embeddingSeconds: number;
  transferEpochSeconds: number;
  /** A fine-tuning epoch once the frozen prefix's outputs are cached (the first one computes them: see below). */
  fineTuneEpochSeconds: number;
  /** The first fine-tuning epoch: the prefix pass over every training item besides the tail's steps. */
  fineTuneFirstEpochSeconds: number;
  /** Transfer epochs the estimate counts: the planned ones, or fewer where early stopping is expected to end the phase. */
  expectedTransferEpochs: number;
  transferSeconds: number;
  /** Every planned fine-tuning epoch (early stopping may end it sooner). */
  fineTuneSeconds: number;
  /** The final evaluation of validation and test (x3 with test-time augmentation). */
  evaluationSeconds: number;
  /** embeddings + transfer + fine-tuning + evaluation. */
  totalSeconds: number;
  /** Peak engine memory estimate (weights + activations for one batch + optimizer state). */
  peakMemoryMB: number;
  notes: string[];
  /** Anomaly runs: the fit's parts (the classifier's phases are 0 then; totalSeconds is their sum). */
  anomaly?: AnomalyEstimate;
}

/** What an anomaly fit costs (engine/jobs/estimate.ts, from timed passes of the feature extractor and the bank). */
export interface AnomalyEstimate {
  /** Good images of the training split the bank learns from. */
  fitImages: number;
  /** Decode + backbone taps + per-image coreset candidates, every good image. */
  featuresSeconds: number;
  /** The global coreset pass over all candidates. */
  coresetSeconds: number;
  /** Validation and test images scored against the bank (the threshold is set on them). */
  scoredImages: number;
  scoringSeconds: number;
  /** Whether each image is also scored mirrored (test-time flips: about twice the scoring time). */
  flips: boolean;
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
  /** Decision threshold on P(defect) = 1 - P(OK); null when the model has no OK class. */
  threshold: number | null;
  /** Predict with test-time augmentation by default (mean softmax of the x3 variants); absent = false. */
  tta?: boolean;
  /** How the threshold was chosen (aim, basis, validation counts); absent in models from before it was kept. */
  operatingPoint?: OperatingPointChoice | null;
  /** resize: 'fill' = squashed (every model from before letterbox), 'letterbox' = aspect kept, grey padding, 'tile' = tiled. */
  preprocessing: {
    resize: 'fill' | 'letterbox' | 'tile';
    /** Tile: the grid's parameters (tileGrid in services/training/data/tiles.ts; the side spans the short side). */
    tiles?: { maxTiles: number };
    channels: 'rgb (grey repeated)';
    scale: '[-1,1]';
    /** Letterbox: the pool and the maps cover only the photo's feature cells (absent = the padding pooled too). */
    padMask?: boolean;
  };
  layers: { lastConv: string; gap: string; dropout: string; dense: string };
  metrics: { valAccuracy: number | null; valLoss: number | null; testAccuracy: number | null };
  createdAt: string;
  kensaVersion: string;
  /** Anomaly models: the memory bank's parameters and the raw-score threshold. */
  anomaly?: AnomalyModelParams;
}

export interface ExportResult {
  dir: string;
  files: string[];
}

export type { BackendReport };
