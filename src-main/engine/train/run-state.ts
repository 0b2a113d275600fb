/**
 * The state of one training run, shared by its phases: what it was given, the model head, the best checkpoint so
 * far, the localisation and guidance helpers, the epoch counter and a clock that stops while paused; and the
 * bookkeeping every epoch of either phase does (its start, pause / cancel between batches, the checkpoint, the
 * epoch event).
 */
import type * as tf from '@tensorflow/tfjs';
import { CancelledError, ValidationError } from '../../shared/errors.ts';
import type { PhaseSummary, TrainConfig, TrainingPhase } from '../../shared/training-types.ts';
import type { TrainerEvent } from '../../services/engine/job-types.ts';
import type { SampleSource } from '../../services/training/data/source.ts';
import type { EpochLocalisation } from '../../services/training/guide/localisation.ts';
import type { RegionMask } from '../../services/training/guide/regions.ts';
import { createRng, type Rng } from '../../services/training/train/rng.ts';
import { PointingBestEpoch } from '../guide/best-epoch.ts';
import { EpochLocaliser } from '../guide/epoch-localiser.ts';
import { DEFAULT_GUIDE_WEIGHT, variantTarget, type GuideTarget } from '../guide/guidance.ts';
import { featureShapeAfter, parseBackbone, type BackboneSpec } from '../model/mobilenet.ts';
import { mergeWeightSets, snapshotWeights } from '../model/tf-util.ts';
import { assignWeightsByName, type WeightSet } from '../model/weights.ts';
import type { EpochBook } from './epoch-book.ts';
import { epochItems, type Item } from './epoch-data.ts';
import { PauseGate } from './pause-gate.ts';
import type { PrefixCacheOptions, PrefixCacheStats } from './prefix-cache.ts';
import type { Rect } from '../../services/training/data/geometry.ts';
import type { TrainerTiles } from './tiled.ts';

export interface TrainerInput {
  config: TrainConfig;
  classes: string[];
  /** Class index of "ok" for the binary task (ROC / threshold metrics); null otherwise. */
  okIndex: number | null;
  source: SampleSource;
  splits: { train: number[]; val: number[]; test: number[] };
  /** Backbone weights (ImageNet), by layer name. */
  backboneWeights: WeightSet;
  /** Continue from a saved model: its weights (backbone + head) override the backbone weights. */
  initialWeights?: WeightSet | null;
  /** Project cache root (embeddings go under cache/embeddings); null disables the disk cache. */
  cacheDir: string | null;
  /**
   * Fine-tuning with fixed augmentation: the frozen prefix's output per (image, variant) is computed once and kept
   * (prefix-cache.ts: float32 in memory, float16 on disk beyond the memory budget); false = recomputed every step.
   * Left out = on, with the default budgets.
   */
  prefixCache?: PrefixCacheOptions | false;
  backends: { training: string; inference: string };
  signal: AbortSignal;
  /** Pause switch: while paused the trainer waits between batches (time paused is left out of durations). */
  pause?: PauseGate;
  /**
   * Region masks by sample index: those of validation samples give the localisation curve (every epoch); with
   * config.guideRegions, those of training samples guide the training (guide/guidance.ts).
   */
  regionMasks?: ReadonlyMap<number, RegionMask>;
  /**
   * Tiles (config.resize 'tile' over a tiling source): region boxes of the training photos in original pixels, by
   * sample index; they say which tiles carry a defect label (tiled.ts).
   */
  regionBoxes?: ReadonlyMap<number, Rect[]>;
  /** Set by the trainer on a tiled run: source and splits list tiles; this says how tiles make photos (tiled.ts). */
  tiles?: TrainerTiles;
  onEvent(e: TrainerEvent): void;
}

/** What an epoch's training batches add up to. */
export interface EpochTally {
  losses: number[];
  correct: number;
  seen: number;
}

/** What an epoch of either phase ends with. */
export interface EpochEnd extends EpochTally {
  epoch: number;
  /** this.now() when the epoch began (paused time left out). */
  startedAt: number;
  totalEpochs: number;
  val: { loss: number; acc: number };
  learningRate: number;
  improved: boolean;
  /** CAM localisation on validation (guide/epoch-localiser.ts), when validation images have regions. */
  localisation?: EpochLocalisation | null;
}

/** One turn of the event loop: lets the engine read pause / cancel messages between batches and epochs. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** One run's state; the phases (transfer-phase.ts, finetune-phase.ts) read and update it. */
export class TrainingRun {
  readonly inp: TrainerInput;
  readonly spec: BackboneSpec;
  readonly size: number;
  readonly rng: Rng;
  readonly numClasses: number;
  globalEpoch = 0;
  head: tf.LayersModel | null = null;
  /** Best head / tail weights seen (by validation loss) across phases. */
  best: { loss: number; acc: number; weights: WeightSet } | null = null;
  tailWeights: WeightSet | null = null;
  cancelled = false;
  readonly gate: PauseGate;
  readonly loc: EpochLocaliser | null;
  /** Best-epoch choice by accuracy near the best pointing (config bestEpoch), when localisation is measured. */
  readonly byPointing: PointingBestEpoch | null;
  /** Training guided by regions: the training samples' region targets (null when off). */
  readonly guide: EpochLocaliser | null;
  /** Transfer phase with guidance: conv maps of the (sample, variant) items that have regions, computed once. */
  readonly trainMaps = new Map<string, Float32Array>();
  readonly guideTargets = new Map<string, GuideTarget | null>();
  /** What the fine-tune phase's prefix cache held when it ended (null: not used), for benches and logs. */
  prefixCacheStats: PrefixCacheStats | null = null;
  /** A tiled run: how its tile samples make photos (null: one sample per photo). */
  readonly tiles: TrainerTiles | null;
  /** A tiled run's warm-up epochs: MIL photos train every tile at 1/n weight (mean pooling) instead of the worst one. */
  milMeanPool = false;

  constructor(inp: TrainerInput) {
    this.inp = inp;
    this.tiles = inp.tiles ?? null;
    const valSet = new Set(inp.splits.val);
    const valMasks = new Map([...(inp.regionMasks ?? [])].filter(([i]) => valSet.has(i)));
    this.loc = valMasks.size ? new EpochLocaliser(valMasks, inp.classes) : null;
    this.byPointing = this.loc && inp.config.bestEpoch === 'accuracyNearBestPointing' ? new PointingBestEpoch() : null;
    const trainSet = new Set(inp.splits.train);
    const trainMasks = new Map([...(inp.regionMasks ?? [])].filter(([i]) => trainSet.has(i)));
    const a = inp.config.augmentation;
    // Guidance needs the regions where the model sees them: not with random rotations or crops.
    const geometryKept = a.rotationDeg === 0 && a.cropMinScale >= 1;
    this.guide = inp.config.guideRegions && geometryKept && trainMasks.size ? new EpochLocaliser(trainMasks, inp.classes) : null;
    this.gate = inp.pause ?? new PauseGate();
    this.spec = parseBackbone(inp.config.backbone);
    this.size = inp.config.inputSize;
    this.rng = createRng(inp.config.seed);
    this.numClasses = inp.classes.length;
    if (this.numClasses < 2) throw new ValidationError('Training needs at least two classes with labelled images.');
    if (!inp.splits.train.length) throw new ValidationError('There are no training images.');
  }

  /** A clock that stops while the run is paused (for epoch and phase durations). */
  now(): number {
    return Date.now() - this.gate.pausedMs;
  }

  get aborted(): boolean {
    return this.inp.signal.aborted;
  }

  /** The starting weights: ImageNet backbone, overridden by the continued model when given. */
  startWeights(): WeightSet {
    return this.inp.initialWeights ? mergeWeightSets('start', this.inp.backboneWeights, this.inp.initialWeights) : this.inp.backboneWeights;
  }

  /** How a phase went, once it is over. @param t0 this.now() when the phase began */
  phaseSummary(phase: TrainingPhase, book: EpochBook, epochsPlanned: number, t0: number): PhaseSummary {
    return {
      phase,
      epochsRun: book.run,
      epochsPlanned,
      bestEpoch: book.bestEpoch,
      bestValLoss: this.best?.loss ?? null,
      stoppedEarly: book.stoppedEarly,
      durationMs: this.now() - t0,
    };
  }

  /**
   * Begins an epoch: its clock, its random stream (forked by phase and epoch number, so a seeded run repeats), the
   * items it trains on, the dropout stream, and an empty tally.
   */
  startEpoch(streamId: number): {
    startedAt: number;
    erng: Rng;
    items: Item[];
    dropRng: Rng;
    batches: number;
    tally: EpochTally;
  } {
    const startedAt = this.now();
    const erng = this.rng.fork(streamId);
    const items = epochItems(this, erng);
    const dropRng = erng.fork(1);
    this.globalEpoch++;
    return {
      startedAt,
      erng,
      items,
      dropRng,
      batches: Math.ceil(items.length / this.inp.config.batchSize),
      tally: { losses: [], correct: 0, seen: 0 },
    };
  }

  /** Before every batch: waits while paused, stops when cancelled. */
  async beforeBatch(): Promise<void> {
    if (this.gate.paused) await this.gate.wait(this.inp.signal);
    if (this.aborted) throw new CancelledError('Cancelled by the user');
  }

  /**
   * Closes an epoch of either phase: early-stopping bookkeeping, the epoch event, a turn of the event loop.
   * @returns whether early stopping ends the phase
   */
  async endEpoch(phase: 'transfer' | 'finetune', book: EpochBook, end: EpochEnd): Promise<boolean> {
    const stop = book.record(end.epoch, end.improved, end.val.loss);
    this.inp.onEvent({
      kind: 'epoch',
      phase,
      epoch: end.epoch,
      globalEpoch: this.globalEpoch,
      totalEpochs: end.totalEpochs,
      metrics: { ...book.metrics(end.losses, end.correct, end.seen, end.val, end.learningRate), ...(end.localisation ?? {}) },
      durationMs: this.now() - end.startedAt,
      batchLosses: end.losses,
      improved: end.improved,
    });
    await yieldToEventLoop();
    return stop;
  }

  /** Records a validation result; keeps a checkpoint of the trainable weights when it is the best so far. */
  checkpoint(valLoss: number, valAcc: number, tail: tf.LayersModel | null, chosen = false): boolean {
    const score = Number.isFinite(valLoss) ? valLoss : Infinity;
    if (!chosen && this.best && !(score < this.best.loss) && Number.isFinite(this.best.loss)) return false;
    const sets = [snapshotWeights(this.head!)];
    if (tail) sets.unshift(snapshotWeights(tail));
    else if (this.tailWeights) sets.unshift(this.tailWeights);
    this.best = { loss: score, acc: valAcc, weights: mergeWeightSets('best', ...sets) };
    return true;
  }

  restoreBest(tail: tf.LayersModel | null): void {
    if (!this.best) return;
    assignWeightsByName(this.head!, this.best.weights);
    if (tail) assignWeightsByName(tail, this.best.weights, { optional: () => true });
  }

  get guideWeight(): number {
    return this.inp.config.guideWeight ?? DEFAULT_GUIDE_WEIGHT;
  }

  /** The guidance target of a (sample, variant) item on a gw x gh map, or null (no regions). */
  guideTarget(it: Item, gw: number, gh: number): GuideTarget | null {
    const key = `${it.sample}:${it.variant}`;
    if (!this.guideTargets.has(key)) {
      const t = this.guide?.targetOf(it.sample, gw, gh) ?? null;
      this.guideTargets.set(key, t ? variantTarget(t, it.variant) : null);
    }
    return this.guideTargets.get(key)!;
  }

  /** Shape [gh, gw, C] of the last conv map at this input size. */
  valMapShape(): number[] {
    return featureShapeAfter(this.spec, this.spec.blocks, this.size);
  }
}
