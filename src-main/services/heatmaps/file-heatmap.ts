/**
 * Heatmaps of photos that are not in the library (Inspect given files or folders): the engine's heatmap job maps the
 * file's pixels (source 'files'), the overlay is drawn on the file's own pixels and cached as a PNG in the project's
 * cache folder (cache/inspect/heatmaps). Callers pass a path they hold themselves (Inspect's per-project store of
 * inspections): nothing here takes a path from the client.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptImageError, NotFoundError, UnsupportedImageError } from '../../shared/errors.ts';
import type { ColormapName, HeatmapMethod } from '../../shared/heatmap-types.ts';
import type { ImageFormat } from '../../shared/library-types.ts';
import { openImageBytes, sniffFormat } from '../library/imaging.ts';
import * as runs from '../db/repos/runs.ts';
import { writeFileAtomic } from '../export-file.ts';
import type { HeatmapMapEvent } from '../engine/job-types.ts';
import { gridToOriginal, resizeOfModel } from '../training/data/geometry.ts';
import { readModelInfo } from '../training/model/saved-model.ts';
import type { TrainingService } from '../training/training-service.ts';
import type { EngineService } from '../engine/engine-service.ts';
import type { MediaFile } from '../media-registry.ts';
import type { ProjectManager } from '../projects/project-manager.ts';
import { runFingerprint } from './cache.ts';
import { normaliseFor, type Grid } from './grid.ts';
import { overlayRgb, pngOf, rgbOf } from './render.ts';

export interface FileHeatmapRequest {
  runId: number;
  /** The photo (an absolute path held by the server, never one sent by the client). */
  path: string;
  /** Class mapped (CAM of a classifier); ignored by anomaly models, which have one map. */
  classIndex: number;
  colormap: ColormapName;
  /** 0..1; 1 = the map alone. */
  opacity: number;
}

const COLORMAPS: readonly ColormapName[] = ['turbo', 'jet', 'grey'];

/** Media parameters of a heatmap URL (colormap, opacity, mode=map), checked like the library's heatmap media. */
export function heatmapMediaParams(params: Record<string, string>): { colormap: ColormapName; opacity: number } {
  const colormap = (COLORMAPS as readonly string[]).includes(params.colormap ?? '') ? (params.colormap as ColormapName) : 'turbo';
  const opacity = params.mode === 'map' ? 1 : Math.max(0, Math.min(1, Number(params.opacity ?? 0.5) || 0));
  return { colormap, opacity };
}

const inFlight = new Map<string, Promise<MediaFile>>();

/** What a file heatmap needs: the open project, the run's model folder and the engine that maps the photo. */
export interface FileHeatmapDeps {
  projects: ProjectManager;
  training: Pick<TrainingService, 'modelDir'>;
  engine: EngineService;
}

/** The PNG of a photo's heatmap under a run's model (computed once per file version, run, class and look). */
export function fileHeatmap(deps: FileHeatmapDeps, req: FileHeatmapRequest): Promise<MediaFile> {
  const p = deps.projects.require();
  const detail = runs.getRunDetail(p.db, req.runId);
  const modelDir = deps.training.modelDir(req.runId).dir;
  const method: HeatmapMethod = detail.task === 'anomaly' ? 'anomaly' : 'cam';
  let st: { size: number; mtimeMs: number };
  try {
    st = statSync(req.path);
  } catch {
    throw new NotFoundError(`${req.path} is no longer there (moved or deleted?).`, { path: req.path });
  }
  const key = createHash('sha1')
    .update(
      [runFingerprint(detail.createdAt, detail.modelDir), req.path, st.size, st.mtimeMs, method, req.classIndex, req.colormap].join('|'),
    )
    .digest('hex');
  const out = join(p.paths.cache, 'inspect', 'heatmaps', `${key}-${Math.round(req.opacity * 100)}.png`);
  if (existsSync(out)) return Promise.resolve({ path: out, mime: 'image/png' });
  let job = inFlight.get(out);
  if (!job) {
    job = render(deps.engine, modelDir, method, req, out).finally(() => inFlight.delete(out));
    inFlight.set(out, job);
  }
  return job;
}

async function render(
  engine: EngineService,
  modelDir: string,
  method: HeatmapMethod,
  req: FileHeatmapRequest,
  out: string,
): Promise<MediaFile> {
  const bytes = readFileSync(req.path);
  const format = sniffFormat(bytes);
  if (format === null || format === 'other-image')
    throw new UnsupportedImageError(`${req.path} is not a JPEG, PNG, BMP or TIFF image.`, { path: req.path });
  let map: HeatmapMapEvent | null = null;
  let failure: string | null = null;
  await engine.run(
    'heatmaps',
    {
      modelDir,
      samples: [{ id: 1, key: `file:${req.path}`, label: -1, split: 'test', path: req.path }],
      source: { kind: 'files' },
      requests: [{ method, classes: [method === 'anomaly' ? null : req.classIndex] }],
    },
    {
      onEvent: (e) => {
        if (e.kind === 'map') map = e;
        else if (e.kind === 'error') failure = e.message;
      },
    },
  );
  const got = map as HeatmapMapEvent | null;
  if (!got) throw new CorruptImageError(failure ?? `No heatmap could be computed for ${req.path}.`, { path: req.path });
  const base = await rgbOf(openImageBytes(bytes, format as ImageFormat));
  // Letterboxed models: the map goes back in the photo's own shape (padding cut away).
  const grid: Grid = gridToOriginal(resizeOfModel(readModelInfo(modelDir)), base.width, base.height, {
    width: got.width,
    height: got.height,
    data: got.data,
  });
  const png = await pngOf(overlayRgb(base, normaliseFor(method, grid), req.colormap, req.opacity));
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileAtomic(out, png, { overwrite: true });
  return { path: out, mime: 'image/png' };
}
