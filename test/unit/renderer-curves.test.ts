import { describe, expect, it } from 'vitest';
import type { BatchLossRecord, EpochRecord } from '../../src-main/shared/training-types.ts';
import { alignSeries, batchSeries, batchX, bestEpoch, epochSeries, overfitting } from '../../src-renderer/src/views/runs/curves.ts';

const epoch = (phase: 'transfer' | 'finetune', e: number, g: number, loss: number, valLoss: number | null): EpochRecord => ({
  phase,
  epoch: e,
  globalEpoch: g,
  loss,
  accuracy: 1 - loss / 2,
  valLoss,
  valAccuracy: valLoss === null ? null : 1 - valLoss / 2,
  learningRate: 1e-3,
  durationMs: 1000,
});

describe('report and live curves (views/runs/curves.ts)', () => {
  it('lays out per-epoch series on the global epoch axis', () => {
    const s = epochSeries([epoch('transfer', 1, 1, 0.9, 0.8), epoch('transfer', 2, 2, 0.6, null), epoch('finetune', 1, 3, 0.4, 0.5)]);
    expect(s.x).toEqual([1, 2, 3]);
    expect(s.loss).toEqual([0.9, 0.6, 0.4]);
    expect(s.valLoss).toEqual([0.8, null, 0.5]);
    expect(s.acc).toEqual([0.55, 0.7, 0.8]);
    expect(s.valAcc).toEqual([0.6, null, 0.75]);
  });

  it('places batch b of B so that the epoch ends where its point is drawn', () => {
    expect(batchX(3, 5, 10)).toBeCloseTo(2.5, 12);
    expect(batchX(3, 10, 10)).toBe(3);
    // A batch count past the epoch's (thinned events) never runs into the next epoch.
    expect(batchX(3, 12, 10)).toBe(3);
    expect(batchX(1, 1, 0)).toBe(1);
  });

  it('puts fine-tuning batches after the transfer epochs, also for epochs not stored yet', () => {
    const epochs = [epoch('transfer', 1, 1, 1, 1), epoch('transfer', 2, 2, 1, 1)];
    const records: BatchLossRecord[] = [
      { phase: 'transfer', epoch: 1, batch: 1, loss: 0.9 },
      { phase: 'transfer', epoch: 1, batch: 2, loss: 0.8 },
      { phase: 'transfer', epoch: 2, batch: 2, loss: 0.7 },
      // Phase 2, epoch 1 has no epoch record yet: it follows the two transfer epochs (global 3).
      { phase: 'finetune', epoch: 1, batch: 1, loss: 0.6 },
      { phase: 'finetune', epoch: 1, batch: 4, loss: 0.5 },
    ];
    const s = batchSeries(records, epochs);
    expect(s.x).toEqual([0.5, 1, 2, 2.25, 3]);
    expect(s.y).toEqual([0.9, 0.8, 0.7, 0.6, 0.5]);
  });

  it('finds the epoch of lowest validation loss, skipping missing and non-finite values', () => {
    expect(bestEpoch([1, 2, 3, 4], [0.5, null, 0.3, Number.NaN])).toBe(3);
    expect(bestEpoch([1, 2], [null, null])).toBeNull();
    // The first of equal losses wins.
    expect(bestEpoch([1, 2, 3], [0.4, 0.2, 0.2])).toBe(2);
  });

  it('hints at over-fitting only when validation rises while training falls', () => {
    const loss = [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    expect(overfitting(loss, [1, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05])).toBe(true);
    expect(overfitting(loss, [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])).toBe(false);
    // Too few epochs, or a gap in the window: no hint.
    expect(overfitting(loss.slice(0, 6), [1, 0.8, 0.85, 0.9, 0.95, 1.0])).toBe(false);
    expect(overfitting(loss, [1, 0.8, 0.85, null, 0.95, 1.0, 1.05])).toBe(false);
  });

  it('aligns series with their own x values into one sorted axis with gaps', () => {
    const [x, a, b] = alignSeries([
      { x: [1, 3], y: [10, 30] },
      { x: [2, 3], y: [20, null] },
    ]);
    expect(x).toEqual([1, 2, 3]);
    expect(a).toEqual([10, null, 30]);
    expect(b).toEqual([null, 20, null]);
  });
});
