/**
 * k-fold cross-validation folds for small sets: stratified by class, and respecting a group key (e.g. the import
 * batch) so that images of one group — often photos of one core or one session — never sit on both sides of a fold.
 * Pure (no TensorFlow, no catalog).
 */
import { createRng, shuffleInPlace } from './rng.ts';

export interface FoldItem {
  classIndex: number;
  /** Images with the same key go to the same fold; null = the image is a group of its own. */
  group: string | number | null;
}

/**
 * Assigns each item a fold 0..k-1. Groups are placed largest first (ties in a seeded random order), each into the
 * fold where it leaves the class shares most even: the fold with the lowest sum over the group's classes of
 * (count already there + group's count) / class total, then the smallest fold. Without groups each class ends up
 * split within one image across the folds.
 */
export function stratifiedGroupFolds(items: readonly FoldItem[], k: number, seed: number): number[] {
  if (!Number.isInteger(k) || k < 2) throw new RangeError('Cross-validation needs at least 2 folds.');
  const groups = new Map<string, number[]>();
  items.forEach((it, i) => {
    const key = it.group === null ? `#${i}` : `g:${String(it.group)}`;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const classTotal = new Map<number, number>();
  for (const it of items) classTotal.set(it.classIndex, (classTotal.get(it.classIndex) ?? 0) + 1);
  const list = shuffleInPlace([...groups.values()], createRng(seed));
  // Stable sort: equal sizes keep the seeded order.
  list.sort((a, b) => b.length - a.length);
  const counts = Array.from({ length: k }, () => new Map<number, number>());
  const sizes = new Array<number>(k).fill(0);
  const fold = new Array<number>(items.length).fill(0);
  for (const g of list) {
    const byClass = new Map<number, number>();
    for (const i of g) byClass.set(items[i]!.classIndex, (byClass.get(items[i]!.classIndex) ?? 0) + 1);
    let best = 0;
    let bestCost = Infinity;
    for (let f = 0; f < k; f++) {
      let cost = 0;
      for (const [c, n] of byClass) cost += ((counts[f]!.get(c) ?? 0) + n) / classTotal.get(c)!;
      if (cost < bestCost - 1e-12 || (Math.abs(cost - bestCost) <= 1e-12 && sizes[f]! < sizes[best]!)) {
        best = f;
        bestCost = cost;
      }
    }
    for (const i of g) fold[i] = best;
    for (const [c, n] of byClass) counts[best]!.set(c, (counts[best]!.get(c) ?? 0) + n);
    sizes[best] = sizes[best]! + g.length;
  }
  return fold;
}

// The summary maths lives with the other fold figures (shared, for the runs screen too).
export { meanSd } from '../../../shared/cross-validation.ts';
