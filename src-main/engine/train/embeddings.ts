/**
 * The transfer phase's passes over the frozen backbone: embeddings (GAP of the last conv block, from the disk cache
 * or computed) and, for localisation and guidance, the last conv maps of the images that have regions.
 */
import type * as tf from '@tensorflow/tfjs';
import { withMaps } from '../guide/epoch-localiser.ts';
import { cellMaskBatch, contentsOf, maskedMean } from '../model/masked-pool.ts';
import { pixelsToBatch, readTidy, useBackend } from '../model/tf-util.ts';
import type { EmbeddingCache } from './embedding-cache.ts';
import { decodedBatches, type Item } from './epoch-data.ts';
import type { TrainingRun } from './run-state.ts';

/** Images per backbone batch of the embedding and map passes. */
export const EMBED_BATCH = 16;

/**
 * Embeddings (GAP of the last conv block) of items, from the disk cache or computed on the
 * inference backend. Returns one Float32Array of items.length x C.
 */
export async function embed(
  run: TrainingRun,
  model: tf.LayersModel,
  items: Item[],
  cache: EmbeddingCache,
  progress: { done: number; total: number },
): Promise<Float32Array> {
  const C = run.spec.featureChannels;
  const out = new Float32Array(items.length * C);
  const todo: number[] = [];
  items.forEach((it, i) => {
    const v = cache.get(run.inp.source.keyOf(it.sample), it.variant);
    if (v) out.set(v, i * C);
    else todo.push(i);
  });
  progress.done += items.length - todo.length;
  run.inp.onEvent({ kind: 'embeddings', done: progress.done, total: progress.total, cached: cache.hits });
  const todoItems = todo.map((i) => items[i]!);
  // Letterbox with masked padding: pool the conv map over the photo's cells only.
  const mapped = run.inp.source.contentOf ? withMaps(model) : null;
  let k = 0;
  for await (const b of decodedBatches(run, todoItems, EMBED_BATCH, null)) {
    await run.beforeBatch();
    const mask = mapped ? await itemCellMask(run, b.items, run.valMapShape()) : null;
    await useBackend(run.inp.backends.inference);
    const feats = readTidy(() => {
      const batch = pixelsToBatch(b.pixels, run.size);
      if (!mapped || !mask) return model.apply(batch, { training: false }) as tf.Tensor;
      const [m] = mapped.apply(batch, { training: false }) as tf.Tensor[];
      return maskedMean(m!, mask);
    });
    mask?.dispose();
    for (let j = 0; j < b.items.length; j++) {
      const i = todo[k + j]!;
      const vec = feats.subarray(j * C, (j + 1) * C);
      out.set(vec, i * C);
      cache.put(run.inp.source.keyOf(b.items[j]!.sample), b.items[j]!.variant, vec.slice());
    }
    k += b.items.length;
    progress.done += b.items.length;
    run.inp.onEvent({ kind: 'embeddings', done: progress.done, total: progress.total, cached: cache.hits });
  }
  return out;
}

/** Transfer phase: the last conv maps of the validation images that have regions, computed once. */
export async function cacheValMaps(run: TrainingRun, embedModel: tf.LayersModel, valItems: Item[]): Promise<void> {
  const loc = run.loc!;
  loc.cachedMaps.clear();
  await loc.useContents(run.inp.source, run.size);
  await forEachConvMap(
    run,
    embedModel,
    valItems.filter((it) => loc.has(it.sample)),
    (it, map) => loc.cachedMaps.set(it.sample, map),
  );
}

/** Transfer phase with guidance: the conv maps of the training items that have regions, computed once. */
export async function cacheTrainMaps(run: TrainingRun, embedModel: tf.LayersModel, items: Item[]): Promise<void> {
  run.trainMaps.clear();
  const todo = items.filter((it) => run.guide!.has(it.sample));
  await forEachConvMap(run, embedModel, todo, (it, map) => run.trainMaps.set(`${it.sample}:${it.variant}`, map));
}

/** The last conv map (flattened [h·w·c]) of each item, batch by batch, pausable, on the inference backend. */
async function forEachConvMap(
  run: TrainingRun,
  embedModel: tf.LayersModel,
  items: Item[],
  use: (it: Item, map: Float32Array) => void,
): Promise<void> {
  const mapped = withMaps(embedModel);
  for await (const b of decodedBatches(run, items, EMBED_BATCH, null)) {
    await run.beforeBatch();
    await useBackend(run.inp.backends.inference);
    let per = 0;
    const maps = readTidy(() => {
      const [m] = mapped.apply(pixelsToBatch(b.pixels, run.size), { training: false }) as tf.Tensor[];
      per = m!.shape.slice(1).reduce((x, y) => x * y, 1);
      return m!;
    });
    b.items.forEach((it, j) => use(it, maps.slice(j * per, (j + 1) * per)));
  }
}

/**
 * Letterbox with masked padding: the cell masks [B, gh, gw, 1] of items (each under its variant) on the last conv
 * map's grid ([gh, gw, …]); null when the source pools the padding too. Made on the current backend.
 */
export async function itemCellMask(run: TrainingRun, items: Item[], grid: readonly number[]): Promise<tf.Tensor4D | null> {
  const rects = await contentsOf(
    run.inp.source,
    items.map((it) => it.sample),
    run.size,
  );
  if (!rects) return null;
  return cellMaskBatch(
    rects,
    items.map((it) => it.variant),
    run.size,
    grid[0]!,
    grid[1]!,
  );
}
