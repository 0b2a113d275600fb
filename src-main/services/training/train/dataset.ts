/**
 * A run's dataset from the catalog: the classes (binary OK / defect, or one per defect type), each labelled image's
 * class and split (the catalog's, a fresh stratified random split, or one fold of k-fold cross-validation), checked
 * so that a run never starts without images of a class to learn.
 */
import { ValidationError } from '../../../shared/errors.ts';
import type { ClassInfo, DatasetSnapshotEntry, TrainConfig } from '../../../shared/training-types.ts';
import { listDatasetSamples } from '../../library/dataset.ts';
import { listTypes } from '../../db/repos/defect-types.ts';
import { imageBatchIds } from '../../db/repos/image-lookups.ts';
import type { Project } from '../../projects/project.ts';
import { anomalySplit } from '../anomaly/anomaly-run.ts';
import { stratifiedGroupFolds } from './folds.ts';
import { createRng, shuffleInPlace } from './rng.ts';

const DEFECT_CLASS: ClassInfo = { key: 'defect', nameEn: 'defect', nameJa: '不良', color: '#e5484d', isOk: false };

export interface TrainingDataset {
  classInfo: ClassInfo[];
  okIndex: number | null;
  snapshot: (DatasetSnapshotEntry & { sha256: string })[];
}

/**
 * One fold of k-fold cross-validation: the catalog's test images stay the locked test set; the others are split into
 * stratified folds (each import batch kept whole with groupBy 'batch'), fold `fold` validating and the rest training.
 */
function foldSplit<T extends { imageId: number; sha256: string; classIndex: number; split: 'train' | 'val' | 'test' }>(
  db: Project['db'],
  snapshot: T[],
  sp: Extract<TrainConfig['split'], { mode: 'fold' }>,
): T[] {
  const pool = snapshot.filter((s) => s.split !== 'test');
  const batchOf = sp.groupBy === 'batch' ? imageBatchIds(db) : new Map<number, number | null>();
  const folds = stratifiedGroupFolds(
    pool.map((s) => ({ classIndex: s.classIndex, group: sp.groupBy === 'batch' ? (batchOf.get(s.imageId) ?? null) : null })),
    sp.folds,
    sp.seed,
  );
  const foldOf = new Map(pool.map((s, i) => [s, folds[i]!]));
  return snapshot.map((s) => (s.split === 'test' ? s : { ...s, split: foldOf.get(s) === sp.fold ? 'val' : 'train' }));
}

/** Reads labelled images and builds the classes and the split for a run. */
export function buildDataset(project: Project, config: TrainConfig): TrainingDataset {
  const db = project.db;
  const types = listTypes(db);
  const typeByKey = new Map(types.map((t) => [t.key, t]));
  // Content order, not id order: ids follow the import's completion order, which differs between two imports of the
  // same files, and the random split, the folds, the batches and the anomaly coreset all start from this order.
  let samples = listDatasetSamples(db).sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  if (config.labels) {
    // Only the chosen labels take part: images of the others are left out of every split.
    const unknown = config.labels.filter((l) => !typeByKey.has(l));
    if (unknown.length)
      throw new ValidationError(`Unknown label(s): ${unknown.join(', ')}. Choose from: ${types.map((t) => t.key).join(', ')}.`);
    const chosen = new Set(config.labels);
    if (config.task !== 'multiclass' && !config.labels.some((l) => typeByKey.get(l)!.isOk))
      throw new ValidationError('OK-vs-defect training needs the OK label: tick OK and at least one defect type.');
    samples = samples.filter((s) => chosen.has(s.label));
  }
  let classInfo: ClassInfo[];
  let indexOf: (label: string) => number;
  if (config.task === 'binary' || config.task === 'anomaly') {
    const ok = types.find((t) => t.isOk);
    const okKeys = new Set(types.filter((t) => t.isOk).map((t) => t.key));
    classInfo = [
      ok
        ? { key: ok.key, nameEn: ok.nameEn, nameJa: ok.nameJa, color: ok.color, isOk: true }
        : { key: 'ok', nameEn: 'OK', nameJa: '良品', color: '#2e9e5b', isOk: true },
      DEFECT_CLASS,
    ];
    indexOf = (l) => (okKeys.has(l) ? 0 : 1);
  } else {
    const used = new Set(samples.map((s) => s.label));
    classInfo = types
      .filter((t) => used.has(t.key))
      .map((t) => ({ key: t.key, nameEn: t.nameEn, nameJa: t.nameJa, color: t.color, isOk: t.isOk }));
    const idx = new Map(classInfo.map((c, i) => [c.key, i]));
    indexOf = (l) => idx.get(l)!;
  }
  let snapshot = samples.map((s) => ({
    imageId: s.imageId,
    sha256: s.sha256,
    label: s.label,
    classIndex: indexOf(s.label),
    split: s.split,
  }));
  const needsResplit = config.split.mode === 'random' || !snapshot.some((s) => s.split === 'val');
  if (config.split.mode === 'fold') snapshot = foldSplit(db, snapshot, config.split);
  else if (needsResplit && snapshot.length) {
    const sp = config.split.mode === 'random' ? config.split : { valFraction: 0.24, testFraction: 0, seed: config.seed };
    const rng = createRng(sp.seed);
    const byClass = new Map<number, typeof snapshot>();
    for (const s of snapshot) byClass.set(s.classIndex, [...(byClass.get(s.classIndex) ?? []), s]);
    snapshot = [];
    for (const [, list] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
      const sh = shuffleInPlace(list.slice(), rng);
      const nVal = Math.round(sh.length * sp.valFraction);
      const nTest = Math.round(sh.length * sp.testFraction);
      sh.forEach((s, k) => snapshot.push({ ...s, split: k < nVal ? 'val' : k < nVal + nTest ? 'test' : 'train' }));
    }
  }
  // Anomaly detection learns from OK images only; its defect images validate (and set the threshold).
  if (config.task === 'anomaly') return { classInfo, okIndex: 0, snapshot: anomalySplit(snapshot, 0) };
  const present = new Set(snapshot.map((s) => s.classIndex));
  if (config.task === 'binary' && present.size < 2) {
    const hasOk = present.has(0);
    throw new ValidationError(
      `OK-vs-defect training needs labelled ${hasOk ? 'defect' : 'OK'} images too; this project has ${hasOk ? 'only OK' : 'only defect'} images labelled. ` +
        'Label some, or choose the multi-class task.',
    );
  }
  if (classInfo.length < 2) throw new ValidationError('Training needs labelled images of at least two classes. Label more images first.');
  const trainClasses = new Set(snapshot.filter((s) => s.split === 'train').map((s) => s.classIndex));
  const missing = classInfo.filter((_, i) => !trainClasses.has(i)).map((c) => c.nameEn);
  if (missing.length)
    throw new ValidationError(`No training images of: ${missing.join(', ')}. Label more, or move some from validation to training.`);
  void typeByKey;
  // The defect score 1 - P(OK) (and so the operating point) exists whenever OK is one of the classes.
  const ok = classInfo.findIndex((c) => c.isOk);
  return { classInfo, okIndex: config.task === 'binary' ? 0 : ok >= 0 ? ok : null, snapshot };
}
