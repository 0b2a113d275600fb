/**
 * An anomaly run on a project whose good images carry two core types (real engine, small demo cores): one bank per
 * type, recorded in the model and shown in the run's detail, kept through export and import, and used by predict
 * and heatmaps (catalog images against their own type's bank, photos given by path against all banks).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCore, type DemoDefect } from '../../src-main/services/library/demo/render.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import type { KensaModelInfo } from '../../src-main/shared/training-types.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kensa-anomaly-banks-'));
let s: Services;
let api: KensaApi;
let runId = 0;

async function png(seed: number, defect: DemoDefect, coreType: 'stator' | 'rotor'): Promise<Buffer> {
  const img = renderCore({ seed, defect, coreType, size: 96 });
  return sharp(Buffer.from(img.rgb), { raw: { width: 96, height: 96, channels: 3 } })
    .png()
    .toBuffer();
}

beforeAll(async () => {
  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'resources'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  await api.createProject(join(tmp, 'project'), 'two core types');
  for (const [type, base] of [
    ['stator', 100],
    ['rotor', 200],
  ] as const) {
    const src = join(tmp, type);
    for (const [folder, n] of [
      ['ok', 18],
      ['chip', 3],
    ] as const) {
      mkdirSync(join(src, folder), { recursive: true });
      for (let i = 0; i < n; i++)
        writeFileSync(join(src, folder, `${type}-${folder}-${i}.png`), await png(base + 10 * n + i, folder, type));
    }
    const imp = await api.startImport({ paths: [src], labels: { from: 'folders' }, coreType: type });
    expect((await s.tasks.wait(imp.id)).state).toBe('succeeded');
  }
  const split = { mode: 'random', valFraction: 0.3, testFraction: 0, seed: 1 } as const;
  const a = await api.startTraining({ name: 'per type', task: 'anomaly', inputSize: 96, split });
  expect((await s.tasks.wait(a.id)).state).toBe('succeeded');
  runId = a.runId;
}, 150_000);

afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('anomaly run with two core types', () => {
  it('keeps one bank per core type, each with its own scale, and names them in the run detail', async () => {
    const run = await api.getRun(runId);
    const info = JSON.parse(readFileSync(join(run.modelDir!, 'kensa-model.json'), 'utf8')) as KensaModelInfo;
    const banks = info.anomaly!.banks!;
    expect(banks.map((b) => b.coreType)).toEqual(['rotor', 'stator']);
    expect(banks.reduce((a, b) => a + b.rows, 0)).toBe(info.anomaly!.bankRows);
    for (const b of banks) {
      expect(b.rows).toBeGreaterThan(0);
      expect(b.images).toBeGreaterThanOrEqual(10);
      expect(b.scale).toBeGreaterThan(0);
      expect(b.scale).not.toBe(1);
    }
    expect(readFileSync(join(run.modelDir!, 'anomaly-bank.bin')).byteLength).toBe(info.anomaly!.bankRows * info.anomaly!.dim * 4);
    expect(run.anomalyBanks).toEqual(banks);
  });

  it('scores the same after export and import, and scores photos of unknown type against all banks', async () => {
    const items = (await api.listImages({ limit: 100 })).items;
    const ids = items.map((i) => i.id);
    const before = await api.predict({ imageIds: ids }, runId);
    const out = join(tmp, 'export');
    await api.exportModel(runId, out);
    const imported = await api.importModel(out);
    expect((await api.getRun(imported.id)).anomalyBanks?.map((b) => b.coreType)).toEqual(['rotor', 'stator']);
    const after = await api.predict({ imageIds: ids }, imported.id);
    after.predictions.forEach((p, i) => expect(p.probabilities[1]).toBeCloseTo(before.predictions[i]!.probabilities[1]!, 5));
    // The defect cores score above the good ones on average, each against its own type's bank.
    const isOk = new Map(items.map((i) => [i.id, i.name.includes('-ok-')]));
    const mean = (ok: boolean) => {
      const xs = before.predictions.filter((p) => isOk.get(p.imageId!) === ok).map((p) => p.probabilities[1]!);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    expect(mean(false)).toBeGreaterThan(mean(true));
    // Anomaly maps of catalog images, each against its type's bank.
    const maps = await s.tasks.wait(
      (await api.computeHeatmaps({ runId, imageIds: ids.slice(0, 4), methods: ['anomaly'], classes: 'predicted' })).id,
    );
    expect(maps.state).toBe('succeeded');
    const photo = join(tmp, 'photo.png');
    writeFileSync(photo, await png(999, 'ok', 'rotor'));
    const byPath = await api.predict({ paths: [photo] }, runId);
    expect(byPath.predictions[0]!.probabilities[1]).toBeGreaterThanOrEqual(0);
    expect(byPath.predictions[0]!.probabilities[1]).toBeLessThan(1);
  });
});
