/**
 * Anomaly runs that keep the photo's shape (issue 16), through the services and the real engine: 3:1 textures, some
 * with a thin vertical crack; a tiled run and a letterboxed run record their mode in the model, keep it through
 * export and import, predict with it, and their anomaly maps are stored in the photo's shape with the tiled map's
 * maximum on the crack; the CLI's predict and heatmaps follow the model.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/index.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import { createRng } from '../../src-main/services/training/train/rng.ts';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import type { KensaModelInfo } from '../../src-main/shared/training-types.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kensa-anomaly-shape-'));
const W = 288;
const H = 96;
let s: Services;
let api: KensaApi;
const runs: Record<'tile' | 'letterbox', number> = { tile: 0, letterbox: 0 };
/** Crack column per defect file name. */
const crackAt = new Map<string, number>();

/** Horizontal stripes and grain; a crack is a 2 px vertical line 70 levels darker. */
async function png(seed: number, crackX?: number): Promise<Buffer> {
  const rng = createRng(seed);
  const phase = rng.range(0, 2 * Math.PI);
  const px = Buffer.alloc(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let v = 128 + 30 * Math.sin((2 * Math.PI * (y + 0.3 * x)) / 8 + phase) + rng.range(-12, 12);
      if (crackX !== undefined && x >= crackX && x < crackX + 2 && y >= 20 && y < 76) v -= 70;
      px[y * W + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  return sharp(px, { raw: { width: W, height: H, channels: 1 } })
    .png()
    .toBuffer();
}

function modelInfo(dir: string): KensaModelInfo {
  return JSON.parse(readFileSync(join(dir, 'kensa-model.json'), 'utf8')) as KensaModelInfo;
}

/** Every stored map of a run: image id, width, height, data. */
function storedMaps(runId: number): { imageId: number; width: number; height: number; data: Float32Array }[] {
  const root = join(tmp, 'project', 'cache', 'heatmaps');
  const out: { imageId: number; width: number; height: number; data: Float32Array }[] = [];
  for (const runDir of readdirSync(root).filter((d) => d.startsWith(`run-${runId}-`)))
    for (const img of readdirSync(join(root, runDir))) {
      const dir = join(root, runDir, img);
      if (!statSync(dir).isDirectory()) continue;
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.bin'))) {
        const b = readFileSync(join(dir, f));
        const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
        const [, w, h, c] = new Int32Array(ab, 0, 4) as unknown as [number, number, number, number];
        out.push({ imageId: Number(img), width: w, height: h, data: new Float32Array(ab, 16 + 4 * c, w * h) });
      }
    }
  return out;
}

beforeAll(async () => {
  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'resources'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  await api.createProject(join(tmp, 'project'), 'elongated');
  const src = join(tmp, 'photos');
  mkdirSync(join(src, 'ok'), { recursive: true });
  mkdirSync(join(src, 'crack'), { recursive: true });
  for (let i = 0; i < 14; i++) writeFileSync(join(src, 'ok', `ok-${i}.png`), await png(100 + i));
  for (let i = 0; i < 4; i++) {
    const x = 30 + i * 70;
    crackAt.set(`crack-${i}.png`, x);
    writeFileSync(join(src, 'crack', `crack-${i}.png`), await png(300 + i, x));
  }
  const imp = await api.startImport({ paths: [src], labels: { from: 'folders' } });
  expect((await s.tasks.wait(imp.id)).state).toBe('succeeded');
  const split = { mode: 'random', valFraction: 0.3, testFraction: 0, seed: 1 } as const;
  for (const resize of ['tile', 'letterbox'] as const) {
    const t = await api.startTraining({ name: resize, task: 'anomaly', backbone: 'mobilenet_v1_0.25', inputSize: 96, resize, split });
    expect((await s.tasks.wait(t.id)).state).toBe('succeeded');
    runs[resize] = t.runId;
  }
}, 150_000);

afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('anomaly runs keep the photo shape', () => {
  it('record their resize mode in the model, and keep it through export and import with the same scores', async () => {
    const tiled = modelInfo((await api.getRun(runs.tile)).modelDir!);
    expect(tiled.anomaly!.resize).toBe('tile');
    expect(tiled.preprocessing.resize).toBe('tile');
    const boxed = modelInfo((await api.getRun(runs.letterbox)).modelDir!);
    expect(boxed.anomaly!.resize).toBe('letterbox');
    expect(boxed.preprocessing).toMatchObject({ resize: 'letterbox', padMask: true });
    const ids = (await api.listImages({ limit: 100 })).items.map((i) => i.id);
    const before = await api.predict({ imageIds: ids }, runs.tile);
    const out = join(tmp, 'export');
    await api.exportModel(runs.tile, out);
    const imported = await api.importModel(out);
    expect(modelInfo((await api.getRun(imported.id)).modelDir!).anomaly!.resize).toBe('tile');
    const after = await api.predict({ imageIds: ids }, imported.id);
    after.predictions.forEach((p, i) => expect(p.probabilities[1]).toBeCloseTo(before.predictions[i]!.probabilities[1]!, 5));
  }, 60_000);

  it('store maps in the photo’s shape; the tiled map peaks on the crack', async () => {
    const items = (await api.listImages({ limit: 100 })).items.filter((i) => crackAt.has(i.name));
    for (const resize of ['tile', 'letterbox'] as const) {
      const t = await api.computeHeatmaps({
        runId: runs[resize],
        imageIds: items.map((i) => i.id),
        methods: ['anomaly'],
        classes: 'predicted',
      });
      expect((await s.tasks.wait(t.id)).state).toBe('succeeded');
      const maps = storedMaps(runs[resize]);
      expect(maps).toHaveLength(items.length);
      for (const m of maps) expect(m.width / m.height).toBeCloseTo(3, 1);
      if (resize !== 'tile') continue;
      for (const m of maps) {
        let arg = 0;
        for (let k = 1; k < m.data.length; k++) if (m.data[k]! > m.data[arg]!) arg = k;
        const x = (((arg % m.width) + 0.5) * W) / m.width;
        const crack = crackAt.get(items.find((i) => i.id === m.imageId)!.name)!;
        expect(Math.abs(x - (crack + 1))).toBeLessThanOrEqual(10);
      }
    }
  }, 60_000);

  it('kensa predict and kensa heatmaps --method anomaly follow the tiled model', async () => {
    await s.projects.close();
    const project = join(tmp, 'project');
    const photo = join(tmp, 'new-crack.png');
    writeFileSync(photo, await png(999, 140));
    const predicted = await cli(['predict', project, String(runs.tile), photo, '--json']);
    expect(predicted.code, predicted.text).toBe(0);
    expect(predicted.text).toContain('new-crack.png');
    const out = join(tmp, 'maps');
    const maps = await cli(['heatmaps', project, String(runs.tile), '--method', 'anomaly', '--split', 'all', '--limit', '3', '--out', out]);
    expect(maps.code, maps.text).toBe(0);
    const pngs = readdirSync(out).filter((f) => f.endsWith('.png'));
    expect(pngs.length).toBeGreaterThan(0);
    // One overlay per image on the photo itself (288 px wide, a legend strip below); the stitched maps are checked above.
    for (const f of pngs) {
      const m = await sharp(join(out, f)).metadata();
      expect(m.width).toBe(W);
      expect(m.height).toBeLessThan(W);
    }
  }, 60_000);
});

async function cli(args: string[]): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const home = process.env.KENSA_HOME;
  process.env.KENSA_HOME = join(tmp, 'cli-config');
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    return { code: await main(args), text: out.join('') };
  } finally {
    process.stdout.write = write;
    if (home === undefined) delete process.env.KENSA_HOME;
    else process.env.KENSA_HOME = home;
  }
}
