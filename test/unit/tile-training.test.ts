/**
 * Tiling in the classifier (resize 'tile'): which tiles teach what, multiple-instance learning through the worst tile,
 * photos judged by their worst tile in validation and predict (with and without TTA), a synthetic elongated set (a
 * small dark spot somewhere along a long strip) where tiles beat squashing, fine-tuning on tiles. No tensors left behind.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWasmForProbe } from '../../src-main/engine/backend/wasm-init.ts';
import { readWeightSet } from '../../src-main/engine/model/weights.ts';
import { bagItems, resolveBags, tileLabel, type TrainerTiles } from '../../src-main/engine/train/tiled.ts';
import { predictPhotos, Trainer } from '../../src-main/engine/train/trainer.ts';
import { fileSource, type EngineSample } from '../../src-main/services/training/data/source.ts';
import { expandTiles, worstTile } from '../../src-main/services/training/data/tile-set.ts';
import { tileGrid } from '../../src-main/services/training/data/tiles.ts';
import { resolveConfig } from '../../src-main/services/training/train/config.ts';
import { chooseResize, ELONGATED } from '../../src-main/shared/resize-choice.ts';
import type { TrainConfigInput } from '../../src-main/shared/training-types.ts';

const WEIGHTS = resolve(import.meta.dirname, '../../../shared/models/mobilenet_v1_0.25_224');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-tiles-'));
let training = 'cpu';
const W = 480;
const H = 40;

/** A W x H grey strip with noise; `spot` puts a 5 px darker spot centred at that x. */
async function strip(path: string, seed: number, spot: number | null): Promise<void> {
  const px = Buffer.alloc(W * H);
  let s = seed * 2654435761;
  for (let i = 0; i < px.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    px[i] = 150 + ((s >>> 16) % 40);
  }
  if (spot !== null)
    for (let y = 17; y < 22; y++) for (let x = spot - 2; x <= spot + 2; x++) px[y * W + Math.min(W - 1, Math.max(0, x))] = 40;
  await sharp(px, { raw: { width: W, height: H, channels: 1 } })
    .png()
    .toFile(path);
}

const samples: EngineSample[] = [];
const spots = new Map<number, number>();
beforeAll(async () => {
  const f = await initWasmForProbe();
  training = f.missingGradients.length ? 'cpu' : 'wasm';
  mkdirSync(join(tmp, 'img'), { recursive: true });
  for (let i = 0; i < 48; i++) {
    const defect = i % 2 === 1;
    const split = i < 32 ? 'train' : 'val';
    const spot = defect ? 10 + ((i * 37) % (W - 20)) : null;
    const path = join(tmp, 'img', `s${i}.png`);
    await strip(path, i + 1, spot);
    if (spot !== null) spots.set(i, spot);
    samples.push({ id: i + 1, key: `strip-${i}`, label: defect ? 1 : 0, split, path });
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const splitsOf = () => {
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  samples.forEach((s, i) => splits[s.split].push(i));
  return splits;
};

describe('tile labels and the worst tile', () => {
  const grid = tileGrid(900, 300);
  it('labels the tiles that hold a quarter of a region box with the defect, the others OK', () => {
    const box = { x: 560, y: 100, w: 80, h: 40 }; // 40 px in tile 1 (300..600), 40 in tile 2 (600..900)
    expect([0, 1, 2].map((t) => tileLabel(1, 0, grid, t, [box]))).toEqual([0, 1, 1]);
    const edge = { x: 590, y: 100, w: 100, h: 40 }; // 10 % in tile 1
    expect([0, 1, 2].map((t) => tileLabel(1, 0, grid, t, [edge]))).toEqual([0, 0, 1]);
    // OK photos: every tile OK; without regions the photo's label (multiple-instance learning decides which tile).
    expect(tileLabel(0, 0, grid, 2, [box])).toBe(0);
    expect(tileLabel(1, 0, grid, 0, [])).toBe(1);
    // No OK class: tiles away from the regions are left out of training.
    expect(tileLabel(2, null, grid, 0, [box])).toBe(-1);
  });

  it('picks the tile with the lowest OK probability, or the most confident one without an OK class', () => {
    const probs = [
      [0.9, 0.1],
      [0.2, 0.8],
      [0.6, 0.4],
    ];
    expect(worstTile(probs, 0)).toBe(1);
    expect(worstTile(probs, 1)).toBe(0);
    expect(
      worstTile(
        [
          [0.5, 0.3, 0.2],
          [0.1, 0.05, 0.85],
        ],
        null,
      ),
    ).toBe(1);
  });

  it('multiple-instance learning: a bag trains once per variant, through the tile the head finds worst', () => {
    // Photo 0 (OK, 3 tiles: samples 0-2), photo 1 (defect without regions, 3 tiles: samples 3-5).
    const tiles = {
      set: {
        owner: [0, 0, 0, 1, 1, 1],
        tile: [0, 1, 2, 0, 1, 2],
        tilesOf: new Map([
          [0, [0, 1, 2]],
          [1, [3, 4, 5]],
        ]),
      },
      mil: new Set([1]),
    } as unknown as TrainerTiles;
    const items = [0, 1, 2, 3, 4, 5].flatMap((sample) => [0, 1].map((variant) => ({ sample, variant: variant as 0 | 1 })));
    const kept = bagItems(tiles, items);
    expect(kept.map((it) => `${it.sample}:${it.variant}`)).toEqual(['0:0', '0:1', '1:0', '1:1', '2:0', '2:1', '3:0', '3:1']);
    // The head says tile 2 (sample 5) of photo 1 is the least OK under variant 0, tile 1 (sample 4) under variant 1.
    const pOk = (s: number, v: number) => (s === 5 && v === 0 ? 0.1 : s === 4 && v === 1 ? 0.2 : 0.9);
    const probsOf = (list: { sample: number; variant: number }[]) =>
      Float32Array.from(list.flatMap((it) => [pOk(it.sample, it.variant), 1 - pOk(it.sample, it.variant)]));
    const resolved = resolveBags(tiles, kept.slice(4), probsOf, 2, 0);
    expect(resolved.map((it) => `${it.sample}:${it.variant}`)).toEqual(['2:0', '2:1', '5:0', '4:1']);
  });

  it('cuts a photo into tiles from one decode, each keyed apart, the spot in the tile that holds it', async () => {
    const src = fileSource(samples, 'tile');
    const i = 1; // a defect strip
    const set = await expandTiles(src, [i]);
    const grid = set.grids.get(i)!;
    expect([grid.cols, grid.rows, grid.side]).toEqual([W / H, 1, H]);
    const keys = set.tilesOf.get(i)!.map((j) => set.source.keyOf(j));
    expect(new Set(keys).size).toBe(grid.tiles.length);
    const dark = await Promise.all(
      set.tilesOf.get(i)!.map(async (j) => {
        const px = await set.source.loadPixels(j, 32);
        return px.reduce((a, v) => a + (v < 90 ? 1 : 0), 0);
      }),
    );
    const spot = spots.get(i)!;
    const holder = grid.tiles.findIndex((t) => spot >= t.x && spot < t.x + t.side);
    expect(dark.indexOf(Math.max(...dark))).toBe(holder);
  });
});

describe('training on tiles', () => {
  const run = async (resize: 'squash' | 'tile', fineTuneEpochs = 0) => {
    const config = resolveConfig({
      task: 'binary',
      inputSize: 96,
      batchSize: 8,
      epochs: 30,
      fineTuneEpochs,
      fineTuneBlocks: fineTuneEpochs ? 1 : 0,
      augmentation: { mode: 'none' },
      resize,
      seed: 3,
    });
    const out = await new Trainer({
      config,
      classes: ['ok', 'spot'],
      okIndex: 0,
      source: fileSource(samples, resize),
      splits: splitsOf(),
      backboneWeights: readWeightSet(WEIGHTS),
      cacheDir: null,
      backends: { training, inference: 'wasm' },
      signal: new AbortController().signal,
      onEvent: () => undefined,
    }).run();
    return out;
  };

  it('beats squash on a small spot along a long strip, predicts with the worst tile, and leaves no tensors', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const squash = await run('squash');
    const tiled = await run('tile');
    const acc = (o: typeof tiled) => o.evaluations.find((e) => e.split === 'val')!.accuracy;
    // Squashed 12:1, the 5 px spot is 1 px wide; each tile sees it at 12 px.
    expect(acc(tiled)).toBeGreaterThanOrEqual(0.9);
    expect(acc(tiled)).toBeGreaterThan(acc(squash) + 0.1);
    expect(tiled.evaluations.find((e) => e.split === 'val')!.count).toBe(16); // photos, not tiles

    // Predict: the photo's probabilities are its worst tile's, and that tile holds the spot.
    const m = tiled.model!;
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: m.modelTopology, weightSpecs: m.weightSpecs, weightData: m.weightData }),
    );
    try {
      const val = samples.flatMap((s, i) => (s.split === 'val' && s.label === 1 ? [i] : []));
      const scored = await predictPhotos(model, fileSource(samples, 'tile'), val, 96, 'wasm', undefined, { okIndex: 0 });
      const grid = tileGrid(W, H);
      let found = 0;
      scored.forEach((s, k) => {
        const t = grid.tiles[s.tile!]!;
        const spot = spots.get(val[k]!)!;
        if (spot >= t.x - 3 && spot < t.x + t.side + 3) found++;
      });
      expect(found / scored.length).toBeGreaterThanOrEqual(0.75);
      // TTA: each tile scored as the three fixed variants (their mean), then the worst tile decides as before.
      const tta = await predictPhotos(model, fileSource(samples, 'tile'), val, 96, 'wasm', undefined, { okIndex: 0, tta: true });
      expect(tta.map((x) => x.tile)).toHaveLength(val.length);
      for (const x of tta) expect(x.probs[0]! + x.probs[1]!).toBeCloseTo(1, 4);
      expect(tta.filter((x, k) => x.tile === scored[k]!.tile).length).toBeGreaterThanOrEqual(val.length * 0.75);
    } finally {
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('fine-tunes on tiles (prefix cache per tile, bags through their worst tile), judged per photo, leaving no tensors', async () => {
    await tf.setBackend('wasm');
    const wasm = tf.memory().numTensors;
    await tf.setBackend(training);
    const other = tf.memory().numTensors;
    const out = await run('tile', 1);
    expect(out.status).toBe('completed');
    expect(out.phases.map((p) => p.phase)).toEqual(['transfer', 'finetune']);
    const val = out.evaluations.find((e) => e.split === 'val')!;
    expect(val.count).toBe(16);
    expect(val.accuracy).toBeGreaterThanOrEqual(0.9);
    await tf.setBackend('wasm');
    expect(tf.memory().numTensors).toBe(wasm);
    await tf.setBackend(training);
    expect(tf.memory().numTensors).toBe(other);
  }, 120_000);

  it('is the default for elongated photos; kensa train --resize tile [--max-tiles N]', async () => {
    const strips = [
      { key: 'ok', total: 50, aspect: 3 },
      { key: 'crack', total: 20, aspect: 3.05 },
    ];
    expect(chooseResize(strips)).toMatchObject({ mode: 'tile', reason: { kind: 'elongated' } });
    expect(chooseResize([{ key: 'ok', total: 5, aspect: 1 / 3 }]).mode).toBe('tile');
    expect(chooseResize([{ key: 'ok', total: 5, aspect: ELONGATED - 0.01 }]).mode).toBe('letterbox');
    const { parseTrainArgs, trainConfigFromFlags, applyDefaultResize } = await import('../../src-main/cli/commands/train.ts');
    const flags = (...a: string[]) => trainConfigFromFlags(parseTrainArgs(['p', ...a]).values, { fineTuneEpochs: 12, fineTuneBlocks: 2 });
    expect(flags('--resize', 'tile')).toMatchObject({ resize: 'tile', fineTuneEpochs: 12 });
    expect(flags('--resize', 'tile', '--max-tiles', '6')).toMatchObject({ maxTiles: 6 });
    expect(() => resolveConfig(flags('--resize', 'tile', '--max-tiles', '0'))).toThrow(/most tiles per photo/);
    const perLabel = strips.map((l) => ({ ...l, nameEn: l.key, nameJa: l.key, train: 0, val: 0, test: 0 })) as never;
    const cfg: TrainConfigInput = {};
    expect(applyDefaultResize(cfg, perLabel)).toMatch(/tile: the photos are elongated/);
    expect(cfg.resize).toBe('tile');
  });

  it('refuses guidance and random augmentation with tiles, by name', () => {
    const base = { task: 'binary' as const, resize: 'tile' as const, fineTuneEpochs: 2, fineTuneBlocks: 1 };
    expect(resolveConfig(base).resize).toBe('tile');
    expect(() => resolveConfig({ ...base, guideRegions: true })).toThrow(expect.objectContaining({ name: 'TilingUnsupportedError' }));
    expect(() => resolveConfig({ ...base, augmentation: { mode: 'random' } })).toThrow(
      expect.objectContaining({ name: 'TilingUnsupportedError' }),
    );
  });
});
