/**
 * k-fold cross-validation as data: what a group asks for, the tag each fold's run carries, and the summary over the
 * folds (mean ± sd, the pooled accuracy's Wilson interval, the images wrong in every fold that held them out).
 * TF-free and catalog-free: used by the cross-validation service, `kensa cv` and the runs screen.
 */
import { ValidationError, type SerializedError } from './errors.ts';
import { decideClass, wilsonInterval } from './operating-point.ts';
import type { ClassInfo, Evaluation, RunStatus } from './training-types.ts';

/** What a cross-validation group varies: the folds and how often they are drawn again with another seed. */
export interface CrossValidationSpec {
  /** k: each fold validates once while the others train. */
  folds: number;
  /** Fold assignments drawn with seeds seed, seed + 1, …; an image is held out once per repeat. */
  repeats: number;
  /** 'batch': the images of one import batch stay in one fold (photos of one core or one session). */
  groupBy: 'batch' | 'none';
  seed: number;
}

/** Stored in each fold's run configuration (`TrainConfig.crossValidation`): which group and which fold. */
export interface CrossValidationTag {
  /** Same for every run of one group. */
  id: string;
  /** 1-based. */
  repeat: number;
  repeats: number;
  /** 1-based. */
  fold: number;
  folds: number;
}

/** k the wizard offers (the CLI takes 2 to 20). */
export const CV_FOLDS_MIN = 3;
export const CV_FOLDS_MAX = 10;
export const CV_DEFAULT_FOLDS = 5;
/** Below this many labelled images a single validation split is too small to trust: the wizard suggests k folds. */
export const CV_SUGGEST_BELOW = 300;

/** Checks a spec (CLI limits: 2-20 folds, 1-10 repeats); ValidationError with the flag's words otherwise. */
export function checkCrossValidationSpec(spec: CrossValidationSpec): CrossValidationSpec {
  const { folds, repeats, seed, groupBy } = spec;
  if (!Number.isInteger(folds) || folds < 2 || folds > 20) throw new ValidationError('--folds is a whole number from 2 to 20.');
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 10) throw new ValidationError('--repeats is a whole number from 1 to 10.');
  if (!Number.isInteger(seed)) throw new ValidationError('--seed is a whole number.');
  if (groupBy !== 'batch' && groupBy !== 'none') throw new ValidationError('--group is batch or none.');
  return { folds, repeats, seed, groupBy };
}

/** A group's id: the time it started, short and readable (e.g. "cv-20261202-010455"). */
export function newCrossValidationId(now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `cv-${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
}

/** One finished fold's figures on its held-out images. */
export interface FoldResult {
  repeat: number;
  fold: number;
  runId: number;
  images: number;
  /** Most probable class: a threshold chosen on the same fold would flatter it. */
  accuracy: number;
  auc: number | null;
  /** Image ids the fold's model got wrong (most probable class). */
  wrong: number[];
}

/** Per-fold figures of a validation evaluation (most probable class, so no threshold is tuned on the fold itself). */
export function foldFigures(e: Evaluation): { accuracy: number; auc: number | null; wrong: number[]; heldOut: number[] } {
  const samples = e.samples ?? [];
  const wrong = samples.filter((s) => decideClass(s.probs, null, null) !== s.label).map((s) => s.id);
  return {
    accuracy: e.argmaxAccuracy ?? e.accuracy,
    auc: e.binary && Number.isFinite(e.binary.auc) ? e.binary.auc : null,
    wrong,
    heldOut: samples.map((s) => s.id),
  };
}

/**
 * Images wrong in every repeat they were held out in. With `heldOut` on each fold, an image counts when it was wrong
 * each time it was held out (so a group cancelled half-way still says something); without, wrong `repeats` times.
 */
export function alwaysWrong(results: readonly { wrong: readonly number[]; heldOut?: readonly number[] }[], repeats: number): number[] {
  const wrong = new Map<number, number>();
  for (const r of results) for (const id of r.wrong) wrong.set(id, (wrong.get(id) ?? 0) + 1);
  const held = new Map<number, number>();
  const counted = results.every((r) => r.heldOut !== undefined);
  if (counted) for (const r of results) for (const id of r.heldOut ?? []) held.set(id, (held.get(id) ?? 0) + 1);
  return [...wrong.entries()]
    .filter(([id, c]) => c >= (counted ? (held.get(id) ?? Infinity) : repeats))
    .map(([id]) => id)
    .sort((a, b) => a - b);
}

/** Mean and sample standard deviation (n - 1); sd is NaN for fewer than two values. */
export function meanSd(values: readonly number[]): { mean: number; sd: number } {
  const n = values.length;
  if (!n) return { mean: NaN, sd: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sd: NaN };
  const v = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, sd: Math.sqrt(v) };
}

export interface CrossValidationSummary {
  /** Finished folds the figures are over. */
  folds: number;
  accuracy: { mean: number; sd: number };
  /** Null when no fold has an AUC (multiclass). */
  auc: { mean: number; sd: number } | null;
  /** Every held-out prediction together: correct of images, and its 95 % Wilson interval. */
  pooled: { correct: number; images: number; accuracy: number; low: number; high: number } | null;
  alwaysWrong: number[];
}

/** The figures over the finished folds (see {@link CrossValidationSummary}). */
export function summariseFolds(
  results: readonly (FoldResult & { heldOut?: readonly number[] })[],
  repeats: number,
): CrossValidationSummary {
  const aucs = results.flatMap((r) => (r.auc === null ? [] : [r.auc]));
  const images = results.reduce((a, r) => a + r.images, 0);
  const correct = results.reduce((a, r) => a + Math.round(r.accuracy * r.images), 0);
  const ci = wilsonInterval(correct, images);
  return {
    folds: results.length,
    accuracy: meanSd(results.map((r) => r.accuracy)),
    auc: aucs.length ? meanSd(aucs) : null,
    pooled: ci ? { correct, images, accuracy: correct / images, low: ci.low, high: ci.high } : null,
    alwaysWrong: alwaysWrong(results, repeats),
  };
}

/** running: its task is in progress; the others are final (cancelled keeps the folds that finished). */
export type CrossValidationStatus = 'running' | 'succeeded' | 'cancelled' | 'failed';

/** What the catalog keeps of a group (the folds themselves are runs carrying its tag). */
export interface CrossValidationRecord {
  id: string;
  name: string;
  spec: CrossValidationSpec;
  status: CrossValidationStatus;
  /** The task that runs the folds (null after a restart). */
  taskId: string | null;
  createdAt: string;
  finishedAt: string | null;
  /** Why it failed, as the named error the UI words; null otherwise. */
  error: SerializedError | null;
}

/** One fold as the runs screen shows it: its run, and its figures once it finished. */
export interface CrossValidationFold {
  repeat: number;
  fold: number;
  runId: number;
  status: RunStatus;
  images: number | null;
  accuracy: number | null;
  auc: number | null;
  wrong: number | null;
}

/** An image of `alwaysWrong` with its label and what the fold that last held it out called it. */
export interface CrossValidationWrongImage {
  imageId: number;
  label: ClassInfo;
  predicted: ClassInfo;
}

export interface CrossValidationView extends CrossValidationRecord {
  /** Folds started so far, in order (repeat, fold). */
  folds: CrossValidationFold[];
  summary: CrossValidationSummary;
  /** The summary's always-wrong images, in its order, with label and prediction (for the thumbnails). */
  wrongImages: CrossValidationWrongImage[];
}

/** What starting a group returns: the task that runs the folds one after another. */
export interface CrossValidationStarted {
  id: string;
  taskId: string;
  total: number;
}
