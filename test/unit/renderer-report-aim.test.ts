import { describe, expect, it } from 'vitest';
import type { Evaluation, RunDetail } from '../../src-main/shared/training-types.ts';
import { aimOf, controlsOf, recallAtRates, shownSplit, suggestFor } from '../../src-renderer/src/views/runs/report/aim.ts';

/** A validation split of 200 OK images (scores i / 1000) and 20 defects (scores 0.15 + i / 100, two below 0.2). */
function validation(): Evaluation {
  const samples = [
    ...Array.from({ length: 200 }, (_, i) => ({ id: i + 1, label: 0, probs: [1 - i / 1000, i / 1000] })),
    ...Array.from({ length: 20 }, (_, i) => ({ id: 1000 + i, label: 1, probs: [0.85 - i / 100, 0.15 + i / 100] })),
  ];
  return {
    split: 'val',
    count: samples.length,
    accuracy: 0,
    loss: 0.3,
    classes: ['ok', 'defect'],
    perClass: [],
    macroF1: 0,
    confusion: [],
    confusionImageIds: [],
    binary: { auc: 0.99, roc: [], pr: [], threshold: 0.5, defectRecall: 0, falseAlarmRate: 0 },
    okIndex: 0,
    samples,
  };
}

describe('the report operating-point controls (views/runs/report/aim.ts)', () => {
  it('turns the controls into an aim, with targets typed in percent', () => {
    expect(aimOf('recall', 99, 1)).toEqual({ kind: 'recall', target: 0.99 });
    expect(aimOf('falseAlarm', 99, 0.5)).toEqual({ kind: 'falseAlarm', target: 0.005 });
    expect(aimOf('balanced', 99, 1)).toEqual({ kind: 'balanced' });
  });

  it('sets the controls from a stored aim, without floating-point noise', () => {
    expect(controlsOf({ kind: 'recall', target: 0.99 })).toEqual({ kind: 'recall', targetPct: 99 });
    expect(controlsOf({ kind: 'falseAlarm', target: 0.0007 })).toEqual({ kind: 'falseAlarm', targetPct: 0.07 });
    expect(controlsOf({ kind: 'balanced' })).toEqual({ kind: 'balanced' });
    // A hand-set threshold, or none: the controls keep what they show.
    expect(controlsOf({ kind: 'manual' })).toBeNull();
    expect(controlsOf(undefined)).toBeNull();
  });

  it('suggests the threshold validation gives for the aim', () => {
    const val = validation();
    const recall = suggestFor(val, { kind: 'recall', target: 1 });
    // Every defect found: the threshold may be no higher than the lowest defect score (0.15).
    expect(recall?.basis).toBe('validation');
    expect(recall!.threshold).toBeLessThanOrEqual(0.15);
    expect(recall!.counts).toMatchObject({ tp: 20, fn: 0 });
    const far = suggestFor(val, { kind: 'falseAlarm', target: 0.01 });
    // At most 2 of 200 OK images flagged.
    expect(far!.counts!.fp).toBeLessThanOrEqual(2);
    expect(far!.threshold).toBeGreaterThan(0.19);
    // No validation split or no scores: nothing to suggest.
    expect(suggestFor(undefined, { kind: 'balanced' })).toBeNull();
    expect(suggestFor({ ...val, samples: undefined }, { kind: 'balanced' })).toBeNull();
  });

  it('states recall at 1 % and 0.1 % false alarms, saying when the split is too small for a rate', () => {
    const rates = recallAtRates(validation());
    expect(rates.map((r) => r.rate)).toEqual([0.01, 0.001]);
    expect(rates[0]).toMatchObject({ okImages: 200, allowedFalseAlarms: 2, resolved: true });
    // 200 OK images cannot resolve 1 in 1000.
    expect(rates[1]).toMatchObject({ allowedFalseAlarms: 0, resolved: false });
    expect(rates[0]!.recall).toBeGreaterThanOrEqual(rates[1]!.recall);
    expect(recallAtRates(null)).toEqual([]);
  });

  it('keeps the split shown when the run has it, else shows validation', () => {
    const run = (splits: Evaluation['split'][]) => ({ evaluations: splits.map((split) => ({ ...validation(), split })) }) as RunDetail;
    expect(shownSplit(run(['train', 'val', 'test']), 'train')).toBe('train');
    expect(shownSplit(run(['train', 'val', 'test']), 'test')).toBe('val');
    expect(shownSplit(run(['train']), 'val')).toBe('train');
    expect(shownSplit(run([]), 'val')).toBe('val');
  });
});
