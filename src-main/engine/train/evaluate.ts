/**
 * Scoring a classifier over samples (with test-time augmentation when asked) and the run's final evaluation of
 * its validation and test splits. Also what the engine's predict job runs.
 */
import * as tf from '@tensorflow/tfjs';
import { CancelledError } from '../../shared/errors.ts';
import type { Evaluation } from '../../shared/training-types.ts';
import { applyVariant, variantsFor } from '../../services/training/data/augment.ts';
import type { SampleSource } from '../../services/training/data/source.ts';
import { evaluate, type ScoredSample } from '../../services/training/train/metrics.ts';
import { cellMaskBatch, contentsOf, maskedClassifier } from '../model/masked-pool.ts';
import { HEAD_LAYERS } from '../model/mobilenet.ts';
import { pixelsToBatch, useBackend } from '../model/tf-util.ts';
import type { Rect } from '../../services/training/data/geometry.ts';
import type { TrainingRun } from './run-state.ts';
import { expandTiles, photoScores, type TiledScore } from '../../services/training/data/tile-set.ts';
import { splitPhotoScores } from './tiled.ts';

export async function evaluateSplit(
  run: TrainingRun,
  full: tf.LayersModel,
  split: 'val' | 'test',
  indices: number[],
  threshold?: number,
): Promise<Evaluation | null> {
  if (!indices.length) return null;
  const scored = await predictSamples(full, run.inp.source, indices, run.size, run.inp.backends.inference, run.inp.signal, {
    tta: run.inp.config.tta ?? false,
  });
  const opts: { okIndex: number | null; threshold?: number } = { okIndex: run.inp.okIndex };
  if (threshold !== undefined) opts.threshold = threshold;
  // Tiles: each photo is judged by its worst tile.
  const photos = run.tiles
    ? splitPhotoScores(
        run.tiles,
        split,
        indices,
        scored.map((x) => x.probs),
        run.inp.okIndex,
      )
    : scored;
  return evaluate(split, photos, run.inp.classes, opts);
}

/**
 * Scores photos with a classifier: plain sources through predictSamples; tiling sources (resize 'tile') tile by tile,
 * each photo then taking its worst tile's probabilities (`okIndex`: the OK class, null = the most confident tile), with
 * that tile's index.
 */
export async function predictPhotos(
  model: tf.LayersModel,
  source: SampleSource,
  indices: number[],
  size: number,
  backend: string,
  signal: AbortSignal | undefined,
  opts: { tta?: boolean; okIndex: number | null; onBatch?: (done: number) => void },
): Promise<(ScoredSample & { tile?: number })[]> {
  const { okIndex, ...rest } = opts;
  if (!source.gridOf || !source.loadTiles) return predictSamples(model, source, indices, size, backend, signal, rest);
  const set = await expandTiles(source, indices);
  const tiles = indices.flatMap((i) => set.tilesOf.get(i)!);
  const scored = await predictSamples(model, set.source, tiles, size, backend, signal, {
    ...(rest.tta !== undefined ? { tta: rest.tta } : {}),
  });
  const byTile = new Map<number, ArrayLike<number>>();
  tiles.forEach((j, k) => byTile.set(j, scored[k]!.probs));
  const out: TiledScore[] = photoScores(
    set,
    indices,
    byTile,
    (i) => source.labelOf(i),
    (i) => source.idOf(i),
    okIndex,
  );
  rest.onBatch?.(out.length);
  return out;
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
  // Letterbox with masked padding: the pool averages only each photo's cells.
  const masked = source.contentOf ? maskedClassifier(model) : null;
  const load = (k: number) => {
    const part = indices.slice(k, k + batchSize);
    const p = Promise.all([Promise.all(part.map((i) => source.loadPixels(i, size))), contentsOf(source, part, size)]);
    p.catch(() => undefined);
    return p;
  };
  let next: ReturnType<typeof load> | null = indices.length ? load(0) : null;
  for (let k = 0; next; k += batchSize) {
    if (signal?.aborted) throw new CancelledError('Cancelled by the user');
    const [px, rects] = await next;
    next = k + batchSize < indices.length ? load(k + batchSize) : null;
    await useBackend(backend);
    const pool = masked && rects ? { apply: masked, rects } : undefined;
    const probs = tta ? ttaProbabilities(model, px, size, pool) : scoreBatch(model, px, size, pool);
    probs.forEach((p, j) => {
      const i = indices[k + j]!;
      out.push({ id: source.idOf(i), label: source.labelOf(i), probs: p });
    });
    opts.onBatch?.(out.length);
  }
  return out;
}

/** Masked pooling for a batch: the classifier run through maskedClassifier and each image's content rectangle. */
interface MaskedPool {
  apply: (batch: tf.Tensor, mask: tf.Tensor) => tf.Tensor;
  rects: Rect[];
  /** The fixed variant of each image (0 when left out). */
  variants?: number[];
}

/** Softmax outputs of a batch of RGB images. */
function scoreBatch(model: tf.LayersModel, px: Uint8Array[], size: number, pool?: MaskedPool): number[][] {
  return tf.tidy(() => {
    const batch = pixelsToBatch(px, size);
    if (!pool) return (model.apply(batch, { training: false }) as tf.Tensor).arraySync() as number[][];
    const shape = (model.getLayer(HEAD_LAYERS.gap).input as tf.SymbolicTensor).shape;
    const [gh, gw] = [shape[1]!, shape[2]!];
    return pool.apply(batch, cellMaskBatch(pool.rects, pool.variants ?? [], size, gh, gw)).arraySync() as number[][];
  });
}

/** Test-time augmentation: per image, the mean of the softmax outputs of its three fixed variants. */
export function ttaProbabilities(model: tf.LayersModel, px: Uint8Array[], size: number, pool?: MaskedPool): number[][] {
  const variants = variantsFor('fixed');
  const all = scoreBatch(
    model,
    variants.flatMap((v) => px.map((p) => applyVariant(p, size, v))),
    size,
    pool && { apply: pool.apply, rects: variants.flatMap(() => pool.rects), variants: variants.flatMap((v) => pool.rects.map(() => v)) },
  );
  return px.map((_, j) => {
    const mean = new Array<number>(all[0]!.length).fill(0);
    for (let v = 0; v < variants.length; v++) all[v * px.length + j]!.forEach((x, c) => (mean[c]! += x / variants.length));
    return mean;
  });
}
