/**
 * Main side of heatmaps: decides which maps a request needs, computes the missing ones in the engine (job
 * 'heatmaps') as a cancellable task, caches them on disk, scores them against the catalog's defect regions
 * (migration 004), serves them as media kind 'heatmap' and exports PNGs / contact sheets.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { NotFoundError, ValidationError } from '../../shared/errors.ts';
import type {
  ColormapName,
  GalleryItem,
  GalleryPage,
  GalleryQuery,
  HeatmapExportOptions,
  HeatmapMethod,
  HeatmapParams,
  HeatmapRef,
  HeatmapRequest,
  HeatmapScore,
  HeatmapSplit,
  ScoreRow,
  ScoreTable,
} from '../../shared/heatmap-types.ts';
import { HEATMAP_METHODS } from '../../shared/heatmap-types.ts';
import type { ClassInfo, TrainingTaskKind } from '../../shared/training-types.ts';
import type { TaskSnapshot } from '../../shared/types.ts';
import { listDatasetSamples, openStoredImage, regionMask } from '../catalog/dataset.ts';
import { listTypes } from '../db/repos/defect-types.ts';
import { clearRunHeatmaps, listPredictions, listScores, upsertPrediction, upsertScore } from '../db/repos/heatmaps.ts';
import { listRegionBoxes } from '../db/repos/regions.ts';
import * as runs from '../db/repos/runs.ts';
import type { EngineSample } from '../ml/data/source.ts';
import { gridToOriginal, resizeOfModel } from '../ml/data/geometry.ts';
import { readModelInfo } from '../ml/model/saved-model.ts';
import type { HeatmapJobRequest } from '../../engine/jobs/heatmaps.ts';
import { checkTarget, writeFileAtomic } from '../export-file.ts';
import { trainingService } from '../ml/training-service.ts';
import type { Project } from '../projects/project.ts';
import type { MediaFile, Services } from '../services.ts';
import type { TaskContext } from '../tasks/task-manager.ts';
import { HeatmapCache, mediaIdOf, paramsFromKey, paramsKeyOf, parseMediaId, runFingerprint, type HeatmapKey } from './cache.ts';
import { normaliseFor, resizeBilinear, type Grid } from './grid.ts';
import { contactSheet, overlayRgb, pngOf, rgbOf, withLegend, type RgbImage } from './render.ts';
import { METHOD_NAMES, planContactSheet } from './contact-sheet.ts';
import { aggregateScores, scoreMap } from './scoring.ts';

/** Pointing-game tolerance, in pixels of the original image. */
export const POINTING_TOLERANCE_PX = 4;

interface RunInfo {
  runId: number;
  modelDir: string;
  classes: ClassInfo[];
  task: TrainingTaskKind;
  snapshot: { imageId: number; sha256: string; label: string; classIndex: number; split: HeatmapSplit }[];
}

interface ImageRow {
  id: number;
  width: number;
  height: number;
  original_name: string;
}

function checkMethods(m: unknown): HeatmapMethod[] {
  const list = Array.isArray(m) ? m : [m];
  for (const x of list)
    if (!(HEATMAP_METHODS as readonly string[]).includes(x as string))
      throw new ValidationError(
        `Unknown heatmap method "${String(x)}". Choose cam, gradcam, saliency, smoothgrad or (anomaly runs) anomaly.`,
      );
  return list as HeatmapMethod[];
}

function checkParams(p: HeatmapParams | undefined): HeatmapParams {
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

export class HeatmapService {
  private readonly s: Services;
  private caches = new WeakMap<Project, HeatmapCache>();

  constructor(s: Services) {
    this.s = s;
    s.registerMedia('heatmap', (id, params) => this.mediaFile(id, params));
    s.projects.onClose(() => {
      for (const t of s.tasks.list()) if (t.kind === 'heatmaps' && (t.state === 'running' || t.state === 'queued')) s.tasks.cancel(t.id);
    });
    // A deleted run's maps go with it (its scores go by ON DELETE CASCADE).
    s.events.on('trainingRun', (e) => {
      const p = s.projects.project;
      if (e.status !== 'deleted' || !p) return;
      const root = this.cache(p).root;
      if (!existsSync(root)) return;
      for (const d of readdirSync(root)) if (d.startsWith(`run-${e.runId}-`)) rmSync(join(root, d), { recursive: true, force: true });
    });
  }

  private cache(p: Project): HeatmapCache {
    let c = this.caches.get(p);
    if (!c) {
      c = new HeatmapCache(p.paths.cache);
      this.caches.set(p, c);
    }
    return c;
  }

  private run(p: Project, runId: number): RunInfo {
    const d = runs.getRunDetail(p.db, runId);
    const { dir } = trainingService(this.s).modelDir(runId);
    this.cache(p).setRun(runId, runFingerprint(d.createdAt, d.modelDir));
    let snapshot: RunInfo['snapshot'] = runs.getRunSnapshot(p.db, runId).filter((e) => e.imageId > 0);
    if (!snapshot.length) {
      // Imported models carry no dataset snapshot: use the catalog's labelled images the model has a class for.
      const keys = d.classInfo.map((c) => c.key);
      const okIdx = d.classInfo.findIndex((c) => c.isOk);
      const okKeys = new Set(
        listTypes(p.db)
          .filter((t) => t.isOk)
          .map((t) => t.key),
      );
      snapshot = listDatasetSamples(p.db).flatMap((x) => {
        const ci = d.task !== 'multiclass' ? (okKeys.has(x.label) ? okIdx : 1 - Math.max(0, okIdx)) : keys.indexOf(x.label);
        return ci < 0 ? [] : [{ imageId: x.imageId, sha256: x.sha256, label: x.label, classIndex: ci, split: x.split as HeatmapSplit }];
      });
    }
    return { runId, modelDir: dir, classes: d.classInfo, task: d.task, snapshot };
  }

  private classIndexOf(run: RunInfo, key: string): number {
    const i = run.classes.findIndex((c) => c.key === key);
    if (i < 0) throw new ValidationError(`Run ${run.runId} has no class "${key}" (classes: ${run.classes.map((c) => c.key).join(', ')}).`);
    return i;
  }

  private imageRows(p: Project, ids: number[]): Map<number, ImageRow> {
    const out = new Map<number, ImageRow>();
    for (let k = 0; k < ids.length; k += 500) {
      const chunk = ids.slice(k, k + 500);
      const rows = p.db
        .prepare(`SELECT id, width, height, original_name FROM images WHERE id IN (${chunk.map(() => '?').join(',')})`)
        .all(...chunk) as ImageRow[];
      for (const r of rows) out.set(r.id, r);
    }
    return out;
  }

  // ------------------------------------------------------------------ compute

  /** Starts the heatmaps task. */
  start(req: HeatmapRequest): TaskSnapshot {
    const p = this.s.projects.require();
    const run = this.run(p, Number(req.runId));
    const methods = checkMethods(req.methods);
    const params = checkParams(req.params);
    const splits = new Set(req.splits ?? ['train', 'val', 'test']);
    const labels = req.labels ? new Set(req.labels) : null;
    let entries = run.snapshot.filter((e) => splits.has(e.split) && (!labels || labels.has(e.label)));
    if (req.imageIds) {
      const want = new Set(req.imageIds.map(Number));
      entries = run.snapshot.filter((e) => want.has(e.imageId));
      const missing = [...want].filter((id) => !entries.some((e) => e.imageId === id));
      if (missing.length) throw new NotFoundError(`Images ${missing.slice(0, 5).join(', ')} are not in run ${run.runId}'s dataset.`);
    }
    if (!entries.length) throw new ValidationError('No images match: choose another split or label.');
    // An anomaly model has one map per image (distance to the good parts), kept on its defect class.
    const anomalyClass = run.task === 'anomaly' ? run.classes.find((c) => !c.isOk)?.key : undefined;
    const classSpec = anomalyClass ? [anomalyClass] : (req.classes ?? 'predicted');
    if (Array.isArray(classSpec)) classSpec.forEach((k) => this.classIndexOf(run, k));
    const title = `Heatmaps: ${methods.join(' + ')} (${entries.length} image${entries.length === 1 ? '' : 's'})`;
    return this.s.tasks.start('heatmaps', title, (ctx) => this.execute(ctx, p, run, entries, methods, classSpec, params), {
      queue: 'heatmaps',
      what: { kind: 'heatmaps', methods, images: entries.length },
    });
  }

  private async execute(
    ctx: TaskContext,
    p: Project,
    run: RunInfo,
    entries: RunInfo['snapshot'],
    methods: HeatmapMethod[],
    classSpec: HeatmapRequest['classes'],
    params: HeatmapParams,
  ): Promise<{ computed: number; cached: number }> {
    // Group images by the class list they need, so one engine job serves each group.
    const groups = new Map<string, { classes: (number | null)[]; entries: RunInfo['snapshot'] }>();
    for (const e of entries) {
      const classes: (number | null)[] =
        classSpec === 'predicted'
          ? [null]
          : classSpec === 'label'
            ? [e.classIndex]
            : classSpec === 'all'
              ? run.classes.map((_, i) => i)
              : classSpec.map((k) => this.classIndexOf(run, k));
      const key = classes.join(',');
      const g = groups.get(key) ?? { classes, entries: [] };
      g.entries.push(e);
      groups.set(key, g);
    }
    const predicted = listPredictions(p.db, run.runId);
    const cache = this.cache(p);
    if (methods.some((m) => m !== 'cam' && m !== 'anomaly')) {
      const { backends } = await trainingService(this.s).engine.ensureStarted();
      ctx.update({
        message:
          backends.training === backends.inference
            ? `Gradient maps on ${backends.training}`
            : `Gradient maps on ${backends.training} (the ${backends.inference} backend has no gradient kernels here; slower)`,
        step: { kind: 'gradient-backend', training: backends.training, inference: backends.inference },
      });
    }
    let cached = 0;
    let computed = 0;
    const total = entries.length * methods.length;
    let done = 0;
    ctx.progress(0, total, 'maps');
    for (const g of groups.values()) {
      for (const method of methods) {
        const paramsKey = paramsKeyOf(method, params);
        // Skip images whose maps are all cached (predicted class: needs a stored prediction).
        const todo = g.entries.filter((e) => {
          const cls = g.classes.map((c) => c ?? predicted.get(e.imageId)?.predicted ?? -1);
          const hit = cls.every((c) => c >= 0 && cache.has({ runId: run.runId, imageId: e.imageId, method, classIndex: c, paramsKey }));
          if (hit) cached++;
          return !hit;
        });
        done += g.entries.length - todo.length;
        ctx.progress(done, total, 'maps');
        if (!todo.length) continue;
        const seen = new Set<number>();
        await this.computeMaps(p, run, todo, { method, classes: g.classes, ...params }, ctx.signal, (imageId, mediaId, classKey) => {
          computed++;
          if (!seen.has(imageId)) {
            seen.add(imageId);
            done++;
            ctx.progress(done, total, 'maps');
          }
          this.s.events.emit('heatmapReady', { runId: run.runId, imageId, method, classKey, mediaId, taskId: ctx.id });
        });
      }
    }
    return { computed, cached };
  }

  /** Runs the engine over some images and stores maps, predictions and scores; calls onMap per map stored. */
  private async computeMaps(
    p: Project,
    run: RunInfo,
    entries: { imageId: number; sha256: string; split: HeatmapSplit }[],
    req: HeatmapJobRequest,
    signal: AbortSignal | undefined,
    onMap?: (imageId: number, mediaId: string, classKey: string) => void,
  ): Promise<void> {
    const engine = trainingService(this.s).engine;
    const cache = this.cache(p);
    const rows = this.imageRows(
      p,
      entries.map((e) => e.imageId),
    );
    const samples: EngineSample[] = entries.map((e) => ({ id: e.imageId, key: e.sha256, label: -1, split: e.split }));
    const paramsKey = paramsKeyOf(req.method, {
      ...(req.n !== undefined ? { n: req.n } : {}),
      ...(req.sigma !== undefined ? { sigma: req.sigma } : {}),
      ...(req.layer ? { layer: req.layer } : {}),
    });
    const stillOpen = () => this.s.projects.project === p;
    const resize = resizeOfModel(readModelInfo(run.modelDir));
    await engine.run(
      'heatmaps',
      { modelDir: run.modelDir, samples, source: { kind: 'catalog', projectDir: p.dir }, requests: [req] },
      {
        ...(signal ? { signal } : {}),
        onEvent: (e) => {
          if (e.kind !== 'map' || !stillOpen()) return;
          const k: HeatmapKey = { runId: run.runId, imageId: e.imageId, method: e.method, classIndex: e.classIndex, paramsKey };
          const row = rows.get(e.imageId);
          // Letterboxed models: the map is put back in the photo's own shape before it is stored and scored.
          const raw: Grid = { width: e.width, height: e.height, data: e.data };
          const grid: Grid = row ? gridToOriginal(resize, row.width, row.height, raw) : raw;
          cache.write(k, grid, e.probabilities);
          upsertPrediction(p.db, run.runId, e.imageId, e.probabilities);
          const classKey = run.classes[e.classIndex]!.key;
          if (row) this.storeScore(p, run, k, classKey, grid, row);
          onMap?.(e.imageId, mediaIdOf(k), classKey);
        },
      },
    );
  }

  /** Scores a map against the image's regions of its class (binary 'defect': any region); none for OK classes. */
  private storeScore(p: Project, run: RunInfo, k: HeatmapKey, classKey: string, grid: Grid, row: ImageRow): HeatmapScore | null {
    const cls = run.classes[k.classIndex]!;
    if (cls.isOk) return null;
    const key = run.task === 'binary' || run.task === 'anomaly' ? undefined : classKey;
    const mask = regionMask(p.db, k.imageId, row.width, row.height, key);
    const up = resizeBilinear(normaliseFor(k.method, grid), row.width, row.height);
    const s = scoreMap(up, mask, POINTING_TOLERANCE_PX);
    if (!s) return null;
    const score = { pointing: s.pointing, energy: s.energy, area: s.area };
    upsertScore(p.db, k.runId, { imageId: k.imageId, method: k.method, classKey, paramsKey: k.paramsKey, ...score });
    return score;
  }

  // ------------------------------------------------------------------ gallery and scores

  gallery(q: GalleryQuery): GalleryPage {
    const p = this.s.projects.require();
    const run = this.run(p, Number(q.runId));
    const methods = checkMethods(q.methods ?? ['cam', 'smoothgrad']);
    const params = checkParams(q.params);
    const preds = listPredictions(p.db, run.runId);
    const cache = this.cache(p);
    const scores = new Map(
      listScores(p.db, run.runId).map((r) => [
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
    const rows = this.imageRows(
      p,
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
              : this.classIndexOf(run, q.classKey);
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
        fileName: row?.original_name ?? String(e.imageId),
        split: e.split,
        trueLabel: e.label,
        predictedLabel: predictedKey,
        confidence: pr?.confidence ?? null,
        probabilities: pr?.probabilities ?? null,
        correct,
        width: row?.width ?? 0,
        height: row?.height ?? 0,
        regions: listRegionBoxes(p.db, e.imageId),
        maps,
      };
    });
    return { runId: run.runId, classes: run.classes, total: filtered.length, unscored, items };
  }

  scores(runId: number, opts: { split?: HeatmapSplit | 'all'; methods?: HeatmapMethod[] } = {}): ScoreTable {
    const p = this.s.projects.require();
    const run = this.run(p, Number(runId));
    const splitOf = new Map(run.snapshot.map((e) => [e.imageId, e.split]));
    const methods = opts.methods ? checkMethods(opts.methods) : null;
    const labelOf = new Map(run.snapshot.map((e) => [e.imageId, e.label]));
    const rows = listScores(p.db, run.runId);
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

  clear(runId: number): void {
    const p = this.s.projects.require();
    this.run(p, Number(runId));
    rmSync(this.cache(p).runDir(runId), { recursive: true, force: true });
    clearRunHeatmaps(p.db, runId);
  }

  // ------------------------------------------------------------------ pictures

  /** The map of a media id, computed on demand when it is not cached yet. */
  private async mapOf(
    p: Project,
    id: string,
    signal?: AbortSignal,
  ): Promise<{ k: HeatmapKey; run: RunInfo; map: Grid; probabilities: number[] }> {
    const k = parseMediaId(id);
    if (!k) throw new NotFoundError(`No heatmap ${id}`);
    const run = this.run(p, k.runId);
    if (!run.classes[k.classIndex]) throw new NotFoundError(`Run ${k.runId} has no class ${k.classIndex}`);
    let hit = this.cache(p).read(k);
    if (!hit) {
      const e = run.snapshot.find((x) => x.imageId === k.imageId);
      const sha =
        e?.sha256 ?? (p.db.prepare('SELECT sha256 FROM images WHERE id = ?').get(k.imageId) as { sha256: string } | undefined)?.sha256;
      if (!sha) throw new NotFoundError(`Image ${k.imageId} is not in the catalog.`);
      await this.computeMaps(
        p,
        run,
        [{ imageId: k.imageId, sha256: sha, split: e?.split ?? 'test' }],
        { method: k.method, classes: [k.classIndex], ...paramsFromKey(k.method, k.paramsKey) },
        signal,
      );
      hit = this.cache(p).read(k);
      if (!hit) throw new NotFoundError(`Heatmap ${id} could not be computed.`);
    }
    return { k, run, map: hit.map, probabilities: hit.probabilities };
  }

  private async picture(
    p: Project,
    id: string,
    opts: { colormap: ColormapName; opacity: number; maxSide?: number },
  ): Promise<{ img: RgbImage; title: string; k: HeatmapKey }> {
    const { k, run, map } = await this.mapOf(p, id);
    const base = await rgbOf(await openStoredImage(p, k.imageId), opts.maxSide);
    const img = overlayRgb(base, normaliseFor(k.method, map), opts.colormap, opts.opacity);
    return { img, title: `${METHOD_NAMES[k.method]} · ${run.classes[k.classIndex]!.key}`, k };
  }

  private async mediaFile(id: string, params: Record<string, string>): Promise<MediaFile> {
    const p = this.s.projects.require();
    const colormap = (['turbo', 'jet', 'grey'].includes(params.colormap ?? '') ? params.colormap : 'turbo') as ColormapName;
    const opacity = params.mode === 'map' ? 1 : Math.max(0, Math.min(1, Number(params.opacity ?? 0.5) || 0));
    const k = parseMediaId(id);
    if (!k) throw new NotFoundError(`No heatmap ${id}`);
    this.run(p, k.runId);
    const file = this.cache(p).file(k, `${colormap}-${Math.round(opacity * 100)}.png`);
    if (!existsSync(file)) {
      const { img } = await this.picture(p, id, { colormap, opacity });
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, await pngOf(img));
    }
    return { path: file, mime: 'image/png' };
  }

  async exportPng(mediaId: string, fileIn: string, opts: HeatmapExportOptions = {}): Promise<{ path: string }> {
    const p = this.s.projects.require();
    if (!fileIn?.trim()) throw new ValidationError('Choose a file to export the heatmap to.');
    const file = resolve(fileIn.endsWith('.png') ? fileIn : `${fileIn}.png`);
    checkTarget(file, opts.overwrite);
    const colormap = opts.colormap ?? 'turbo';
    const { img, title } = await this.picture(p, mediaId, { colormap, opacity: opts.opacity ?? 0.5 });
    writeFileAtomic(file, await withLegend(img, colormap, title), { overwrite: opts.overwrite });
    return { path: file };
  }

  async exportContactSheet(q: GalleryQuery, fileIn: string, opts: HeatmapExportOptions = {}): Promise<{ path: string; images: number }> {
    const p = this.s.projects.require();
    if (!fileIn?.trim()) throw new ValidationError('Choose a file to export the contact sheet to.');
    const file = resolve(fileIn.endsWith('.png') ? fileIn : `${fileIn}.png`);
    checkTarget(file, opts.overwrite);
    const page = this.gallery({ ...q, limit: Math.min(q.limit ?? 24, 100) });
    const colormap = opts.colormap ?? 'turbo';
    const methods = q.methods ?? ['cam', 'smoothgrad'];
    const runOf = (id: number) => ({ id, name: runs.getRunDetail(p.db, id).name });
    // Compare mode: the first method of each run side by side, the compare run's maps found by image id.
    const cmp = opts.compare && Number(opts.compare.runId) !== page.runId ? opts.compare : null;
    const plan = planContactSheet(
      runOf(page.runId),
      page.items,
      methods,
      q,
      cmp
        ? {
            run: runOf(Number(cmp.runId)),
            method: methods[0] ?? 'cam',
            items: new Map(
              this.gallery({ ...cmp, runId: Number(cmp.runId), methods: [methods[0] ?? 'cam'], offset: 0, limit: 500 }).items.map((i) => [
                i.imageId,
                i,
              ]),
            ),
          }
        : null,
    );
    const rows = [];
    for (const r of plan.rows) {
      const tiles: (RgbImage | null)[] = [await rgbOf(await openStoredImage(p, r.item.imageId), 256)];
      for (const c of r.cells)
        tiles.push(c.ref ? (await this.picture(p, c.ref.mediaId, { colormap, opacity: opts.opacity ?? 0.5, maxSide: 256 })).img : null);
      rows.push({ caption: r.caption, tiles, boxes: r.item.regions, frame: { width: r.item.width, height: r.item.height } });
    }
    const png = await contactSheet(rows, { tile: 160, colormap, title: plan.title, columns: plan.columns });
    writeFileAtomic(file, png, { overwrite: opts.overwrite });
    return { path: file, images: rows.length };
  }
}

const services = new WeakMap<Services, HeatmapService>();

/** The one HeatmapService of a Services instance (registers the 'heatmap' media kind on creation). */
export function heatmapService(s: Services): HeatmapService {
  let h = services.get(s);
  if (!h) {
    h = new HeatmapService(s);
    services.set(s, h);
  }
  return h;
}
