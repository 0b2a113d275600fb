import type { EpochMetrics } from '../../../shared/training-types.ts';

/** The per-phase bookkeeping both training phases share: best epoch, early stopping, epoch metrics. */
export class EpochBook {
  bestEpoch: number | null = null;
  sinceBest = 0;
  run = 0;
  stoppedEarly = false;
  private readonly patience: number;
  private readonly hasVal: boolean;

  constructor(patience: number, hasVal: boolean) {
    this.patience = patience;
    this.hasVal = hasVal;
  }

  /** Records epoch `e`; true when validation loss has not improved for `patience` epochs. */
  record(e: number, improved: boolean): boolean {
    this.run = e;
    if (improved) {
      this.bestEpoch = e;
      this.sinceBest = 0;
    } else this.sinceBest++;
    this.stoppedEarly = this.patience > 0 && this.hasVal && this.sinceBest >= this.patience;
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
