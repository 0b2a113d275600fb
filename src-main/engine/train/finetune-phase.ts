/**
 * Phase 2, fine-tuning of the last N blocks: the frozen prefix's output comes from the prefix cache (fixed
 * augmentation) or is recomputed; the trainable tail and the head train through TensorFlow.js (train-step.ts), and
 * each epoch is validated (with CAM localisation when validation images have regions).
 */
import * as tf from '@tensorflow/tfjs';
import { CancelledError } from '../../shared/errors.ts';
import type { PhaseSummary } from '../../shared/training-types.ts';
import { hasRandomExtras } from '../../services/training/data/augment.ts';
import type { EpochLocalisation } from '../../services/training/guide/localisation.ts';
import type { Rng } from '../../services/training/train/rng.ts';
import { withMaps } from '../guide/epoch-localiser.ts';
import { buildSegment, featureShapeAfter, HEAD_LAYERS } from '../model/mobilenet.ts';
import { mergeWeightSets, pixelsToBatch, readTidy, useBackend } from '../model/tf-util.ts';
import { assignWeightsByName } from '../model/weights.ts';
import { EpochBook } from './epoch-book.ts';
import { decodedBatches, classWeights, loadItem, type Item } from './epoch-data.ts';
import { cachedFeatureBatches, PrefixCache } from './prefix-cache.ts';
import type { TrainingRun } from './run-state.ts';
import { trainStep } from './train-step.ts';
import { itemCellMask } from './embeddings.ts';
import { maskedMean } from '../model/masked-pool.ts';
import { photoLossAcc, resolveBags, splitPhotoScores } from './tiled.ts';

/** Fine-tuning patience when the configuration leaves it out (a fine-tuning epoch costs minutes on a CPU). */
export const DEFAULT_FINETUNE_PATIENCE = 5;

export async function fineTunePhase(run: TrainingRun, n: number, epochs: number, totalEpochs: number): Promise<PhaseSummary> {
  const c = run.inp.config;
  const t0 = run.now();
  const cut = run.spec.blocks - n; // prefix = blocks 0..cut (frozen), tail = cut+1..blocks (trained)
  const start = run.best ? mergeWeightSets('ft-start', run.startWeights(), run.best.weights) : run.startWeights();
  await useBackend(run.inp.backends.inference);
  // Letterbox with masked padding: the pool runs after the tail over each photo's cells (N = 0: after the prefix).
  const masked = run.inp.source.contentOf !== undefined;
  const prefix = buildSegment(run.spec, 0, cut, [run.size, run.size, 3], { name: 'frozen', gap: n === 0 && !masked });
  assignWeightsByName(prefix, start);
  await useBackend(run.inp.backends.training);
  const featShape = featureShapeAfter(run.spec, cut, run.size);
  const tail = n > 0 ? buildSegment(run.spec, cut + 1, run.spec.blocks, featShape, { gap: true, name: 'trainable' }) : null;
  if (tail) assignWeightsByName(tail, start);
  run.tailWeights = null;
  // Re-baseline the checkpoint: the best fine-tuned weights must beat the transfer result on validation.
  const opt = tf.train.adam(c.fineTuneLearningRate);
  const vars = [...(tail?.trainableWeights ?? []), ...run.head!.trainableWeights].map((w) => w.read() as tf.Variable);
  const cw = classWeights(run);
  const random = hasRandomExtras(c.augmentation);
  const valItems: Item[] = run.inp.splits.val.map((s) => ({ sample: s, variant: 0 as const }));
  // Tiles: the transfer phase's mean-pool warm-up is over; each MIL bag trains through its worst tile from here on.
  run.milMeanPool = false;
  run.inp.onEvent({ kind: 'phase', phase: 'finetune', epochs });
  // Fine-tuning epochs are few and costly: its early stopping watches the raw validation loss.
  const book = new EpochBook(c.fineTunePatience ?? DEFAULT_FINETUNE_PATIENCE, valItems.length > 0, 1);
  const inFeatShape = n > 0 ? featShape : masked ? run.valMapShape() : [run.spec.featureChannels];
  const prefixOut = async (pixels: Uint8Array[]): Promise<Float32Array> => {
    await useBackend(run.inp.backends.inference);
    return readTidy(() => prefix.apply(pixelsToBatch(pixels, run.size), { training: false }) as tf.Tensor);
  };
  // Fixed augmentation: each (image, variant)'s prefix output is the same in every epoch, so it is computed once.
  const cache =
    !random && run.inp.prefixCache !== false
      ? new PrefixCache(
          inFeatShape.reduce((a, b) => a * b, 1),
          run.inp.cacheDir,
          run.inp.prefixCache ?? {},
        )
      : null;
  /** Prefix features of items a batch at a time, on the training backend (the caller disposes them). */
  const frozen = (list: Item[], rng: Rng | null) => prefixBatches(run, list, rng, prefixOut, cache, inFeatShape);
  try {
    // Baseline on validation so that fine-tuning only replaces the transfer checkpoint when it improves on it.
    if (run.best && valItems.length) {
      const v0 = await validate(run, frozen, tail, valItems);
      run.best = { ...run.best, loss: v0.loss, acc: v0.acc };
      run.byPointing?.rebase(v0.acc, v0.loss, v0.localisation?.valPointing);
    }
    // Guidance while fine-tuning: the tail runs up to its conv map; the head sees the map's mean.
    const guideMapped = (run.guide || masked) && tail ? withMaps(tail) : null;
    const featGrid = run.valMapShape();
    for (let e = 1; e <= epochs; e++) {
      const epoch = run.startEpoch(5000 + e);
      const { startedAt, erng, dropRng, batches, tally } = epoch;
      // Tiles: each MIL photo trains this epoch through the tile the model found worst when the epoch began (every
      // tile's prefix output is cached, so scoring a bag costs the tail and the head only).
      const items = run.tiles ? await worstOfBags(run, frozen, tail, epoch.items) : epoch.items;
      let b = 0;
      for await (const batch of frozen(items, random ? erng.fork(2) : null)) {
        const input = batch.input;
        try {
          await run.beforeBatch();
        } catch (err) {
          input.dispose();
          throw err;
        }
        const labels = batch.items.map((it) => run.inp.source.labelOf(it.sample));
        const guide =
          guideMapped && run.guide
            ? { mapped: guideMapped, targets: batch.items.map((it) => run.guideTarget(it, featGrid[1]!, featGrid[0]!)) }
            : undefined;
        await useBackend(run.inp.backends.training);
        const poolMask = masked ? await itemCellMask(run, batch.items, featGrid) : null;
        const pool = poolMask ? { mask: poolMask, mapped: guideMapped } : undefined;
        const [loss, acc] = trainStep(run, opt, vars, input, tail, labels, cw, dropRng, guide, pool);
        input.dispose();
        poolMask?.dispose();
        tally.losses.push(loss);
        tally.correct += acc;
        tally.seen += labels.length;
        run.inp.onEvent({ kind: 'batch', phase: 'finetune', epoch: e, globalEpoch: run.globalEpoch, batch: ++b, batches, loss });
      }
      const val = await validate(run, frozen, tail, valItems);
      const localisation = val.localisation;
      const improved = run.byPointing
        ? run.byPointing.consider(val.acc, val.loss, localisation?.valPointing) && run.checkpoint(val.loss, val.acc, tail, true)
        : run.checkpoint(val.loss, val.acc, tail);
      const end = { epoch: e, startedAt, totalEpochs, ...tally, val, learningRate: c.fineTuneLearningRate, improved, localisation };
      if (await run.endEpoch('finetune', book, end)) break;
    }
    if (!valItems.length) run.checkpoint(NaN, NaN, tail);
  } catch (err) {
    if (!(err instanceof CancelledError)) throw err;
    run.cancelled = true;
  } finally {
    opt.dispose();
    await useBackend(run.inp.backends.training);
    run.restoreBest(tail);
    tail?.dispose();
    await useBackend(run.inp.backends.inference);
    prefix.dispose();
    if (cache) run.prefixCacheStats = { ...cache.stats };
    cache?.dispose();
  }
  return run.phaseSummary('finetune', book, epochs, t0);
}

/**
 * Prefix features of items, a batch at a time, as tensors on the training backend: from the prefix cache when
 * there is one (items it lacks are decoded and computed, then kept), otherwise decoded and computed each time.
 */
async function* prefixBatches(
  run: TrainingRun,
  items: Item[],
  rng: Rng | null,
  prefixOut: (pixels: Uint8Array[]) => Promise<Float32Array>,
  cache: PrefixCache | null,
  shape: number[],
): AsyncGenerator<{ items: Item[]; input: tf.Tensor }> {
  const bs = run.inp.config.batchSize;
  const batches = cache
    ? cachedFeatureBatches(
        cache,
        items,
        bs,
        (it) => `${it.sample}:${it.variant}`,
        (its) => Promise.all(its.map((it) => loadItem(run, it, null))),
        prefixOut,
      )
    : computedBatches(run, items, bs, rng, prefixOut);
  for await (const b of batches) {
    await useBackend(run.inp.backends.training);
    yield { items: b.items, input: tf.tensor(b.features, [b.items.length, ...shape]) };
  }
}

async function* computedBatches(
  run: TrainingRun,
  items: Item[],
  bs: number,
  rng: Rng | null,
  prefixOut: (pixels: Uint8Array[]) => Promise<Float32Array>,
): AsyncGenerator<{ items: Item[]; features: Float32Array }> {
  for await (const b of decodedBatches(run, items, bs, rng)) yield { items: b.items, features: await prefixOut(b.pixels) };
}

/** Softmax outputs of items through the tail and head (no masked pooling: tiles and plain inputs), item by item. */
async function scoreItems(
  run: TrainingRun,
  frozen: (items: Item[], rng: null) => AsyncGenerator<{ items: Item[]; input: tf.Tensor }>,
  tail: tf.LayersModel | null,
  items: Item[],
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const K = run.numClasses;
  for await (const batch of frozen(items, null)) {
    const input = batch.input;
    if (run.aborted) {
      input.dispose();
      throw new CancelledError('Cancelled by the user');
    }
    const p = tf.tidy(() => {
      const f = tail ? (tail.apply(input, { training: false }) as tf.Tensor) : input;
      return (run.head!.apply(f, { training: false }) as tf.Tensor).dataSync() as Float32Array;
    });
    input.dispose();
    for (let j = 0; j < batch.items.length; j++) out.push(p.slice(j * K, (j + 1) * K));
  }
  return out;
}

/** Tiles: an epoch's items with each MIL bag replaced by its worst tile under the current model (same variant). */
async function worstOfBags(
  run: TrainingRun,
  frozen: (items: Item[], rng: null) => AsyncGenerator<{ items: Item[]; input: tf.Tensor }>,
  tail: tf.LayersModel | null,
  items: Item[],
): Promise<Item[]> {
  const t = run.tiles!;
  const bags = items.filter((it) => t.mil.has(t.set.owner[it.sample]!));
  if (!bags.length) return items;
  const members = [
    ...new Map(
      bags.flatMap((it) =>
        t.set.tilesOf.get(t.set.owner[it.sample]!)!.map((j) => [`${j}:${it.variant}`, { sample: j, variant: it.variant }]),
      ),
    ).values(),
  ];
  const probs = await scoreItems(run, frozen, tail, members);
  const byKey = new Map(members.map((it, k) => [`${it.sample}:${it.variant}`, probs[k]!]));
  const K = run.numClasses;
  return resolveBags(
    t,
    items,
    (list) => {
      const out = new Float32Array(list.length * K);
      list.forEach((it, k) => out.set(byKey.get(`${it.sample}:${it.variant}`)!, k * K));
      return out;
    },
    K,
    run.inp.okIndex,
  );
}

async function validate(
  run: TrainingRun,
  frozen: (items: Item[], rng: null) => AsyncGenerator<{ items: Item[]; input: tf.Tensor }>,
  tail: tf.LayersModel | null,
  items: Item[],
): Promise<{ loss: number; acc: number; localisation: EpochLocalisation | null }> {
  if (!items.length) return { loss: NaN, acc: NaN, localisation: null };
  // Tiles: every validation photo is judged by its worst tile.
  if (run.tiles) {
    const probs = await scoreItems(run, frozen, tail, items);
    const scores = splitPhotoScores(
      run.tiles,
      'val',
      items.map((it) => it.sample),
      probs,
      run.inp.okIndex,
    );
    return { ...photoLossAcc(scores), localisation: null };
  }
  let loss = 0;
  let correct = 0;
  // Localisation: the tail runs up to its conv map (the head sees the map's mean, as through the GAP layer).
  // Letterbox with masked padding: the map's mean over each photo's cells replaces the GAP output.
  const masked = run.inp.source.contentOf !== undefined;
  const mapped = (run.loc || masked) && tail ? withMaps(tail) : null;
  const locTally = run.loc?.tally() ?? null;
  await run.loc?.useContents(run.inp.source, run.size);
  for await (const batch of frozen(items, null)) {
    const input = batch.input;
    if (run.aborted) {
      input.dispose();
      throw new CancelledError('Cancelled by the user');
    }
    const labels = batch.items.map((it) => run.inp.source.labelOf(it.sample));
    const poolMask = masked ? await itemCellMask(run, batch.items, run.valMapShape()) : null;
    const [l, a] = tf.tidy(() => {
      let f: tf.Tensor;
      if (mapped) {
        const [m, pooled] = mapped.apply(input, { training: false }) as tf.Tensor[];
        if (locTally)
          run.loc!.scoreTensor(
            locTally,
            m!,
            batch.items.map((it) => it.sample),
            labels,
            run.head!,
            run.numClasses,
          );
        f = poolMask ? maskedMean(m!, poolMask) : pooled!;
      } else if (poolMask) f = maskedMean(input, poolMask);
      else f = tail ? (tail.apply(input, { training: false }) as tf.Tensor) : input;
      const p = run.head!.apply(f, { training: false }) as tf.Tensor;
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), run.numClasses);
      const ce = tf.sum(tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), 1))).dataSync()[0]!;
      const ok = tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32')).dataSync()[0]!;
      return [ce, ok];
    });
    input.dispose();
    poolMask?.dispose();
    loss += l;
    correct += a;
  }
  let localisation: EpochLocalisation | null = null;
  if (locTally) localisation = run.loc!.result(locTally);
  else if (run.loc && !tail && run.loc.cachedMaps.size) {
    // No tail (N = 0): the backbone is frozen, so the transfer phase's cached maps still hold.
    const kernel = run.head!.getLayer(HEAD_LAYERS.dense).getWeights()[0]!.dataSync() as Float32Array;
    localisation = run.loc.scoreCached((i) => run.inp.source.labelOf(i), kernel, run.numClasses, run.valMapShape());
  }
  return { loss: loss / items.length, acc: correct / items.length, localisation };
}
