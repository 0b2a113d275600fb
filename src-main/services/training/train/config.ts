/**
 * A run's configuration from the API or the CLI: defaults filled in and every field checked, with a message for the
 * wizard (ValidationError) when one is out of range.
 */
import { TilingUnsupportedError, ValidationError } from '../../../shared/errors.ts';
import { checkAim, type OperatingAim } from '../../../shared/operating-point.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig, type TrainConfigInput } from '../../../shared/training-types.ts';
import { ANOMALY_DEFAULT_BACKBONE, checkAnomalyConfig } from '../anomaly/anomaly-run.ts';
import { checkInputSize, parseBackbone } from '../model/backbone-table.ts';

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
  if (c.resize !== undefined && c.resize !== 'squash' && c.resize !== 'letterbox' && c.resize !== 'tile')
    throw new ValidationError(`Unknown resize "${String(c.resize)}" (squash, letterbox or tile).`);
  if (c.resize === 'tile' && c.task !== 'anomaly') checkTileConfig(c);
  if (c.padMask !== undefined && typeof c.padMask !== 'boolean') throw new ValidationError('padMask must be true or false.');
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
  const flips = c.anomaly?.flips;
  if (flips !== undefined && !(c.task === 'anomaly' && ['none', 'h', 'hv'].includes(flips)))
    throw new ValidationError('Test-time flips are for anomaly models: none, h (mirrored) or hv (mirrored and upside down).');
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

/**
 * Tiles (engine/train/tiled.ts): guidance by regions and random augmentation are refused with TilingUnsupportedError
 * (the UI words it; detail.what says which).
 */
export function checkTileConfig(c: TrainConfig): void {
  if (c.maxTiles !== undefined && !(Number.isInteger(c.maxTiles) && c.maxTiles >= 1 && c.maxTiles <= 64))
    throw new ValidationError(`The most tiles per photo must be a whole number from 1 to 64 (got ${c.maxTiles}).`);
  if (c.guideRegions)
    throw new TilingUnsupportedError(
      'Training guided by regions does not work on tiles yet: turn guidance off or choose squash or letterbox.',
      {
        what: 'guideRegions',
      },
    );
  if (c.augmentation.mode === 'random')
    throw new TilingUnsupportedError('Tiles use the fixed copies or no augmentation: random augmentation is not supported with tiles.', {
      what: 'randomAugmentation',
    });
}
