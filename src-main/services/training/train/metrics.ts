/**
 * Evaluation metrics on plain arrays (no TensorFlow): confusion matrix, per-class precision / recall / F1,
 * ROC / PR curves, AUC, and the decision threshold on P(defect) (chosen by ../../../shared/operating-point.ts).
 */
import {
  chooseThreshold,
  countsAt,
  decisionTable,
  defectScoreOf,
  DEFAULT_AIM,
  evaluationAt,
  FALLBACK_THRESHOLD,
  scoresOf,
  type OperatingAim,
  type OperatingPointChoice,
} from '../../../shared/operating-point.ts';
import type { BinaryMetrics, CurvePoint, Evaluation } from '../../../shared/training-types.ts';

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

export { confusionMatrix, perClassMetrics } from '../../../shared/operating-point.ts';

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
 * Defect-vs-OK metrics for P(defect) = 1 - P(ok). `okIndex` is the class index of "ok".
 * The threshold is chosen on this split for `aim` (default balanced) unless one is given (e.g. the validation
 * one, applied to test).
 */
export function binaryMetrics(
  samples: ScoredSample[],
  okIndex: number,
  threshold?: number,
  aim: OperatingAim = DEFAULT_AIM,
): BinaryMetrics {
  const scores = samples.map((s) => defectScoreOf(s.probs, okIndex));
  const positive = samples.map((s) => s.label !== okIndex);
  const { points, auc } = rocCurve(scores, positive);
  const t = threshold ?? chooseThreshold(scores, positive, aim.kind === 'manual' ? DEFAULT_AIM : aim).threshold;
  const c = countsAt(scores, positive, t);
  return {
    auc,
    roc: thinCurve(points),
    pr: thinCurve(prCurve(scores, positive)),
    threshold: t,
    defectRecall: c.tp + c.fn ? c.tp / (c.tp + c.fn) : NaN,
    falseAlarmRate: c.fp + c.tn ? c.fp / (c.fp + c.tn) : NaN,
  };
}

/** Mean cross-entropy of the true class. */
export function crossEntropy(samples: ScoredSample[]): number {
  if (!samples.length) return NaN;
  let s = 0;
  for (const x of samples) s -= Math.log(Math.max(1e-7, x.probs[x.label]!));
  return s / samples.length;
}

/**
 * Full evaluation of one split. With an OK class (`okIndex`, binary or multiclass) the defect score 1 - P(OK) is
 * thresholded: accuracy, the confusion matrix and per-class figures are at that threshold (chosen on this split for
 * `aim` unless `threshold` is given), so they agree with Inspect. Without one, the most probable class decides.
 * The per-image probabilities are kept so the report can move the threshold.
 */
export function evaluate(
  split: Evaluation['split'],
  samples: ScoredSample[],
  classes: string[],
  opts: { okIndex?: number | null; threshold?: number; aim?: OperatingAim } = {},
): Evaluation {
  const n = classes.length;
  const ok = opts.okIndex != null && opts.okIndex >= 0 && opts.okIndex < n && n >= 2 ? opts.okIndex : null;
  const binary = ok !== null && samples.length ? binaryMetrics(samples, ok, opts.threshold, opts.aim) : null;
  const threshold = binary ? binary.threshold : null;
  const kept = samples.map((s) => ({ id: s.id, label: s.label, probs: Array.from(s.probs) }));
  const table = decisionTable(kept, classes, ok, threshold);
  const argmaxTable = threshold === null ? table : decisionTable(kept, classes, null, null);
  return {
    split,
    count: samples.length,
    accuracy: table.accuracy,
    loss: crossEntropy(samples),
    classes,
    perClass: table.perClass,
    macroF1: table.macroF1,
    confusion: table.confusion,
    confusionImageIds: table.confusionImageIds,
    binary,
    okIndex: ok,
    threshold,
    argmaxAccuracy: argmaxTable.accuracy,
    samples: kept,
  };
}

/**
 * Chooses the decision threshold on the validation evaluation for `aim` and puts every evaluation (validation and
 * the locked test split) at it. Null choice when the model has no OK class or the evaluations keep no per-image scores.
 */
export function applyOperatingPoint(
  evaluations: Evaluation[],
  aim: OperatingAim,
): { choice: OperatingPointChoice | null; evaluations: Evaluation[] } {
  const val = evaluations.find((e) => e.split === 'val');
  const ref = val ?? evaluations.find((e) => e.binary && e.samples);
  if (!ref || ref.okIndex == null || !ref.samples) return { choice: null, evaluations };
  let choice: OperatingPointChoice;
  if (aim.kind === 'manual') throw new RangeError('A hand-set threshold is stored with setOperatingPoint.');
  if (!val) choice = { aim, threshold: FALLBACK_THRESHOLD, basis: 'default', reason: 'no-validation', counts: null };
  else {
    const sc = scoresOf(val)!;
    choice = chooseThreshold(sc.scores, sc.positive, aim);
  }
  return { choice, evaluations: evaluations.map((e) => (e.binary ? evaluationAt(e, choice.threshold) : e)) };
}
