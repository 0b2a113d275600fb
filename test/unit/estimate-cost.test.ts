/**
 * The estimate's cost model (engine/jobs/estimate.ts), the parts that are plain arithmetic over measured timings:
 * how many transfer epochs early stopping lets run, what the fine-tuning prefix cache holds, and what a fine-tuning
 * phase costs with that cache (the frozen prefix once per item, the trainable tail every epoch).
 */
import { describe, expect, it } from 'vitest';
import { expectedTransferEpochs, fineTuneSeconds, prefixCacheItems } from '../../src-main/engine/jobs/estimate.ts';

describe('expected transfer epochs', () => {
  it('counts every planned epoch under warm-up + cosine (the schedule runs the phase out), three patiences under a constant rate', () => {
    expect(expectedTransferEpochs(300, 30, true)).toBe(300);
    expect(expectedTransferEpochs(300, 30, true, 'warmupCosine')).toBe(300);
    expect(expectedTransferEpochs(300, 30, true, 'constant')).toBe(91);
    expect(expectedTransferEpochs(50, 30, true, 'constant')).toBe(50);
    // No early stopping without validation images or with patience 0.
    expect(expectedTransferEpochs(300, 30, false, 'constant')).toBe(300);
    expect(expectedTransferEpochs(300, 0, true, 'constant')).toBe(300);
  });
});

describe('prefix cache capacity', () => {
  it('holds float32 items in memory, then float16 items on disk, never more than there are', () => {
    const floats = 1000; // 4,000 bytes in memory, 2,000 on disk
    expect(prefixCacheItems(100, floats, 40_000, 0)).toBe(10);
    expect(prefixCacheItems(100, floats, 40_000, 20_000)).toBe(20);
    expect(prefixCacheItems(15, floats, 40_000, 20_000)).toBe(15);
    expect(prefixCacheItems(100, floats, 0, 0)).toBe(0);
  });
});

describe('fine-tuning seconds', () => {
  const ms = { prefixMs: 40, stepMs: 30, tailForwardMs: 10 };
  const base = { samplesPerEpoch: 300, valImages: 100, epochs: 4 };

  it('pays the frozen prefix once per item when the cache holds them all, the tail on every epoch', () => {
    const r = fineTuneSeconds({ ...base, cachedItems: 400 }, ms);
    // Later epochs: the tail's step on 300 training items and its forward pass on 100 validation images.
    expect(r.epochSeconds).toBeCloseTo((300 * 30 + 100 * 10) / 1000, 9);
    // The first epoch computes the 300 training items' prefix outputs besides.
    expect(r.firstEpochSeconds).toBeCloseTo(r.epochSeconds + (300 * 40) / 1000, 9);
    // The validation pass before the first epoch (prefix and tail on 100 images), then the four epochs.
    expect(r.totalSeconds).toBeCloseTo((100 * (40 + 10)) / 1000 + r.firstEpochSeconds + 3 * r.epochSeconds, 9);
  });

  it('recomputes what the cache cannot hold (or everything, with random augmentation) on every epoch', () => {
    const none = fineTuneSeconds({ ...base, cachedItems: 0 }, ms);
    expect(none.epochSeconds).toBeCloseTo((300 * 30 + 100 * 10 + 400 * 40) / 1000, 9);
    expect(none.firstEpochSeconds).toBeCloseTo(none.epochSeconds, 9);
    // 200 held: the 100 validation images (cached first, in the pass before epoch 1) and 100 training items.
    const half = fineTuneSeconds({ ...base, cachedItems: 200 }, ms);
    const all = fineTuneSeconds({ ...base, cachedItems: 400 }, ms);
    expect(half.epochSeconds - all.epochSeconds).toBeCloseTo((200 * 40) / 1000, 9);
    expect(half.firstEpochSeconds - half.epochSeconds).toBeCloseTo((100 * 40) / 1000, 9);
    expect(all.totalSeconds).toBeLessThan(half.totalSeconds);
    expect(half.totalSeconds).toBeLessThan(none.totalSeconds);
  });

  it('costs nothing without fine-tuning epochs', () => {
    expect(fineTuneSeconds({ ...base, epochs: 0, cachedItems: 400 }, ms)).toEqual({
      firstEpochSeconds: 0,
      epochSeconds: 0,
      totalSeconds: 0,
    });
  });
});
