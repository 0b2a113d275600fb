/**
 * Evaluation metrics on plain arrays (no TensorFlow): confusion matrix, per-class precision / recall / F1,
 * ROC / PR curves, AUC and a binary decision threshold.
 */
import type { BinaryMetrics, CurvePoint, Evaluation, PerClassMetrics } from '../../../shared/training-types.ts';

export interface ScoredSample {
  id: number;
  /** True class index. */
  label: number;
  /** Class probabilities (softmax output). */
  probs: ArrayLike<number>;
}

export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
}

/** confusion[actual][predicted] */
export function confusionMatrix(labels: number[], predicted: number[], numClasses: number): number[][] {
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]!]![predicted[i]!]! += 1;
  return m;
}

export function perClassMetrics(confusion: number[][], keys: string[]): PerClassMetrics[] {
  const n = confusion.length;
  return keys.map((key, c) => {
    const tp = confusion[c]![c]!;
    let predicted = 0;
    let actual = 0;
    for (let j = 0; j < n; j++) {
      predicted += confusion[j]![c]!;
      actual += confusion[c]![j]!;
    }
    const precision = predicted ? tp / predicted : 0;
    const recall = actual ? tp / actual : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { key, precision, recall, f1, support: actual };
  });
}

/** Counts at each distinct threshold, by falling score: true and false positives with score ≥ threshold. */
function* thresholdSweep(scores: number[], positive: boolean[]): Generator<{ threshold: number; tp: number; fp: number }> {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < idx.length;) {
    const threshold = scores[idx[k]!]!;
    while (k < idx.length && scores[idx[k]!]! === threshold) {
      if (positive[idx[k]!]) tp++;
      else fp++;
      k++;
    }
    yield { threshold, tp, fp };
  }
}

/**
 * ROC curve of scores for the positive class; points sorted by falling threshold, starting at (0,0).
 * Ties share a point. AUC by the trapezoid rule (equals the Mann-Whitney statistic).
 */
export function rocCurve(scores: number[], positive: boolean[]): { points: CurvePoint[]; auc: number } {
  const P = positive.filter(Boolean).length;
  const N = positive.length - P;
  const points: CurvePoint[] = [{ threshold: Infinity, x: 0, y: 0 }];
  let auc = 0;
  for (const { threshold, tp, fp } of thresholdSweep(scores, positive)) {
    const x = N ? fp / N : 0;
    const y = P ? tp / P : 0;
    const prev = points[points.length - 1]!;
    auc += ((x - prev.x) * (y + prev.y)) / 2;
    points.push({ threshold, x, y });
  }
  return { points, auc: P && N ? auc : NaN };
}

/** Precision-recall points (x = recall, y = precision) by falling threshold. */
export function prCurve(scores: number[], positive: boolean[]): CurvePoint[] {
  const P = positive.filter(Boolean).length;
  const points: CurvePoint[] = [];
  for (const { threshold, tp, fp } of thresholdSweep(scores, positive)) {
    points.push({ threshold, x: P ? tp / P : 0, y: tp + fp ? tp / (tp + fp) : 1 });
  }
  return points;
}

/** Thins a curve to at most `max` points (keeps the ends) so stored evaluations stay small. */
export function thinCurve(points: CurvePoint[], max = 200): CurvePoint[] {
  if (points.length <= max) return points.map(finitePoint);
  const out: CurvePoint[] = [];
  for (let i = 0; i < max; i++) out.push(finitePoint(points[Math.round((i * (points.length - 1)) / (max - 1))]!));
  return out;
}

function finitePoint(p: CurvePoint): CurvePoint {
  return Number.isFinite(p.threshold) ? p : { ...p, threshold: 1 };
}

/** Threshold maximising Youden's J (TPR - FPR); 0.5 when the split lacks one of the classes. */
export function youdenThreshold(roc: CurvePoint[]): number {
  let best = 0.5;
  let bestJ = -Infinity;
  for (const p of roc) {
    if (!Number.isFinite(p.threshold)) continue;
    const j = p.y - p.x;
    if (j > bestJ) {
      bestJ = j;
      best = p.threshold;
    }
  }
  return best;
}

/**
 * Binary metrics for P(defect) = 1 - P(ok). `okIndex` is the class index of "ok".
 * The threshold is Youden's on this split unless one is given (e.g. the validation one, applied to test).
 */
export function binaryMetrics(samples: ScoredSample[], okIndex: number, threshold?: number): BinaryMetrics {
  const scores = samples.map((s) => 1 - s.probs[okIndex]!);
  const positive = samples.map((s) => s.label !== okIndex);
  const { points, auc } = rocCurve(scores, positive);
  const t = threshold ?? youdenThreshold(points);
  let tp = 0;
  let fp = 0;
  let P = 0;
  let N = 0;
  for (let i = 0; i < scores.length; i++) {
    const flagged = scores[i]! >= t;
    if (positive[i]) {
      P++;
      if (flagged) tp++;
    } else {
      N++;
      if (flagged) fp++;
    }
  }
  return {
    auc,
    roc: thinCurve(points),
    pr: thinCurve(prCurve(scores, positive)),
    threshold: t,
    defectRecall: P ? tp / P : NaN,
    falseAlarmRate: N ? fp / N : NaN,
  };
}

/** Mean cross-entropy of the true class. */
export function crossEntropy(samples: ScoredSample[]): number {
  if (!samples.length) return NaN;
  let s = 0;
  for (const x of samples) s -= Math.log(Math.max(1e-7, x.probs[x.label]!));
  return s / samples.length;
}

/** Full evaluation of one split. `okIndex` (binary task) adds ROC/PR/threshold metrics. */
export function evaluate(
  split: Evaluation['split'],
  samples: ScoredSample[],
  classes: string[],
  opts: { okIndex?: number | null; threshold?: number } = {},
): Evaluation {
  const n = classes.length;
  const binary = opts.okIndex != null && n === 2 && samples.length ? binaryMetrics(samples, opts.okIndex, opts.threshold) : null;
  // Accuracy and the confusion matrix use the most probable class (Keras' accuracy); the binary block
  // adds the tuned threshold with its defect recall and false-alarm rate.
  const predicted = samples.map((s) => argmax(s.probs));
  const labels = samples.map((s) => s.label);
  const confusion = confusionMatrix(labels, predicted, n);
  const ids = Array.from({ length: n }, () => Array.from({ length: n }, () => [] as number[]));
  samples.forEach((s, i) => ids[s.label]![predicted[i]!]!.push(s.id));
  const correct = labels.reduce((acc, l, i) => acc + (l === predicted[i] ? 1 : 0), 0);
  const perClass = perClassMetrics(confusion, classes);
  const present = perClass.filter((c) => c.support > 0);
  return {
    split,
    count: samples.length,
    accuracy: samples.length ? correct / samples.length : NaN,
    loss: crossEntropy(samples),
    classes,
    perClass,
    macroF1: present.length ? present.reduce((a, c) => a + c.f1, 0) / present.length : NaN,
    confusion,
    confusionImageIds: ids,
    binary,
  };
}
