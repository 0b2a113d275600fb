/**
 * The training core: transfer learning on cached embeddings, then fine-tuning of the last N blocks.
 * Independent of the catalog, of IPC and of the database: it takes a SampleSource with split indices
 * and reports through callbacks. Runs in the engine process.
 *
 * Memory: images are decoded a batch at a time (the next batch is decoded while the current one
 * trains); only embedding vectors (C floats per image and variant) are kept for the whole set.
 * Backends: frozen parts run on the inference backend (wasm here), the trainable part on the training
 * backend (cpu here, or wasm once its gradient kernels are registered, or native TensorFlow).
 */
import { EpochBook } from './epoch-book.ts';
import * as tf from '@tensorflow/tfjs';
import { CancelledError, ValidationError } from '../../shared/errors.ts';
import type { EpochMetrics, Evaluation, PhaseSummary, RunDurations, TrainConfig, TrainingPhase } from '../../shared/training-types.ts';
import { applyRandomExtras, applyVariant, hasRandomExtras, variantsFor, type FixedVariant } from '../../services/ml/data/augment.ts';
import type { SampleSource } from '../../services/ml/data/source.ts';
import {
  buildClassifier,
  buildHead,
  buildSegment,
  featureShapeAfter,
  HEAD_LAYERS,
  parseBackbone,
  type BackboneSpec,
} from '../model/mobilenet.ts';
import { mergeWeightSets, modelArtifacts, pixelsToBatch, snapshotWeights, useBackend, type SavedModelArtifacts } from '../model/tf-util.ts';
import { assignWeightsByName, type WeightSet } from '../model/weights.ts';
import { EmbeddingCache } from './embedding-cache.ts';
import { cachedFeatureBatches, PrefixCache, type PrefixCacheOptions, type PrefixCacheStats } from './prefix-cache.ts';
import { PointingBestEpoch } from '../guide/best-epoch.ts';
import { EpochLocaliser, withMaps } from '../guide/epoch-localiser.ts';
import { addGuidanceGradient, DEFAULT_GUIDE_WEIGHT, guidanceLossTensor, variantTarget, type GuideTarget } from '../guide/guidance.ts';
import type { EpochLocalisation } from '../../services/ml/guide/localisation.ts';
import type { RegionMask } from '../../services/ml/guide/regions.ts';
import { JsHead } from './js-head.ts';
import { PauseGate } from './pause-gate.ts';
import { evaluate, type ScoredSample } from '../../services/ml/train/metrics.ts';
import { createRng, shuffleInPlace, type Rng } from '../../services/ml/train/rng.ts';
import { learningRateAt } from './schedule.ts';

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
  onEvent(e: TrainerEvent): void;
}

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

interface Item {
  sample: number;
  variant: FixedVariant;
}

/** What an epoch of either phase ends with. */
/** What an epoch's training batches add up to. */
interface EpochTally {
  losses: number[];
  correct: number;
  seen: number;
}

interface EpochEnd extends EpochTally {
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

const EMBED_BATCH = 16;
/** Weight of the newest epoch in the smoothed validation loss that early stopping watches. */
export const DEFAULT_STOP_SMOOTHING = 0.3;
/** Fine-tuning patience when the configuration leaves it out (a fine-tuning epoch costs minutes on a CPU). */
export const DEFAULT_FINETUNE_PATIENCE = 5;

function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export class Trainer {
  private readonly inp: TrainerInput;
  private readonly spec: BackboneSpec;
  private readonly size: number;
  private readonly rng: Rng;
  private readonly numClasses: number;
  private globalEpoch = 0;
  private head: tf.LayersModel | null = null;
  /** Best head / tail weights seen (by validation loss) across phases. */
  private best: { loss: number; acc: number; weights: WeightSet } | null = null;
  private tailWeights: WeightSet | null = null;
  private cancelled = false;
  private readonly gate: PauseGate;
  private readonly loc: EpochLocaliser | null;
  /** Best-epoch choice by accuracy near the best pointing (config bestEpoch), when localisation is measured. */
  private readonly byPointing: PointingBestEpoch | null;
  /** Training guided by regions: the training samples' region targets (null when off). */
  private readonly guide: EpochLocaliser | null;
  /** Transfer phase with guidance: conv maps of the (sample, variant) items that have regions, computed once. */
  private readonly trainMaps = new Map<string, Float32Array>();
  private readonly guideTargets = new Map<string, GuideTarget | null>();

  constructor(inp: TrainerInput) {
    this.inp = inp;
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
  private now(): number {
    return Date.now() - this.gate.pausedMs;
  }

  private get aborted(): boolean {
    return this.inp.signal.aborted;
  }

  /** The starting weights: ImageNet backbone, overridden by the continued model when given. */
  private startWeights(): WeightSet {
    return this.inp.initialWeights ? mergeWeightSets('start', this.inp.backboneWeights, this.inp.initialWeights) : this.inp.backboneWeights;
  }

  async run(): Promise<TrainerOutput> {
    const t0 = this.now();
    const c = this.inp.config;
    const durations: RunDurations = { totalMs: 0, embeddingsMs: 0, transferMs: 0, fineTuneMs: 0, evaluationMs: 0 };
    const phases: PhaseSummary[] = [];
    const totalEpochs = c.epochs + (c.fineTuneEpochs > 0 ? c.fineTuneEpochs : 0);
    const fineTuneBlocks = Math.max(0, Math.min(this.spec.blocks, c.fineTuneBlocks));

    await useBackend(this.inp.backends.training);
    this.head = buildHead(this.spec.featureChannels, this.numClasses, c.seed);
    if (this.inp.initialWeights) assignWeightsByName(this.head, this.inp.initialWeights, { optional: () => true });

    try {
      // Phase 1: transfer learning (frozen backbone, head only).
      if (c.epochs > 0) {
        const tp = this.now();
        const summary = await this.transferPhase(c.epochs, totalEpochs, durations);
        durations.transferMs = this.now() - tp - durations.embeddingsMs;
        phases.push(summary);
      }
      // Phase 2: fine-tuning of the last N blocks (N = 0: more head training at the lower rate).
      if (c.fineTuneEpochs > 0 && !this.cancelled) {
        const tf0 = this.now();
        const summary = await this.fineTunePhase(fineTuneBlocks, c.fineTuneEpochs, totalEpochs);
        durations.fineTuneMs = this.now() - tf0;
        phases.push(summary);
      }
    } catch (err) {
      if (!(err instanceof CancelledError)) throw err;
      this.cancelled = true;
    }

    // Assemble the full classifier from the best checkpoint.
    let model: SavedModelArtifacts | null = null;
    const evaluations: Evaluation[] = [];
    let threshold: number | null = null;
    if (this.best) {
      await useBackend(this.inp.backends.inference);
      const full = buildClassifier(this.spec, this.size, this.numClasses, c.dropout, c.seed);
      try {
        assignWeightsByName(full, mergeWeightSets('final', this.startWeights(), this.best.weights), {
          optional: (n) => n.startsWith('head_'),
        });
        if (!this.cancelled) {
          const te = this.now();
          this.inp.onEvent({ kind: 'phase', phase: 'evaluation', epochs: 0 });
          const val = await this.evaluateSplit(full, 'val', this.inp.splits.val);
          if (val) {
            evaluations.push(val);
            threshold = val.binary?.threshold ?? null;
          }
          const test = await this.evaluateSplit(full, 'test', this.inp.splits.test, threshold ?? undefined);
          if (test) evaluations.push(test);
          durations.evaluationMs = this.now() - te;
        }
        model = await modelArtifacts(full);
      } finally {
        full.dispose();
      }
    }
    this.head?.dispose();
    this.head = null;
    durations.totalMs = this.now() - t0;
    return {
      status: this.cancelled ? 'cancelled' : 'completed',
      phases,
      durations,
      evaluations,
      threshold,
      model,
      bestValLoss: this.best && Number.isFinite(this.best.loss) ? this.best.loss : null,
      bestValAccuracy: this.best && Number.isFinite(this.best.acc) ? this.best.acc : null,
    };
  }

  // ---------------------------------------------------------------- data

  /** The items of one training epoch: fixed copies, or one drawn variant per image; balanced sampling resamples. */
  /** How a phase went, once it is over. @param t0 this.now() when the phase began */
  private phaseSummary(phase: TrainingPhase, book: EpochBook, epochsPlanned: number, t0: number): PhaseSummary {
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
  private startEpoch(streamId: number): {
    startedAt: number;
    erng: Rng;
    items: Item[];
    dropRng: Rng;
    batches: number;
    tally: EpochTally;
  } {
    const startedAt = this.now();
    const erng = this.rng.fork(streamId);
    const items = this.epochItems(erng);
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

  private epochItems(epochRng: Rng): Item[] {
    const c = this.inp.config;
    const variants = variantsFor(c.augmentation.mode);
    let items: Item[] = [];
    for (const s of this.inp.splits.train) {
      if (c.augmentation.mode === 'random') items.push({ sample: s, variant: variants[epochRng.int(variants.length)]! });
      else for (const v of variants) items.push({ sample: s, variant: v });
    }
    if (c.imbalance === 'balancedSampling') {
      const byClass = new Map<number, Item[]>();
      for (const it of items) {
        const l = this.inp.source.labelOf(it.sample);
        byClass.set(l, [...(byClass.get(l) ?? []), it]);
      }
      const groups = [...byClass.values()];
      const n = items.length;
      items = [];
      for (let i = 0; i < n; i++) {
        const g = groups[epochRng.int(groups.length)]!;
        items.push(g[epochRng.int(g.length)]!);
      }
    }
    return shuffleInPlace(items, epochRng);
  }

  /** Per-class loss weights n / (k * n_c) over the training items (1 for all unless classWeights). */
  private classWeights(): number[] {
    const w = new Array<number>(this.numClasses).fill(1);
    if (this.inp.config.imbalance !== 'classWeights') return w;
    const counts = new Array<number>(this.numClasses).fill(0);
    for (const s of this.inp.splits.train) counts[this.inp.source.labelOf(s)]! += 1;
    const n = this.inp.splits.train.length;
    const present = counts.filter((x) => x > 0).length;
    return counts.map((k) => (k ? n / (present * k) : 0));
  }

  private async loadItem(it: Item, rng: Rng | null): Promise<Uint8Array> {
    const px = await this.inp.source.loadPixels(it.sample, this.size);
    const v = applyVariant(px, this.size, it.variant);
    return rng ? applyRandomExtras(v, this.size, this.inp.config.augmentation, rng) : v;
  }

  /** Decodes batches with one batch of look-ahead (decoding runs in sharp's threads while tf computes). */
  private async *batches(items: Item[], batchSize: number, rng: Rng | null): AsyncGenerator<{ items: Item[]; pixels: Uint8Array[] }> {
    const load = (k: number) => {
      const part = items.slice(k, k + batchSize);
      const p = Promise.all(part.map((it) => this.loadItem(it, rng?.fork(it.sample * 7 + it.variant) ?? null)));
      p.catch(() => undefined); // handled when awaited
      return { part, p };
    };
    let next = items.length ? load(0) : null;
    for (let k = 0; next; k += batchSize) {
      const cur = next;
      next = k + batchSize < items.length ? load(k + batchSize) : null;
      yield { items: cur.part, pixels: await cur.p };
    }
  }

  // ---------------------------------------------------------------- embeddings

  /**
   * Embeddings (GAP of the last conv block) of items, from the disk cache or computed on the
   * inference backend. Returns one Float32Array of items.length x C.
   */
  private async embed(
    model: tf.LayersModel,
    items: Item[],
    cache: EmbeddingCache,
    progress: { done: number; total: number },
  ): Promise<Float32Array> {
    const C = this.spec.featureChannels;
    const out = new Float32Array(items.length * C);
    const todo: number[] = [];
    items.forEach((it, i) => {
      const v = cache.get(this.inp.source.keyOf(it.sample), it.variant);
      if (v) out.set(v, i * C);
      else todo.push(i);
    });
    progress.done += items.length - todo.length;
    this.inp.onEvent({ kind: 'embeddings', done: progress.done, total: progress.total, cached: cache.hits });
    const todoItems = todo.map((i) => items[i]!);
    let k = 0;
    for await (const b of this.batches(todoItems, EMBED_BATCH, null)) {
      await this.beforeBatch();
      await useBackend(this.inp.backends.inference);
      const feats = tf.tidy(
        () => (model.apply(pixelsToBatch(b.pixels, this.size), { training: false }) as tf.Tensor).dataSync() as Float32Array,
      );
      for (let j = 0; j < b.items.length; j++) {
        const i = todo[k + j]!;
        const vec = feats.subarray(j * C, (j + 1) * C);
        out.set(vec, i * C);
        cache.put(this.inp.source.keyOf(b.items[j]!.sample), b.items[j]!.variant, vec.slice());
      }
      k += b.items.length;
      progress.done += b.items.length;
      this.inp.onEvent({ kind: 'embeddings', done: progress.done, total: progress.total, cached: cache.hits });
    }
    return out;
  }

  // ---------------------------------------------------------------- training steps

  /** One optimiser step of (tail →) dropout → head on a batch; returns [loss, correct]. */
  private trainStep(
    opt: tf.Optimizer,
    vars: tf.Variable[],
    input: tf.Tensor,
    tail: tf.LayersModel | null,
    labels: number[],
    weights: number[],
    dropRng: Rng,
    guide?: { mapped: tf.LayersModel; targets: (GuideTarget | null)[] },
  ): [number, number] {
    const B = labels.length;
    const C = this.spec.featureChannels;
    const rate = this.inp.config.dropout;
    const mask = new Float32Array(B * C);
    for (let i = 0; i < mask.length; i++) mask[i] = rate > 0 ? (dropRng.next() >= rate ? 1 / (1 - rate) : 0) : 1;
    let correct: tf.Tensor | null = null;
    /** With guidance the optimised cost adds the guidance term; the reported loss stays the cross-entropy. */
    let crossEntropy: tf.Tensor | null = null;
    const cost = tf.tidy((): tf.Scalar => {
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), this.numClasses);
      const w = tf.tensor1d(labels.map((l) => weights[l]!));
      const m = tf.tensor2d(mask, [B, C]);
      return opt.minimize(
        () => {
          let f: tf.Tensor;
          let maps: tf.Tensor | null = null;
          if (guide) [maps, f] = guide.mapped.apply(input, { training: true }) as [tf.Tensor, tf.Tensor];
          else f = tail ? (tail.apply(input, { training: true }) as tf.Tensor) : input;
          const p = this.head!.apply(tf.mul(f, m), { training: true }) as tf.Tensor;
          correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32')));
          const ce = tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), 1));
          const mean = tf.div(tf.sum(tf.mul(ce, w)), B) as tf.Scalar;
          if (!guide || !maps) return mean;
          crossEntropy = tf.keep(mean);
          const kernel = this.head!.getLayer(HEAD_LAYERS.dense).getWeights()[0]!;
          return tf.add(mean, guidanceLossTensor(maps, kernel, labels, guide.targets, this.guideWeight)) as tf.Scalar;
        },
        true,
        vars,
      )!;
    });
    const loss = ((crossEntropy as tf.Tensor | null) ?? cost).dataSync()[0]!;
    const acc = (correct as tf.Tensor | null)?.dataSync()[0] ?? 0;
    tf.dispose([cost, correct as tf.Tensor | null, crossEntropy as tf.Tensor | null].filter((t): t is tf.Tensor => t !== null));
    return [loss, acc];
  }

  private get guideWeight(): number {
    return this.inp.config.guideWeight ?? DEFAULT_GUIDE_WEIGHT;
  }

  /** The guidance target of a (sample, variant) item on a gw x gh map, or null (no regions). */
  private guideTarget(it: Item, gw: number, gh: number): GuideTarget | null {
    const key = `${it.sample}:${it.variant}`;
    if (!this.guideTargets.has(key)) {
      const t = this.guide?.targetOf(it.sample, gw, gh) ?? null;
      this.guideTargets.set(key, t ? variantTarget(t, it.variant) : null);
    }
    return this.guideTargets.get(key)!;
  }

  /** Transfer phase with guidance: the conv maps of the training items that have regions, computed once. */
  private async cacheTrainMaps(embedModel: tf.LayersModel, items: Item[]): Promise<void> {
    this.trainMaps.clear();
    const todo = items.filter((it) => this.guide!.has(it.sample));
    const mapped = withMaps(embedModel);
    for await (const b of this.batches(todo, EMBED_BATCH, null)) {
      await this.beforeBatch();
      await useBackend(this.inp.backends.inference);
      const [maps, per] = tf.tidy(() => {
        const [m] = mapped.apply(pixelsToBatch(b.pixels, this.size), { training: false }) as tf.Tensor[];
        return [m!.dataSync() as Float32Array, m!.shape.slice(1).reduce((x, y) => x * y, 1)] as const;
      });
      b.items.forEach((it, j) => this.trainMaps.set(`${it.sample}:${it.variant}`, maps.slice(j * per, (j + 1) * per)));
    }
  }

  /** Records a validation result; keeps a checkpoint of the trainable weights when it is the best so far. */
  private checkpoint(valLoss: number, valAcc: number, tail: tf.LayersModel | null, chosen = false): boolean {
    const score = Number.isFinite(valLoss) ? valLoss : Infinity;
    if (!chosen && this.best && !(score < this.best.loss) && Number.isFinite(this.best.loss)) return false;
    const sets = [snapshotWeights(this.head!)];
    if (tail) sets.unshift(snapshotWeights(tail));
    else if (this.tailWeights) sets.unshift(this.tailWeights);
    this.best = { loss: score, acc: valAcc, weights: mergeWeightSets('best', ...sets) };
    return true;
  }

  private restoreBest(tail: tf.LayersModel | null): void {
    if (!this.best) return;
    assignWeightsByName(this.head!, this.best.weights);
    if (tail) assignWeightsByName(tail, this.best.weights, { optional: () => true });
  }

  // ---------------------------------------------------------------- phase 1

  /** Before every batch: waits while paused, stops when cancelled. */
  private async beforeBatch(): Promise<void> {
    if (this.gate.paused) await this.gate.wait(this.inp.signal);
    if (this.aborted) throw new CancelledError('Cancelled by the user');
  }

  /**
   * Closes an epoch of either phase: early-stopping bookkeeping, the epoch event, a turn of the event loop.
   * @returns whether early stopping ends the phase
   */
  private async endEpoch(phase: 'transfer' | 'finetune', book: EpochBook, end: EpochEnd): Promise<boolean> {
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

  private async transferPhase(epochs: number, totalEpochs: number, durations: RunDurations): Promise<PhaseSummary> {
    const c = this.inp.config;
    const t0 = this.now();
    const random = hasRandomExtras(c.augmentation);
    await useBackend(this.inp.backends.inference);
    const embedModel = buildSegment(this.spec, 0, this.spec.blocks, [this.size, this.size, 3], { gap: true, name: 'embedder' });
    assignWeightsByName(embedModel, this.startWeights());
    const cache = new EmbeddingCache(c.useEmbeddingCache && !random ? this.inp.cacheDir : null, {
      backbone: this.spec.id,
      inputSize: this.size,
      weightsFingerprint: this.startWeights().fingerprint || 'unknown',
      channels: this.spec.featureChannels,
    });
    const C = this.spec.featureChannels;
    try {
      // Embeddings of every (train image, variant) and of validation originals, computed once.
      const te = this.now();
      const variants = variantsFor(c.augmentation.mode);
      const trainItems: Item[] = random ? [] : this.inp.splits.train.flatMap((s) => variants.map((v) => ({ sample: s, variant: v })));
      const valItems: Item[] = this.inp.splits.val.map((s) => ({ sample: s, variant: 0 as const }));
      this.inp.onEvent({ kind: 'phase', phase: 'embeddings', epochs: 0 });
      const progress = { done: 0, total: trainItems.length + valItems.length };
      const trainEmb = await this.embed(embedModel, trainItems, cache, progress);
      const valEmb = await this.embed(embedModel, valItems, cache, progress);
      if (this.loc) await this.cacheValMaps(embedModel, valItems);
      if (this.guide && !random) await this.cacheTrainMaps(embedModel, trainItems);
      durations.embeddingsMs = this.now() - te;
      const index = new Map<string, number>();
      trainItems.forEach((it, i) => index.set(`${it.sample}:${it.variant}`, i));

      await useBackend(this.inp.backends.training);
      const dense = this.head!.getLayer(HEAD_LAYERS.dense);
      const [k0, b0] = dense.getWeights();
      const K = this.numClasses;
      const js = new JsHead(k0!.dataSync() as Float32Array, b0!.dataSync() as Float32Array, C, K, c.learningRate);
      const syncHead = () => {
        const t = [tf.tensor2d(js.W, [C, K]), tf.tensor1d(js.b)];
        dense.setWeights(t);
        tf.dispose(t);
      };
      const cw = this.classWeights();
      const valLabels = valItems.map((it) => this.inp.source.labelOf(it.sample));
      const rate = c.dropout;
      this.inp.onEvent({ kind: 'phase', phase: 'transfer', epochs });
      const book = new EpochBook(c.patience, valItems.length > 0, c.stopSmoothing ?? DEFAULT_STOP_SMOOTHING);
      const schedule = { schedule: c.lrSchedule ?? 'warmupCosine', base: c.learningRate, epochs } as const;
      let locMs = 0;
      const locStart = this.now();
      try {
        for (let e = 1; e <= epochs; e++) {
          const { startedAt, erng, items, dropRng, batches, tally } = this.startEpoch(1000 + e);
          js.lr = learningRateAt(e, schedule);
          const step = (b: number, part: Item[], feats: Float32Array) => {
            const labels = part.map((it) => this.inp.source.labelOf(it.sample));
            let mask: Float32Array | undefined;
            if (rate > 0) {
              mask = new Float32Array(part.length * C);
              for (let i = 0; i < mask.length; i++) mask[i] = dropRng.next() >= rate ? 1 / (1 - rate) : 0;
            }
            const [gh, gw] = this.valMapShape();
            const guided = this.trainMaps.size
              ? (gW: Float32Array, W: Float32Array) =>
                  addGuidanceGradient(
                    gW,
                    W,
                    C,
                    K,
                    part.map((it) => this.trainMaps.get(`${it.sample}:${it.variant}`) ?? null),
                    part.map((it) => this.guideTarget(it, gw!, gh!)),
                    labels,
                    this.guideWeight,
                  )
              : undefined;
            const [loss, acc] = js.step(
              feats,
              labels,
              labels.map((l) => cw[l]!),
              mask,
              guided,
            );
            tally.losses.push(loss);
            tally.correct += acc;
            tally.seen += part.length;
            this.inp.onEvent({ kind: 'batch', phase: 'transfer', epoch: e, globalEpoch: this.globalEpoch, batch: b, batches, loss });
          };
          if (!random) {
            const buf = new Float32Array(c.batchSize * C);
            for (let b = 0; b < batches; b++) {
              await this.beforeBatch();
              const part = items.slice(b * c.batchSize, (b + 1) * c.batchSize);
              part.forEach((it, j) => {
                const i = index.get(`${it.sample}:${it.variant}`)!;
                buf.set(trainEmb.subarray(i * C, (i + 1) * C), j * C);
              });
              step(b + 1, part, buf);
              if (b % 16 === 15) await yieldToEventLoop();
            }
          } else {
            // Random extras: embeddings change every epoch, so the backbone runs on each batch.
            let b = 0;
            for await (const batch of this.batches(items, c.batchSize, erng.fork(2))) {
              await this.beforeBatch();
              await useBackend(this.inp.backends.inference);
              const feats = tf.tidy(
                () =>
                  (embedModel.apply(pixelsToBatch(batch.pixels, this.size), { training: false }) as tf.Tensor).dataSync() as Float32Array,
              );
              step(++b, batch.items, feats);
            }
          }
          await useBackend(this.inp.backends.training);
          const val = js.evaluate(valEmb, valLabels);
          const lowerLoss = !this.best || !Number.isFinite(this.best.loss) || (Number.isFinite(val.loss) && val.loss < this.best.loss);
          // Head epochs take milliseconds: localisation is measured while it costs at most a tenth of the phase so far,
          // and always on the last one and when the best epoch is chosen by pointing.
          const measure = this.loc && (this.byPointing || e === epochs || locMs <= 0.1 * (this.now() - locStart));
          const localisation = measure ? this.loc!.scoreCached((i) => this.inp.source.labelOf(i), js.W, K, this.valMapShape()) : null;
          locMs += localisation?.valLocalisationMs ?? 0;
          const wouldImprove = this.byPointing ? this.byPointing.consider(val.acc, val.loss, localisation?.valPointing) : lowerLoss;
          if (wouldImprove) syncHead();
          const improved = wouldImprove && this.checkpoint(val.loss, val.acc, null, this.byPointing !== null);
          const end = { epoch: e, startedAt, totalEpochs, ...tally, val, learningRate: js.lr, improved, localisation };
          if (await this.endEpoch('transfer', book, end)) break;
        }
      } catch (err) {
        if (!(err instanceof CancelledError)) throw err;
        this.cancelled = true;
      }
      if (!valItems.length) {
        syncHead();
        this.checkpoint(NaN, NaN, null);
      }
      this.restoreBest(null);
      return this.phaseSummary('transfer', book, epochs, t0);
    } finally {
      embedModel.dispose();
    }
  }

  // ---------------------------------------------------------------- phase 2

  private async fineTunePhase(n: number, epochs: number, totalEpochs: number): Promise<PhaseSummary> {
    const c = this.inp.config;
    const t0 = this.now();
    const cut = this.spec.blocks - n; // prefix = blocks 0..cut (frozen), tail = cut+1..blocks (trained)
    const start = this.best ? mergeWeightSets('ft-start', this.startWeights(), this.best.weights) : this.startWeights();
    await useBackend(this.inp.backends.inference);
    const prefix = buildSegment(this.spec, 0, cut, [this.size, this.size, 3], { name: 'frozen', gap: n === 0 });
    assignWeightsByName(prefix, start);
    await useBackend(this.inp.backends.training);
    const featShape = featureShapeAfter(this.spec, cut, this.size);
    const tail = n > 0 ? buildSegment(this.spec, cut + 1, this.spec.blocks, featShape, { gap: true, name: 'trainable' }) : null;
    if (tail) assignWeightsByName(tail, start);
    this.tailWeights = null;
    // Re-baseline the checkpoint: the best fine-tuned weights must beat the transfer result on validation.
    const opt = tf.train.adam(c.fineTuneLearningRate);
    const vars = [...(tail?.trainableWeights ?? []), ...this.head!.trainableWeights].map((w) => w.read() as tf.Variable);
    const cw = this.classWeights();
    const random = hasRandomExtras(c.augmentation);
    const valItems: Item[] = this.inp.splits.val.map((s) => ({ sample: s, variant: 0 as const }));
    this.inp.onEvent({ kind: 'phase', phase: 'finetune', epochs });
    // Fine-tuning epochs are few and costly: its early stopping watches the raw validation loss.
    const book = new EpochBook(c.fineTunePatience ?? DEFAULT_FINETUNE_PATIENCE, valItems.length > 0, 1);
    const inFeatShape = n > 0 ? featShape : [this.spec.featureChannels];
    const prefixOut = async (pixels: Uint8Array[]): Promise<Float32Array> => {
      await useBackend(this.inp.backends.inference);
      return tf.tidy(() => (prefix.apply(pixelsToBatch(pixels, this.size), { training: false }) as tf.Tensor).dataSync() as Float32Array);
    };
    // Fixed augmentation: each (image, variant)'s prefix output is the same in every epoch, so it is computed once.
    const cache =
      !random && this.inp.prefixCache !== false
        ? new PrefixCache(
            inFeatShape.reduce((a, b) => a * b, 1),
            this.inp.cacheDir,
            this.inp.prefixCache ?? {},
          )
        : null;
    /** Prefix features of items a batch at a time, on the training backend (the caller disposes them). */
    const frozen = (list: Item[], rng: Rng | null) => this.prefixBatches(list, rng, prefixOut, cache, inFeatShape);
    try {
      // Baseline on validation so that fine-tuning only replaces the transfer checkpoint when it improves on it.
      if (this.best && valItems.length) {
        const v0 = await this.validate(frozen, tail, valItems);
        this.best = { ...this.best, loss: v0.loss, acc: v0.acc };
        this.byPointing?.rebase(v0.acc, v0.loss, v0.localisation?.valPointing);
      }
      // Guidance while fine-tuning: the tail runs up to its conv map; the head sees the map's mean.
      const guideMapped = this.guide && tail ? withMaps(tail) : null;
      const featGrid = this.valMapShape();
      for (let e = 1; e <= epochs; e++) {
        const { startedAt, erng, items, dropRng, batches, tally } = this.startEpoch(5000 + e);
        let b = 0;
        for await (const batch of frozen(items, random ? erng.fork(2) : null)) {
          const input = batch.input;
          try {
            await this.beforeBatch();
          } catch (err) {
            input.dispose();
            throw err;
          }
          const labels = batch.items.map((it) => this.inp.source.labelOf(it.sample));
          const guide = guideMapped
            ? { mapped: guideMapped, targets: batch.items.map((it) => this.guideTarget(it, featGrid[1]!, featGrid[0]!)) }
            : undefined;
          const [loss, acc] = this.trainStep(opt, vars, input, tail, labels, cw, dropRng, guide);
          input.dispose();
          tally.losses.push(loss);
          tally.correct += acc;
          tally.seen += labels.length;
          this.inp.onEvent({ kind: 'batch', phase: 'finetune', epoch: e, globalEpoch: this.globalEpoch, batch: ++b, batches, loss });
        }
        const val = await this.validate(frozen, tail, valItems);
        const localisation = val.localisation;
        const improved = this.byPointing
          ? this.byPointing.consider(val.acc, val.loss, localisation?.valPointing) && this.checkpoint(val.loss, val.acc, tail, true)
          : this.checkpoint(val.loss, val.acc, tail);
        const end = { epoch: e, startedAt, totalEpochs, ...tally, val, learningRate: c.fineTuneLearningRate, improved, localisation };
        if (await this.endEpoch('finetune', book, end)) break;
      }
      if (!valItems.length) this.checkpoint(NaN, NaN, tail);
    } catch (err) {
      if (!(err instanceof CancelledError)) throw err;
      this.cancelled = true;
    } finally {
      opt.dispose();
      await useBackend(this.inp.backends.training);
      this.restoreBest(tail);
      tail?.dispose();
      await useBackend(this.inp.backends.inference);
      prefix.dispose();
      if (cache) this.prefixCacheStats = { ...cache.stats };
      cache?.dispose();
    }
    return this.phaseSummary('finetune', book, epochs, t0);
  }

  /** What the fine-tune phase's prefix cache held when it ended (null: not used), for benches and logs. */
  prefixCacheStats: PrefixCacheStats | null = null;

  /**
   * Prefix features of items, a batch at a time, as tensors on the training backend: from the prefix cache when
   * there is one (items it lacks are decoded and computed, then kept), otherwise decoded and computed each time.
   */
  private async *prefixBatches(
    items: Item[],
    rng: Rng | null,
    prefixOut: (pixels: Uint8Array[]) => Promise<Float32Array>,
    cache: PrefixCache | null,
    shape: number[],
  ): AsyncGenerator<{ items: Item[]; input: tf.Tensor }> {
    const bs = this.inp.config.batchSize;
    const batches = cache
      ? cachedFeatureBatches(
          cache,
          items,
          bs,
          (it) => `${it.sample}:${it.variant}`,
          (its) => Promise.all(its.map((it) => this.loadItem(it, null))),
          prefixOut,
        )
      : this.computedBatches(items, bs, rng, prefixOut);
    for await (const b of batches) {
      await useBackend(this.inp.backends.training);
      yield { items: b.items, input: tf.tensor(b.features, [b.items.length, ...shape]) };
    }
  }

  private async *computedBatches(
    items: Item[],
    bs: number,
    rng: Rng | null,
    prefixOut: (pixels: Uint8Array[]) => Promise<Float32Array>,
  ): AsyncGenerator<{ items: Item[]; features: Float32Array }> {
    for await (const b of this.batches(items, bs, rng)) yield { items: b.items, features: await prefixOut(b.pixels) };
  }

  private async validate(
    frozen: (items: Item[], rng: null) => AsyncGenerator<{ items: Item[]; input: tf.Tensor }>,
    tail: tf.LayersModel | null,
    items: Item[],
  ): Promise<{ loss: number; acc: number; localisation: EpochLocalisation | null }> {
    if (!items.length) return { loss: NaN, acc: NaN, localisation: null };
    let loss = 0;
    let correct = 0;
    // Localisation: the tail runs up to its conv map (the head sees the map's mean, as through the GAP layer).
    const mapped = this.loc && tail ? withMaps(tail) : null;
    const locTally = this.loc?.tally() ?? null;
    for await (const batch of frozen(items, null)) {
      const input = batch.input;
      if (this.aborted) {
        input.dispose();
        throw new CancelledError('Cancelled by the user');
      }
      const labels = batch.items.map((it) => this.inp.source.labelOf(it.sample));
      const [l, a] = tf.tidy(() => {
        let f: tf.Tensor;
        if (mapped && locTally) {
          const [m, pooled] = mapped.apply(input, { training: false }) as tf.Tensor[];
          const samples = batch.items.map((it) => it.sample);
          this.loc!.scoreTensor(locTally, m!, samples, labels, this.head!, this.numClasses);
          f = pooled!;
        } else f = tail ? (tail.apply(input, { training: false }) as tf.Tensor) : input;
        const p = this.head!.apply(f, { training: false }) as tf.Tensor;
        const y = tf.oneHot(tf.tensor1d(labels, 'int32'), this.numClasses);
        const ce = tf.sum(tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), 1))).dataSync()[0]!;
        const ok = tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32')).dataSync()[0]!;
        return [ce, ok];
      });
      input.dispose();
      loss += l;
      correct += a;
    }
    let localisation: EpochLocalisation | null = null;
    if (locTally) localisation = this.loc!.result(locTally);
    else if (this.loc && !tail && this.loc.cachedMaps.size) {
      // No tail (N = 0): the backbone is frozen, so the transfer phase's cached maps still hold.
      const kernel = this.head!.getLayer(HEAD_LAYERS.dense).getWeights()[0]!.dataSync() as Float32Array;
      localisation = this.loc.scoreCached((i) => this.inp.source.labelOf(i), kernel, this.numClasses, this.valMapShape());
    }
    return { loss: loss / items.length, acc: correct / items.length, localisation };
  }

  /** Shape [gh, gw, C] of the last conv map at this input size. */
  private valMapShape(): number[] {
    return featureShapeAfter(this.spec, this.spec.blocks, this.size);
  }

  /** Transfer phase: the last conv maps of the validation images that have regions, computed once. */
  private async cacheValMaps(embedModel: tf.LayersModel, valItems: Item[]): Promise<void> {
    const loc = this.loc!;
    loc.cachedMaps.clear();
    const todo = valItems.filter((it) => loc.has(it.sample));
    const mapped = withMaps(embedModel);
    for await (const b of this.batches(todo, EMBED_BATCH, null)) {
      await this.beforeBatch();
      await useBackend(this.inp.backends.inference);
      const [maps, per] = tf.tidy(() => {
        const [m] = mapped.apply(pixelsToBatch(b.pixels, this.size), { training: false }) as tf.Tensor[];
        return [m!.dataSync() as Float32Array, m!.shape.slice(1).reduce((x, y) => x * y, 1)] as const;
      });
      b.items.forEach((it, j) => loc.cachedMaps.set(it.sample, maps.slice(j * per, (j + 1) * per)));
    }
  }

  // ---------------------------------------------------------------- evaluation

  private async evaluateSplit(
    full: tf.LayersModel,
    split: 'val' | 'test',
    indices: number[],
    threshold?: number,
  ): Promise<Evaluation | null> {
    if (!indices.length) return null;
    const scored = await predictSamples(full, this.inp.source, indices, this.size, this.inp.backends.inference, this.inp.signal, {
      tta: this.inp.config.tta ?? false,
    });
    const opts: { okIndex: number | null; threshold?: number } = { okIndex: this.inp.okIndex };
    if (threshold !== undefined) opts.threshold = threshold;
    return evaluate(split, scored, this.inp.classes, opts);
  }
}

/**
 * Runs a classifier over samples a batch at a time (with decode look-ahead); returns probabilities.
 * With `tta`, each image is scored as the study's three fixed variants (original, rotated 180°, rotated 180° and
 * mirrored) in one batch, and its probabilities are the mean of the three softmax outputs.
 */
export async function predictSamples(
  model: tf.LayersModel,
  source: SampleSource,
  indices: number[],
  size: number,
  backend: string,
  signal?: AbortSignal,
  opts: { tta?: boolean; batchSize?: number; onBatch?: (done: number) => void } = {},
): Promise<ScoredSample[]> {
  const tta = opts.tta ?? false;
  const batchSize = opts.batchSize ?? (tta ? 8 : 16);
  const out: ScoredSample[] = [];
  const load = (k: number) => {
    const p = Promise.all(indices.slice(k, k + batchSize).map((i) => source.loadPixels(i, size)));
    p.catch(() => undefined);
    return p;
  };
  let next: Promise<Uint8Array[]> | null = indices.length ? load(0) : null;
  for (let k = 0; next; k += batchSize) {
    if (signal?.aborted) throw new CancelledError('Cancelled by the user');
    const px = await next;
    next = k + batchSize < indices.length ? load(k + batchSize) : null;
    await useBackend(backend);
    const probs = tta ? ttaProbabilities(model, px, size) : scoreBatch(model, px, size);
    probs.forEach((p, j) => {
      const i = indices[k + j]!;
      out.push({ id: source.idOf(i), label: source.labelOf(i), probs: p });
    });
    opts.onBatch?.(out.length);
  }
  return out;
}

/** Softmax outputs of a batch of RGB images. */
function scoreBatch(model: tf.LayersModel, px: Uint8Array[], size: number): number[][] {
  return tf.tidy(() => (model.apply(pixelsToBatch(px, size), { training: false }) as tf.Tensor).arraySync() as number[][]);
}

/** Test-time augmentation: per image, the mean of the softmax outputs of its three fixed variants. */
export function ttaProbabilities(model: tf.LayersModel, px: Uint8Array[], size: number): number[][] {
  const variants = variantsFor('fixed');
  const all = scoreBatch(
    model,
    variants.flatMap((v) => px.map((p) => applyVariant(p, size, v))),
    size,
  );
  return px.map((_, j) => {
    const mean = new Array<number>(all[0]!.length).fill(0);
    for (let v = 0; v < variants.length; v++) all[v * px.length + j]!.forEach((x, c) => (mean[c]! += x / variants.length));
    return mean;
  });
}
