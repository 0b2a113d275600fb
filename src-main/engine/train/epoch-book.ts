import type { EpochMetrics } from '../../shared/training-types.ts';

/**
 * The per-phase bookkeeping both training phases share: best epoch, early stopping, epoch metrics.
 *
 * Early stopping watches an exponential moving average of the validation loss (`smoothing` is the weight of
 * the newest epoch; 1 = the raw loss): one lucky or unlucky epoch on a small validation set neither stops the
 * phase nor keeps it going. The phase stops when the smoothed loss has not reached a new low for `patience`
 * epochs. The best epoch (the checkpoint that is restored) is still the lowest raw validation loss.
 */
export class EpochBook {
  bestEpoch: number | null = null;
  sinceBest = 0;
  run = 0;
  stoppedEarly = false;
  /** The smoothed validation loss after the last epoch (null before any). */
  smoothed: number | null = null;
  private bestSmoothed = Infinity;
  private sinceSmoothedLow = 0;
  private readonly patience: number;
  private readonly hasVal: boolean;
  private readonly smoothing: number;

  constructor(patience: number, hasVal: boolean, smoothing = 1) {
    this.patience = patience;
    this.hasVal = hasVal;
    this.smoothing = Math.min(1, Math.max(0.01, smoothing));
  }

  /**
   * Records epoch `e`: whether it gave a new best checkpoint, and its validation loss.
   * @returns true when the smoothed validation loss has not reached a new low for `patience` epochs
   */
  record(e: number, improved: boolean, valLoss: number = NaN): boolean {
    this.run = e;
    if (improved) {
      this.bestEpoch = e;
      this.sinceBest = 0;
    } else this.sinceBest++;
    if (Number.isFinite(valLoss)) {
      this.smoothed = this.smoothed === null ? valLoss : this.smoothing * valLoss + (1 - this.smoothing) * this.smoothed;
      // A new low by a relative 1e-3: the average creeping towards a flat loss is no progress.
      if (this.smoothed < this.bestSmoothed * (1 - 1e-3)) {
        this.bestSmoothed = this.smoothed;
        this.sinceSmoothedLow = 0;
      } else this.sinceSmoothedLow++;
    } else this.sinceSmoothedLow = this.sinceBest;
    this.stoppedEarly = this.patience > 0 && this.hasVal && this.sinceSmoothedLow >= this.patience;
    return this.stoppedEarly;
  }

  metrics(losses: number[], correct: number, seen: number, val: { loss: number; acc: number }, learningRate: number): EpochMetrics {
    return {
      loss: losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : NaN,
      accuracy: seen ? correct / seen : 0,
      valLoss: this.hasVal ? val.loss : null,
      valAccuracy: this.hasVal ? val.acc : null,
      learningRate,
    };
  }
}
