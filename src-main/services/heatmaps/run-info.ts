/** A run as the heatmap code sees it, and the checks on what a heatmap request asks for. */
import { ValidationError } from '../../shared/errors.ts';
import { HEATMAP_METHODS, type HeatmapMethod, type HeatmapParams, type HeatmapSplit } from '../../shared/heatmap-types.ts';
import type { ClassInfo, RunDetail, TrainingTaskKind } from '../../shared/training-types.ts';
import { listDatasetSamples } from '../library/dataset.ts';
import type { Db } from '../db/open.ts';
import { listTypes } from '../db/repos/defect-types.ts';
import { getRunSnapshot } from '../db/repos/runs.ts';

/** What the heatmap code needs of a run: its model, classes, task and the images of its dataset. */
export interface RunInfo {
  runId: number;
  modelDir: string;
  classes: ClassInfo[];
  task: TrainingTaskKind;
  snapshot: { imageId: number; sha256: string; label: string; classIndex: number; split: HeatmapSplit }[];
}

/** A run's heatmap facts (`modelDir`: its model folder, absolute). */
export function runInfoOf(db: Db, d: RunDetail, modelDir: string): RunInfo {
  const runId = d.id;
  let snapshot: RunInfo['snapshot'] = getRunSnapshot(db, runId).filter((e) => e.imageId > 0);
  if (!snapshot.length) {
    // Imported models carry no dataset snapshot: use the catalog's labelled images the model has a class for.
    const keys = d.classInfo.map((c) => c.key);
    const okIdx = d.classInfo.findIndex((c) => c.isOk);
    const okKeys = new Set(
      listTypes(db)
        .filter((t) => t.isOk)
        .map((t) => t.key),
    );
    snapshot = listDatasetSamples(db).flatMap((x) => {
      const ci = d.task !== 'multiclass' ? (okKeys.has(x.label) ? okIdx : 1 - Math.max(0, okIdx)) : keys.indexOf(x.label);
      return ci < 0 ? [] : [{ imageId: x.imageId, sha256: x.sha256, label: x.label, classIndex: ci, split: x.split as HeatmapSplit }];
    });
  }
  return { runId, modelDir, classes: d.classInfo, task: d.task, snapshot };
}

/** The index of a class key in a run's classes; ValidationError naming the classes when it has none such. */
export function classIndexOf(run: RunInfo, key: string): number {
  const i = run.classes.findIndex((c) => c.key === key);
  if (i < 0) throw new ValidationError(`Run ${run.runId} has no class "${key}" (classes: ${run.classes.map((c) => c.key).join(', ')}).`);
  return i;
}

/** The heatmap methods asked for, checked against the known ones. */
export function checkMethods(m: unknown): HeatmapMethod[] {
  const list = Array.isArray(m) ? m : [m];
  for (const x of list)
    if (!(HEATMAP_METHODS as readonly string[]).includes(x as string))
      throw new ValidationError(
        `Unknown heatmap method "${String(x)}". Choose cam, gradcam, saliency, smoothgrad or (anomaly runs) anomaly.`,
      );
  return list as HeatmapMethod[];
}

/** SmoothGrad copies and noise, and the Grad-CAM layer, checked. */
export function checkParams(p: HeatmapParams | undefined): HeatmapParams {
  const out: HeatmapParams = {};
  if (p?.n !== undefined) {
    if (!Number.isInteger(p.n) || p.n < 1 || p.n > 500)
      throw new ValidationError('SmoothGrad copies (n) must be a whole number from 1 to 500.');
    out.n = p.n;
  }
  if (p?.sigma !== undefined) {
    if (!(p.sigma >= 0 && p.sigma <= 1)) throw new ValidationError('SmoothGrad noise (sigma) must be between 0 and 1 of the input range.');
    out.sigma = p.sigma;
  }
  if (p?.layer) out.layer = String(p.layer);
  return out;
}
