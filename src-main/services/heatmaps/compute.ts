/**
 * Computing maps: runs the engine's heatmap job over a run's images and stores what comes back as it comes (the map
 * in the cache, put back in the photo's shape for letterboxed models; the prediction; the map's localisation score
 * against the image's defect regions).
 */
import type { HeatmapMethod, HeatmapParams, HeatmapRequest, HeatmapScore, HeatmapSplit } from '../../shared/heatmap-types.ts';
import { regionMask } from '../library/dataset.ts';
import { listPredictions, upsertPrediction, upsertScore } from '../db/repos/heatmaps.ts';
import { imageSizes, type ImageSize } from '../db/repos/image-lookups.ts';
import type { EngineService } from '../engine/engine-service.ts';
import type { HeatmapJobRequest } from '../engine/job-types.ts';
import type { EventBus } from '../events.ts';
import { gridToOriginal, resizeOfModel } from '../training/data/geometry.ts';
import type { EngineSample } from '../training/data/source.ts';
import { readModelInfo } from '../training/model/saved-model.ts';
import type { ProjectManager } from '../projects/project-manager.ts';
import type { Project } from '../projects/project.ts';
import type { TaskContext } from '../tasks/task-manager.ts';
import { mediaIdOf, paramsKeyOf, type HeatmapCache, type HeatmapKey } from './cache.ts';
import { normaliseFor, resizeBilinear, type Grid } from './grid.ts';
import { classIndexOf, type RunInfo } from './run-info.ts';
import { POINTING_TOLERANCE_PX, scoreMap } from './scoring.ts';

export interface HeatmapComputerDeps {
  projects: ProjectManager;
  events: EventBus;
  engine: EngineService;
}

export class HeatmapComputer {
  private readonly projects: ProjectManager;
  private readonly events: EventBus;
  private readonly engine: EngineService;

  constructor(deps: HeatmapComputerDeps) {
    this.projects = deps.projects;
    this.events = deps.events;
    this.engine = deps.engine;
  }

  /** The heatmaps task: the maps not cached yet, one engine job per group of images that need the same classes. */
  async runTask(
    ctx: TaskContext,
    p: Project,
    cache: HeatmapCache,
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
              : classSpec.map((k) => classIndexOf(run, k));
      const key = classes.join(',');
      const g = groups.get(key) ?? { classes, entries: [] };
      g.entries.push(e);
      groups.set(key, g);
    }
    const predicted = listPredictions(p.db, run.runId);
    if (methods.some((m) => m !== 'cam' && m !== 'anomaly')) {
      const { backends } = await this.engine.ensureStarted();
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
        await this.computeMaps(p, cache, run, todo, { method, classes: g.classes, ...params }, ctx.signal, (imageId, mediaId, classKey) => {
          computed++;
          if (!seen.has(imageId)) {
            seen.add(imageId);
            done++;
            ctx.progress(done, total, 'maps');
          }
          this.events.emit('heatmapReady', { runId: run.runId, imageId, method, classKey, mediaId, taskId: ctx.id });
        });
      }
    }
    return { computed, cached };
  }

  /** Runs the engine over some images and stores maps, predictions and scores; calls onMap per map stored. */
  async computeMaps(
    p: Project,
    cache: HeatmapCache,
    run: RunInfo,
    entries: { imageId: number; sha256: string; split: HeatmapSplit }[],
    req: HeatmapJobRequest,
    signal: AbortSignal | undefined,
    onMap?: (imageId: number, mediaId: string, classKey: string) => void,
  ): Promise<void> {
    const rows = imageSizes(
      p.db,
      entries.map((e) => e.imageId),
    );
    const samples: EngineSample[] = entries.map((e) => ({ id: e.imageId, key: e.sha256, label: -1, split: e.split }));
    const paramsKey = paramsKeyOf(req.method, {
      ...(req.n !== undefined ? { n: req.n } : {}),
      ...(req.sigma !== undefined ? { sigma: req.sigma } : {}),
      ...(req.layer ? { layer: req.layer } : {}),
    });
    const stillOpen = () => this.projects.project === p;
    const resize = resizeOfModel(readModelInfo(run.modelDir));
    await this.engine.run(
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
  private storeScore(p: Project, run: RunInfo, k: HeatmapKey, classKey: string, grid: Grid, row: ImageSize): HeatmapScore | null {
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
}
