/**
 * The body of an inspection task: predicts the chosen images in chunks (catalog ids and files apart, so results map
 * back in order), retries a failed chunk one image at a time so one unreadable photo does not sink the batch, and
 * turns the predictions into an Inspection at the requested (or the model's) threshold. Cancelling keeps what is done.
 */
import { basename } from 'node:path';
import type { InspectItem, InspectSkip, Inspection } from '../../shared/api/inspect.ts';
import type { PredictResult, RunDetail } from '../../shared/training-types.ts';
import type { InspectedImage } from '../db/repos/inspect.ts';
import type { TaskContext } from '../tasks/task-manager.ts';
import { failureOf } from './files.ts';
import type { InspectModels } from './models.ts';
import { applyThreshold, defectScore } from './verdict.ts';

/** Images per predict call: small enough that progress moves and a cancel is felt within a second or two. */
const CHUNK = 16;

/** What an inspection looks at and how, checked by the service before the task starts. */
export interface InspectPlan {
  id: string;
  run: RunDetail;
  imageIds: number[];
  files: string[];
  /** Files left out before predicting (missing, not images, unreadable). */
  skipped: InspectSkip[];
  /** Anomaly model: the classifier naming NG images' defect types (null: none); undefined for classifiers. */
  typeRun: Inspection['typeRun'];
  /** Test-time augmentation for the model's predictions (always false for anomaly models). */
  tta: boolean;
  /** Asked for; left out = the model's own. */
  threshold: number | undefined;
}

export interface InspectTaskDeps {
  models: InspectModels;
  /** Names and labels of catalog images (the open project's catalog). */
  libraryImages: (ids: readonly number[]) => Map<number, InspectedImage>;
}

type Target = { imageId: number } | { path: string };

export async function runInspection(ctx: TaskContext, plan: InspectPlan, d: InspectTaskDeps): Promise<Inspection> {
  const { id, run, imageIds, files, typeRun } = plan;
  const started = Date.now();
  const classes = run.classInfo;
  const known = d.libraryImages(imageIds);
  const targets: Target[] = [...imageIds.map((i) => ({ imageId: i })), ...files.map((p) => ({ path: p }))];
  const total = targets.length;
  let modelThreshold: number | null = null;
  const items: InspectItem[] = [];
  const skip: InspectSkip[] = [...plan.skipped];
  const toItems = ([res, typeRes]: [PredictResult, PredictResult | null], part: Target[]): void => {
    modelThreshold = res.threshold;
    res.predictions.forEach((p, k) => {
      const typeProbabilities = typeRes?.predictions[k]?.probabilities;
      const target = part[k]!;
      const index = items.length;
      const path = 'path' in target ? target.path : null;
      const imageId = 'imageId' in target ? target.imageId : null;
      const image = imageId !== null ? known.get(imageId) : undefined;
      items.push({
        index,
        imageId,
        path,
        name: path ? basename(path) : (image?.name ?? `#${imageId}`),
        media: path ? { kind: 'file', id: `${id}/${index}` } : { kind: 'thumb', id: String(imageId) },
        labelKey: image?.labelKey ?? null,
        predicted: p.predicted,
        predictedKey: p.predictedKey,
        confidence: p.probabilities[p.predicted] ?? 0,
        probabilities: p.probabilities,
        defectScore: defectScore(classes, p.probabilities),
        verdict: 'ok',
        ...(typeProbabilities ? { typeProbabilities } : {}),
      });
    });
  };
  // Anomaly models have no views to average: they are asked as before, without the option.
  const own = run.task === 'anomaly' ? {} : { tta: plan.tta };
  const predictPart = async (part: Target[]): Promise<[PredictResult, PredictResult | null]> => {
    const which = {
      imageIds: part.flatMap((x) => ('imageId' in x ? [x.imageId] : [])),
      paths: part.flatMap((x) => ('path' in x ? [x.path] : [])),
    };
    const res = await d.models.predict(which, run.id, ctx.signal, own);
    // The type classifier looks at the same images (every one: a threshold moved later may make any NG).
    return [res, typeRun ? await d.models.predict(which, typeRun.id, ctx.signal) : null];
  };
  ctx.progress(0, total, 'images');
  let partial = false;
  try {
    for (let i = 0; i < targets.length; i += CHUNK) {
      ctx.throwIfCancelled();
      const chunk = targets.slice(i, i + CHUNK);
      const groups = [chunk.filter((x) => 'imageId' in x), chunk.filter((x) => 'path' in x)].filter((g) => g.length);
      for (const g of groups) {
        try {
          toItems(await predictPart(g), g);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          for (const one of g) {
            try {
              toItems(await predictPart([one]), [one]);
            } catch (e) {
              if (ctx.signal.aborted) throw e;
              skip.push(failureOf('path' in one ? one.path : `#${one.imageId}`, e));
            }
          }
        }
      }
      ctx.progress(Math.min(total, i + chunk.length), total, 'images');
    }
  } catch (err) {
    if (!ctx.signal.aborted && (err as Error).name !== 'CancelledError') throw err;
    partial = true;
  }
  const elapsedMs = Date.now() - started;
  const threshold = plan.threshold ?? modelThreshold ?? (classes.some((c) => c.isOk) && classes.length === 2 ? 0.5 : null);
  const ins: Inspection = {
    id,
    runId: run.id,
    runName: run.name,
    task: run.task,
    classes,
    threshold,
    modelThreshold,
    tta: plan.tta,
    items,
    skipped: skip,
    createdAt: new Date(started).toISOString(),
    elapsedMs,
    imagesPerSecond: elapsedMs > 0 ? items.length / (elapsedMs / 1000) : 0,
    partial,
    ...(run.task === 'anomaly' ? { typeRun } : {}),
  };
  return applyThreshold(ins, threshold);
}
