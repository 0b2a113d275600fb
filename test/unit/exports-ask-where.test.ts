/**
 * Exports that ask where to save. Contact sheet export through the API in compare mode: two runs (random-weight MobileNets imported as runs) with CAM
 * maps, one sheet with the image and both runs' maps side by side, written where the user chose and never over an
 * existing file unless asked; the run's HTML report saved by the same rule.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

const NEU = join(import.meta.dirname, '../../../shared/datasets/neu-det');
const CLASSES = ['crazing', 'scratches'];
const tmp = mkdtempSync(join(tmpdir(), 'kensa-sheet-'));
let s: Services;
let api: KensaApi;
const runIds: number[] = [];

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
  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'res'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  const project = await s.projects.create(join(tmp, 'proj'));
  const root = join(tmp, 'src');
  for (const c of CLASSES)
    for (const i of [1, 2]) {
      mkdirSync(join(root, c), { recursive: true });
      copyFileSync(join(NEU, 'images', c, `${c}_${i}.jpg`), join(root, c, `${c}_${i}.jpg`));
    }
  await runImport(project, { paths: [root], labels: { from: 'folders', createUnknown: true } });
  // The model's classes are the catalog's type keys the import gave the folders.
  const keys = (
    project.db
      .prepare('SELECT key FROM defect_types t WHERE EXISTS (SELECT 1 FROM images i WHERE i.label_id = t.id) ORDER BY sort_order, id')
      .all() as { key: string }[]
  ).map((r) => r.key);
  await tf.setBackend('cpu');
  for (const [seed, name] of [
    [7, 'small'],
    [8, 'other'],
  ] as const) {
    const model = buildClassifier(parseBackbone('mobilenet_v1_0.25'), 96, CLASSES.length, 0, seed);
    const dir = join(tmp, `model-${name}`);
    writeModelFolder(dir, await modelArtifacts(model), {
      format: 'kensa-model',
      version: 1,
      runId: null,
      name,
      task: 'multiclass',
      backbone: 'mobilenet_v1_0.25',
      inputSize: 96,
      classes: keys.map((k) => ({ key: k, nameEn: k, nameJa: k, color: '#888888', isOk: false })),
      threshold: null,
      preprocessing: { resize: 'fill', channels: 'rgb (grey repeated)', scale: '[-1,1]' },
      layers: { lastConv: 'conv_pw_13_relu', gap: 'gap', dropout: 'head_dropout', dense: 'head_dense' },
      metrics: { valAccuracy: null, valLoss: null, testAccuracy: null },
      createdAt: new Date().toISOString(),
      kensaVersion: 'test',
    });
    model.dispose();
    runIds.push((await api.importModel(dir)).id);
  }
  for (const runId of runIds) {
    const done = await waitTask((await api.computeHeatmaps({ runId, methods: ['cam'], classes: 'label' })).id);
    expect(done.state).toBe('succeeded');
  }
}, 90_000);

afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('exports saved where the user chose', () => {
  it('compare mode: image | run A | run B per row, where the user chose, refusing to overwrite', async () => {
    const [a, b] = runIds as [number, number];
    const query = { runId: a, split: 'all' as const, methods: ['cam' as const, 'smoothgrad' as const], classKey: 'label', limit: 24 };
    const compare = { runId: b, split: 'all' as const, methods: ['cam' as const], classKey: 'label' };
    const file = join(tmp, 'chosen folder', 'sheet.png');
    const r = await api.exportContactSheet(query, file, { compare });
    expect(r).toEqual({ path: file, images: 4 });
    const meta = await sharp(file).metadata();
    // Three columns of 160 px tiles (image, run A's CAM, run B's CAM), not image + CAM + SmoothGrad of one run.
    expect(meta.width).toBe(8 + 3 * (160 + 8));
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    // Both map cells of the first row hold a map drawn over the photo: unlike the photo's own cell (column 0) and
    // unlike the light "not computed" cell.
    const y = 26 + 14 * 2 + 80;
    const px = (x: number): number[] => {
      const o = (y * info.width + x) * info.channels;
      return [data[o]!, data[o + 1]!, data[o + 2]!];
    };
    for (const col of [1, 2]) {
      let unlikePhoto = 0;
      let empty = 0;
      for (let dx = 0; dx < 160; dx++) {
        const m = px(8 + col * 168 + dx);
        const o = px(8 + dx);
        if (Math.abs(m[0]! - o[0]!) + Math.abs(m[1]! - o[1]!) + Math.abs(m[2]! - o[2]!) > 24) unlikePhoto++;
        if (Math.abs(m[0]! - 241) < 4 && Math.abs(m[1]! - 243) < 4 && Math.abs(m[2]! - 245) < 4) empty++;
      }
      expect(unlikePhoto).toBeGreaterThan(80);
      expect(empty).toBeLessThan(10);
    }
    await expect(api.exportContactSheet(query, file, { compare })).rejects.toMatchObject({ name: 'FileExistsError' });
    expect((await api.exportContactSheet(query, file, { compare, overwrite: true })).images).toBe(4);

    // Without compare: image + CAM + SmoothGrad columns (SmoothGrad not computed: empty cells, same width).
    const single = await api.exportContactSheet(query, join(tmp, 'single.png'));
    expect((await sharp(single.path).metadata()).width).toBe(8 + 3 * 168);
    expect(existsSync(join(tmp, 'proj', 'exports'))).toBe(false);
  }, 60_000);

  it('the HTML report is saved where the user chose, by the same rule', async () => {
    const html = '<!doctype html><html><body><h1>small</h1></body></html>';
    const file = join(tmp, 'reports', 'run-report');
    const r = await api.saveRunReport(runIds[0]!, html, file);
    expect(r.path).toBe(`${file}.html`);
    expect(readFileSync(r.path, 'utf8')).toBe(html);
    await expect(api.saveRunReport(runIds[0]!, '<!doctype html><p>other</p>', file)).rejects.toMatchObject({ name: 'FileExistsError' });
    expect(readFileSync(r.path, 'utf8')).toBe(html);
    await api.saveRunReport(runIds[0]!, '<!doctype html><p>other</p>', file, { overwrite: true });
    expect(readFileSync(r.path, 'utf8')).toBe('<!doctype html><p>other</p>');
    await expect(api.saveRunReport(runIds[0]!, 'just text', join(tmp, 'x.html'))).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(api.saveRunReport(999, html, join(tmp, 'y.html'))).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(existsSync(join(tmp, 'x.html'))).toBe(false);
  });
});
