/**
 * Anomaly bench: `npm run bench -- anomaly [--backbone mobilenet_v2_1.0] [--size 224] [--fit 100] [--test 50] [--demo 30]
 * [--coreset 0.1] [--project-dim 128] [--sigma 4] [--demo-per-type 8] [--no-normalise] [--compare-coreset] [--fit-only]
 * [--seed 1] [--per-type [--per-type-only]] [--cal 100] [--flips h|hv] [--elpv-only] [--strips [--cells 3] [--modes squash,letterbox,tile]]`.
 * On wasm:
 * - strips (`--strips`, alone): photo shape on elongated strips of three elpv cells (bench/anomaly-strips.ts), one
 *   model per resize mode on the same strips: AUROC and scoring time a strip; `--fit` good strips, `--test` of each;
 * - fit: the memory bank from `--fit` good elpv cells (features + per-image candidates, then the global coreset pass),
 *   time and peak resident memory; with `--compare-coreset` the same fit again with the coreset passes on the backend
 *   (greedyCoreset: a matMul per step, argmax on the device; what the fit used before) beside the plain-memory pruned
 *   loop it uses now (greedyCoresetCpu), and whether both chose the same bank; `--fit-only` stops after the fit;
 * - elpv image AUROC: `--test` held-out good cells against as many with defect probability >= 2/3 (worst patch);
 *   `--seed` shuffles the cells (and seeds the model). With `--per-type`, in the same run: one bank per cell type
 *   (mono / poly, labels.txt column 3), each bank's distances divided by its type's good-score scale (99th
 *   percentile, or maximum under 100 images, of `--cal` further held-out good cells of that type, as the product's
 *   threshold rule), beside the one bank scored raw and the one bank with the same per-type scale (left out with
 *   `--per-type-only`; its fit still runs). With `--flips`:
 *   every variant also scored with test-time flips (min distance over the flips), and the scoring time of both;
 * - speed: scoring one image (features + nearest-neighbour search against that bank) against a plain classifier's
 *   forward pass (same backbone and size, batch 1), medians;
 * - demo: a bank from `--demo` rendered OK cores, then per defect type whether the anomaly map's maximum lies inside
 *   the defect mask (pointing game, 4 px tolerance) and the share of map energy inside it.
 * Ends with one JSON line.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { renderCore, type DemoDefect } from '../src-main/services/library/demo/render.ts';
import { aggregateScores, scoreMap } from '../src-main/services/heatmaps/scoring.ts';
import { anomalyTaps } from '../src-main/engine/anomaly/features.ts';
import { AnomalyModel, anomalyMap, DEFAULT_ANOMALY } from '../src-main/engine/anomaly/model.ts';
import { loadFileRgb } from '../src-main/services/training/data/source.ts';
import { buildClassifier, parseBackbone } from '../src-main/engine/model/mobilenet.ts';
import { pixelsToBatch } from '../src-main/engine/model/tf-util.ts';
import { assignWeightsByName, readWeightSet } from '../src-main/engine/model/weights.ts';
import { rocCurve } from '../src-main/services/training/train/metrics.ts';
import { findBackboneWeights } from '../src-main/services/training/model/backbone-weights.ts';
import { createRng, shuffleInPlace } from '../src-main/services/training/train/rng.ts';
import { initWasmBackend } from '../src-main/engine/wasm-grads/setup-wasm.ts';
import type { AnomalyFlips, AnomalyModelParams, BackboneId } from '../src-main/shared/training-types.ts';
import { typeScale } from '../src-main/engine/anomaly/threshold.ts';
import type { ResizeMode } from '../src-main/services/training/data/geometry.ts';
import { runStrips } from './anomaly-strips.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const BACKBONE = arg('backbone', 'mobilenet_v2_1.0') as BackboneId;
const SIZE = Number(arg('size', '224'));
const FIT = Number(arg('fit', '100'));
const TEST = Number(arg('test', '50'));
const DEMO = Number(arg('demo', '30'));
const DEMO_PER_TYPE = Number(arg('demo-per-type', '8'));
const SEED = Number(arg('seed', '1'));
const PER_TYPE = process.argv.includes('--per-type');
const CAL = Number(arg('cal', '100'));
const FLIPS = arg('flips', 'none') as AnomalyFlips;
const SHARED = resolve(import.meta.dirname, '../../shared');
const ELPV = `${SHARED}/datasets/elpv`;
const spec = parseBackbone(BACKBONE);

const info = await initWasmBackend();
await tf.setBackend('wasm');
const weights = readWeightSet(findBackboneWeights(BACKBONE, [`${SHARED}/models`]));
const taps = anomalyTaps(BACKBONE);
const params: AnomalyModelParams = {
  backbone: BACKBONE,
  inputSize: SIZE,
  taps: [taps[0].name, taps[1].name],
  seed: SEED,
  coresetFraction: Number(arg('coreset', String(DEFAULT_ANOMALY.coresetFraction))),
  projectDim: Number(arg('project-dim', String(DEFAULT_ANOMALY.projectDim))),
  normaliseIntensity: !process.argv.includes('--no-normalise'),
  candidateFactor: DEFAULT_ANOMALY.candidateFactor,
  coresetProjectDim: DEFAULT_ANOMALY.coresetProjectDim,
  maxBankRows: DEFAULT_ANOMALY.maxBankRows,
  bankRows: 0,
  dim: 0,
  rawThreshold: 1,
  thresholdBasis: 'bench',
  smoothingSigma: Number(arg('sigma', String(DEFAULT_ANOMALY.smoothingSigma))),
};
console.log(`wasm simd ${info.simd}, ${info.threads} threads; ${BACKBONE} @ ${SIZE}; taps ${params.taps.join(' + ')}`);
if (process.argv.includes('--strips')) {
  const modes = arg('modes', 'squash,letterbox,tile').split(',') as ResizeMode[];
  const cells = Number(arg('cells', '3'));
  const strips = await runStrips({ elpv: ELPV, params, weights, fit: FIT, test: TEST, seed: SEED, modes, cells });
  console.log(JSON.stringify({ bench: 'anomaly', backbone: BACKBONE, size: SIZE, seed: SEED, wasm: info, strips }));
  process.exit(0);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
let peakRss = process.memoryUsage().rss;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

/** Streams images in batches of 8 into a fit (of one type's bank with `coreType`, its share of `allImages`). */
async function fitOn(model: AnomalyModel, load: (i: number) => Promise<Uint8Array>, n: number, coreType?: string, allImages?: number) {
  let next = 0;
  return model.fit(
    async () => {
      if (next >= n) return null;
      const part = Array.from({ length: Math.min(8, n - next) }, (_, k) => next + k);
      next += part.length;
      sampleRss();
      return Promise.all(part.map(load));
    },
    n,
    sampleRss,
    undefined,
    coreType === undefined ? {} : { coreType, allImages },
  );
}

// ---------------------------------------------------------------- elpv: fit and image AUROC
const rows = readFileSync(`${ELPV}/labels.txt`, 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.trim().split(/\s+/));
const good = rows.filter((r) => Number(r[1]) === 0);
const bad = rows.filter((r) => Number(r[1]) >= 0.66);
const rng = createRng(SEED);
shuffleInPlace(good, rng);
shuffleInPlace(bad, rng);
const elpvLoad = (r: string[]) => loadFileRgb(`${ELPV}/${r[0]}`, SIZE);
const model = new AnomalyModel(params, weights);
const t0 = performance.now();
const fit = await fitOn(model, (i) => elpvLoad(good[i]!), FIT);
const fitMs = performance.now() - t0;
console.log(
  `fit: ${FIT} good cells in ${(fitMs / 1000).toFixed(1)} s (features + candidates ${(fit.featuresMs / 1000).toFixed(1)} s, ` +
    `global coreset ${(fit.coresetMs / 1000).toFixed(1)} s): ${fit.candidates} candidates -> bank ${fit.rows} x ${model.extractor.dim}; peak RSS ${Math.round(peakRss / 1e6)} MB`,
);
let coresetCompare: Record<string, unknown> | null = null;
if (process.argv.includes('--compare-coreset')) {
  const old = new AnomalyModel(params, weights);
  old.coresetOn = 'backend';
  const t = performance.now();
  const f = await fitOn(old, (i) => elpvLoad(good[i]!), FIT);
  const ms = performance.now() - t;
  const sameBank = f.rows === fit.rows && f.radii.every((r, i) => Math.abs(r - fit.radii[i]!) <= 1e-4 * Math.max(1, r));
  console.log(
    `coreset on the backend (before): fit ${(ms / 1000).toFixed(1)} s (features + candidates ${(f.featuresMs / 1000).toFixed(1)} s, ` +
      `global ${(f.coresetMs / 1000).toFixed(1)} s, ${(f.coresetMs / Math.max(1, f.rows)).toFixed(2)} ms a step) | ` +
      `plain memory, pruned (now): fit ${(fitMs / 1000).toFixed(1)} s (features + candidates ${(fit.featuresMs / 1000).toFixed(1)} s, ` +
      `global ${(fit.coresetMs / 1000).toFixed(1)} s, ${(fit.coresetMs / Math.max(1, fit.rows)).toFixed(2)} ms a step); same bank: ${sameBank}`,
  );
  coresetCompare = {
    backend: { ms: Math.round(ms), featuresMs: Math.round(f.featuresMs), coresetMs: Math.round(f.coresetMs) },
    cpu: { ms: Math.round(fitMs), featuresMs: Math.round(fit.featuresMs), coresetMs: Math.round(fit.coresetMs) },
    sameBank,
  };
  old.dispose();
}
if (process.argv.includes('--fit-only')) {
  console.log(
    JSON.stringify({
      bench: 'anomaly',
      backbone: BACKBONE,
      size: SIZE,
      wasm: info,
      fit: { images: FIT, ms: Math.round(fitMs), bankRows: fit.rows, candidates: fit.candidates, peakRssMB: Math.round(peakRss / 1e6) },
      coresetCompare,
    }),
  );
  process.exit(0);
}
const heldGood = good.slice(FIT, FIT + TEST);
const heldBad = bad.slice(0, TEST);
const calGood = good.slice(FIT + TEST, FIT + TEST + CAL);
const typeOf = (r: string[]) => r[2] ?? 'unknown';
const types = [...new Set(good.slice(0, FIT).map(typeOf))].sort();
const testSet = [...heldGood, ...heldBad];
const positive = testSet.map((_, i) => i >= heldGood.length);
/** Raw scores of `set` (each cell against its own type's bank when `typed`) and the median ms an image. */
async function scoreSet(m: AnomalyModel, set: string[][], typed: boolean): Promise<{ raw: number[]; msPerImage: number }> {
  const raw: number[] = [];
  let ms = 0;
  for (let i = 0; i < set.length; i += 8) {
    const part = set.slice(i, i + 8);
    const px = await Promise.all(part.map(elpvLoad));
    const t = performance.now();
    for (const s of await m.score(px, typed ? part.map(typeOf) : [])) raw.push(s.raw);
    ms += performance.now() - t;
  }
  return { raw, msPerImage: ms / Math.max(1, set.length) };
}
/** Per-type scales from the calibration cells' scores (the product's threshold rule per type). */
function scalesOf(calRaw: number[]): Map<string, number> {
  return new Map(types.map((t) => [t, typeScale(calRaw.filter((_, i) => typeOf(calGood[i]!) === t))]));
}
const scaled = (raw: number[], scales: Map<string, number>) => raw.map((r, i) => r / (scales.get(typeOf(testSet[i]!)) ?? 1));
const auc = (xs: number[]) => rocCurve(xs, positive).auc;
const perSeedTypeCounts = types.map((t) => `${t} ${good.slice(0, FIT).filter((r) => typeOf(r) === t).length}`).join(', ');
const variants: Record<string, { auroc: number; msPerImage: number }> = {};
const SKIP_ONE_BANK = PER_TYPE && process.argv.includes('--per-type-only');
for (const flips of SKIP_ONE_BANK ? [] : FLIPS === 'none' ? (['none'] as const) : (['none', FLIPS] as const)) {
  model.params.flips = flips;
  const test = await scoreSet(model, testSet, false);
  variants[`one bank, ${flips}`] = { auroc: auc(test.raw), msPerImage: test.msPerImage };
  if (PER_TYPE) {
    const cal = await scoreSet(model, calGood, false);
    variants[`one bank + per-type scale, ${flips}`] = { auroc: auc(scaled(test.raw, scalesOf(cal.raw))), msPerImage: test.msPerImage };
  }
}
const auroc = variants['one bank, none']?.auroc ?? NaN;
if (PER_TYPE) {
  const typed = new AnomalyModel({ ...params, flips: 'none' }, weights);
  for (const t of types) {
    const rowsT = good.slice(0, FIT).filter((r) => typeOf(r) === t);
    const f = await fitOn(typed, (i) => elpvLoad(rowsT[i]!), rowsT.length, t, FIT);
    console.log(`per-type bank ${t}: ${f.rows} patches from ${rowsT.length} good cells`);
  }
  for (const flips of FLIPS === 'none' ? (['none'] as const) : (['none', FLIPS] as const)) {
    typed.params.flips = flips;
    for (const t of types) typed.banks.setScale(t, 1);
    const cal = await scoreSet(typed, calGood, true);
    const test = await scoreSet(typed, testSet, true);
    variants[`per-type banks, raw, ${flips}`] = { auroc: auc(test.raw), msPerImage: test.msPerImage };
    variants[`per-type banks + scale, ${flips}`] = { auroc: auc(scaled(test.raw, scalesOf(cal.raw))), msPerImage: test.msPerImage };
  }
  typed.dispose();
}
for (const [k, v] of Object.entries(variants))
  console.log(`elpv image AUROC ${v.auroc.toFixed(4)}  ${k.padEnd(36)} scoring ${v.msPerImage.toFixed(0)} ms an image`);
console.log(
  `(seed ${SEED}: ${heldGood.length} held-out good vs ${heldBad.length} defect cells, bank from ${FIT} good cells (${perSeedTypeCounts}), ` +
    `per-type scales from ${calGood.length} more good cells)`,
);
if (process.argv.includes('--elpv-only')) {
  console.log(JSON.stringify({ bench: 'anomaly', backbone: BACKBONE, size: SIZE, seed: SEED, fit: FIT, test: TEST, cal: CAL, variants }));
  process.exit(0);
}
model.params.flips = 'none';

// ---------------------------------------------------------------- speed: score vs a classifier forward pass
const classifier = buildClassifier(spec, SIZE, 2, 0);
assignWeightsByName(classifier, weights, { include: (n) => !n.startsWith('head_') });
const one = [await elpvLoad(heldGood[0] ?? good[0]!)];
const fwdTimes: number[] = [];
const scoreTimes: number[] = [];
const featTimes: number[] = [];
for (let r = 0; r < 12; r++) {
  const x = pixelsToBatch(one, SIZE);
  let t = performance.now();
  const y = classifier.predict(x) as tf.Tensor;
  await y.data();
  if (r) fwdTimes.push(performance.now() - t);
  y.dispose();
  t = performance.now();
  const e = model.extractor.embed(x);
  await e.data();
  if (r) featTimes.push(performance.now() - t);
  e.dispose();
  x.dispose();
  t = performance.now();
  await model.score(one);
  if (r) scoreTimes.push(performance.now() - t);
}
const fwd = median(fwdTimes);
const sc = median(scoreTimes);
const feat = median(featTimes);
console.log(
  `per image @ ${SIZE}: classifier forward ${fwd.toFixed(1)} ms; anomaly score ${sc.toFixed(1)} ms = ${(sc / fwd).toFixed(2)}x ` +
    `(features ${feat.toFixed(1)} ms, nearest-neighbour search ~${(sc - feat).toFixed(1)} ms against ${fit.rows} bank patches)`,
);
classifier.dispose();
model.dispose();

// ---------------------------------------------------------------- demo: pointing per defect type
const demo = new AnomalyModel(params, weights);
await fitOn(demo, async (i) => renderCore({ seed: 1000 + i, defect: 'ok', size: SIZE }).rgb, DEMO);
const perType: Record<string, { pointing: number; energy: number; area: number; n: number }> = {};
for (const defect of ['scratch', 'dent', 'chip', 'sheet_shift'] as DemoDefect[]) {
  const list: { pointing: boolean; energy: number; area: number }[] = [];
  for (let k = 0; k < DEMO_PER_TYPE; k++) {
    const img = renderCore({ seed: 5000 + k * 7 + defect.length, defect, size: SIZE });
    const [s] = await demo.score([img.rgb]);
    const map = anomalyMap(s!.patches, demo.grid, SIZE, SIZE, params.smoothingSigma);
    const r = scoreMap({ width: SIZE, height: SIZE, data: map }, img.mask, 4);
    if (r) list.push(r);
  }
  const agg = aggregateScores(list);
  perType[defect] = { pointing: agg.pointingAccuracy, energy: agg.meanEnergy, area: agg.meanArea, n: list.length };
  console.log(
    `demo ${defect.padEnd(11)} pointing ${(agg.pointingAccuracy * 100).toFixed(0)} %, energy in region ${(agg.meanEnergy * 100).toFixed(0)} % (area ${(agg.meanArea * 100).toFixed(1)} %), n=${list.length}`,
  );
}
demo.dispose();
const all = Object.values(perType);
const demoPointing =
  all.reduce((a, b) => a + b.pointing * b.n, 0) /
  Math.max(
    1,
    all.reduce((a, b) => a + b.n, 0),
  );
console.log(`demo pointing over all defect images: ${(demoPointing * 100).toFixed(0)} % (goal >= 85 %)`);

console.log(
  JSON.stringify({
    bench: 'anomaly',
    backbone: BACKBONE,
    size: SIZE,
    wasm: info,
    fit: { images: FIT, ms: Math.round(fitMs), bankRows: fit.rows, candidates: fit.candidates, peakRssMB: Math.round(peakRss / 1e6) },
    coresetCompare,
    elpv: { auroc, good: heldGood.length, defect: heldBad.length, variants },
    speed: { forwardMs: fwd, scoreMs: sc, featuresMs: feat, ratio: sc / fwd },
    demo: { pointing: demoPointing, perType },
  }),
);
