import { describe, expect, it } from 'vitest';
import { binaryMetrics, confusionMatrix, evaluate, perClassMetrics, rocCurve } from '../../src-main/services/training/train/metrics.ts';
import { applyVariant } from '../../src-main/services/training/data/augment.ts';
import { createRng, shuffleInPlace } from '../../src-main/services/training/train/rng.ts';

describe('metrics on hand-made examples', () => {
  it('confusion matrix and per-class precision / recall / F1', () => {
    // actual:    0 0 0 1 1 2
    // predicted: 0 0 1 1 2 2
    const m = confusionMatrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3);
    expect(m).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    const pc = perClassMetrics(m, ['a', 'b', 'c']);
    expect(pc[0]).toMatchObject({ key: 'a', precision: 1, recall: 2 / 3, support: 3 });
    expect(pc[0]!.f1).toBeCloseTo(0.8, 10);
    expect(pc[1]).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(pc[2]).toMatchObject({ precision: 0.5, recall: 1, support: 1 });
    expect(pc[2]!.f1).toBeCloseTo(2 / 3, 10);
  });

  it('ROC AUC equals the share of correctly ordered (positive, negative) pairs, ties counting half', () => {
    expect(rocCurve([0.9, 0.8, 0.7, 0.1], [true, true, false, false]).auc).toBe(1);
    expect(rocCurve([0.1, 0.2, 0.8, 0.9], [true, true, false, false]).auc).toBe(0);
    // pairs: (0.8 vs 0.7) ok, (0.8 vs 0.9) wrong, (0.4 vs 0.7) wrong, (0.4 vs 0.9) wrong → 1/4
    expect(rocCurve([0.8, 0.4, 0.7, 0.9], [true, true, false, false]).auc).toBeCloseTo(0.25, 10);
    // a tie between a positive and a negative counts 1/2
    expect(rocCurve([0.5, 0.5], [true, false]).auc).toBeCloseTo(0.5, 10);
    const { points } = rocCurve([0.9, 0.8, 0.7, 0.1], [true, false, true, false]);
    expect(points[0]).toMatchObject({ x: 0, y: 0 });
    expect(points[points.length - 1]).toMatchObject({ x: 1, y: 1 });
  });

  it('binary metrics: threshold, defect recall and false-alarm rate', () => {
    // class 0 = ok, class 1 = defect; P(defect) = 1 - probs[0]
    const s = [
      { id: 1, label: 1, probs: [0.1, 0.9] },
      { id: 2, label: 1, probs: [0.3, 0.7] },
      { id: 3, label: 1, probs: [0.6, 0.4] },
      { id: 4, label: 0, probs: [0.8, 0.2] },
      { id: 5, label: 0, probs: [0.55, 0.45] },
      { id: 6, label: 0, probs: [0.9, 0.1] },
    ];
    const b = binaryMetrics(s, 0, 0.5);
    expect(b.defectRecall).toBeCloseTo(2 / 3, 10);
    expect(b.falseAlarmRate).toBe(0);
    // scores 0.9 0.7 0.4 (pos) vs 0.2 0.45 0.1 (neg): only (0.4, 0.45) mis-ordered → 8/9
    expect(b.auc).toBeCloseTo(8 / 9, 10);
    const tuned = binaryMetrics(s, 0);
    expect(tuned.defectRecall - tuned.falseAlarmRate).toBeGreaterThanOrEqual(2 / 3 - 1e-12);
    // The matrix is at the chosen (balanced) threshold: J ties between flagging {0.9, 0.7} and {0.9, 0.7, 0.45, 0.4};
    // the lower threshold wins, so the defect at 0.4 is found and the OK part at 0.45 is a false alarm.
    const ev = evaluate('val', s, ['ok', 'defect'], { okIndex: 0 });
    expect(ev.threshold).toBeCloseTo(0.3, 10);
    expect(ev.accuracy).toBeCloseTo(5 / 6, 10);
    expect(ev.confusion).toEqual([
      [2, 1],
      [0, 3],
    ]);
    expect(ev.confusionImageIds[0]![1]).toEqual([5]);
    // At 0.5 it is the most probable class's matrix.
    const at5 = evaluate('val', s, ['ok', 'defect'], { okIndex: 0, threshold: 0.5 });
    expect(at5.confusion).toEqual([
      [3, 0],
      [1, 2],
    ]);
    expect(at5.confusionImageIds[1]![0]).toEqual([3]);
    expect(ev.loss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.7) + Math.log(0.4) + Math.log(0.8) + Math.log(0.55) + Math.log(0.9)) / 6, 6);
    expect(ev.binary?.pr.length).toBeGreaterThan(0);
  });

  it('multiclass evaluation has no binary block and a macro F1 over present classes', () => {
    const ev = evaluate(
      'test',
      [
        { id: 1, label: 0, probs: [0.7, 0.2, 0.1] },
        { id: 2, label: 1, probs: [0.2, 0.7, 0.1] },
        { id: 3, label: 2, probs: [0.2, 0.1, 0.7] },
      ],
      ['a', 'b', 'c'],
    );
    expect(ev.binary).toBeNull();
    expect(ev.accuracy).toBe(1);
    expect(ev.macroF1).toBe(1);
  });
});

describe('augmentation and seeded randomness', () => {
  it('fixed variants: 180° rotation and rotation + mirror', () => {
    // 2x2 RGB image, pixel values = index
    const px = new Uint8Array([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    expect(Array.from(applyVariant(px, 2, 1)).filter((_, i) => i % 3 === 0)).toEqual([4, 3, 2, 1]);
    expect(Array.from(applyVariant(px, 2, 2)).filter((_, i) => i % 3 === 0)).toEqual([3, 4, 1, 2]);
    expect(applyVariant(px, 2, 0)).toBe(px);
  });

  it('the same seed gives the same shuffle', () => {
    const a = shuffleInPlace([...Array(20).keys()], createRng(7));
    const b = shuffleInPlace([...Array(20).keys()], createRng(7));
    const c = shuffleInPlace([...Array(20).keys()], createRng(8));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});
