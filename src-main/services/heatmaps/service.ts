/**
 * Main side of heatmaps: decides which maps a request needs and computes the missing ones in the engine (job
 * 'heatmaps') as a cancellable task (compute.ts: cached on disk, scored against the catalog's defect regions),
 * reads them back as gallery pages and score tables (gallery.ts), serves them as media kind 'heatmap' and exports
 * PNGs / contact sheets.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { NotFoundError, ValidationError } from '../../shared/errors.ts';
import type {
  ColormapName,
  GalleryPage,
  GalleryQuery,
  HeatmapExportOptions,
  HeatmapMethod,
  HeatmapRequest,
  HeatmapSplit,
  ScoreTable,
} from '../../shared/heatmap-types.ts';
import type { TaskSnapshot } from '../../shared/types.ts';
import { openStoredImage } from '../library/dataset.ts';
import { clearRunHeatmaps } from '../db/repos/heatmaps.ts';
import { imageSha } from '../db/repos/image-lookups.ts';
import * as runs from '../db/repos/runs.ts';
import type { EngineService } from '../engine/engine-service.ts';
import type { EventBus } from '../events.ts';
import { checkTarget, writeFileAtomic } from '../export-file.ts';
import type { MediaFile, MediaRegistry } from '../media-registry.ts';
import type { TrainingService } from '../training/training-service.ts';
import type { ProjectManager } from '../projects/project-manager.ts';
import type { Project } from '../projects/project.ts';
import type { TaskManager } from '../tasks/task-manager.ts';
import { HeatmapCache, paramsFromKey, parseMediaId, runFingerprint, type HeatmapKey } from './cache.ts';
import { HeatmapComputer } from './compute.ts';
import { METHOD_NAMES, planContactSheet } from './contact-sheet.ts';
import { galleryPage, scoreTable } from './gallery.ts';
import { normaliseFor, type Grid } from './grid.ts';
import { contactSheet, overlayRgb, pngOf, rgbOf, withLegend, type RgbImage } from './render.ts';
import { checkMethods, checkParams, classIndexOf, runInfoOf, type RunInfo } from './run-info.ts';

export interface HeatmapServiceDeps {
  projects: ProjectManager;
  tasks: TaskManager;
  events: EventBus;
  media: MediaRegistry;
  engine: EngineService;
  /** Where a run's model folder is (the active model's when no run is named). */
  training: Pick<TrainingService, 'modelDir'>;
}

export class HeatmapService {
  private readonly projects: ProjectManager;
  private readonly tasks: TaskManager;
  private readonly events: EventBus;
  private readonly training: Pick<TrainingService, 'modelDir'>;
  private readonly computer: HeatmapComputer;
  private caches = new WeakMap<Project, HeatmapCache>();

  constructor(deps: HeatmapServiceDeps) {
    this.projects = deps.projects;
    this.tasks = deps.tasks;
    this.events = deps.events;
    this.training = deps.training;
    this.computer = new HeatmapComputer({ projects: deps.projects, events: deps.events, engine: deps.engine });
    deps.media.register('heatmap', (id, params) => this.mediaFile(id, params));
    this.projects.onClose(() => {
      for (const t of this.tasks.list())
        if (t.kind === 'heatmaps' && (t.state === 'running' || t.state === 'queued')) this.tasks.cancel(t.id);
    });
    // A deleted run's maps go with it (its scores go by ON DELETE CASCADE).
    this.events.on('trainingRun', (e) => {
      const p = this.projects.project;
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

  /** A run's facts for its maps; also tells the cache which model version the run's maps belong to. */
  private run(p: Project, runId: number): RunInfo {
    const d = runs.getRunDetail(p.db, runId);
    const { dir } = this.training.modelDir(runId);
    this.cache(p).setRun(runId, runFingerprint(d.createdAt, d.modelDir));
    return runInfoOf(p.db, d, dir);
  }

  // ------------------------------------------------------------------ compute

  /** Starts the heatmaps task. */
  start(req: HeatmapRequest): TaskSnapshot {
    const p = this.projects.require();
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
    if (Array.isArray(classSpec)) classSpec.forEach((k) => classIndexOf(run, k));
    const title = `Heatmaps: ${methods.join(' + ')} (${entries.length} image${entries.length === 1 ? '' : 's'})`;
    return this.tasks.start(
      'heatmaps',
      title,
      (ctx) => this.computer.runTask(ctx, p, this.cache(p), run, entries, methods, classSpec, params),
      {
        queue: 'heatmaps',
        what: { kind: 'heatmaps', methods, images: entries.length },
      },
    );
  }

  // ------------------------------------------------------------------ gallery and scores

  gallery(q: GalleryQuery): GalleryPage {
    const p = this.projects.require();
    const run = this.run(p, Number(q.runId));
    return galleryPage(p.db, run, this.cache(p), q);
  }

  scores(runId: number, opts: { split?: HeatmapSplit | 'all'; methods?: HeatmapMethod[] } = {}): ScoreTable {
    const p = this.projects.require();
    return scoreTable(p.db, this.run(p, Number(runId)), opts);
  }

  clear(runId: number): void {
    const p = this.projects.require();
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
      const sha = e?.sha256 ?? imageSha(p.db, k.imageId);
      if (!sha) throw new NotFoundError(`Image ${k.imageId} is not in the catalog.`);
      await this.computer.computeMaps(
        p,
        this.cache(p),
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
    const p = this.projects.require();
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
    const p = this.projects.require();
    if (!fileIn?.trim()) throw new ValidationError('Choose a file to export the heatmap to.');
    const file = resolve(fileIn.endsWith('.png') ? fileIn : `${fileIn}.png`);
    checkTarget(file, opts.overwrite);
    const colormap = opts.colormap ?? 'turbo';
    const { img, title } = await this.picture(p, mediaId, { colormap, opacity: opts.opacity ?? 0.5 });
    writeFileAtomic(file, await withLegend(img, colormap, title), { overwrite: opts.overwrite });
    return { path: file };
  }

  async exportContactSheet(q: GalleryQuery, fileIn: string, opts: HeatmapExportOptions = {}): Promise<{ path: string; images: number }> {
    const p = this.projects.require();
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
