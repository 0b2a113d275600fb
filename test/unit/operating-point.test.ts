import { describe, expect, it } from 'vitest';
import {
  chooseThreshold,
  countsAt,
  decideClass,
  evaluationAt,
  formatWithInterval,
  honestFigures,
  recallAtFalseAlarm,
  wilsonInterval,
} from '../../src-main/shared/operating-point.ts';
import { evaluate } from '../../src-main/services/training/train/metrics.ts';

/**
 * A constructed ROC: 100 defect images scored 0.50..0.99 (two per step) and 200 OK images scored
 * 0.000..0.597 (0.003 apart), so the two overlap between 0.50 and 0.60.
 */
function constructed(): { scores: number[]; positive: boolean[] } {
  const scores: number[] = [];
  const positive: boolean[] = [];
  for (let i = 0; i < 100; i++) {
    scores.push(0.5 + Math.floor(i / 2) / 100);
    positive.push(true);
  }
  for (let i = 0; i < 200; i++) {
    scores.push(i * 0.003);
    positive.push(false);
  }
  return { scores, positive };
}

/** Every distinct threshold a brute force tries: each score, and just above the highest. */
function everyThreshold(scores: number[]): number[] {
  return [...new Set(scores), Math.max(...scores) + 1e-9];
}

describe('threshold chooser on a constructed ROC', () => {
  it('"miss no defect" meets the recall target with the fewest false alarms a threshold can give', () => {
    const { scores, positive } = constructed();
    for (const target of [0.9, 0.95, 0.99, 1]) {
      const c = chooseThreshold(scores, positive, { kind: 'recall', target });
      expect(c.basis).toBe('validation');
      const at = countsAt(scores, positive, c.threshold);
      expect(at).toEqual(c.counts);
      expect(at.tp / 100).toBeGreaterThanOrEqual(target);
      // Brute force: no threshold meeting the target has fewer false alarms.
      const fewest = Math.min(
        ...everyThreshold(scores)
          .map((t) => countsAt(scores, positive, t))
          .filter((x) => x.tp / 100 >= target)
          .map((x) => x.fp),
      );
      expect(at.fp).toBe(fewest);
    }
    // 100 % recall: the lowest defect scores 0.50, OK images at 0.501, 0.504, ... 0.597 are above it.
    const all = chooseThreshold(scores, positive, { kind: 'recall', target: 1 });
    expect(all.counts).toMatchObject({ tp: 100, fp: 33 });
    expect(all.threshold).toBeGreaterThan(0.498);
    expect(all.threshold).toBeLessThan(0.5);
  });

  it('"fewest false alarms" keeps the false-alarm rate under its target and finds the most defects', () => {
    const { scores, positive } = constructed();
    for (const target of [0.001, 0.01, 0.05, 0.1]) {
      const c = chooseThreshold(scores, positive, { kind: 'falseAlarm', target });
      const at = countsAt(scores, positive, c.threshold);
      expect(at.fp / 200).toBeLessThanOrEqual(target);
      const most = Math.max(
        ...everyThreshold(scores)
          .map((t) => countsAt(scores, positive, t))
          .filter((x) => x.fp / 200 <= target)
          .map((x) => x.tp),
      );
      expect(at.tp).toBe(most);
    }
  });

  it('balanced maximises Youden’s J', () => {
    const { scores, positive } = constructed();
    const c = chooseThreshold(scores, positive, { kind: 'balanced' });
    const j = (x: { tp: number; fp: number }) => x.tp / 100 - x.fp / 200;
    const best = Math.max(...everyThreshold(scores).map((t) => j(countsAt(scores, positive, t))));
    expect(j(c.counts!)).toBeCloseTo(best, 12);
  });

  it('never puts the threshold on an image’s score: it lies halfway to the next score', () => {
    // defects 0.9 0.8 0.6, OK 0.7 0.3 0.1
    const scores = [0.9, 0.8, 0.6, 0.7, 0.3, 0.1];
    const positive = [true, true, true, false, false, false];
    const c = chooseThreshold(scores, positive, { kind: 'recall', target: 1 });
    expect(c.threshold).toBeCloseTo(0.45, 12);
    expect(c.counts).toEqual({ tp: 3, fp: 1, fn: 0, tn: 2 });
    const f = chooseThreshold(scores, positive, { kind: 'falseAlarm', target: 0.01 });
    expect(f.threshold).toBeCloseTo(0.75, 12);
    expect(f.counts).toEqual({ tp: 2, fp: 0, fn: 1, tn: 3 });
  });

  it('ties: a score shared by a defect and an OK image is kept or dropped whole; equal false alarms take the extra defects', () => {
    // 0.8 is shared by a defect and an OK image.
    const scores = [0.9, 0.8, 0.8, 0.4, 0.35, 0.2];
    const positive = [true, true, false, true, false, false];
    // Recall >= 30 %: 0.9 alone is enough, and nothing more can be had without the false alarm at 0.8.
    const half = chooseThreshold(scores, positive, { kind: 'recall', target: 0.3 });
    expect(half.counts).toEqual({ tp: 1, fp: 0, fn: 2, tn: 3 });
    expect(half.threshold).toBeCloseTo(0.85, 12);
    // Recall >= 60 %: 0.8 must come in (with its OK image), and then 0.4 comes free (no more false alarms).
    const more = chooseThreshold(scores, positive, { kind: 'recall', target: 0.6 });
    expect(more.counts).toEqual({ tp: 3, fp: 1, fn: 0, tn: 2 });
    expect(more.threshold).toBeCloseTo(0.375, 12);
    // Zero false alarms allowed: stop above 0.8, not at it.
    const none = chooseThreshold(scores, positive, { kind: 'falseAlarm', target: 0.1 });
    expect(none.counts).toEqual({ tp: 1, fp: 0, fn: 2, tn: 3 });
  });

  it('all-one-class validation sets give a clear result, never a threshold at the minimum score', () => {
    const okOnly = chooseThreshold([0.2, 0.1, 0.05], [false, false, false], { kind: 'recall', target: 0.99 });
    expect(okOnly).toMatchObject({ basis: 'default', reason: 'no-defect-images', threshold: 0.5 });
    expect(okOnly.counts).toEqual({ tp: 0, fp: 0, fn: 0, tn: 3 });
    const defectOnly = chooseThreshold([0.9, 0.3, 0.7], [true, true, true], { kind: 'falseAlarm', target: 0.01 });
    expect(defectOnly).toMatchObject({ basis: 'default', reason: 'no-ok-images', threshold: 0.5 });
    expect(defectOnly.threshold).not.toBe(0.3);
    expect(chooseThreshold([], [], { kind: 'balanced' })).toMatchObject({ reason: 'no-validation', counts: null });
  });
});

describe('recall at a false-alarm rate', () => {
  it('says how many false alarms the rate allows and whether the split resolves it', () => {
    const { scores, positive } = constructed();
    const one = recallAtFalseAlarm(scores, positive, 0.01)!;
    expect(one).toMatchObject({ okImages: 200, allowedFalseAlarms: 2, resolved: true });
    expect(one.falseAlarms).toBeLessThanOrEqual(2);
    // The top OK scores are 0.597, 0.594, 0.591, all below the 80 defects at 0.60..0.99: two allowed false alarms
    // find no more defects than none, so the threshold stays above 0.597.
    expect(one.detected).toBe(80);
    const tenth = recallAtFalseAlarm(scores, positive, 0.001)!;
    expect(tenth).toMatchObject({ okImages: 200, allowedFalseAlarms: 0, falseAlarms: 0, resolved: false });
    expect(tenth.recall).toBeCloseTo(0.8, 12);
    expect(recallAtFalseAlarm([0.4], [true], 0.01)).toBeNull();
  });
});

describe('Wilson 95 % interval', () => {
  it('matches the published figures (Newcombe 1998, table I)', () => {
    const r = (k: number, n: number) => {
      const w = wilsonInterval(k, n)!;
      return [Number(w.low.toFixed(4)), Number(w.high.toFixed(4))];
    };
    expect(r(81, 263)).toEqual([0.2553, 0.3662]);
    expect(r(15, 148)).toEqual([0.0624, 0.1605]);
    expect(r(0, 20)).toEqual([0, 0.1611]);
    expect(r(1, 29)).toEqual([0.0061, 0.1718]);
    expect(r(29, 29)).toEqual([0.883, 1]);
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it('formats as value (low–high)', () => {
    expect(formatWithInterval(254 / 260, wilsonInterval(254, 260))).toBe('97.7 % (95.1–98.9)');
  });
});

describe('evaluation at a threshold', () => {
  const samples = [
    { id: 1, label: 1, probs: [0.1, 0.9] },
    { id: 2, label: 1, probs: [0.3, 0.7] },
    { id: 3, label: 1, probs: [0.6, 0.4] },
    { id: 4, label: 0, probs: [0.8, 0.2] },
    { id: 5, label: 0, probs: [0.55, 0.45] },
    { id: 6, label: 0, probs: [0.9, 0.1] },
  ];

  it('confusion matrix, accuracy and recall move together with the threshold', () => {
    const ev = evaluate('val', samples, ['ok', 'defect'], { okIndex: 0, threshold: 0.5 });
    expect(ev.confusion).toEqual([
      [3, 0],
      [1, 2],
    ]);
    const low = evaluationAt(ev, 0.3);
    expect(low.confusion).toEqual([
      [2, 1],
      [0, 3],
    ]);
    expect(low.confusionImageIds[0]![1]).toEqual([5]);
    expect(low.binary!.defectRecall).toBe(1);
    expect(low.binary!.falseAlarmRate).toBeCloseTo(1 / 3, 12);
    expect(low.accuracy).toBeCloseTo(5 / 6, 12);
    const h = honestFigures(low);
    expect(h.defectRecall).toMatchObject({ k: 3, n: 3 });
    expect(h.falseAlarmRate).toMatchObject({ k: 1, n: 3 });
    expect(h.accuracy.ci!.low).toBeCloseTo(wilsonInterval(5, 6)!.low, 12);
  });

  it('multiclass with an OK class: below the threshold OK, above it the most probable defect type', () => {
    // classes: scratch, ok, dent (ok is index 1)
    expect(decideClass([0.3, 0.45, 0.25], 1, 0.5)).toBe(0);
    expect(decideClass([0.2, 0.6, 0.2], 1, 0.5)).toBe(1);
    expect(decideClass([0.2, 0.6, 0.2], 1, 0.3)).toBe(0);
    expect(decideClass([0.1, 0.3, 0.6], null, null)).toBe(2);
    const ev = evaluate(
      'val',
      [
        { id: 1, label: 0, probs: [0.4, 0.35, 0.25] },
        { id: 2, label: 1, probs: [0.2, 0.7, 0.1] },
        { id: 3, label: 2, probs: [0.1, 0.45, 0.45] },
      ],
      ['scratch', 'ok', 'dent'],
      { okIndex: 1, threshold: 0.5 },
    );
    expect(ev.confusion).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(ev.argmaxAccuracy).toBeCloseTo(2 / 3, 12);
    expect(ev.accuracy).toBe(1);
  });
});
