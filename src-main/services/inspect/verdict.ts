/**
 * Inspect's decision rules: P(defect), OK/NG at a threshold, the predicted class at it, and the defect type a
 * classifier gives an anomaly model's NG image. Pure functions over the model's classes and probabilities.
 */
import type { InspectDefectType, Inspection } from '../../shared/api/inspect.ts';
import { decideClass } from '../../shared/operating-point.ts';
import type { ClassInfo, RunSummary } from '../../shared/training-types.ts';

/** P(defect) = 1 - P(OK) when the model has an OK class. */
export function defectScore(classes: ClassInfo[], probabilities: number[]): number | null {
  const ok = classes.findIndex((c) => c.isOk);
  if (ok < 0) return null;
  return 1 - (probabilities[ok] ?? 0);
}

/**
 * OK/NG for one image. With a threshold and an OK class: NG when P(defect) >= threshold. Otherwise NG when
 * the predicted class is not OK (a model without an OK class calls everything a defect of some type).
 */
export function verdictOf(classes: ClassInfo[], predicted: number, score: number | null, threshold: number | null): 'ok' | 'ng' {
  if (score !== null && threshold !== null) return score >= threshold ? 'ng' : 'ok';
  return classes[predicted]?.isOk ? 'ok' : 'ng';
}

/**
 * Predicted class at a threshold: with an OK class the threshold decides OK vs defect (then the most probable defect
 * type), as predict and the run report do (shared/operating-point.ts); without one, the most probable class.
 */
export function predictedAt(classes: ClassInfo[], probabilities: number[], threshold: number | null): number {
  const ok = classes.findIndex((c) => c.isOk);
  return decideClass(probabilities, ok >= 0 ? ok : null, threshold);
}

/**
 * An NG image's defect type is named only when the type classifier gives its most likely defect class at least this
 * probability (over all its classes, OK included); below it the image is of "unknown type".
 */
export const TYPE_MIN_PROBABILITY = 0.5;

/**
 * The defect type a classifier gives an image: its most likely defect (non-OK) class, known when that class's
 * probability is at least `minProbability`. A classifier that thinks the image is OK leaves it unknown (the anomaly
 * model saw a defect the classifier was never shown). Null when the classifier has no defect class.
 */
export function defectTypeOf(
  classes: ClassInfo[],
  probabilities: number[],
  minProbability = TYPE_MIN_PROBABILITY,
): InspectDefectType | null {
  let best = -1;
  for (let c = 0; c < classes.length; c++) {
    if (classes[c]!.isOk) continue;
    if (best < 0 || (probabilities[c] ?? 0) > (probabilities[best] ?? 0)) best = c;
  }
  if (best < 0) return null;
  const probability = probabilities[best] ?? 0;
  return { key: classes[best]!.key, probability, known: probability >= minProbability };
}

/** A run that can name defect types: a classifier (not anomaly) with a saved model and at least two defect classes. */
export function namesTypes(run: Pick<RunSummary, 'task' | 'hasModel'>, classes: ClassInfo[]): boolean {
  return run.task !== 'anomaly' && run.hasModel && classes.filter((c) => !c.isOk).length >= 2;
}

/** Re-derives predicted class and verdict of every item at a threshold. */
export function applyThreshold(ins: Inspection, threshold: number | null): Inspection {
  const items = ins.items.map((it) => {
    const predicted = predictedAt(ins.classes, it.probabilities, threshold);
    const verdict = verdictOf(ins.classes, predicted, it.defectScore, threshold);
    const typeRun = ins.typeRun;
    return {
      ...it,
      predicted,
      predictedKey: ins.classes[predicted]?.key ?? it.predictedKey,
      confidence: it.probabilities[predicted] ?? it.confidence,
      verdict,
      ...(typeRun && it.typeProbabilities
        ? { defectType: verdict === 'ng' ? defectTypeOf(typeRun.classes, it.typeProbabilities, typeRun.minProbability) : null }
        : {}),
    };
  });
  return { ...ins, threshold, items };
}
