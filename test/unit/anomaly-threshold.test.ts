import { describe, expect, it } from 'vitest';
import { anomalySplit } from '../../src-main/services/training/anomaly/anomaly-run.ts';
import { chooseAnomalyThreshold, normaliseScore, quantile, rawScoreAt } from '../../src-main/engine/anomaly/threshold.ts';

describe('anomaly threshold', () => {
  it('normalises raw scores so that the threshold sits at 0.5, monotone and below 1', () => {
    expect(normaliseScore(3, 3)).toBeCloseTo(0.5, 12);
    expect(normaliseScore(0, 3)).toBe(0);
    expect(normaliseScore(6, 3)).toBeCloseTo(0.75, 12);
    expect(normaliseScore(1e6, 3)).toBeLessThanOrEqual(1);
    for (const n of [0.1, 0.5, 0.9]) expect(normaliseScore(rawScoreAt(n, 2.5), 2.5)).toBeCloseTo(n, 9);
  });

  it('with good images only: the maximum of a few, the 99th percentile of many, never the minimum', () => {
    const few = [1, 2, 3, 4, 5];
    const t = chooseAnomalyThreshold(
      few,
      few.map(() => false),
      { kind: 'balanced' },
    );
    expect(t).toMatchObject({ raw: 5, basis: 'good-max', choice: null });
    const many = Array.from({ length: 200 }, (_, i) => i / 10); // 0 .. 19.9
    const p = chooseAnomalyThreshold(
      many,
      many.map(() => false),
      { kind: 'balanced' },
    );
    expect(p.basis).toBe('good-percentile');
    expect(p.raw).toBeCloseTo(quantile(many, 0.99), 9);
    expect(many.filter((s) => normaliseScore(s, p.raw) >= 0.5).length).toBe(2); // 1 % of the good images
    expect(p.raw).toBeGreaterThan(Math.min(...many));
  });

  it('with defect images too: chosen for the aim, and the normalised cut separates as the validation counts say', () => {
    const good = [1, 1.5, 2, 2.2, 2.4, 3.1];
    const bad = [2.9, 3.5, 4, 5];
    const raw = [...good, ...bad];
    const positive = [...good.map(() => false), ...bad.map(() => true)];
    const recall = chooseAnomalyThreshold(raw, positive, { kind: 'recall', target: 1 });
    expect(recall.basis).toBe('operating-point');
    // Every defect flagged (2.9 is the lowest), the fewest good parts with it: only 3.1.
    const flagged = raw.map((r) => normaliseScore(r, recall.raw) >= 0.5);
    expect(flagged).toEqual([false, false, false, false, false, true, true, true, true, true]);
    expect(recall.choice?.threshold).toBe(0.5);
    expect(recall.choice?.counts).toEqual({ tp: 4, fp: 1, fn: 0, tn: 5 });
    const fewest = chooseAnomalyThreshold(raw, positive, { kind: 'falseAlarm', target: 0 });
    expect(raw.map((r) => normaliseScore(r, fewest.raw) >= 0.5)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('falls back to the training images’ maximum (stated) when no good image was held out', () => {
    const t = chooseAnomalyThreshold([4, 5], [true, true], { kind: 'balanced' }, [0.5, 0.8, 0.7]);
    expect(t).toMatchObject({ raw: 0.8, basis: 'train-fallback' });
  });
});

describe('anomaly split', () => {
  it('trains on OK images only: defect images in training move to validation', () => {
    const snap = [
      { imageId: 1, label: 'ok', classIndex: 0, split: 'train' as const },
      { imageId: 2, label: 'scratch', classIndex: 1, split: 'train' as const },
      { imageId: 3, label: 'ok', classIndex: 0, split: 'val' as const },
      { imageId: 4, label: 'dent', classIndex: 1, split: 'test' as const },
    ];
    expect(anomalySplit(snap, 0).map((s) => s.split)).toEqual(['train', 'val', 'val', 'test']);
    expect(() => anomalySplit(snap.slice(1), 0)).toThrow(/OK images/);
  });
});
