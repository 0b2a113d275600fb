/** Reading a run's maps back: the gallery pages and the score table (what is cached and stored; nothing computed). */
import type {
  GalleryItem,
  GalleryPage,
  GalleryQuery,
  HeatmapMethod,
  HeatmapRef,
  HeatmapSplit,
  ScoreRow,
  ScoreTable,
} from '../../shared/heatmap-types.ts';
import { HEATMAP_METHODS } from '../../shared/heatmap-types.ts';
import type { Db } from '../db/open.ts';
import { listPredictions, listScores } from '../db/repos/heatmaps.ts';
import { imageSizes } from '../db/repos/image-lookups.ts';
import { listRegionBoxes } from '../db/repos/regions.ts';
import { mediaIdOf, paramsKeyOf, type HeatmapCache, type HeatmapKey } from './cache.ts';
import { checkMethods, checkParams, classIndexOf, type RunInfo } from './run-info.ts';
import { aggregateScores, POINTING_TOLERANCE_PX } from './scoring.ts';

/** One page of a run's gallery: its images filtered as asked, each with the maps cached for it and their scores. */
export function galleryPage(db: Db, run: RunInfo, cache: HeatmapCache, q: GalleryQuery): GalleryPage {
  const methods = checkMethods(q.methods ?? ['cam', 'smoothgrad']);
  const params = checkParams(q.params);
  const preds = listPredictions(db, run.runId);
  const scores = new Map(
    listScores(db, run.runId).map((r) => [
      `${r.imageId}|${r.method}|${r.classKey}|${r.paramsKey}`,
      { pointing: r.pointing, energy: r.energy, area: r.area },
    ]),
  );
  const split = q.split ?? 'all';
  let list = run.snapshot.filter((e) => split === 'all' || e.split === split);
  if (q.trueLabel) list = list.filter((e) => e.label === q.trueLabel || run.classes[e.classIndex]?.key === q.trueLabel);
  let unscored = 0;
  const enriched = list.map((e) => {
    const pr = preds.get(e.imageId) ?? null;
    if (!pr) unscored++;
    const predictedKey = pr ? run.classes[pr.predicted]!.key : null;
    return { e, pr, predictedKey, correct: pr ? pr.predicted === e.classIndex : null };
  });
  let filtered = enriched;
  if (q.predictedLabel) filtered = filtered.filter((x) => x.predictedKey === q.predictedLabel);
  if (q.correct !== undefined && q.correct !== null) filtered = filtered.filter((x) => x.correct === q.correct);
  if (q.minConfidence !== undefined) filtered = filtered.filter((x) => x.pr && x.pr.confidence >= q.minConfidence!);
  if (q.maxConfidence !== undefined) filtered = filtered.filter((x) => x.pr && x.pr.confidence <= q.maxConfidence!);
  const offset = Math.max(0, q.offset ?? 0);
  const limit = Math.max(1, Math.min(500, q.limit ?? 48));
  const page = filtered.slice(offset, offset + limit);
  const rows = imageSizes(
    db,
    page.map((x) => x.e.imageId),
  );
  const items: GalleryItem[] = page.map(({ e, pr, predictedKey, correct }) => {
    const row = rows.get(e.imageId);
    const cls =
      run.task === 'anomaly'
        ? run.classes.findIndex((c) => !c.isOk)
        : q.classKey === undefined || q.classKey === 'label'
          ? e.classIndex
          : q.classKey === 'predicted'
            ? (pr?.predicted ?? -1)
            : classIndexOf(run, q.classKey);
    const maps: HeatmapRef[] = [];
    if (cls >= 0) {
      for (const method of methods) {
        const k: HeatmapKey = { runId: run.runId, imageId: e.imageId, method, classIndex: cls, paramsKey: paramsKeyOf(method, params) };
        if (!cache.has(k)) continue;
        const classKey = run.classes[cls]!.key;
        maps.push({
          method,
          classKey,
          mediaId: mediaIdOf(k),
          score: scores.get(`${e.imageId}|${method}|${classKey}|${k.paramsKey}`) ?? null,
        });
      }
    }
    return {
      imageId: e.imageId,
      fileName: row?.name ?? String(e.imageId),
      split: e.split,
      trueLabel: e.label,
      predictedLabel: predictedKey,
      confidence: pr?.confidence ?? null,
      probabilities: pr?.probabilities ?? null,
      correct,
      width: row?.width ?? 0,
      height: row?.height ?? 0,
      regions: listRegionBoxes(db, e.imageId),
      maps,
    };
  });
  return { runId: run.runId, classes: run.classes, total: filtered.length, unscored, items };
}

/** A run's localisation scores per method, parameters and class (and over all classes, key '*'). */
export function scoreTable(db: Db, run: RunInfo, opts: { split?: HeatmapSplit | 'all'; methods?: HeatmapMethod[] } = {}): ScoreTable {
  const splitOf = new Map(run.snapshot.map((e) => [e.imageId, e.split]));
  const methods = opts.methods ? checkMethods(opts.methods) : null;
  const labelOf = new Map(run.snapshot.map((e) => [e.imageId, e.label]));
  const rows = listScores(db, run.runId);
  const groups = new Map<
    string,
    { method: HeatmapMethod; paramsKey: string; classKey: string; list: { pointing: boolean; energy: number; area: number }[] }
  >();
  for (const r of rows) {
    const method = r.method as HeatmapMethod;
    if (opts.split && opts.split !== 'all' && splitOf.get(r.imageId) !== opts.split) continue;
    if (methods && !methods.includes(method)) continue;
    const label = run.task !== 'multiclass' ? (labelOf.get(r.imageId) ?? r.classKey) : r.classKey;
    for (const key of [`${method}|${r.paramsKey}|${label}`, `${method}|${r.paramsKey}|*`]) {
      const g = groups.get(key) ?? { method, paramsKey: r.paramsKey, classKey: key.endsWith('|*') ? '*' : label, list: [] };
      g.list.push({ pointing: r.pointing, energy: r.energy, area: r.area });
      groups.set(key, g);
    }
  }
  const order = (m: string) => HEATMAP_METHODS.indexOf(m as HeatmapMethod);
  const out: ScoreRow[] = [...groups.values()]
    .map((g) => ({ method: g.method, paramsKey: g.paramsKey, classKey: g.classKey, ...aggregateScores(g.list) }))
    .sort(
      (a, b) =>
        order(a.method) - order(b.method) ||
        a.paramsKey.localeCompare(b.paramsKey) ||
        (a.classKey === '*' ? 1 : b.classKey === '*' ? -1 : a.classKey.localeCompare(b.classKey)),
    );
  return { runId: run.runId, tolerance: POINTING_TOLERANCE_PX, rows: out };
}
