/**
 * Heatmaps through the API: a (random-weight) MobileNet imported as a run over a few NEU images with VOC boxes;
 * computes CAM + SmoothGrad in the engine as a task, then gallery, media PNG, scores, exports and the cache.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import type { TaskSnapshot } from '../../src-main/shared/types.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { buildClassifier, parseBackbone } from '../../src-main/engine/model/mobilenet.ts';
import { writeModelFolder } from '../../src-main/services/training/model/saved-model.ts';
import { modelArtifacts } from '../../src-main/engine/model/tf-util.ts';
import { Services } from '../../src-main/services/services.ts';
import { heatmapsCommand } from '../../src-main/cli/commands/heatmaps.ts';
import { readFileSync } from 'node:fs';

const NEU = join(import.meta.dirname, '../../../shared/datasets/neu-det');
const CLASSES = ['crazing', 'patches', 'scratches'];
let tmp: string;
let s: Services;
let api: KensaApi;
let runId: number;

function waitTask(id: string): Promise<TaskSnapshot> {
  return new Promise((res) => {
    const off = s.events.on('task', (t) => {
      if (t.id === id && ['succeeded', 'failed', 'cancelled'].includes(t.state)) {
        off();
        res(t);
      }
    });
  });
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'kensa-hm-'));
  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'res'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  const project = await s.projects.create(join(tmp, 'proj'));
  const db = project.db;
  const root = join(tmp, 'src');
  for (const c of CLASSES)
    for (const i of [1, 2, 3]) {
      mkdirSync(join(root, c), { recursive: true });
      copyFileSync(join(NEU, 'images', c, `${c}_${i}.jpg`), join(root, c, `${c}_${i}.jpg`));
    }
  await runImport(project, {
    paths: [root],
    labels: { from: 'folders', createUnknown: true },
    regions: { vocDir: join(NEU, 'annotations') },
  });
  // A random-weight classifier over the project's defect types, saved as a Kensa model and imported as a run.
  const types = (
    db
      .prepare('SELECT key FROM defect_types t WHERE EXISTS (SELECT 1 FROM images i WHERE i.label_id = t.id) ORDER BY sort_order, id')
      .all() as { key: string }[]
  ).map((r) => r.key);
  await tf.setBackend('cpu');
  const model = buildClassifier(parseBackbone('mobilenet_v1_0.25'), 96, types.length, 0, 7);
  const dir = join(tmp, 'model');
  writeModelFolder(dir, await modelArtifacts(model), {
    format: 'kensa-model',
    version: 1,
    runId: null,
    name: 'tiny',
    task: 'multiclass',
    backbone: 'mobilenet_v1_0.25',
    inputSize: 96,
    classes: types.map((k) => ({ key: k, nameEn: k, nameJa: k, color: '#888888', isOk: false })),
    threshold: null,
    preprocessing: { resize: 'fill', channels: 'rgb (grey repeated)', scale: '[-1,1]' },
    layers: { lastConv: 'conv_pw_13_relu', gap: 'gap', dropout: 'head_dropout', dense: 'head_dense' },
    metrics: { valAccuracy: null, valLoss: null, testAccuracy: null },
    createdAt: new Date().toISOString(),
    kensaVersion: 'test',
  });
  model.dispose();
  runId = (await api.importModel(dir)).id;
}, 60_000);

afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('heatmaps service', () => {
  it('computes CAM and SmoothGrad as a task, progressively, then serves, scores and exports them', async () => {
    const ready: string[] = [];
    const off = s.events.on('heatmapReady', (e) => ready.push(e.mediaId));
    const snap = await api.computeHeatmaps({
      runId,
      methods: ['cam', 'smoothgrad'],
      classes: 'label',
      params: { n: 4 },
      splits: ['train', 'val', 'test'],
    });
    expect(snap.kind).toBe('heatmaps');
    const done = await waitTask(snap.id);
    off();
    expect(done.state).toBe('succeeded');
    const total = (await api.listHeatmapGallery({ runId, limit: 100 })).total;
    expect(total).toBe(9);
    expect(done.result).toEqual({ computed: 18, cached: 0 });
    expect(ready.length).toBe(18);

    const page = await api.listHeatmapGallery({ runId, methods: ['cam', 'smoothgrad'], params: { n: 4 }, limit: 100 });
    expect(page.unscored).toBe(0);
    const item = page.items[0]!;
    expect(item.predictedLabel).not.toBeNull();
    expect(item.maps.map((m) => m.method)).toEqual(['cam', 'smoothgrad']);
    expect(item.regions.length).toBeGreaterThan(0);
    const scored = page.items.flatMap((i) => i.maps).filter((m) => m.score);
    expect(scored.length).toBeGreaterThan(10);
    for (const m of scored) expect(m.score!.energy).toBeGreaterThanOrEqual(0);
    // filters
    const crazing = await api.listHeatmapGallery({ runId, trueLabel: 'crazing', limit: 100 });
    expect(crazing.total).toBe(3);
    const wrong = await api.listHeatmapGallery({ runId, correct: false, limit: 100 });
    const right = await api.listHeatmapGallery({ runId, correct: true, limit: 100 });
    expect(wrong.total + right.total).toBe(9);

    // media: a PNG at the image's size, cached per colour map and opacity
    const f = await s.resolveMedia('heatmap', item.maps[0]!.mediaId, { colormap: 'jet', opacity: '0.6' });
    expect(f.mime).toBe('image/png');
    const meta = await sharp(f.path).metadata();
    expect([meta.width, meta.height]).toEqual([200, 200]);

    // aggregate table: per class and overall, per method
    const table = await api.getHeatmapScores(runId);
    expect(table.rows.some((r) => r.method === 'cam' && r.classKey === '*')).toBe(true);
    expect(table.rows.some((r) => r.method === 'smoothgrad' && r.classKey === 'crazing')).toBe(true);

    // exports
    const one = await api.exportHeatmapPng(item.maps[1]!.mediaId, join(tmp, 'out', 'one.png'));
    expect(existsSync(one.path)).toBe(true);
    const sheet = await api.exportContactSheet(
      { runId, methods: ['cam', 'smoothgrad'], params: { n: 4 }, limit: 6 },
      join(tmp, 'out', 'sheet'),
    );
    expect(sheet.images).toBe(6);
    expect((await sharp(sheet.path).metadata()).width).toBeGreaterThan(400);

    // second request: everything from the cache
    const again = await waitTask((await api.computeHeatmaps({ runId, methods: ['cam'], classes: 'label' })).id);
    expect(again.result).toEqual({ computed: 0, cached: 9 });

    // a class that was never computed is computed on demand when its media is asked for
    const other = item.maps[0]!.mediaId.replace(/:(\d+):d$/, (_, c) => `:${(Number(c) + 1) % 3}:d`);
    const g = await s.resolveMedia('heatmap', other, {});
    expect(existsSync(g.path)).toBe(true);

    await api.clearHeatmapCache(runId);
    expect((await api.listHeatmapGallery({ runId, limit: 1 })).unscored).toBe(9);
  }, 120_000);

  it('rejects bad requests with clear errors', async () => {
    await expect(api.computeHeatmaps({ runId, methods: ['nope' as never], classes: 'label' })).rejects.toThrow(/Unknown heatmap method/);
    await expect(api.computeHeatmaps({ runId, methods: ['cam'], classes: ['nope'] })).rejects.toThrow(/no class "nope"/);
    await expect(api.computeHeatmaps({ runId, methods: ['smoothgrad'], classes: 'label', params: { n: 0 } })).rejects.toThrow(
      /SmoothGrad copies/,
    );
  });
  it('CLI: kensa heatmaps writes PNGs and a JSON of scores', async () => {
    const out: string[] = [];
    const dir = join(tmp, 'cli-out');
    const code = await heatmapsCommand.run(
      [join(tmp, 'proj'), String(runId), '--method', 'cam', '--split', 'all', '--out', dir, '--json'],
      {
        out: (l) => out.push(l),
        err: () => undefined,
        services: () => s,
      },
    );
    expect(code).toBe(0);
    const res = JSON.parse(out[0]!) as { ok: boolean; images: { maps: { pointing: boolean | null }[] }[]; aggregate: { method: string }[] };
    expect(res.ok).toBe(true);
    expect(res.images).toHaveLength(9);
    const scores = JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8')) as {
      images: unknown[];
      aggregate: { method: string; classKey: string }[];
    };
    expect(scores.images).toHaveLength(9);
    expect(scores.aggregate.some((r) => r.method === 'cam' && r.classKey === '*')).toBe(true);
    expect(existsSync(join(dir, 'crazing_1-cam-crazing.png'))).toBe(true);
  }, 60_000);
});
