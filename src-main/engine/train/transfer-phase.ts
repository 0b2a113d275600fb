/**
 * Phase 1, transfer learning: the backbone is frozen, so every (image, variant)'s embedding is computed once and the
 * dense head trains on them in JS (js-head.ts); with random augmentation extras the backbone runs on every batch.
 */
import * as tf from '@tensorflow/tfjs';
import { CancelledError } from '../../shared/errors.ts';
import type { PhaseSummary, RunDurations } from '../../shared/training-types.ts';
import { hasRandomExtras, variantsFor } from '../../services/training/data/augment.ts';
import { addGuidanceGradient } from '../guide/guidance.ts';
import { buildSegment, HEAD_LAYERS } from '../model/mobilenet.ts';
import { pixelsToBatch, useBackend } from '../model/tf-util.ts';
import { assignWeightsByName } from '../model/weights.ts';
import { EmbeddingCache } from './embedding-cache.ts';
import { cacheTrainMaps, cacheValMaps, embed } from './embeddings.ts';
import { EpochBook } from './epoch-book.ts';
import { decodedBatches, classWeights, type Item } from './epoch-data.ts';
import { JsHead } from './js-head.ts';
import { yieldToEventLoop, type TrainingRun } from './run-state.ts';
import { milWarmupEpochs, photoLossAcc, resolveBags, splitPhotoScores } from './tiled.ts';
import { learningRateAt } from './schedule.ts';

/** Weight of the newest epoch in the smoothed validation loss that early stopping watches. */
export const DEFAULT_STOP_SMOOTHING = 0.3;

export async function transferPhase(run: TrainingRun, epochs: number, totalEpochs: number, durations: RunDurations): Promise<PhaseSummary> {
  const c = run.inp.config;
  const t0 = run.now();
  const random = hasRandomExtras(c.augmentation);
  await useBackend(run.inp.backends.inference);
  const embedModel = buildSegment(run.spec, 0, run.spec.blocks, [run.size, run.size, 3], { gap: true, name: 'embedder' });
  assignWeightsByName(embedModel, run.startWeights());
  const cache = new EmbeddingCache(c.useEmbeddingCache && !random ? run.inp.cacheDir : null, {
    backbone: run.spec.id,
    inputSize: run.size,
    weightsFingerprint: run.startWeights().fingerprint || 'unknown',
    channels: run.spec.featureChannels,
  });
  const C = run.spec.featureChannels;
  try {
    // Embeddings of every (train image, variant) and of validation originals, computed once.
    const te = run.now();
    const variants = variantsFor(c.augmentation.mode);
    const trainItems: Item[] = random ? [] : run.inp.splits.train.flatMap((s) => variants.map((v) => ({ sample: s, variant: v })));
    const valItems: Item[] = run.inp.splits.val.map((s) => ({ sample: s, variant: 0 as const }));
    run.inp.onEvent({ kind: 'phase', phase: 'embeddings', epochs: 0 });
    const progress = { done: 0, total: trainItems.length + valItems.length };
    const trainEmb = await embed(run, embedModel, trainItems, cache, progress);
    const valEmb = await embed(run, embedModel, valItems, cache, progress);
    if (run.loc) await cacheValMaps(run, embedModel, valItems);
    if (run.guide && !random) await cacheTrainMaps(run, embedModel, trainItems);
    durations.embeddingsMs = run.now() - te;
    const index = new Map<string, number>();
    trainItems.forEach((it, i) => index.set(`${it.sample}:${it.variant}`, i));

    await useBackend(run.inp.backends.training);
    const dense = run.head!.getLayer(HEAD_LAYERS.dense);
    const [k0, b0] = dense.getWeights();
    const K = run.numClasses;
    const js = new JsHead(k0!.dataSync() as Float32Array, b0!.dataSync() as Float32Array, C, K, c.learningRate);
    const syncHead = () => {
      const t = [tf.tensor2d(js.W, [C, K]), tf.tensor1d(js.b)];
      dense.setWeights(t);
      tf.dispose(t);
    };
    const cw = classWeights(run);
    const valLabels = valItems.map((it) => run.inp.source.labelOf(it.sample));
    const rate = c.dropout;
    // Tiles: head probabilities of items' cached embeddings (MIL bags pick their worst tile by them).
    const probsOf = (list: Item[]): Float32Array => {
      const x = new Float32Array(list.length * C);
      list.forEach((it, j) => {
        const i = index.get(`${it.sample}:${it.variant}`)!;
        x.set(trainEmb.subarray(i * C, (i + 1) * C), j * C);
      });
      const p = new Float32Array(list.length * K);
      js.forward(x, list.length, p);
      return p;
    };
    // Tiles, warm-up epochs: each tile of a MIL photo carries 1/n of the photo's weight (mean pooling).
    const milWeight = (it: Item): number => {
      const t = run.tiles!;
      const photo = t.set.owner[it.sample]!;
      return run.milMeanPool && t.mil.has(photo) ? 1 / t.set.tilesOf.get(photo)!.length : 1;
    };
    // Tiles: validation is judged per photo, by its worst tile.
    const evaluateVal = (): { loss: number; acc: number } => {
      if (!run.tiles) return js.evaluate(valEmb, valLabels);
      const p = new Float32Array(valItems.length * K);
      js.forward(valEmb, valItems.length, p);
      const rows = valItems.map((_, j) => p.subarray(j * K, (j + 1) * K));
      const scores = splitPhotoScores(
        run.tiles,
        'val',
        valItems.map((it) => it.sample),
        rows,
        run.inp.okIndex,
      );
      return photoLossAcc(scores);
    };
    run.inp.onEvent({ kind: 'phase', phase: 'transfer', epochs });
    const book = new EpochBook(c.patience, valItems.length > 0, c.stopSmoothing ?? DEFAULT_STOP_SMOOTHING);
    const schedule = { schedule: c.lrSchedule ?? 'warmupCosine', base: c.learningRate, epochs } as const;
    let locMs = 0;
    const locStart = run.now();
    try {
      for (let e = 1; e <= epochs; e++) {
        run.milMeanPool = run.tiles !== null && e <= milWarmupEpochs(epochs);
        const { startedAt, erng, items, dropRng, batches, tally } = run.startEpoch(1000 + e);
        js.lr = learningRateAt(e, schedule);
        const step = (b: number, part: Item[], feats: Float32Array) => {
          const labels = part.map((it) => run.inp.source.labelOf(it.sample));
          let mask: Float32Array | undefined;
          if (rate > 0) {
            mask = new Float32Array(part.length * C);
            for (let i = 0; i < mask.length; i++) mask[i] = dropRng.next() >= rate ? 1 / (1 - rate) : 0;
          }
          const [gh, gw] = run.valMapShape();
          const guided = run.trainMaps.size
            ? (gW: Float32Array, W: Float32Array) =>
                addGuidanceGradient(
                  gW,
                  W,
                  C,
                  K,
                  part.map((it) => run.trainMaps.get(`${it.sample}:${it.variant}`) ?? null),
                  part.map((it) => run.guideTarget(it, gw!, gh!)),
                  labels,
                  run.guideWeight,
                )
            : undefined;
          const [loss, acc] = js.step(
            feats,
            labels,
            run.tiles ? part.map((it, j) => cw[labels[j]!]! * milWeight(it)) : labels.map((l) => cw[l]!),
            mask,
            guided,
          );
          tally.losses.push(loss);
          tally.correct += acc;
          tally.seen += part.length;
          run.inp.onEvent({ kind: 'batch', phase: 'transfer', epoch: e, globalEpoch: run.globalEpoch, batch: b, batches, loss });
        };
        if (!random) {
          const buf = new Float32Array(c.batchSize * C);
          for (let b = 0; b < batches; b++) {
            await run.beforeBatch();
            const slice = items.slice(b * c.batchSize, (b + 1) * c.batchSize);
            const part = run.tiles && !run.milMeanPool ? resolveBags(run.tiles, slice, probsOf, K, run.inp.okIndex) : slice;
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
          for await (const batch of decodedBatches(run, items, c.batchSize, erng.fork(2))) {
            await run.beforeBatch();
            await useBackend(run.inp.backends.inference);
            const feats = tf.tidy(
              () => (embedModel.apply(pixelsToBatch(batch.pixels, run.size), { training: false }) as tf.Tensor).dataSync() as Float32Array,
            );
            step(++b, batch.items, feats);
          }
        }
        await useBackend(run.inp.backends.training);
        const val = evaluateVal();
        const lowerLoss = !run.best || !Number.isFinite(run.best.loss) || (Number.isFinite(val.loss) && val.loss < run.best.loss);
        // Head epochs take milliseconds: localisation is measured while it costs at most a tenth of the phase so far,
        // and always on the last one and when the best epoch is chosen by pointing.
        const measure = run.loc && (run.byPointing || e === epochs || locMs <= 0.1 * (run.now() - locStart));
        const localisation = measure ? run.loc!.scoreCached((i) => run.inp.source.labelOf(i), js.W, K, run.valMapShape()) : null;
        locMs += localisation?.valLocalisationMs ?? 0;
        const wouldImprove = run.byPointing ? run.byPointing.consider(val.acc, val.loss, localisation?.valPointing) : lowerLoss;
        if (wouldImprove) syncHead();
        const improved = wouldImprove && run.checkpoint(val.loss, val.acc, null, run.byPointing !== null);
        const end = { epoch: e, startedAt, totalEpochs, ...tally, val, learningRate: js.lr, improved, localisation };
        if (await run.endEpoch('transfer', book, end)) break;
      }
    } catch (err) {
      if (!(err instanceof CancelledError)) throw err;
      run.cancelled = true;
    }
    if (!valItems.length) {
      syncHead();
      run.checkpoint(NaN, NaN, null);
    }
    run.restoreBest(null);
    return run.phaseSummary('transfer', book, epochs, t0);
  } finally {
    embedModel.dispose();
  }
}
