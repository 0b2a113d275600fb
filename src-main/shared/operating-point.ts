/**
 * The operating point of a defect detector: the decision threshold on the defect score
 * s = P(defect) = 1 - P(OK), chosen on validation for the user's aim, the confusion matrix and counts at
 * a threshold, defect recall at a fixed false-alarm rate, and Wilson intervals. Plain arrays, no
 * TensorFlow: the engine's evaluation, the main side, the CLI and the report's slider all use it, so
 * they agree to the image.
 *
 * An image is flagged (called a defect) when s >= threshold. The chooser never puts the threshold on an
 * image's score: it goes halfway between the lowest flagged score and the highest unflagged one, so the
 * validation counts are the same but a new image with almost the same score is not decided by rounding.
 */
import type { Evaluation, PerClassMetrics } from './training-types.ts';

/**
 * What the threshold is for.
 * - recall: "miss no defect": defect recall >= target (e.g. 0.99) with the fewest false alarms;
 * - balanced: Youden's J (recall - false-alarm rate) at its largest. Youden rather than F1 because F1
 *   ignores correctly passed OK parts and moves with the share of defects in the validation set, which in
 *   a labelled collection is rarely the line's defect rate; J weighs the two error rates the same whatever
 *   the mix. Among equal J the lower threshold wins (a missed defect costs more than a second look);
 * - falseAlarm: "fewest false alarms": false-alarm rate <= target (e.g. 0.01), the most defects found;
 * - manual: set by hand on the report's slider.
 */
export type OperatingAim =
  { kind: 'recall'; target: number } | { kind: 'balanced' } | { kind: 'falseAlarm'; target: number } | { kind: 'manual' };

export const DEFAULT_AIM: OperatingAim = { kind: 'balanced' };
/** The threshold used when validation cannot decide (one class only, or no validation images). */
export const FALLBACK_THRESHOLD = 0.5;

/** Why the chooser fell back to {@link FALLBACK_THRESHOLD}. */
export type OperatingPointReason = 'no-defect-images' | 'no-ok-images' | 'no-validation';

/** Counts at a threshold; positives are defect images. */
export interface OperatingCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** A chosen (or hand-set) threshold with the aim behind it and its validation counts. Stored with the run and the model. */
export interface OperatingPointChoice {
  aim: OperatingAim;
  threshold: number;
  /** validation: chosen on the validation scores; default: the fallback (see reason); manual: set by hand. */
  basis: 'validation' | 'default' | 'manual';
  reason: OperatingPointReason | null;
  /** Validation counts at the threshold (null when there were no validation images). */
  counts: OperatingCounts | null;
}

/** Defect recall at a fixed false-alarm rate, with how many false alarms that rate allows on this split. */
export interface RecallAtFalseAlarm {
  /** The false-alarm rate asked for, e.g. 0.01. */
  rate: number;
  okImages: number;
  defectImages: number;
  /** floor(rate x OK images): 0 means the split cannot tell this rate from "no false alarm at all". */
  allowedFalseAlarms: number;
  falseAlarms: number;
  detected: number;
  recall: number;
  threshold: number;
  /** False when the split has fewer than 1 / rate OK images, so the rate itself is not resolved. */
  resolved: boolean;
}

export interface EvalSample {
  id: number;
  /** True class index. */
  label: number;
  /** Class probabilities (softmax output). */
  probs: number[];
}

const Z95 = 1.959963984540054;

/**
 * Wilson score interval for k successes out of n (95 % by default); null when n = 0.
 * Unlike the normal approximation it stays inside [0, 1] and is honest at 0 / n and n / n.
 */
export function wilsonInterval(k: number, n: number, z = Z95): { low: number; high: number } | null {
  if (!(n > 0)) return null;
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: k === 0 ? 0 : Math.max(0, centre - half), high: k === n ? 1 : Math.min(1, centre + half) };
}

/** s = 1 - P(OK). */
export function defectScoreOf(probs: ArrayLike<number>, okIndex: number): number {
  return 1 - (probs[okIndex] ?? 0);
}

function argmaxOf(p: ArrayLike<number>, skip = -1): number {
  let best = -1;
  for (let i = 0; i < p.length; i++) if (i !== skip && (best < 0 || p[i]! > p[best]!)) best = i;
  return best < 0 ? 0 : best;
}

/**
 * The class an image is given. With an OK class and a threshold: OK when s < threshold, else the most probable
 * defect class (binary: "defect"). Without either: the most probable class.
 */
export function decideClass(probs: ArrayLike<number>, okIndex: number | null, threshold: number | null): number {
  if (okIndex === null || okIndex < 0 || threshold === null || probs.length < 2) return argmaxOf(probs);
  return defectScoreOf(probs, okIndex) >= threshold ? argmaxOf(probs, okIndex) : okIndex;
}

export function countsAt(scores: readonly number[], positive: readonly boolean[], threshold: number): OperatingCounts {
  const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = 0; i < scores.length; i++) {
    const flagged = scores[i]! >= threshold;
    if (positive[i]) {
      if (flagged) c.tp++;
      else c.fn++;
    } else if (flagged) c.fp++;
    else c.tn++;
  }
  return c;
}

interface Cuts {
  /** Distinct scores, falling. */
  u: number[];
  /** tp[k], fp[k]: counts when the top k distinct scores are flagged (k = 0..u.length). */
  tp: number[];
  fp: number[];
}

function cutsOf(scores: readonly number[], positive: readonly boolean[]): Cuts {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const u: number[] = [];
  const tp = [0];
  const fp = [0];
  for (let k = 0; k < idx.length;) {
    const s = scores[idx[k]!]!;
    let t = tp[tp.length - 1]!;
    let f = fp[fp.length - 1]!;
    while (k < idx.length && scores[idx[k]!]! === s) {
      if (positive[idx[k]!]) t++;
      else f++;
      k++;
    }
    u.push(s);
    tp.push(t);
    fp.push(f);
  }
  return { u, tp, fp };
}

/** The threshold that flags exactly the top k distinct scores, halfway to the neighbours. */
function thresholdOfCut(u: number[], k: number): number {
  if (!u.length) return FALLBACK_THRESHOLD;
  if (k <= 0) return u[0]! < 1 ? (u[0]! + 1) / 2 : 1;
  if (k >= u.length) return u[u.length - 1]! / 2;
  return (u[k - 1]! + u[k]!) / 2;
}

/** Chooses the threshold on validation scores for an aim. Both classes are needed; otherwise the fallback with a reason. */
export function chooseThreshold(scores: readonly number[], positive: readonly boolean[], aim: OperatingAim): OperatingPointChoice {
  const P = positive.filter(Boolean).length;
  const N = positive.length - P;
  const fallback = (reason: OperatingPointReason): OperatingPointChoice => ({
    aim,
    threshold: FALLBACK_THRESHOLD,
    basis: 'default',
    reason,
    counts: scores.length ? countsAt(scores, positive, FALLBACK_THRESHOLD) : null,
  });
  if (!scores.length) return fallback('no-validation');
  if (!P) return fallback('no-defect-images');
  if (!N) return fallback('no-ok-images');
  if (aim.kind === 'manual') throw new RangeError('A hand-set threshold is not chosen from scores.');
  const { u, tp, fp } = cutsOf(scores, positive);
  const m = u.length;
  let k = 0;
  if (aim.kind === 'recall') {
    const need = Math.ceil(aim.target * P - 1e-9);
    while (k < m && tp[k]! < need) k++;
    // Same false alarms, more defects found: take them.
    while (k < m && fp[k + 1] === fp[k]) k++;
  } else if (aim.kind === 'falseAlarm') {
    const allowed = Math.floor(aim.target * N + 1e-9);
    while (k < m && fp[k + 1]! <= allowed) k++;
    // Same defects found, fewer false alarms: back off.
    while (k > 0 && tp[k - 1] === tp[k]) k--;
  } else {
    let bestJ = -Infinity;
    for (let c = 0; c <= m; c++) {
      const j = tp[c]! / P - fp[c]! / N;
      if (j >= bestJ - 1e-12) {
        k = c;
        bestJ = Math.max(bestJ, j);
      }
    }
  }
  const threshold = thresholdOfCut(u, k);
  return { aim, threshold, basis: 'validation', reason: null, counts: countsAt(scores, positive, threshold) };
}

/** Defect recall at a false-alarm rate (e.g. 0.01, 0.001) on one split; null without both classes. */
export function recallAtFalseAlarm(scores: readonly number[], positive: readonly boolean[], rate: number): RecallAtFalseAlarm | null {
  const choice = chooseThreshold(scores, positive, { kind: 'falseAlarm', target: rate });
  if (choice.basis !== 'validation' || !choice.counts) return null;
  const c = choice.counts;
  const okImages = c.fp + c.tn;
  const defectImages = c.tp + c.fn;
  return {
    rate,
    okImages,
    defectImages,
    allowedFalseAlarms: Math.floor(rate * okImages + 1e-9),
    falseAlarms: c.fp,
    detected: c.tp,
    recall: c.tp / defectImages,
    threshold: choice.threshold,
    resolved: okImages * rate >= 1 - 1e-9,
  };
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

/** The threshold-dependent part of an evaluation: predicted classes, confusion, accuracy, per class. */
export interface DecisionTable {
  predicted: number[];
  confusion: number[][];
  confusionImageIds: number[][][];
  correct: number;
  accuracy: number;
  perClass: PerClassMetrics[];
  macroF1: number;
}

export function decisionTable(
  samples: readonly EvalSample[],
  classes: string[],
  okIndex: number | null,
  threshold: number | null,
): DecisionTable {
  const n = classes.length;
  const predicted = samples.map((s) => decideClass(s.probs, okIndex, threshold));
  const labels = samples.map((s) => s.label);
  const confusion = confusionMatrix(labels, predicted, n);
  const ids = Array.from({ length: n }, () => Array.from({ length: n }, () => [] as number[]));
  samples.forEach((s, i) => ids[s.label]![predicted[i]!]!.push(s.id));
  const correct = labels.reduce((acc, l, i) => acc + (l === predicted[i] ? 1 : 0), 0);
  const perClass = perClassMetrics(confusion, classes);
  const present = perClass.filter((c) => c.support > 0);
  return {
    predicted,
    confusion,
    confusionImageIds: ids,
    correct,
    accuracy: samples.length ? correct / samples.length : NaN,
    perClass,
    macroF1: present.length ? present.reduce((a, c) => a + c.f1, 0) / present.length : NaN,
  };
}

/** Defect scores and defect flags of an evaluation's samples (null without an OK class or samples). */
export function scoresOf(e: Pick<Evaluation, 'samples' | 'okIndex'>): { scores: number[]; positive: boolean[] } | null {
  const ok = e.okIndex;
  if (ok === null || ok === undefined || ok < 0 || !e.samples) return null;
  return { scores: e.samples.map((s) => defectScoreOf(s.probs, ok)), positive: e.samples.map((s) => s.label !== ok) };
}

/**
 * A stored evaluation seen at another threshold: matrix, accuracy, per-class figures and the binary block's
 * recall / false-alarm rate move together. Evaluations stored before per-image scores were kept come back as they are.
 */
export function evaluationAt(e: Evaluation, threshold: number): Evaluation {
  const sc = scoresOf(e);
  if (!sc || !e.samples || e.okIndex == null) return e;
  const table = decisionTable(e.samples, e.classes, e.okIndex, threshold);
  const c = countsAt(sc.scores, sc.positive, threshold);
  return {
    ...e,
    threshold,
    accuracy: table.accuracy,
    perClass: table.perClass,
    macroF1: table.macroF1,
    confusion: table.confusion,
    confusionImageIds: table.confusionImageIds,
    binary: e.binary
      ? {
          ...e.binary,
          threshold,
          defectRecall: c.tp + c.fn ? c.tp / (c.tp + c.fn) : NaN,
          falseAlarmRate: c.fp + c.tn ? c.fp / (c.fp + c.tn) : NaN,
        }
      : null,
  };
}

/** Accuracy, defect recall and false-alarm rate of an evaluation with their 95 % Wilson intervals. */
export interface HonestFigures {
  accuracy: { k: number; n: number; value: number; ci: { low: number; high: number } | null };
  defectRecall: { k: number; n: number; value: number; ci: { low: number; high: number } | null } | null;
  falseAlarmRate: { k: number; n: number; value: number; ci: { low: number; high: number } | null } | null;
}

export function honestFigures(e: Evaluation): HonestFigures {
  const correct = e.confusion.reduce((a, row, i) => a + (row[i] ?? 0), 0);
  const n = e.count;
  const fig = (k: number, total: number) => ({ k, n: total, value: total ? k / total : NaN, ci: wilsonInterval(k, total) });
  // Evaluations stored before okIndex was kept are binary with OK first.
  const ok = e.okIndex ?? (e.binary ? 0 : null);
  if (ok === null || ok === undefined || ok < 0 || !e.binary)
    return { accuracy: fig(correct, n), defectRecall: null, falseAlarmRate: null };
  let tp = 0;
  let P = 0;
  let fp = 0;
  let N = 0;
  e.confusion.forEach((row, a) =>
    row.forEach((v, p) => {
      if (a === ok) {
        N += v;
        if (p !== ok) fp += v;
      } else {
        P += v;
        if (p !== ok) tp += v;
      }
    }),
  );
  return { accuracy: fig(correct, n), defectRecall: fig(tp, P), falseAlarmRate: fig(fp, N) };
}

/** "97.9 % (95.3–99.1)" */
export function formatWithInterval(value: number, ci: { low: number; high: number } | null, digits = 1): string {
  if (!Number.isFinite(value)) return '–';
  const p = (v: number) => (v * 100).toFixed(digits);
  return ci ? `${p(value)} % (${p(ci.low)}–${p(ci.high)})` : `${p(value)} %`;
}

/** Short English description of an aim (CLI, logs). */
export function describeAim(aim: OperatingAim): string {
  switch (aim.kind) {
    case 'recall':
      return `miss no defect (defect recall >= ${(aim.target * 100).toFixed(1)} %)`;
    case 'falseAlarm':
      return `fewest false alarms (false-alarm rate <= ${(aim.target * 100).toFixed(2)} %)`;
    case 'balanced':
      return "balanced (Youden's J)";
    default:
      return 'set by hand';
  }
}

/** Checks an aim that crossed the API; throws RangeError with a message for the user. */
export function checkAim(aim: unknown): OperatingAim {
  const a = aim as OperatingAim | null;
  if (!a || typeof a !== 'object') throw new RangeError('Choose what the threshold is for.');
  if (a.kind === 'balanced' || a.kind === 'manual') return { kind: a.kind };
  if (a.kind === 'recall' || a.kind === 'falseAlarm') {
    // Recall may ask for every defect (100 %); a false-alarm rate of 0 is the same as the smallest one the split resolves.
    const max = a.kind === 'recall' ? 1 : 1 - 1e-12;
    if (!(typeof a.target === 'number' && a.target > 0 && a.target <= max))
      throw new RangeError(
        a.kind === 'recall'
          ? 'The defect-recall target must be between 0 and 100 % (e.g. 99 %).'
          : 'The false-alarm target must be between 0 and 100 % (e.g. 1 %).',
      );
    return { kind: a.kind, target: a.target };
  }
  throw new RangeError(`Unknown threshold aim "${String((a as { kind?: unknown }).kind)}".`);
}

/**
 * An aim as typed on the command line: `miss-no-defect[:99]` (also `recall:0.99`), `balanced`,
 * `fewest-false-alarms[:1]` (also `false-alarms:0.01`); targets above 1 are percentages. A bare number is a
 * threshold set by hand. Throws RangeError with the accepted forms.
 */
export function parseAim(text: string): { aim: OperatingAim; threshold?: number } {
  const t = text.trim().toLowerCase();
  if (/^(0|1|0?\.\d+|1\.0*)$/.test(t)) return { aim: { kind: 'manual' }, threshold: Number(t) };
  const [name, value] = t.split(':', 2) as [string, string | undefined];
  const target = (def: number): number => {
    if (value === undefined || value === '') return def;
    const n = Number(value.replace(/%$/, ''));
    const f = n > 1 || value.endsWith('%') ? n / 100 : n;
    if (!(f > 0 && f <= 1)) throw new RangeError(`"${value}" is not a target between 0 and 100 %.`);
    return f;
  };
  if (name === 'balanced' || name === 'youden') return { aim: { kind: 'balanced' } };
  if (name === 'miss-no-defect' || name === 'recall') return { aim: { kind: 'recall', target: target(0.99) } };
  if (name === 'fewest-false-alarms' || name === 'false-alarms' || name === 'far')
    return { aim: { kind: 'falseAlarm', target: target(0.01) } };
  throw new RangeError(
    `Unknown threshold aim "${text}". Use miss-no-defect[:99], balanced, fewest-false-alarms[:1], or a threshold such as 0.4.`,
  );
}
