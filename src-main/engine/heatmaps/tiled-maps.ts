/**
 * Heatmaps of a tiled classifier (resize 'tile'): every tile of a photo is mapped on its own input grid, the maps are
 * stitched back onto the photo (stitchTileMaps: where tiles overlap the larger value wins) and go out in the photo's
 * shape, so the main side scales and scores them like a squashed model's. The class mapped for "the predicted class"
 * is the photo's, decided by its worst tile, and the probabilities sent are that tile's.
 */
import * as tf from '@tensorflow/tfjs';
import type { HeatmapJobRequest, HeatmapsJobEvent, HeatmapsJobParams } from '../../services/engine/job-types.ts';
import type { SampleSource } from '../../services/training/data/source.ts';
import { stitchTileMaps, type TileGrid } from '../../services/training/data/tiles.ts';
import { worstTile } from '../../services/training/data/tile-set.ts';
import { loadClassifier } from '../model-cache.ts';
import { pixelsToBatch, useBackend } from '../model/tf-util.ts';
import { argmax, type Grid } from '../../services/heatmaps/grid.ts';
import { cam } from './cam.ts';
import { gradCam } from './gradcam.ts';
import { saliency } from './saliency.ts';
import { smoothGrad } from './smoothgrad.ts';

/** Output cells per tile side for coarse maps (CAM, Grad-CAM): finer than the grid so the stitched seams stay smooth. */
const STITCH_DETAIL = 4;

/** The stitched map's size: the photo's shape, about `cells` output cells per tile side. */
export function stitchedSize(grid: TileGrid, cells: number): { width: number; height: number } {
  return {
    width: Math.max(1, Math.round((grid.width * cells) / grid.side)),
    height: Math.max(1, Math.round((grid.height * cells) / grid.side)),
  };
}

/** Per-tile maps (one per tile, on each tile's grid) as one map in the photo's shape. */
export function stitchGrids(grid: TileGrid, maps: readonly Grid[]): Grid {
  const { width: mw, height: mh } = maps[0]!;
  const cells = mw < 32 ? mw * STITCH_DETAIL : mw;
  const { width, height } = stitchedSize(grid, cells);
  return {
    width,
    height,
    data: stitchTileMaps(
      grid,
      maps.map((m) => m.data),
      mw,
      mh,
      width,
      height,
    ),
  };
}

interface Ctx {
  backends: { inference: string; training: string };
  signal: AbortSignal;
  throwIfCancelled(): void;
  emit(e: HeatmapsJobEvent): void;
}

/** Maps of every requested method for the samples of a tiling source; returns how many maps went out. */
export async function tiledClassifierMaps(p: HeatmapsJobParams, ctx: Ctx, source: SampleSource): Promise<number> {
  const fwd = ctx.backends.inference;
  const grad = ctx.backends.training;
  const { info } = await loadClassifier(p.modelDir, fwd);
  const size = info.inputSize;
  const okAt = info.classes.findIndex((c) => c.isOk);
  const okIndex = okAt < 0 ? null : okAt;
  const total = p.samples.length * p.requests.length;
  let done = 0;
  let maps = 0;
  for (let i = 0; i < p.samples.length; i++) {
    ctx.throwIfCancelled();
    const id = p.samples[i]!.id;
    let tiles: { grid: TileGrid; pixels: Uint8Array[] };
    try {
      tiles = await source.loadTiles!(i, size);
    } catch (err) {
      ctx.emit({ kind: 'error', imageId: id, message: (err as Error).message });
      done += p.requests.length;
      continue;
    }
    // One forward pass decides the photo (its worst tile) and gives every class's CAM of every tile.
    await useBackend(fwd);
    const { model: fwdModel } = await loadClassifier(p.modelDir, fwd);
    const x = pixelsToBatch(tiles.pixels, size);
    let camAll;
    try {
      camAll = cam(fwdModel, x, 'all');
    } finally {
      x.dispose();
    }
    const worst = worstTile(camAll.probabilities, okIndex);
    const probabilities = camAll.probabilities[worst]!;
    for (const req of p.requests) {
      ctx.throwIfCancelled();
      for (const wanted of req.classes) {
        const c = wanted ?? argmax(probabilities);
        const t0 = performance.now();
        const perTile =
          req.method === 'cam'
            ? camAll.maps.map((m) => m[c]!)
            : await gradientMaps(p.modelDir, grad, tiles.pixels, size, req, c, ctx.signal);
        const g = stitchGrids(tiles.grid, perTile);
        ctx.emit({ kind: 'map', imageId: id, method: req.method, classIndex: c, ...g, probabilities, ms: performance.now() - t0 });
        maps++;
      }
      done++;
      ctx.emit({ kind: 'progress', done, total });
    }
    // Let cancel messages through between photos.
    await new Promise((r) => setImmediate(r));
  }
  await useBackend(fwd);
  return maps;
}

/** Gradient maps (Grad-CAM, saliency, SmoothGrad) of every tile for class c, on the gradient backend. */
async function gradientMaps(
  modelDir: string,
  backend: string,
  pixels: Uint8Array[],
  size: number,
  req: HeatmapJobRequest,
  c: number,
  signal: AbortSignal,
): Promise<Grid[]> {
  const { model } = await loadClassifier(modelDir, backend);
  await useBackend(backend);
  const x = pixelsToBatch(pixels, size);
  try {
    if (req.method === 'gradcam') return gradCam(model, x, c, req.layer).maps;
    if (req.method === 'saliency') return saliency(model, x, c).maps;
    const out: Grid[] = [];
    for (let k = 0; k < pixels.length; k++) {
      const one = tf.slice(x, [k, 0, 0, 0], [1, size, size, 3]) as tf.Tensor4D;
      try {
        const opts = {
          n: req.n ?? 50,
          sigma: req.sigma ?? 0.1,
          seed: req.seed ?? 1,
          ...(req.batchSize ? { batchSize: req.batchSize } : {}),
        };
        out.push(smoothGrad(model, one, c, opts, signal).map);
      } finally {
        one.dispose();
      }
    }
    return out;
  } finally {
    x.dispose();
  }
}
