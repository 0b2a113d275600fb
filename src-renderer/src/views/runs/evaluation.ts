import { honestFigures } from '../../../../src-main/shared/operating-point.ts';
import type { BinaryMetrics, ClassInfo, CurvePoint, Evaluation } from '../../../../src-main/shared/training-types.ts';

/** The curve point whose threshold is nearest to `threshold` (curves from the engine carry their thresholds). */
export function pointAt(points: CurvePoint[], threshold: number): CurvePoint | null {
  let best: CurvePoint | null = null;
  let d = Infinity;
  for (const p of points) {
    const dd = Math.abs(p.threshold - threshold);
    if (dd < d) {
      d = dd;
      best = p;
    }
  }
  return best;
}

export interface OperatingPoint {
  threshold: number;
  /** Defect recall (true-positive rate). */
  recall: number;
  /** False-alarm rate on OK images. */
  falseAlarm: number;
  precision: number | null;
}

export function operatingPoint(b: BinaryMetrics, threshold: number): OperatingPoint | null {
  const roc = pointAt(b.roc, threshold);
  if (!roc) return null;
  const pr = pointAt(b.pr, threshold);
  return { threshold: roc.threshold, recall: roc.y, falseAlarm: roc.x, precision: pr ? pr.y : null };
}

/** The operating point of an evaluation at its own threshold, exact from its counts (see evaluationAt). */
export function operatingPointOf(e: Evaluation): OperatingPoint | null {
  if (!e.binary) return null;
  const h = honestFigures(e);
  if (!h.defectRecall || !h.falseAlarmRate) return null;
  const flagged = h.defectRecall.k + h.falseAlarmRate.k;
  return {
    threshold: e.binary.threshold,
    recall: h.defectRecall.value,
    falseAlarm: h.falseAlarmRate.value,
    precision: flagged ? h.defectRecall.k / flagged : null,
  };
}

export function className(info: ClassInfo[], key: string, lang: 'en' | 'ja'): string {
  const c = info.find((x) => x.key === key);
  if (!c) return key;
  return (lang === 'ja' ? c.nameJa || c.nameEn : c.nameEn) || key;
}

/** Every misclassified image: actual row, predicted column, image id. */
export function misclassified(e: Evaluation): { actual: number; predicted: number; imageId: number }[] {
  const out: { actual: number; predicted: number; imageId: number }[] = [];
  e.confusionImageIds.forEach((row, a) =>
    row.forEach((ids, p) => {
      if (a !== p) for (const id of ids) out.push({ actual: a, predicted: p, imageId: id });
    }),
  );
  return out;
}
