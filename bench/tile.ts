/**
 * Tiles for elongated photos in the classifier (issue 15): `npm run bench -- tile [--strips 300] [--epochs 30]
 * [--finetune-epochs 0] [--seeds 1] [--size 224]`.
 * Elongated photos from elpv (../shared/datasets/elpv): strips of three 300 px cells side by side (900 x 300 px, one
 * module type per strip); good = three cells of defect probability 0, defect = one cell of probability >= 2/3 among
 * two good ones (its place drawn at random). Half good, half defect; 60 % train, 40 % validation. MobileNet v1 0.25 @
 * 224, transfer learning (then, with --finetune-epochs, the last 2 blocks fine-tuned), the same split and seed side by side:
 *  - squash (the strip stretched square: a 300 px cell becomes 75 px wide),
 *  - letterbox (scaled to fit, grey padding left out of pooling: the strip fills a third of the input),
 *  - tile (three 300 px tiles, each squashed without distortion; the strip is its worst tile; the defect cell taught
 *    only through the worst tile, multiple-instance learning, since no regions are given to training),
 *  - a plain baseline: logistic regression (softmax head, Adam 1e-3, 300 epochs) on frozen mean-pooled features of
 *    the squashed strip.
 * Reported: validation accuracy (at the threshold chosen on validation, and the argmax accuracy), and the CAM pointing
 * game on the validation defect strips (the map's maximum, on the photo, inside the defect cell; chance 1/3).
 * Ends with one JSON line.
 */
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initWasmForProbe } from '../src-main/engine/backend/wasm-init.ts';
import { cam } from '../src-main/engine/heatmaps/cam.ts';
import { stitchGrids } from '../src-main/engine/heatmaps/tiled-maps.ts';
import { buildSegment, parseBackbone } from '../src-main/engine/model/mobilenet.ts';
import { pixelsToBatch } from '../src-main/engine/model/tf-util.ts';
import { assignWeightsByName, readWeightSet } from '../src-main/engine/model/weights.ts';
import { fitFrozenHead } from './lib/frozen-head.ts';
import { Trainer } from '../src-main/engine/train/trainer.ts';
import type { TrainerOutput } from '../src-main/services/engine/job-types.ts';
import { contentCells, fitGeometry, mapPixelToOriginal, type ResizeMode } from '../src-main/services/training/data/geometry.ts';
import { fileSource, type EngineSample } from '../src-main/services/training/data/source.ts';
import { resolveConfig } from '../src-main/services/training/train/config.ts';
import { createRng, shuffleInPlace } from '../src-main/services/training/train/rng.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(here, '..');
const ELPV = join(ROOT, '..', 'shared', 'datasets', 'elpv');
const WEIGHTS = join(ROOT, '..', 'shared', 'models', 'mobilenet_v1_0.25_224');
const BACKBONE = 'mobilenet_v1_0.25';
const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : d;
};
const STRIPS = Number(arg('--strips', '300'));
const EPOCHS = Number(arg('--epochs', '30'));
const FT_EPOCHS = Number(arg('--finetune-epochs', '0'));
const SIZE = Number(arg('--size', '224'));
const SEEDS = arg('--seeds', '1').split(',').map(Number);
const CACHE = join(ROOT, '.bench', 'tile');
const CELL = 300;
const log = (s: string) => process.stdout.write(`${s}\n`);
let trainingBackend = 'cpu';

interface Strip {
  sample: EngineSample;
  /** Which of the three cells is the defect one (null: a good strip). */
  defectCell: number | null;
}

/** Three cells side by side, as one 900 x 300 PNG (written once). */
async function writeStrip(name: string, cells: string[]): Promise<string> {
  const path = join(CACHE, 'strips', `${name}.png`);
  if (existsSync(path)) return path;
  const parts = await Promise.all(cells.map((c) => sharp(c).greyscale().resize(CELL, CELL).raw().toBuffer()));
  const out = Buffer.alloc(CELL * CELL * 3);
  for (let y = 0; y < CELL; y++) parts.forEach((p, k) => p.copy(out, y * CELL * 3 + k * CELL, y * CELL, (y + 1) * CELL));
  await sharp(out, { raw: { width: CELL * 3, height: CELL, channels: 1 } })
    .png()
    .toFile(path);
  return path;
}

async function strips(seed: number): Promise<Strip[]> {
  mkdirSync(join(CACHE, 'strips'), { recursive: true });
  const rows = readFileSync(join(ELPV, 'labels.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/) as [string, string, string]);
  const rng = createRng(seed);
  const out: Strip[] = [];
  const half = Math.floor(STRIPS / 2);
  for (const type of ['mono', 'poly']) {
    const good = shuffleInPlace(
      rows.filter((r) => r[2] === type && Number(r[1]) === 0),
      rng,
    );
    const bad = shuffleInPlace(
      rows.filter((r) => r[2] === type && Number(r[1]) >= 0.66),
      rng,
    );
    const n = type === 'mono' ? Math.floor(half / 2) : half - Math.floor(half / 2);
    for (let k = 0; k < n; k++) {
      const g = good.splice(0, 3).map((r) => join(ELPV, r[0]));
      const name = `good-${type}-${seed}-${k}`;
      out.push({ sample: { id: out.length + 1, key: name, label: 0, split: 'train', path: await writeStrip(name, g) }, defectCell: null });
      const place = rng.int(3);
      const cells = good.splice(0, 2).map((r) => join(ELPV, r[0]));
      cells.splice(place, 0, join(ELPV, bad.shift()![0]));
      const dname = `defect-${type}-${seed}-${k}`;
      out.push({
        sample: { id: out.length + 1, key: dname, label: 1, split: 'train', path: await writeStrip(dname, cells) },
        defectCell: place,
      });
    }
  }
  shuffleInPlace(out, rng);
  out.forEach((s, i) => (s.sample.split = i < Math.round(out.length * 0.6) ? 'train' : 'val'));
  return out;
}

interface ModeResult {
  valAccuracy: number | null;
  argmaxAccuracy: number | null;
  valAuc: number | null;
  pointing: number | null;
  seconds: number;
}

async function trained(ds: Strip[], resize: ResizeMode, seed: number): Promise<TrainerOutput> {
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  ds.forEach((s, i) => splits[s.sample.split].push(i));
  const config = resolveConfig({
    task: 'binary',
    backbone: BACKBONE,
    inputSize: SIZE,
    epochs: EPOCHS,
    fineTuneEpochs: FT_EPOCHS,
    fineTuneBlocks: FT_EPOCHS > 0 ? 2 : 0,
    resize,
    seed,
  });
  return new Trainer({
    config,
    classes: ['ok', 'defect'],
    okIndex: 0,
    source: fileSource(
      ds.map((s) => s.sample),
      resize,
      resize === 'letterbox',
    ),
    splits,
    backboneWeights: readWeightSet(WEIGHTS),
    cacheDir: CACHE,
    backends: { training: trainingBackend, inference: 'wasm' },
    signal: new AbortController().signal,
    onEvent: () => undefined,
  }).run();
}

/** CAM pointing game on the validation defect strips: the map's maximum on the photo lies in the defect cell. */
async function pointing(ds: Strip[], resize: ResizeMode, out: TrainerOutput): Promise<number> {
  const m = out.model!;
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: m.modelTopology, weightSpecs: m.weightSpecs, weightData: m.weightData }),
  );
  const src = fileSource(
    ds.map((s) => s.sample),
    resize,
  );
  let hits = 0;
  let n = 0;
  try {
    for (let i = 0; i < ds.length; i++) {
      const s = ds[i]!;
      if (s.sample.split !== 'val' || s.defectCell === null) continue;
      let x: number;
      if (resize === 'tile') {
        const { grid, pixels } = await src.loadTiles!(i, SIZE);
        const batch = pixelsToBatch(pixels, SIZE);
        const r = cam(model, batch, [1]);
        batch.dispose();
        const g = stitchGrids(
          grid,
          r.maps.map((t) => t[0]!),
        );
        let best = 0;
        for (let k = 1; k < g.data.length; k++) if (g.data[k]! > g.data[best]!) best = k;
        x = (((best % g.width) + 0.5) * grid.width) / g.width;
      } else {
        const px = await src.loadPixels(i, SIZE);
        const batch = pixelsToBatch([px], SIZE);
        const r = cam(model, batch, [1]);
        batch.dispose();
        const g = r.maps[0]![0]!;
        const geo = fitGeometry(CELL * 3, CELL, SIZE, resize);
        // Letterbox: only the photo's cells compete (the padding is left out of the maps).
        const cells = contentCells(geo.content, SIZE, g.width, g.height);
        let best = -1;
        for (let k = 0; k < g.data.length; k++) if (cells[k] && (best < 0 || g.data[k]! > g.data[best]!)) best = k;
        x = mapPixelToOriginal(geo, best % g.width, Math.floor(best / g.width), g.width, g.height)!.x;
      }
      n++;
      if (Math.floor(x / CELL) === s.defectCell) hits++;
    }
  } finally {
    model.dispose();
  }
  return n ? hits / n : NaN;
}

async function viaTrainer(ds: Strip[], resize: ResizeMode, seed: number): Promise<ModeResult> {
  const t0 = performance.now();
  const out = await trained(ds, resize, seed);
  const seconds = +((performance.now() - t0) / 1000).toFixed(1);
  const val = out.evaluations.find((e) => e.split === 'val');
  return {
    valAccuracy: val?.accuracy ?? null,
    argmaxAccuracy: val?.argmaxAccuracy ?? null,
    valAuc: val?.binary?.auc ?? null,
    pointing: await pointing(ds, resize, out),
    seconds,
  };
}

/** Logistic regression on frozen mean-pooled features of the squashed strips. */
async function baseline(ds: Strip[], seed: number): Promise<number> {
  const spec = parseBackbone(BACKBONE);
  const C = spec.featureChannels;
  await tf.setBackend('wasm');
  const m = buildSegment(spec, 0, spec.blocks, [SIZE, SIZE, 3], { gap: true });
  assignWeightsByName(m, readWeightSet(WEIGHTS));
  const src = fileSource(
    ds.map((s) => s.sample),
    'squash',
  );
  const feats = new Float32Array(ds.length * C);
  for (let k = 0; k < ds.length; k += 16) {
    const idx = ds.slice(k, k + 16).map((_, j) => k + j);
    const px = await Promise.all(idx.map((i) => src.loadPixels(i, SIZE)));
    feats.set(
      tf.tidy(() => (m.apply(pixelsToBatch(px, SIZE), { training: false }) as tf.Tensor).dataSync() as Float32Array),
      k * C,
    );
  }
  m.dispose();
  const rows = (split: string) => {
    const ids = ds.map((s, i) => (s.sample.split === split ? i : -1)).filter((i) => i >= 0);
    const x = new Float32Array(ids.length * C);
    ids.forEach((i, j) => x.set(feats.subarray(i * C, (i + 1) * C), j * C));
    return { x, y: ids.map((i) => ds[i]!.sample.label) };
  };
  const tr = rows('train');
  const va = rows('val');
  const js = fitFrozenHead(tr, C, 2, seed);
  return js.evaluate(va.x, va.y).acc;
}

async function main(): Promise<void> {
  const probe = await initWasmForProbe();
  trainingBackend = probe.missingGradients.length ? 'cpu' : 'wasm';
  const results: Record<string, unknown> = {};
  for (const seed of SEEDS) {
    const ds = await strips(seed);
    const nVal = ds.filter((s) => s.sample.split === 'val').length;
    log(
      `seed ${seed}: ${ds.length} elpv strips 900x300 (${nVal} val), v1 0.25 @ ${SIZE}, ${EPOCHS} transfer + ${FT_EPOCHS} fine-tuning epochs (2 blocks)`,
    );
    const row: Record<string, unknown> = {};
    for (const mode of ['squash', 'letterbox', 'tile'] as const) {
      const r = await viaTrainer(ds, mode, seed);
      row[mode] = r;
      log(
        `  ${mode.padEnd(10)} val acc ${r.valAccuracy?.toFixed(3)} (argmax ${r.argmaxAccuracy?.toFixed(3)})  AUC ${r.valAuc?.toFixed(3)}  ` +
          `CAM pointing ${r.pointing?.toFixed(3)}  ${r.seconds}s`,
      );
    }
    const b = await baseline(ds, seed);
    row.baselineLogReg = { valAccuracy: b };
    log(`  baseline (logistic regression, frozen GAP of the squashed strip) val acc ${b.toFixed(3)}`);
    results[`seed${seed}`] = row;
  }
  log(JSON.stringify({ bench: 'tile', strips: STRIPS, size: SIZE, epochs: EPOCHS, fineTuneEpochs: FT_EPOCHS, results }));
}

await main();
