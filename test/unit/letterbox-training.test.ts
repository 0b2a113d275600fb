/**
 * Letterbox end to end: a run trained with resize 'letterbox' saves it with the model, predicts with it, and its
 * heatmaps are stored in the photo's own shape (padding cut away). Photos of the two classes differ in aspect, the
 * cue letterbox is there to take away.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import type { Services } from '../../src-main/services/services.ts';
import { cachedGrids, folderProject } from '../helpers/folder-project.ts';
import { readModelInfo } from '../../src-main/services/training/model/saved-model.ts';

const NEU = resolve(import.meta.dirname, '../../../shared/datasets/neu-det/images');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-letterbox-'));
let s: Services;
let api: KensaApi;

beforeAll(async () => {
  const src = join(tmp, 'src');
  // OK photos wide (180x60), defect photos tall (60x180): squashed, the class is in the aspect.
  for (const [cls, w, h] of [
    ['crazing', 180, 60],
    ['scratches', 60, 180],
  ] as const) {
    mkdirSync(join(src, cls), { recursive: true });
    for (let i = 1; i <= 8; i++)
      await sharp(join(NEU, cls, `${cls}_${i}.jpg`))
        .extract({ left: 0, top: 0, width: w, height: h })
        .png()
        .toFile(join(src, cls, `${cls}_${i}.png`));
  }
  const fp = await folderProject(tmp, src, 'crazing', 'letterbox test');
  s = fp.s;
  api = fp.api;
  expect(fp.report.imported).toBe(16);
});

afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('letterbox training', () => {
  it('trains, saves the geometry with the model, predicts with it, and maps heatmaps back onto the photo shape', async () => {
    const snap = await api.startTraining({
      task: 'binary',
      inputSize: 96,
      epochs: 2,
      batchSize: 8,
      fineTuneBlocks: 0,
      fineTuneEpochs: 0,
      resize: 'letterbox',
      split: { mode: 'random', valFraction: 0.25, testFraction: 0, seed: 1 },
      name: 'letterboxed',
    });
    const final = await s.tasks.wait(snap.id);
    // One wide OK photo and one tall defect photo (ids follow the import's completion order, so they are looked up).
    const okId = listTypes(s.projects.require().db).find((t) => t.isOk)!.id;
    const items = (await api.listImages({ limit: 100 })).items;
    const pair = [items.find((i) => i.labelId === okId)!.id, items.find((i) => i.labelId !== null && i.labelId !== okId)!.id];
    expect(final.state).toBe('succeeded');
    const run = await api.getRun(snap.runId);
    expect(readModelInfo(run.modelDir!).preprocessing.resize).toBe('letterbox');

    const res = await api.predict({ imageIds: pair });
    expect(res.predictions).toHaveLength(2);
    for (const p of res.predictions) expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    // Predict follows the geometry saved with the model: the same weights told to squash score the photo differently.
    const { writeModelInfo } = await import('../../src-main/services/training/model/saved-model.ts');
    const photo = join(tmp, 'src', 'scratches', 'scratches_1.png');
    const sq = join(tmp, 'squash-copy');
    cpSync(run.modelDir!, sq, { recursive: true });
    const info = readModelInfo(sq);
    writeModelInfo(sq, { ...info, preprocessing: { ...info.preprocessing, resize: 'fill' } });
    const predictIn = (modelDir: string) =>
      s.engine.run('predict', {
        modelDir,
        samples: [{ id: 1, key: 'x', label: -1, split: 'test', path: photo }],
        source: { kind: 'files' },
      });
    const lb = (await predictIn(run.modelDir!)).probabilities[0]!;
    const squashed = (await predictIn(sq)).probabilities[0]!;
    const viaApi = (await api.predict({ paths: [photo] })).predictions[0]!.probabilities;
    expect(viaApi[0]).toBeCloseTo(lb[0]!, 5);
    expect(Math.abs(squashed[0]! - lb[0]!)).toBeGreaterThan(1e-4);

    // Continuing the run keeps the geometry.
    const cont = await api.startTraining({ continueFromRunId: snap.runId, fineTuneBlocks: 1, fineTuneEpochs: 1, batchSize: 8 });
    expect((await s.tasks.wait(cont.id)).state).toBe('succeeded');
    expect(readModelInfo((await api.getRun(cont.runId)).modelDir!).preprocessing.resize).toBe('letterbox');

    const hm = await s.tasks.wait(
      (await api.computeHeatmaps({ runId: snap.runId, methods: ['cam'], classes: 'label', imageIds: pair })).id,
    );
    expect(hm.state).toBe('succeeded');
    const grids = cachedGrids(join(tmp, 'project', 'cache', 'heatmaps'));
    expect(grids).toHaveLength(2);
    // A 96 px input has a 3x3 CAM grid; put back on a 3:1 photo it is 3:1 too (not the square model grid).
    const shapes = grids.map(([w, h]) => (w > h ? w / h : -h / w)).sort((a, b) => a - b);
    expect(shapes[0]).toBeCloseTo(-3, 0);
    expect(shapes[1]).toBeCloseTo(3, 0);
  }, 120_000);

  it('refuses an unknown resize; anomaly models take letterbox too (issue 16)', async () => {
    const { resolveConfig } = await import('../../src-main/services/training/train/config.ts');
    const { parseTrainArgs, trainConfigFromFlags } = await import('../../src-main/cli/commands/train.ts');
    expect(resolveConfig({}).resize ?? 'squash').toBe('squash');
    expect(trainConfigFromFlags(parseTrainArgs(['p', '--resize', 'letterbox']).values).resize).toBe('letterbox');
    expect(() => trainConfigFromFlags(parseTrainArgs(['p', '--resize', 'crop']).values)).toThrow(/--resize must be squash or letterbox/);
    expect(() => resolveConfig({ resize: 'stretch' as never })).toThrow(/Unknown resize/);
    expect(resolveConfig({ task: 'anomaly', resize: 'letterbox' }).resize).toBe('letterbox');
  });
});
