/**
 * Transfer-phase head bench: `npm run bench -- head-baseline [neu|elpv|demo ...] [--elpv-images N] [--size 224]`.
 * On the same cached frozen embeddings (the project's embedding cache, kept under .bench/head-baseline/, so a
 * second run skips the backbone), side by side:
 *  (a) the old default transfer phase through the Trainer: Adam 2e-4 constant, 60 epochs, raw patience 10;
 *  (b) a plain 20-line baseline: softmax head (JsHead), Adam 1e-3, 300 epochs, class weights, no dropout, no
 *      early stopping; its best epoch (by validation accuracy) and its last epoch;
 *  (c) the new default transfer phase through the Trainer (resolveConfig's defaults: warm-up + cosine,
 *      early stopping on the smoothed validation loss).
 * Data sets: NEU-DET multiclass (6 classes, 76/24 split), elpv binary (defect probability >= 0.5, 60/15/25 split
 * as in the goal command), the demo project (72 generated photos, binary, 76/24). MobileNet v1 0.25 @ 224.
 * Validation accuracy of (a)/(c) is the Trainer's own final evaluation of the restored best checkpoint.
 * Ends with one JSON line.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { TrainConfigInput } from '../src-main/shared/training-types.ts';
import { initWasmForProbe } from '../src-main/engine/backend/wasm-init.ts';
import { renderDemoPng, demoPlan } from '../src-main/services/library/demo/populate.ts';
import { neuSamples } from '../src-main/services/training/data/neu.ts';
import { fileSource, loadFileRgb, type EngineSample } from '../src-main/services/training/data/source.ts';
import { buildHead, buildSegment, HEAD_LAYERS, parseBackbone } from '../src-main/engine/model/mobilenet.ts';
import { pixelsToBatch, type SavedModelArtifacts } from '../src-main/engine/model/tf-util.ts';
import { assignWeightsByName, readWeightSet } from '../src-main/engine/model/weights.ts';
import { EmbeddingCache } from '../src-main/engine/train/embedding-cache.ts';
import { JsHead } from '../src-main/engine/train/js-head.ts';
import { createRng, shuffleInPlace } from '../src-main/services/training/train/rng.ts';
import { Trainer, type TrainerEvent } from '../src-main/engine/train/trainer.ts';
import { resolveConfig } from '../src-main/services/training/train/config.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(here, '..');
const SHARED = resolve(ROOT, '..', 'shared');
const WEIGHTS = join(SHARED, 'models', 'mobilenet_v1_0.25_224');
const BACKBONE = 'mobilenet_v1_0.25';
const SIZE_ARG = process.argv.indexOf('--size');
const SIZE = SIZE_ARG >= 0 ? Number(process.argv[SIZE_ARG + 1]) : 224;
const CACHE = join(ROOT, '.bench', 'head-baseline');
const log = (s: string) => process.stdout.write(`${s}\n`);

interface DataSet {
  name: string;
  classes: string[];
  samples: EngineSample[];
}

/** Stratified split by label: val and test fractions per class, seeded. */
function stratify(samples: Omit<EngineSample, 'split'>[], val: number, test: number, seed: number): EngineSample[] {
  const rng = createRng(seed);
  const byLabel = new Map<number, Omit<EngineSample, 'split'>[]>();
  for (const s of samples) byLabel.set(s.label, [...(byLabel.get(s.label) ?? []), s]);
  const out: EngineSample[] = [];
  for (const [, list] of [...byLabel.entries()].sort((a, b) => a[0] - b[0])) {
    const sh = shuffleInPlace(list.slice(), rng);
    const nv = Math.round(sh.length * val);
    const nt = Math.round(sh.length * test);
    sh.forEach((s, k) => out.push({ ...s, split: k < nv ? 'val' : k < nv + nt ? 'test' : 'train' }));
  }
  return out;
}

function neu(): DataSet {
  const { classes, samples } = neuSamples({});
  return { name: 'neu', classes, samples };
}

function elpv(limit: number): DataSet {
  const dir = join(SHARED, 'datasets', 'elpv');
  const rows = readFileSync(join(dir, 'labels.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  let list = rows.map(([rel, p], i) => {
    const path = join(dir, rel!);
    return { id: i + 1, key: createHash('sha256').update(readFileSync(path)).digest('hex'), label: Number(p) >= 0.5 ? 1 : 0, path };
  });
  if (limit < list.length) list = shuffleInPlace(list, createRng(7)).slice(0, limit);
  return { name: 'elpv', classes: ['ok', 'defect'], samples: stratify(list, 0.15, 0.25, 1) };
}

async function demo(): Promise<DataSet> {
  const dir = join(CACHE, 'demo-images');
  mkdirSync(dir, { recursive: true });
  const plan = demoPlan(72);
  const list: Omit<EngineSample, 'split'>[] = [];
  for (let i = 0; i < plan.length; i++) {
    const path = join(dir, `${i}.png`);
    // The demo project's own images: seed 1, image i (populateDemoProject's seeds).
    if (!existsSync(path)) writeFileSync(path, (await renderDemoPng(1 * 100003 + i, plan[i]!)).png);
    list.push({ id: i + 1, key: createHash('sha256').update(readFileSync(path)).digest('hex'), label: plan[i] === 'ok' ? 0 : 1, path });
  }
  return { name: 'demo', classes: ['ok', 'defect'], samples: stratify(list, 0.24, 0, 1) };
}

/** The head_dense kernel and bias of a saved model (float32 weights in manifest order). */
function headWeights(m: SavedModelArtifacts): { W: Float32Array; b: Float32Array } {
  let off = 0;
  const got: Record<string, Float32Array> = {};
  for (const w of m.weightSpecs) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (w.name.startsWith(`${HEAD_LAYERS.dense}/`))
      got[w.name.slice(HEAD_LAYERS.dense.length + 1)] = new Float32Array(m.weightData.slice(off, off + n * 4));
    off += n * 4;
  }
  return { W: got.kernel!, b: got.bias! };
}

/** Argmax accuracy of a head on the cached originals of a split (what the baseline reports). */
function argmaxAccuracy(ds: DataSet, W: Float32Array, b: Float32Array, split: 'val' | 'test'): number | null {
  const spec = parseBackbone(BACKBONE);
  const cache = new EmbeddingCache(CACHE, {
    backbone: spec.id,
    inputSize: SIZE,
    weightsFingerprint: readWeightSet(WEIGHTS).fingerprint,
    channels: spec.featureChannels,
  });
  const list = ds.samples.filter((s) => s.split === split);
  if (!list.length) return null;
  const C = spec.featureChannels;
  const x = new Float32Array(list.length * C);
  list.forEach((s, i) => x.set(cache.get(s.key, 0)!, i * C));
  return new JsHead(W, b, C, ds.classes.length, 0).evaluate(
    x,
    list.map((s) => s.label),
  ).acc;
}

interface TrainerResult {
  /** Argmax accuracy of the restored checkpoint, as the baseline measures it. */
  valArgmaxAccuracy: number | null;
  testArgmaxAccuracy: number | null;
  /** The Trainer's own evaluation (binary: at the threshold the evaluation chooses on validation). */
  valAccuracy: number | null;
  valLoss: number | null;
  testAccuracy: number | null;
  epochsRun: number;
  bestEpoch: number | null;
  transferSeconds: number;
  embeddingSeconds: number;
}

async function viaTrainer(ds: DataSet, over: TrainConfigInput, training: string): Promise<TrainerResult> {
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  ds.samples.forEach((s, i) => splits[s.split].push(i));
  const events: TrainerEvent[] = [];
  const out = await new Trainer({
    config: resolveConfig({ task: ds.classes.length > 2 ? 'multiclass' : 'binary', backbone: BACKBONE, inputSize: SIZE, ...over }),
    classes: ds.classes,
    okIndex: ds.classes.length === 2 ? 0 : null,
    source: fileSource(ds.samples),
    splits,
    backboneWeights: readWeightSet(WEIGHTS),
    cacheDir: CACHE,
    backends: { training, inference: 'wasm' },
    signal: new AbortController().signal,
    onEvent: (e) => events.push(e),
  }).run();
  const ph = out.phases.find((p) => p.phase === 'transfer')!;
  const ev = (s: string) => out.evaluations.find((e) => e.split === s) ?? null;
  const hw = headWeights(out.model!);
  return {
    valArgmaxAccuracy: argmaxAccuracy(ds, hw.W, hw.b, 'val'),
    testArgmaxAccuracy: argmaxAccuracy(ds, hw.W, hw.b, 'test'),
    valAccuracy: ev('val')?.accuracy ?? null,
    valLoss: ev('val')?.loss ?? null,
    testAccuracy: ev('test')?.accuracy ?? null,
    epochsRun: ph.epochsRun,
    bestEpoch: ph.bestEpoch,
    transferSeconds: +(out.durations.transferMs / 1000).toFixed(2),
    embeddingSeconds: +(out.durations.embeddingsMs / 1000).toFixed(1),
  };
}

/** Embeds the originals of a split that the Trainer does not embed (test) into the same cache. */
async function ensureEmbeddings(ds: DataSet, split: 'test'): Promise<void> {
  const spec = parseBackbone(BACKBONE);
  const weights = readWeightSet(WEIGHTS);
  const cache = new EmbeddingCache(CACHE, {
    backbone: spec.id,
    inputSize: SIZE,
    weightsFingerprint: weights.fingerprint,
    channels: spec.featureChannels,
  });
  const todo = ds.samples.filter((s) => s.split === split && !cache.get(s.key, 0));
  if (!todo.length) return;
  await tf.setBackend('wasm');
  const m = buildSegment(spec, 0, spec.blocks, [SIZE, SIZE, 3], { gap: true });
  assignWeightsByName(m, weights);
  for (let k = 0; k < todo.length; k += 16) {
    const part = todo.slice(k, k + 16);
    const px = await Promise.all(part.map((s) => loadFileRgb(s.path!, SIZE)));
    const f = tf.tidy(() => (m.apply(pixelsToBatch(px, SIZE), { training: false }) as tf.Tensor).dataSync() as Float32Array);
    part.forEach((s, j) => cache.put(s.key, 0, f.slice(j * spec.featureChannels, (j + 1) * spec.featureChannels)));
  }
  m.dispose();
}

/** (b): the 20-line script on the cached embeddings (train: all three fixed variants; val, test: originals). */
function baseline(ds: DataSet) {
  const spec = parseBackbone(BACKBONE);
  const C = spec.featureChannels;
  const K = ds.classes.length;
  const cache = new EmbeddingCache(CACHE, {
    backbone: spec.id,
    inputSize: SIZE,
    weightsFingerprint: readWeightSet(WEIGHTS).fingerprint,
    channels: C,
  });
  const rows = (split: string, variants: number[]) => {
    const xs: Float32Array[] = [];
    const ys: number[] = [];
    for (const s of ds.samples.filter((x) => x.split === split))
      for (const v of variants) {
        const e = cache.get(s.key, v);
        if (!e) throw new Error(`embedding of ${s.path} variant ${v} is not cached`);
        xs.push(e);
        ys.push(s.label);
      }
    const x = new Float32Array(xs.length * C);
    xs.forEach((e, i) => x.set(e, i * C));
    return { x, y: ys };
  };
  const tr = rows('train', [0, 1, 2]);
  const va = rows('val', [0]);
  const te = rows('test', [0]);
  const counts = new Array<number>(K).fill(0);
  for (const s of ds.samples) if (s.split === 'train') counts[s.label]! += 1;
  const nTrain = counts.reduce((a, b) => a + b, 0);
  const cw = counts.map((k) => nTrain / (K * k));
  const head = buildHead(C, K, 1);
  const [k0, b0] = head.getLayer(HEAD_LAYERS.dense).getWeights();
  const js = new JsHead(k0!.dataSync() as Float32Array, b0!.dataSync() as Float32Array, C, K, 1e-3);
  head.dispose();
  const rng = createRng(1);
  const order = tr.y.map((_, i) => i);
  const buf = new Float32Array(32 * C);
  let best = { epoch: 0, acc: -1, loss: Infinity, test: NaN };
  let last = { acc: NaN, loss: NaN, test: NaN };
  const t0 = performance.now();
  for (let e = 1; e <= 300; e++) {
    shuffleInPlace(order, rng);
    for (let b = 0; b < order.length; b += 32) {
      const part = order.slice(b, b + 32);
      part.forEach((i, j) => buf.set(tr.x.subarray(i * C, (i + 1) * C), j * C));
      const labels = part.map((i) => tr.y[i]!);
      js.step(
        buf,
        labels,
        labels.map((l) => cw[l]!),
        undefined,
      );
    }
    const v = js.evaluate(va.x, va.y);
    const t = te.y.length ? js.evaluate(te.x, te.y).acc : NaN;
    if (v.acc > best.acc) best = { epoch: e, acc: v.acc, loss: v.loss, test: t };
    last = { acc: v.acc, loss: v.loss, test: t };
  }
  return {
    bestEpoch: best.epoch,
    bestValAccuracy: best.acc,
    bestTestAccuracy: Number.isNaN(best.test) ? null : best.test,
    lastValAccuracy: last.acc,
    lastValLoss: last.loss,
    lastTestAccuracy: Number.isNaN(last.test) ? null : last.test,
    seconds: +((performance.now() - t0) / 1000).toFixed(2),
  };
}

const pct = (v: number | null) => (v === null ? '   -   ' : `${(v * 100).toFixed(2)} %`);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const lim = args.indexOf('--elpv-images');
  const elpvImages = lim >= 0 ? Number(args[lim + 1]) : 2624;
  const names = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const which = names.length ? names : ['neu', 'elpv', 'demo'];
  const f = await initWasmForProbe();
  const training = f.missingGradients.length ? 'cpu' : 'wasm';
  await tf.setBackend(training);
  log(`Head bench: ${BACKBONE} @ ${SIZE}, embeddings cached in ${CACHE}; wasm ${f.threads} thread(s), training backend ${training}`);
  const out: Record<string, unknown> = { backbone: BACKBONE, inputSize: SIZE };
  for (const name of which) {
    const ds = name === 'neu' ? neu() : name === 'elpv' ? elpv(elpvImages) : await demo();
    const n = (s: string) => ds.samples.filter((x) => x.split === s).length;
    log(`\n${name}: ${ds.classes.length} classes, train ${n('train')} (x3 fixed variants), val ${n('val')}, test ${n('test')}`);
    const a = await viaTrainer(ds, { learningRate: 2e-4, epochs: 60, patience: 10, lrSchedule: 'constant', stopSmoothing: 1 }, training);
    log(`  (embeddings: ${a.embeddingSeconds} s, cached from now on)`);
    await ensureEmbeddings(ds, 'test');
    await tf.setBackend(training);
    const b = baseline(ds);
    const c = await viaTrainer(ds, { fineTuneEpochs: 0 }, training);
    const cfg = resolveConfig({});
    const row = (what: string, va: number | null, te: number | null, ep: string, sec: number | string, ev = '') =>
      log(`  ${what.padEnd(52)} ${pct(va)}  ${pct(te)}  ${ep.padEnd(13)} ${String(sec).padEnd(7)} ${ev}`);
    log(`  ${'recipe'.padEnd(52)} val acc   test acc  epochs (best) head s  evaluation's own val / test accuracy`);
    const evs = (r: TrainerResult) => `${pct(r.valAccuracy)} / ${pct(r.testAccuracy)}`;
    row(
      '(a) old default: Adam 2e-4, 60 ep, patience 10',
      a.valArgmaxAccuracy,
      a.testArgmaxAccuracy,
      `${a.epochsRun} (${a.bestEpoch})`,
      a.transferSeconds,
      evs(a),
    );
    row('(b) baseline 1e-3 x 300, best epoch (by val acc)', b.bestValAccuracy, b.bestTestAccuracy, `300 (${b.bestEpoch})`, b.seconds);
    row('(b) baseline 1e-3 x 300, last epoch', b.lastValAccuracy, b.lastTestAccuracy, '300', '');
    row(
      `(c) new: ${cfg.learningRate} warm-up+cosine, ${cfg.epochs} ep, EMA pat. ${cfg.patience}`,
      c.valArgmaxAccuracy,
      c.testArgmaxAccuracy,
      `${c.epochsRun} (${c.bestEpoch})`,
      c.transferSeconds,
      evs(c),
    );
    out[name] = { counts: { train: n('train'), val: n('val'), test: n('test') }, oldDefault: a, baseline: b, newDefault: c };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
