/**
 * "Label differs from prediction" for Inspect: compares a library photo's catalog label with the model's prediction
 * in the model's own classes. A binary (or anomaly) model has OK and defect: an OK-type label stands for OK, any defect
 * type for defect. A multiclass model has a class per defect type (and OK when it was trained with one).
 */
import type { InspectItem, Inspection } from '../../../../src-main/shared/api/inspect.ts';

/** What the comparison needs of the catalog's types. */
export interface LabelType {
  key: string;
  isOk: boolean;
}

/** The model class a catalog label stands for, or -1 when the model has none (a type it was not trained on). */
export function classOfLabel(ins: Pick<Inspection, 'classes' | 'task'>, labelKey: string, types: readonly LabelType[]): number {
  const isOk = types.find((t) => t.key === labelKey)?.isOk ?? false;
  const okIndex = ins.classes.findIndex((c) => c.isOk);
  if (isOk) return okIndex;
  if (ins.task !== 'multiclass') return ins.classes.length === 2 && okIndex >= 0 ? 1 - okIndex : -1;
  return ins.classes.findIndex((c) => c.key === labelKey && !c.isOk);
}

/**
 * True when the photo's catalog label and the prediction (at the inspection's threshold) disagree; null when they
 * cannot be compared (not in the library, unlabelled, or labelled with a type the model has no class for).
 */
export function labelDiffers(
  ins: Pick<Inspection, 'classes' | 'task'>,
  item: Pick<InspectItem, 'labelKey' | 'predicted'>,
  types: readonly LabelType[],
): boolean | null {
  if (item.labelKey === null) return null;
  const want = classOfLabel(ins, item.labelKey, types);
  if (want < 0) return null;
  return want !== item.predicted;
}
