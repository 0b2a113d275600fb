/**
 * Pure logic behind the training panel, the status bar and the report's curves, so every place tells the same
 * story: one progress figure per run, the phase the run is really in, an over-fitting hint from smoothed trends,
 * batch-loss lines broken where batches are missing, and run names from the run's own settings.
 * No Svelte, no i18n: unit-tested in test/unit/train-panel.test.ts.
 */
import type { TaskSnapshot, TaskStep } from '../../../../src-main/shared/types.ts';
import type { TrainConfig, TrainingPhase } from '../../../../src-main/shared/training-types.ts';
import { stampIn } from '../../lib/format.ts';

/** What a training run is doing now, as the panel names it. */
export type PanelPhase = 'starting' | 'embeddings' | 'transfer' | 'finetune' | 'evaluate';

export type ProgressInput = Pick<TaskSnapshot, 'kind' | 'state' | 'progress' | 'epoch' | 'step'>;

/**
 * Fraction (0..1) of a task that is done: for a training run, whole epochs done plus the batches of the epoch in
 * progress over all epochs of the run; for other tasks, done / total. Null when nothing can be said yet.
 * `totalEpochs` replaces the snapshot's epoch count where the caller knows it (the run's configuration).
 */
export function taskFraction(s: ProgressInput, totalEpochs?: number): number | null {
  if (s.state === 'succeeded') return 1;
  const p = s.progress;
  if (s.kind !== 'training') return p.total ? clamp01(p.done / p.total) : null;
  const total = totalEpochs || s.epoch?.total || 0;
  // A run without epochs (anomaly: one pass over the OK images) reports its own items.
  if (!total) return p.total ? clamp01(p.done / p.total) : null;
  const done = s.epoch?.current ?? 0;
  // Batches count only while the epoch is in progress: once its last batch is in, the epoch is counted
  // when its record arrives (validation runs in between), never twice.
  const inEpoch = p.unit === 'batches' && p.total && p.done < p.total ? p.done / p.total : 0;
  return clamp01((done + inEpoch) / total);
}

/**
 * The phase shown next to the run's state: the task's current step (a run cancelled or paused while fine-tuning
 * says phase 2, a new run computing embeddings says so), else the phase of its last epoch. Steps outside the two
 * training phases (starting, embeddings, evaluating) count only while the task is active.
 */
export function panelPhase(step: TaskStep | undefined, lastEpochPhase: TrainingPhase | null, active: boolean): PanelPhase | null {
  if (step?.kind === 'transfer' || step?.kind === 'finetune') return step.kind;
  if (active && step) {
    switch (step.kind) {
      case 'engine-starting':
        return 'starting';
      case 'embeddings':
        return 'embeddings';
      case 'evaluate':
        return 'evaluate';
      default:
        break;
    }
  }
  if (active && !step && lastEpochPhase === null) return 'starting';
  return lastEpochPhase;
}

/** Moving average over `k` points ending at each point (the first points average what there is). */
export function smooth(ys: number[], k = 3): number[] {
  return ys.map((_, i) => {
    const part = ys.slice(Math.max(0, i - k + 1), i + 1);
    return part.reduce((a, b) => a + b, 0) / part.length;
  });
}

/** Least-squares slope of ys against 0..n-1, and the spread (standard deviation) of the points around the line. */
export function trend(ys: number[]): { slope: number; spread: number } {
  const n = ys.length;
  if (n < 2) return { slope: 0, spread: 0 };
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, i) => {
    num += (i - mx) * (y - my);
    den += (i - mx) ** 2;
  });
  const slope = num / den;
  const res = ys.map((y, i) => y - (my + slope * (i - mx)));
  const spread = Math.sqrt(res.reduce((a, r) => a + r * r, 0) / Math.max(1, n - 2));
  return { slope, spread };
}

/**
 * Over-fitting: over the last `window` epochs the smoothed training loss falls and the smoothed validation loss
 * rises, each by more than its own epoch-to-epoch bounce, and the best validation loss lies before the window.
 * A training loss that bounces without falling is not over-fitting (the banner would send the user the wrong way).
 */
export function overfitTrend(loss: number[], valLoss: (number | null)[], window = 6): boolean {
  const n = loss.length;
  if (n < window + 2 || valLoss.length !== n) return false;
  const vals = valLoss.slice(n - window);
  if (vals.some((v) => v === null || !Number.isFinite(v))) return false;
  const rawTrain = loss.slice(n - window);
  const rawVal = vals as number[];
  const tr = trend(smooth(loss).slice(n - window));
  const vr = trend(smooth(valLoss.map((v) => v ?? NaN)).slice(n - window));
  if (!Number.isFinite(vr.slope)) return false;
  const span = window - 1;
  const trainFall = -tr.slope * span;
  const valRise = vr.slope * span;
  const trainBounce = trend(rawTrain).spread;
  const valBounce = trend(rawVal).spread;
  let best = Infinity;
  let bestAt = -1;
  valLoss.forEach((v, i) => {
    if (v !== null && Number.isFinite(v) && v < best) {
      best = v;
      bestAt = i;
    }
  });
  return trainFall > trainBounce && valRise > valBounce && bestAt < n - window;
}

/** A line on a chart whose missing stretches are drawn as gaps: y null marks a break. */
export interface BrokenLine {
  x: number[];
  y: (number | null)[];
}

/**
 * The batch-loss line with breaks: at each phase boundary (x where a new phase's batches start) and where batches
 * are missing (a step over `maxGap` epochs; by default 2.5 times the usual step between batches, at least half an
 * epoch), so no long diagonal joins unrelated batches.
 */
export function breakLine(x: number[], y: number[], boundaries: number[] = [], maxGap?: number): BrokenLine {
  const steps = x.slice(1).map((v, i) => v - x[i]!);
  const usual = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)] ?? 1;
  const limit = maxGap ?? Math.max(0.5, 2.5 * usual);
  const ox: number[] = [];
  const oy: (number | null)[] = [];
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    if (i > 0) {
      const prev = x[i - 1]!;
      const crosses = boundaries.some((b) => prev <= b && xi > b);
      if (xi - prev > limit + 1e-9 || crosses) {
        ox.push((prev + xi) / 2);
        oy.push(null);
      }
    }
    ox.push(xi);
    oy.push(y[i] ?? null);
  }
  return { x: ox, y: oy };
}

/**
 * Joins lines with their own x values for uPlot: one sorted x array, one y array per line. Where a line has no
 * point the value is undefined (joined over); an explicit null in a line stays null (a gap, with spanGaps off).
 */
export function alignLines(list: BrokenLine[]): [number[], ...(number | null | undefined)[][]] {
  const xs = new Set<number>();
  for (const s of list) for (const v of s.x) xs.add(v);
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const ys = list.map((s) => {
    const out = new Array<number | null | undefined>(x.length).fill(undefined);
    s.x.forEach((v, i) => (out[index.get(v)!] = s.y[i] ?? null));
    return out;
  });
  return [x, ...ys];
}

/** Where phase 2 starts on the epoch axis (between the last transfer epoch and the first fine-tuning one). */
export function phaseBoundary(epochs: { phase: TrainingPhase; globalEpoch: number }[]): number | null {
  const first = epochs.find((e) => e.phase === 'finetune');
  if (!first || !epochs.some((e) => e.phase === 'transfer')) return null;
  return first.globalEpoch - 0.5;
}

/** The x where fine-tuning batches start (end of the last transfer epoch), for breaking the batch line. */
export function batchBoundary(epochs: { phase: TrainingPhase; globalEpoch: number }[]): number | null {
  const b = phaseBoundary(epochs);
  return b === null ? null : b - 0.5;
}

/**
 * A run's default name, from the settings it is started with (never the previous run's): backbone, input
 * size, what is trained, and the time it was started (`at`, ms since the epoch). `mode` is the wizard's transfer / fine-tuning choice.
 */
export function runName(
  c: Pick<TrainConfig, 'task' | 'backbone' | 'inputSize' | 'fineTuneBlocks' | 'continueFromRunId'>,
  mode: 'transfer' | 'finetune',
  at: number,
  locale?: string,
): string {
  const bb = c.backbone.replace('mobilenet_', 'MobileNet ').replace('_', ' ');
  const what =
    c.task === 'anomaly'
      ? 'PatchCore'
      : `${c.continueFromRunId !== null ? `#${c.continueFromRunId}→` : ''}${mode === 'finetune' ? `FT${c.fineTuneBlocks}` : 'TL'}`;
  return `${bb} ${c.inputSize}px ${what} · ${stampIn(locale, at)}`;
}

/** Above this estimate a run asks for confirmation before it starts. */
export const LONG_RUN_SECONDS = 10 * 60;

export function needsLongRunConfirm(estimateSeconds: number | null | undefined): boolean {
  return estimateSeconds != null && Number.isFinite(estimateSeconds) && estimateSeconds > LONG_RUN_SECONDS;
}

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}
