/**
 * What a training epoch runs on: its (image, variant) items, the class weights of the loss, and decoded batches
 * with one batch of look-ahead. Plain data and decoding; no tensors.
 */
import { applyRandomExtras, applyVariant, variantsFor, type FixedVariant } from '../../services/training/data/augment.ts';
import { shuffleInPlace, type Rng } from '../../services/training/train/rng.ts';
import type { TrainingRun } from './run-state.ts';
import { bagItems } from './tiled.ts';

/** One training example: an image (sample index) under one fixed variant. */
export interface Item {
  sample: number;
  variant: FixedVariant;
}

/** The items of one training epoch: fixed copies, or one drawn variant per image; balanced sampling resamples. */
export function epochItems(run: TrainingRun, epochRng: Rng): Item[] {
  const c = run.inp.config;
  const variants = variantsFor(c.augmentation.mode);
  let items: Item[] = [];
  for (const s of run.inp.splits.train) {
    if (c.augmentation.mode === 'random') items.push({ sample: s, variant: variants[epochRng.int(variants.length)]! });
    else for (const v of variants) items.push({ sample: s, variant: v });
  }
  // Tiles: a MIL photo is one item per variant (its bag), resolved to its worst tile batch by batch (after the
  // warm-up, when every tile of the bag trains at 1/n weight).
  if (run.tiles && !run.milMeanPool) items = bagItems(run.tiles, items);
  if (c.imbalance === 'balancedSampling') {
    const byClass = new Map<number, Item[]>();
    for (const it of items) {
      const l = run.inp.source.labelOf(it.sample);
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
export function classWeights(run: TrainingRun): number[] {
  const w = new Array<number>(run.numClasses).fill(1);
  if (run.inp.config.imbalance !== 'classWeights') return w;
  const counts = new Array<number>(run.numClasses).fill(0);
  // Tiles: a MIL photo trains as one item (its bag), not one per tile.
  const t = run.tiles;
  const train = t ? run.inp.splits.train.filter((j) => !t.mil.has(t.set.owner[j]!) || t.set.tile[j] === 0) : run.inp.splits.train;
  for (const s of train) counts[run.inp.source.labelOf(s)]! += 1;
  const n = train.length;
  const present = counts.filter((x) => x > 0).length;
  return counts.map((k) => (k ? n / (present * k) : 0));
}

export async function loadItem(run: TrainingRun, it: Item, rng: Rng | null): Promise<Uint8Array> {
  const px = await run.inp.source.loadPixels(it.sample, run.size);
  const v = applyVariant(px, run.size, it.variant);
  return rng ? applyRandomExtras(v, run.size, run.inp.config.augmentation, rng) : v;
}

/** Decodes batches with one batch of look-ahead (decoding runs in sharp's threads while tf computes). */
export async function* decodedBatches(
  run: TrainingRun,
  items: Item[],
  batchSize: number,
  rng: Rng | null,
): AsyncGenerator<{ items: Item[]; pixels: Uint8Array[] }> {
  const load = (k: number) => {
    const part = items.slice(k, k + batchSize);
    const p = Promise.all(part.map((it) => loadItem(run, it, rng?.fork(it.sample * 7 + it.variant) ?? null)));
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
