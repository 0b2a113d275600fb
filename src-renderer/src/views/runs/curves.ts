import type { BatchLossRecord, EpochRecord } from '../../../../src-main/shared/training-types.ts';

/** One line on a chart: x and y of equal length (y may hold nulls for gaps). */
export interface XY {
  x: number[];
  y: (number | null)[];
}

/**
 * Joins several series with their own x values into uPlot's aligned form: one sorted x array and
 * one y array per series with nulls where a series has no point (drawn with spanGaps).
 */
export function alignSeries(list: XY[]): [number[], ...(number | null)[][]] {
  const xs = new Set<number>();
  for (const s of list) for (const x of s.x) xs.add(x);
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const ys = list.map((s) => {
    const out: (number | null)[] = new Array<number | null>(x.length).fill(null);
    s.x.forEach((v, i) => (out[index.get(v)!] = s.y[i] ?? null));
    return out;
  });
  return [x, ...ys];
}

/** Per-epoch curves of a run. */
export function epochSeries(epochs: EpochRecord[]): {
  x: number[];
  loss: number[];
  valLoss: (number | null)[];
  acc: number[];
  valAcc: (number | null)[];
} {
  return {
    x: epochs.map((e) => e.globalEpoch),
    loss: epochs.map((e) => e.loss),
    valLoss: epochs.map((e) => e.valLoss),
    acc: epochs.map((e) => e.accuracy),
    valAcc: epochs.map((e) => e.valAccuracy),
  };
}

/**
 * Per-batch losses placed on the epoch axis: batch b of B in global epoch g sits at g - 1 + b / B,
 * so the faint batch line ends where the epoch's point is drawn.
 */
export function batchX(globalEpoch: number, batch: number, batches: number): number {
  return globalEpoch - 1 + Math.min(1, batch / Math.max(1, batches));
}

/** Batch records (from getRunBatchLosses) to x/y, using the number of batches seen per epoch. */
export function batchSeries(records: BatchLossRecord[], epochs: Pick<EpochRecord, 'phase' | 'epoch' | 'globalEpoch'>[]): XY {
  const offset = new Map<string, number>();
  for (const e of epochs) offset.set(`${e.phase}:${e.epoch}`, e.globalEpoch);
  const perEpoch = new Map<string, number>();
  for (const r of records) {
    const k = `${r.phase}:${r.epoch}`;
    perEpoch.set(k, Math.max(perEpoch.get(k) ?? 0, r.batch));
  }
  const transferEpochs = epochs.filter((e) => e.phase === 'transfer').length;
  const x: number[] = [];
  const y: number[] = [];
  for (const r of records) {
    const k = `${r.phase}:${r.epoch}`;
    const g = offset.get(k) ?? (r.phase === 'finetune' ? transferEpochs + r.epoch : r.epoch);
    x.push(batchX(g, r.batch, perEpoch.get(k) ?? 1));
    y.push(r.loss);
  }
  return { x, y };
}

/** Epoch (global) with the lowest validation loss, or null. */
export function bestEpoch(x: number[], valLoss: (number | null)[]): number | null {
  let best: number | null = null;
  let bestLoss = Infinity;
  valLoss.forEach((v, i) => {
    if (v !== null && Number.isFinite(v) && v < bestLoss) {
      bestLoss = v;
      best = x[i] ?? null;
    }
  });
  return best;
}

/**
 * Over-fitting hint: over the last `window` epochs validation loss went up while training loss went
 * down (least-squares slopes), and the best validation loss lies before that window.
 */
export function overfitting(loss: number[], valLoss: (number | null)[], window = 5): boolean {
  const n = loss.length;
  if (n < window + 2) return false;
  const slope = (ys: number[]): number => {
    const m = ys.length;
    const mx = (m - 1) / 2;
    const my = ys.reduce((a, b) => a + b, 0) / m;
    let num = 0;
    let den = 0;
    ys.forEach((y, i) => {
      num += (i - mx) * (y - my);
      den += (i - mx) ** 2;
    });
    return den ? num / den : 0;
  };
  const v = valLoss.slice(n - window);
  if (v.some((x) => x === null)) return false;
  const vv = v as number[];
  let rises = 0;
  for (let i = 1; i < vv.length; i++) if (vv[i]! > vv[i - 1]!) rises++;
  return slope(vv) > 0 && slope(loss.slice(n - window)) < 0 && rises >= Math.ceil((window - 1) / 2);
}

/** Distinct colours for runs in a comparison. */
export const RUN_COLORS = ['#1f6feb', '#d6409f', '#12a594', '#f76b15', '#8e4ec6', '#978365', '#e54666', '#46a758'];
