/**
 * Tiles end to end through the API and the engine process: a run trained with resize 'tile' saves the grid with the
 * model, predict names each photo's worst tile, heatmaps come back stitched in the photo's own shape, and guidance by
 * regions with tiles is refused by name.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import type { Services } from '../../src-main/services/services.ts';
import { cachedGrids, folderProject } from '../helpers/folder-project.ts';
import { readModelInfo } from '../../src-main/services/training/model/saved-model.ts';

const W = 320;
const H = 40;
const tmp = mkdtempSync(join(tmpdir(), 'kensa-tile-api-'));
let s: Services;
let api: KensaApi;

/** A noisy grey strip; defect strips have a dark 7 px spot at `spot`. */
async function strip(path: string, seed: number, spot: number | null): Promise<void> {
  const px = Buffer.alloc(W * H);
  let r = seed * 2654435761;
  for (let i = 0; i < px.length; i++) {
    r = (r * 1103515245 + 12345) >>> 0;
    px[i] = 150 + ((r >>> 16) % 40);
  }
  if (spot !== null) for (let y = 16; y < 23; y++) for (let x = spot - 3; x <= spot + 3; x++) px[y * W + x] = 30;
  await sharp(px, { raw: { width: W, height: H, channels: 1 } })
    .png()
    .toFile(path);
}

beforeAll(async () => {
  const src = join(tmp, 'src');
  for (const cls of ['good', 'spot']) mkdirSync(join(src, cls), { recursive: true });
  for (let i = 0; i < 12; i++) {
    await strip(join(src, 'good', `g${i}.png`), 100 + i, null);
    // Spots in the last tile (x 280..320) of every defect strip.
    await strip(join(src, 'spot', `s${i}.png`), 200 + i, 290 + (i % 3) * 8);
  }
  const fp = await folderProject(tmp, src, 'good', 'tile test');
  s = fp.s;
  api = fp.api;
  expect(fp.report.imported).toBe(24);
});

afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('tiled classifier through the API', () => {
  it('trains on tiles, saves the grid, predicts with the worst tile and stitches heatmaps onto the photo', async () => {
    const snap = await api.startTraining({
      task: 'binary',
      inputSize: 96,
      epochs: 20,
      batchSize: 8,
      fineTuneEpochs: 0,
      augmentation: { mode: 'none' },
      resize: 'tile',
      split: { mode: 'random', valFraction: 0.25, testFraction: 0, seed: 1 },
      name: 'tiled',
    });
    const final = await s.tasks.wait(snap.id);
    expect(final.state).toBe('succeeded');
    const run = await api.getRun(snap.runId);
    const info = readModelInfo(run.modelDir!);
    expect(info.preprocessing.resize).toBe('tile');
    expect(info.preprocessing.tiles).toEqual({ maxTiles: 16 });

    const okId = listTypes(s.projects.require().db).find((t) => t.isOk)!.id;
    const defects = (await api.listImages({ limit: 100 })).items.filter((im) => im.labelId !== okId).map((im) => im.id);
    expect(defects).toHaveLength(12);
    const res = await api.predict({ imageIds: defects });
    expect(res.predictions).toHaveLength(defects.length);
    // Eight 40 px tiles; the spot lies in the last one, which should decide for most defect strips.
    for (const p of res.predictions) expect(p.tile).toBeGreaterThanOrEqual(0);
    expect(res.predictions.filter((p) => p.tile === 7).length).toBeGreaterThanOrEqual(defects.length * 0.75);

    const hm = await s.tasks.wait(
      (await api.computeHeatmaps({ runId: snap.runId, methods: ['cam'], classes: 'label', imageIds: defects.slice(0, 2) })).id,
    );
    expect(hm.state).toBe('succeeded');
    const grids = cachedGrids(join(tmp, 'project', 'cache', 'heatmaps'));
    expect(grids).toHaveLength(2);
    // Stitched: in the photo's 8:1 shape, not the tile's square grid.
    for (const [w, h] of grids) expect(w / h).toBeCloseTo(W / H, 0);
  }, 180_000);

  it('refuses guidance by regions with tiles by name', async () => {
    await expect(api.startTraining({ task: 'binary', resize: 'tile', guideRegions: true })).rejects.toMatchObject({
      name: 'TilingUnsupportedError',
    });
  });
});
