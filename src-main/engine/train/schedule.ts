/**
 * Learning-rate schedule of the transfer phase: a linear warm-up, then a half cosine down to a floor.
 * The head's epochs cost tens of milliseconds on cached embeddings, so the phase can run to convergence
 * (hundreds of epochs) and the schedule anneals the rate instead of stopping while the loss still falls.
 */
export type LrSchedule = 'warmupCosine' | 'constant';

export interface ScheduleOptions {
  schedule: LrSchedule;
  /** Peak rate (reached at the end of the warm-up). */
  base: number;
  /** Planned epochs of the phase (the cosine ends there). */
  epochs: number;
  /** Warm-up epochs (linear from base / warmup to base); default max(1, min(10, epochs / 20)). */
  warmup?: number;
  /** The rate at the last epoch, as a fraction of base (default 0.02). */
  floor?: number;
}

export function warmupEpochs(epochs: number): number {
  return Math.max(1, Math.min(10, Math.round(epochs / 20)));
}

/** The rate of 1-based epoch `e`. */
export function learningRateAt(e: number, o: ScheduleOptions): number {
  if (o.schedule === 'constant') return o.base;
  const warm = Math.min(o.warmup ?? warmupEpochs(o.epochs), Math.max(0, o.epochs - 1));
  if (e <= warm) return (o.base * e) / warm;
  const floor = o.base * (o.floor ?? 0.02);
  const span = Math.max(1, o.epochs - warm);
  const t = Math.min(1, (e - warm - 1) / Math.max(1, span - 1));
  return floor + (o.base - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
}
