/**
 * The study's sweep: one training run per (input size, fine-tuned blocks) over a base configuration, queued one after
 * another, and the choice of the best run among them. TF-free: used by the training service, the CLI and the renderer.
 */
import type { RunStatus, TrainConfigInput } from './training-types.ts';
import type { TaskSnapshot } from './types.ts';
import { ValidationError } from './errors.ts';

/** What a sweep varies; every other setting comes from the base configuration. */
export interface SweepSpec {
  /** Input sizes in pixels (e.g. 224, 320, 448, 520). */
  sizes: number[];
  /** Fine-tuned blocks N (0 = transfer learning only; e.g. 0, 2, 4, 6, 9, 13). */
  blocks: number[];
}

/** Stored in each run's configuration (`TrainConfig.sweep`): which sweep it belongs to and where in it. */
export interface SweepTag {
  /** Same for every run of one sweep. */
  id: string;
  inputSize: number;
  fineTuneBlocks: number;
  /** 0-based position in the sweep's order (sizes outer, blocks inner). */
  index: number;
  total: number;
}

/** Fine-tuning epochs a point with N > 0 gets when the base configuration does not fine-tune. */
export const SWEEP_DEFAULT_FINETUNE_EPOCHS = 10;

/** Most runs one sweep may queue. */
export const SWEEP_MAX_RUNS = 60;

function cleanList(values: readonly number[], what: string, lo: number, hi: number): number[] {
  if (values.length === 0) throw new ValidationError(`Choose at least one ${what}.`);
  for (const v of values)
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw new ValidationError(`Each ${what} must be a whole number from ${lo} to ${hi} (got ${String(v)}).`);
  return [...new Set(values)].sort((a, b) => a - b);
}

/** Parses "224,320,448" (CLI flags); spaces allowed. */
export function parseSweepList(text: string, what: string): number[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const nums = parts.map((p) => Number(p));
  const bad = parts.find((_, i) => !Number.isFinite(nums[i]));
  if (bad !== undefined) throw new ValidationError(`${what} must be numbers separated by commas (got "${bad}").`);
  return nums;
}

/**
 * The configurations of a sweep: one per (size, N), sizes outer and blocks inner, both ascending and without
 * repeats. Each is `base` with inputSize and fineTuneBlocks set, fine-tuning epochs given when N > 0 and the base has
 * none, N = 0 meaning no fine-tuning, a name naming the point, and the sweep tag.
 */
export function expandSweep(base: TrainConfigInput, spec: SweepSpec, sweepId: string): TrainConfigInput[] {
  const sizes = cleanList(spec.sizes, 'input size', 32, 1024);
  const blocks = cleanList(spec.blocks, 'number of fine-tuned blocks', 0, 17);
  const total = sizes.length * blocks.length;
  if (total > SWEEP_MAX_RUNS)
    throw new ValidationError(`A sweep of ${total} runs is too long; choose at most ${SWEEP_MAX_RUNS} (sizes × blocks).`);
  const baseName = base.name?.trim() || `Sweep ${sweepId}`;
  const out: TrainConfigInput[] = [];
  for (const inputSize of sizes)
    for (const fineTuneBlocks of blocks) {
      const fineTuneEpochs = fineTuneBlocks === 0 ? 0 : base.fineTuneEpochs || SWEEP_DEFAULT_FINETUNE_EPOCHS;
      out.push({
        ...base,
        inputSize,
        fineTuneBlocks,
        fineTuneEpochs,
        name: `${baseName} · ${inputSize} px · N=${fineTuneBlocks}`,
        sweep: { id: sweepId, inputSize, fineTuneBlocks, index: out.length, total },
      });
    }
  return out;
}

/** A sweep's id: the time it was queued, short and readable (e.g. "20261202-0104"). */
export function newSweepId(now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
}

/** What the best-run choice and the charts read of each run. */
export interface SweepPoint {
  runId: number;
  status: RunStatus;
  inputSize: number;
  fineTuneBlocks: number;
  valAccuracy: number | null;
  valLoss: number | null;
}

/**
 * The best run of a sweep: the highest validation accuracy among the finished runs; ties go to the lower validation
 * loss, then to the cheaper run (smaller input, then fewer fine-tuned blocks). Null while no run has finished.
 */
export function bestSweepPoint<P extends SweepPoint>(points: readonly P[]): P | null {
  let best: P | null = null;
  const loss = (p: P) => p.valLoss ?? Infinity;
  for (const p of points) {
    if (p.status !== 'succeeded' || p.valAccuracy === null) continue;
    if (
      best === null ||
      p.valAccuracy > (best.valAccuracy ?? -1) ||
      (p.valAccuracy === best.valAccuracy &&
        (loss(p) < loss(best) ||
          (loss(p) === loss(best) &&
            (p.inputSize < best.inputSize || (p.inputSize === best.inputSize && p.fineTuneBlocks < best.fineTuneBlocks)))))
    )
      best = p;
  }
  return best;
}

/**
 * A chart's series like the study's figures: validation accuracy against `axis` (input size or N), one line per value
 * of the other setting. Only finished runs with a validation accuracy are plotted; x ascending.
 */
export function sweepSeries(
  points: readonly SweepPoint[],
  axis: 'inputSize' | 'fineTuneBlocks',
): { key: number; points: { x: number; y: number; runId: number }[] }[] {
  const other = axis === 'inputSize' ? 'fineTuneBlocks' : 'inputSize';
  const lines = new Map<number, { x: number; y: number; runId: number }[]>();
  for (const p of points) {
    if (p.status !== 'succeeded' || p.valAccuracy === null) continue;
    const k = p[other];
    const line = lines.get(k) ?? [];
    line.push({ x: p[axis], y: p.valAccuracy, runId: p.runId });
    lines.set(k, line);
  }
  return [...lines.entries()].sort((a, b) => a[0] - b[0]).map(([key, pts]) => ({ key, points: pts.sort((a, b) => a.x - b.x) }));
}

/** What queuing a sweep returns: its id and one queued training task per point, in the sweep's order. */
export interface SweepStarted {
  sweepId: string;
  runs: (TaskSnapshot & { runId: number })[];
}

/** A sweep's runs as chart points in the sweep's order, and the best one (null while none has finished). */
export interface SweepView {
  sweepId: string;
  points: SweepPoint[];
  bestRunId: number | null;
}

/** The sum of the runs' estimates, each measured for its own size and N. */
export interface SweepEstimate {
  totalSeconds: number;
  runs: { inputSize: number; fineTuneBlocks: number; totalSeconds: number }[];
}
