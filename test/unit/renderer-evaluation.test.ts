import { describe, expect, it } from 'vitest';
import { evaluationAt } from '../../src-main/shared/operating-point.ts';
import type { ClassInfo, Evaluation } from '../../src-main/shared/training-types.ts';
import { className, misclassified, operatingPoint, operatingPointOf, pointAt } from '../../src-renderer/src/views/runs/evaluation.ts';

/** OK is class 0; each sample's defect score is 1 - P(OK). Ids 1-4 are OK images, 5-8 defects. */
const samples = [
  { id: 1, label: 0, probs: [0.95, 0.05] },
  { id: 2, label: 0, probs: [0.8, 0.2] },
  { id: 3, label: 0, probs: [0.6, 0.4] },
  { id: 4, label: 0, probs: [0.3, 0.7] },
  { id: 5, label: 1, probs: [0.55, 0.45] },
  { id: 6, label: 1, probs: [0.35, 0.65] },
  { id: 7, label: 1, probs: [0.1, 0.9] },
  { id: 8, label: 1, probs: [0.02, 0.98] },
];

const base: Evaluation = {
  split: 'val',
  count: 8,
  accuracy: 0,
  loss: 0.4,
  classes: ['ok', 'defect'],
  perClass: [],
  macroF1: 0,
  confusion: [
    [0, 0],
    [0, 0],
  ],
  confusionImageIds: [
    [[], []],
    [[], []],
  ],
  binary: {
    auc: 0.875,
    threshold: 0.5,
    defectRecall: 0,
    falseAlarmRate: 0,
    roc: [
      { x: 0, y: 0, threshold: 1 },
      { x: 0.25, y: 0.5, threshold: 0.66 },
      { x: 0.25, y: 0.75, threshold: 0.45 },
      { x: 1, y: 1, threshold: 0 },
    ],
    pr: [
      { x: 0.5, y: 0.67, threshold: 0.66 },
      { x: 0.75, y: 0.75, threshold: 0.45 },
    ],
  },
  okIndex: 0,
  samples,
};

const info: ClassInfo[] = [
  { key: 'ok', nameEn: 'OK', nameJa: '良品', color: '#0a0', isOk: true },
  { key: 'scratch', nameEn: 'Scratch', nameJa: '', color: '#a00', isOk: false },
];

describe('report evaluation figures (views/runs/evaluation.ts)', () => {
  it('counts the confusion matrix and the operating point at the slider threshold', () => {
    // At 0.5: OK #4 (0.7) is a false alarm; defect #5 (0.45) is missed.
    const at = evaluationAt(base, 0.5);
    expect(at.confusion).toEqual([
      [3, 1],
      [1, 3],
    ]);
    expect(misclassified(at)).toEqual([
      { actual: 0, predicted: 1, imageId: 4 },
      { actual: 1, predicted: 0, imageId: 5 },
    ]);
    expect(operatingPointOf(at)).toEqual({ threshold: 0.5, recall: 0.75, falseAlarm: 0.25, precision: 0.75 });

    // Lower to 0.4: #5 is found and OK #3 (0.4, >= threshold) is flagged as well.
    const low = evaluationAt(base, 0.4);
    expect(low.confusion).toEqual([
      [2, 2],
      [0, 4],
    ]);
    expect(operatingPointOf(low)).toEqual({ threshold: 0.4, recall: 1, falseAlarm: 0.5, precision: 4 / 6 });

    // Above every score: nothing is flagged, so precision is unknown rather than 0/0.
    const none = operatingPointOf(evaluationAt(base, 0.99));
    expect(none).toMatchObject({ recall: 0, falseAlarm: 0, precision: null });
  });

  it('reads the operating point off stored curves at the nearest threshold when there are no samples', () => {
    expect(pointAt(base.binary!.roc, 0.5)).toEqual({ x: 0.25, y: 0.75, threshold: 0.45 });
    expect(pointAt([], 0.5)).toBeNull();
    expect(operatingPoint(base.binary!, 0.7)).toEqual({ threshold: 0.66, recall: 0.5, falseAlarm: 0.25, precision: 0.67 });
    expect(operatingPoint({ ...base.binary!, roc: [] }, 0.5)).toBeNull();
  });

  it('has no operating point for a multiclass evaluation', () => {
    expect(operatingPointOf({ ...base, binary: null })).toBeNull();
  });

  it('names classes in the UI language, falling back to English and then to the key', () => {
    expect(className(info, 'ok', 'ja')).toBe('良品');
    expect(className(info, 'scratch', 'ja')).toBe('Scratch');
    expect(className(info, 'ok', 'en')).toBe('OK');
    expect(className(info, 'dent', 'en')).toBe('dent');
  });
});
