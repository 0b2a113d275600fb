/**
 * Photo shape as a shortcut: `npm run bench -- letterbox-mask [--per-class 60] [--size 224] [--epochs 30]
 * [--finetune-epochs 0] [--seeds 1,2]`.
 * A NEU-derived set where the photo's shape says the class: each class's 200x200 images are centre-cropped to one
 * aspect (class k: 2:1, 1:1, 1:2 for k mod 3 = 0, 1, 2), their VOC boxes cropped with them. MobileNet v1 0.25, the
 * same split and seeds, side by side:
 *  - squash (the photo stretched square: the aspect shows as stretched texture),
 *  - letterbox, grey padding pooled (padMask false: the amount of grey says the aspect),
 *  - letterbox + mask (padding left out of pooling and maps),
 *  - a plain baseline: logistic regression (softmax head, Adam 1e-3, 300 epochs) on frozen mean-pooled features of
 *    the squashed originals.
 * Reported: validation accuracy (the Trainer's evaluation of its best checkpoint), the shortcut check (the same
 * validation photos cropped to another class group's aspect: a model that reads the shape drops) and the CAM pointing
 * game of the validation images with boxes at the last measured epoch (the per-epoch localisation). Ends with one
 * JSON line.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { EpochMetrics, TrainConfigInput } from '../src-main/shared/training-types.ts';
import { initWasmForProbe } from '../src-main/engine/backend/wasm-init.ts';
import { neuSamples } from '../src-main/services/training/data/neu.ts';
import { fileSource, type EngineSample } from '../src-main/services/training/data/source.ts';
import { padMaskOfConfig, type ResizeMode } from '../src-main/services/training/data/geometry.ts';
import { neuAnnotationOf, vocMask } from '../src-main/services/training/guide/voc-masks.ts';
import { letterboxMask, type RegionMask } from '../src-main/services/training/guide/regions.ts';
import { buildSegment, parseBackbone } from '../src-main/engine/model/mobilenet.ts';
import { pixelsToBatch } from '../src-main/engine/model/tf-util.ts';
import { readWeightSet, assignWeightsByName } from '../src-main/engine/model/weights.ts';
import { fitFrozenHead } from './lib/frozen-head.ts';
import { Trainer, type TrainerEvent } from '../src-main/engine/train/trainer.ts';
import { resolveConfig } from '../src-main/services/training/train/config.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(here, '..');
const WEIGHTS = join(ROOT, '..', 'shared', 'models', 'mobilenet_v1_0.25_224');
const BACKBONE = 'mobilenet_v1_0.25';
const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : d;
};
const PER_CLASS = Number(arg('--per-class', '60'));
const SIZE = Number(arg('--size', '224'));
const EPOCHS = Number(arg('--epochs', '30'));
const FT_EPOCHS = Number(arg('--finetune-epochs', '0'));
const SEEDS = arg('--seeds', '1').split(',').map(Number);
const CACHE = join(ROOT, '.bench', 'letterbox-mask');
const log = (s: string) => process.stdout.write(`${s}\n`);

/** Class k's crop: 2:1, 1:1, 1:2 of the 200 x 200 NEU photo, centred. */
function cropOf(label: number): { left: number; top: number; width: number; height: number } {
  const k = label % 3;
  if (k === 0) return { left: 0, top: 50, width: 200, height: 100 };
  if (k === 1) return { left: 0, top: 0, width: 200, height: 200 };
  return { left: 50, top: 0, width: 100, height: 200 };
}

/** A box mask cropped like its photo; null when no box is left inside. */
function cropMask(m: RegionMask, c: ReturnType<typeof cropOf>): RegionMask | null {
  const mask = new Uint8Array(c.width * c.height);
  let any = false;
  for (let y = 0; y < c.height; y++)
    for (let x = 0; x < c.width; x++) {
      const v = m.mask[(c.top + y) * m.width + c.left + x]!;
      mask[y * c.width + x] = v;
      any ||= v === 1;
    }
  return any ? { mask, width: c.width, height: c.height, tolerance: m.tolerance } : null;
}

interface DataSet {
  classes: string[];
  samples: EngineSample[];
  masks: Map<number, RegionMask>;
}

async function dataSet(): Promise<DataSet> {
  const { classes, samples } = neuSamples({ perClass: PER_CLASS, valFraction: 0.24, seed: 1 });
  const out: EngineSample[] = [];
  const masks = new Map<number, RegionMask>();
  for (const s of samples) {
    const c = cropOf(s.label);
    const dir = join(CACHE, 'images', classes[s.label]!);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${s.id}.png`);
    if (!existsSync(path)) await sharp(s.path!).extract(c).png().toFile(path);
    const key = createHash('sha256').update(readFileSync(path)).digest('hex');
    if (s.split === 'val' && existsSync(neuAnnotationOf(s.path!))) {
      const full = vocMask(readFileSync(neuAnnotationOf(s.path!), 'utf8'), classes[s.label]!);
      const m = full && cropMask(full, c);
      if (m) masks.set(out.length, m);
    }
    out.push({ ...s, key, path });
  }
  // The shortcut check (test split): every validation photo cropped to the aspect of the next class group, so a
  // model that reads the class from the photo's shape is wrong on it and one that reads the surface is not.
  for (const s of samples.filter((x) => x.split === 'val')) {
    const c = cropOf(s.label + 1);
    const path = join(CACHE, 'images', classes[s.label]!, `${s.id}-swapped.png`);
    if (!existsSync(path)) await sharp(s.path!).extract(c).png().toFile(path);
    const key = createHash('sha256').update(readFileSync(path)).digest('hex');
    out.push({ ...s, id: s.id + 100000, key, path, split: 'test' });
  }
  return { classes, samples: out, masks };
}

interface ModeResult {
  valAccuracy: number | null;
  /** Accuracy on the validation photos cropped to another class group's aspect (the shortcut check). */
  swappedAspectAccuracy: number | null;
  valPointing: number | null;
  pointingByClass: Record<string, number>;
  epochsRun: number;
  seconds: number;
}

async function viaTrainer(ds: DataSet, resize: ResizeMode, padMask: boolean, seed: number): Promise<ModeResult> {
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  ds.samples.forEach((s, i) => splits[s.split].push(i));
  const over: TrainConfigInput = {
    task: 'multiclass',
    backbone: BACKBONE,
    inputSize: SIZE,
    epochs: EPOCHS,
    fineTuneEpochs: FT_EPOCHS,
    fineTuneBlocks: FT_EPOCHS > 0 ? 2 : 0,
    resize,
    padMask,
    seed,
  };
  const config = resolveConfig(over);
  const masked = padMaskOfConfig(config);
  const masks = new Map([...ds.masks].map(([i, m]) => [i, resize === 'letterbox' ? letterboxMask(m) : m]));
  let last: EpochMetrics | null = null;
  const t0 = performance.now();
  const out = await new Trainer({
    config,
    classes: ds.classes,
    okIndex: null,
    source: fileSource(ds.samples, resize, masked),
    splits,
    regionMasks: masks,
    backboneWeights: readWeightSet(WEIGHTS),
    cacheDir: CACHE,
    backends: { training: 'cpu', inference: 'wasm' },
    signal: new AbortController().signal,
    onEvent: (e: TrainerEvent) => {
      if (e.kind === 'epoch' && e.metrics.valPointing !== undefined) last = e.metrics;
    },
  }).run();
  const m = last as EpochMetrics | null;
  return {
    valAccuracy: out.evaluations.find((e) => e.split === 'val')?.accuracy ?? null,
    swappedAspectAccuracy: out.evaluations.find((e) => e.split === 'test')?.accuracy ?? null,
    valPointing: m?.valPointing ?? null,
    pointingByClass: Object.fromEntries(Object.entries(m?.valPointingByClass ?? {}).map(([k, v]) => [k, +v.pointing.toFixed(3)])),
    epochsRun: out.phases.reduce((a, p) => a + p.epochsRun, 0),
    seconds: +((performance.now() - t0) / 1000).toFixed(1),
  };
}

/** Logistic regression on frozen mean-pooled features of the squashed originals (train / val). */
async function baseline(ds: DataSet, seed: number): Promise<{ valAccuracy: number; swappedAspectAccuracy: number }> {
  const spec = parseBackbone(BACKBONE);
  const C = spec.featureChannels;
  const K = ds.classes.length;
  await tf.setBackend('wasm');
  const m = buildSegment(spec, 0, spec.blocks, [SIZE, SIZE, 3], { gap: true });
  assignWeightsByName(m, readWeightSet(WEIGHTS));
  const src = fileSource(ds.samples, 'squash');
  const feats = new Float32Array(ds.samples.length * C);
  for (let k = 0; k < ds.samples.length; k += 16) {
    const idx = ds.samples.slice(k, k + 16).map((_, j) => k + j);
    const px = await Promise.all(idx.map((i) => src.loadPixels(i, SIZE)));
    feats.set(
      tf.tidy(() => (m.apply(pixelsToBatch(px, SIZE), { training: false }) as tf.Tensor).dataSync() as Float32Array),
      k * C,
    );
  }
  m.dispose();
  const rows = (split: string) => {
    const ids = ds.samples.map((s, i) => (s.split === split ? i : -1)).filter((i) => i >= 0);
    const x = new Float32Array(ids.length * C);
    ids.forEach((i, j) => x.set(feats.subarray(i * C, (i + 1) * C), j * C));
    return { x, y: ids.map((i) => ds.samples[i]!.label) };
  };
  const tr = rows('train');
  const va = rows('val');
  const js = fitFrozenHead(tr, C, K, seed);
  const te = rows('test');
  return { valAccuracy: js.evaluate(va.x, va.y).acc, swappedAspectAccuracy: js.evaluate(te.x, te.y).acc };
}

async function main(): Promise<void> {
  await initWasmForProbe();
  const ds = await dataSet();
  const nVal = ds.samples.filter((s) => s.split === 'val').length;
  log(`NEU-derived, class aspects ${ds.classes.map((c, k) => `${c} ${['2:1', '1:1', '1:2'][k % 3]}`).join(', ')}`);
  log(`${ds.samples.length} images (${nVal} val, ${ds.masks.size} with boxes), v1 0.25 @ ${SIZE}, epochs ${EPOCHS}+${FT_EPOCHS}`);
  const modes: [string, ResizeMode, boolean][] = [
    ['squash', 'squash', false],
    ['letterbox', 'letterbox', false],
    ['letterboxMasked', 'letterbox', true],
  ];
  const results: Record<string, unknown> = {};
  for (const seed of SEEDS) {
    const row: Record<string, unknown> = {};
    for (const [name, resize, padMask] of modes) {
      const r = await viaTrainer(ds, resize, padMask, seed);
      row[name] = r;
      log(
        `seed ${seed} ${name.padEnd(16)} val acc ${r.valAccuracy?.toFixed(3)}  swapped-aspect acc ${r.swappedAspectAccuracy?.toFixed(3)}  CAM pointing ${r.valPointing?.toFixed(3)}  ` +
          `epochs ${r.epochsRun}  ${r.seconds}s  by class ${JSON.stringify(r.pointingByClass)}`,
      );
    }
    const b = await baseline(ds, seed);
    row.baselineLogReg = b;
    log(
      `seed ${seed} baseline (logistic regression, frozen GAP, squash) val acc ${b.valAccuracy.toFixed(3)}  ` +
        `swapped-aspect acc ${b.swappedAspectAccuracy.toFixed(3)}`,
    );
    results[`seed${seed}`] = row;
  }
  log(JSON.stringify({ bench: 'letterbox-mask', perClass: PER_CLASS, size: SIZE, epochs: EPOCHS, fineTuneEpochs: FT_EPOCHS, results }));
}

await main();
