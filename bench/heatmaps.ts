/**
 * Heatmaps bench: `npm run bench -- heatmaps [--quick] [--sizes 224,520] [--backends auto|tfjs-node-gpu,tfjs-node,wasm,cpu] [--n 50]`.
 * Per image, per input size and backend, on MobileNet v1 0.25 (ImageNet weights, 6-class GAP head):
 * forward pass, CAM (one pass of [last conv, softmax]), Grad-CAM (last conv), SmoothGrad n=50 batched
 * (defaultSmoothGradBatch: 25 per batch at 224 on wasm/cpu, 50 on native TensorFlow, fewer at larger sizes) vs one
 * copy at a time; then a 100-image CAM gallery at 224 on wasm through the real pipeline (NEU JPEG decode + CAM in
 * batches of 16 + bilinear upsample + turbo overlay + PNG encode). `auto` (the default) measures every backend that
 * loads here, native TensorFlow included, and says why the others are skipped. Ends with one JSON line.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { probeBackends } from '../src-main/engine/backend/detect.ts';
import { initWasmForProbe } from '../src-main/engine/backend/wasm-init.ts';
import { neuSamples } from '../src-main/services/training/data/neu.ts';
import { loadFileRgb } from '../src-main/services/training/data/source.ts';
import { buildClassifier, parseBackbone } from '../src-main/engine/model/mobilenet.ts';
import { pixelsToBatch, useBackend } from '../src-main/engine/model/tf-util.ts';
import { assignWeightsByName, readWeightSet } from '../src-main/engine/model/weights.ts';
import { cam, defaultSmoothGradBatch, forward, gradCam, normaliseFor, smoothGrad } from '../src-main/engine/heatmaps/index.ts';
import { overlayRgb, pngOf, rgbOf } from '../src-main/services/heatmaps/render.ts';

const WEIGHTS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/models/mobilenet_v1_0.25_224');
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const quick = process.argv.includes('--quick');
const sizes = arg('sizes', quick ? '224' : '224,520')
  .split(',')
  .map(Number);
const N = Number(arg('n', quick ? '10' : '50'));

function modelAt(size: number): tf.LayersModel {
  const m = buildClassifier(parseBackbone('mobilenet_v1_0.25'), size, 6, 0);
  assignWeightsByName(m, readWeightSet(WEIGHTS), { include: (name) => !name.startsWith('head_') });
  return m;
}

/** Median ms of `reps` runs after one warm-up. */
function time(fn: () => void, reps: number): number {
  fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

const neu = neuSamples({}).samples;
const results: Record<string, Record<string, number>> = {};
let wasmInfo = { simd: false, threads: 0, missingGradients: [] as string[] };
const report = await probeBackends({
  loadNative: true,
  initWasm: async () => (wasmInfo = await initWasmForProbe()),
});
/** tfjs backend names by Kensa's backend names: both native packages register 'tensorflow'. */
const TF_NAME = { 'tfjs-node-gpu': 'tensorflow', 'tfjs-node': 'tensorflow', wasm: 'wasm', cpu: 'cpu' } as const;
const requested = arg('backends', 'auto');
const wanted = requested === 'auto' ? report.candidates.map((c) => c.name) : requested.split(',');
const backends: { name: string; tf: string }[] = [];
for (const name of wanted) {
  const c = report.candidates.find((k) => k.name === name);
  if (!c) throw new Error(`Unknown backend "${name}": choose from ${report.candidates.map((k) => k.name).join(', ')}`);
  if (c.available) backends.push({ name: c.name, tf: TF_NAME[c.name] });
  else console.log(`${name}: skipped, ${c.reason}`);
}
console.log(
  `wasm: simd ${wasmInfo.simd}, threads ${wasmInfo.threads}, missing gradient kernels: ${wasmInfo.missingGradients.join(', ') || 'none'}`,
);

for (const { name: backendName, tf: backend } of backends) {
  for (const size of sizes) {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const m = modelAt(size);
    const px = await loadFileRgb(neu[0]!.path!, size);
    const x = pixelsToBatch([px], size);
    const reps = size > 300 ? 3 : 5;
    const r: Record<string, number> = {};
    r.forwardMs = time(() => forward(m, x), reps);
    r.camMs = time(() => cam(m, x, [null]), reps);
    r.camOverForward = r.camMs / r.forwardMs;
    r.gradCamMs = time(() => gradCam(m, x, null), reps);
    const sgReps = size > 300 || backend === 'cpu' ? 1 : 3;
    r.smoothGradBatchedMs = time(() => smoothGrad(m, x, null, { n: N }), sgReps);
    r.smoothGradOneByOneMs = time(() => smoothGrad(m, x, null, { n: N, batchSize: 1 }), sgReps);
    r.smoothGradSpeedup = r.smoothGradOneByOneMs / r.smoothGradBatchedMs;
    r.smoothGradBatch = Math.min(N, defaultSmoothGradBatch(size, size, backend));
    x.dispose();
    m.dispose();
    r.leakedTensors = tf.memory().numTensors - before;
    results[`${backendName}@${size}`] = r;
    console.log(
      `${backendName.padEnd(4)} ${size}px  forward ${r.forwardMs.toFixed(1)} ms | CAM ${r.camMs.toFixed(1)} ms (${r.camOverForward.toFixed(2)}x) | ` +
        `Grad-CAM ${r.gradCamMs.toFixed(1)} ms | SmoothGrad n=${N} batched (${r.smoothGradBatch}/batch) ${(r.smoothGradBatchedMs / 1000).toFixed(2)} s vs one by one ${(r.smoothGradOneByOneMs / 1000).toFixed(2)} s (${r.smoothGradSpeedup.toFixed(2)}x)`,
    );
  }
}

// 100-image CAM gallery at 224 on wasm, end to end.
await useBackend('wasm');
const size = 224;
const m = modelAt(size);
const images = neu.slice(0, 100);
const t0 = performance.now();
let decodeMs = 0;
let camMs = 0;
let renderMs = 0;
for (let k = 0; k < images.length; k += 16) {
  const chunk = images.slice(k, k + 16);
  let t = performance.now();
  const px = await Promise.all(chunk.map((s) => loadFileRgb(s.path!, size)));
  decodeMs += performance.now() - t;
  t = performance.now();
  const x = pixelsToBatch(px, size);
  const r = cam(m, x, [null]);
  x.dispose();
  camMs += performance.now() - t;
  t = performance.now();
  await Promise.all(
    chunk.map(async (s, j) => {
      const base = await rgbOf(sharp(s.path!));
      await pngOf(overlayRgb(base, normaliseFor('cam', r.maps[j]![0]!), 'turbo', 0.5));
    }),
  );
  renderMs += performance.now() - t;
}
const galleryMs = performance.now() - t0;
console.log(
  `CAM gallery, 100 NEU images at 224 on wasm: ${(galleryMs / 1000).toFixed(2)} s (decode ${(decodeMs / 1000).toFixed(2)} s, CAM ${(camMs / 1000).toFixed(2)} s, render ${(renderMs / 1000).toFixed(2)} s); goal < 10 s`,
);
// The goals, per backend and size, as measured above.
const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
for (const [key, r] of Object.entries(results)) {
  console.log(
    `goals ${key}: CAM ${r.camOverForward!.toFixed(2)}x forward (≤ 1.2x: ${mark(r.camOverForward! <= 1.2)}); ` +
      `SmoothGrad batched ${r.smoothGradSpeedup!.toFixed(2)}x one by one (≥ 5x: ${mark(r.smoothGradSpeedup! >= 5)})`,
  );
}
console.log(`goals gallery: 100 CAM maps at 224 on wasm in ${(galleryMs / 1000).toFixed(2)} s (< 10 s: ${mark(galleryMs < 10_000)})`);
console.log(
  JSON.stringify({
    bench: 'heatmaps',
    backends: report.candidates.map((c) => ({ name: c.name, available: c.available, reason: c.reason })),
    n: N,
    wasm: { simd: wasmInfo.simd, threads: wasmInfo.threads, missingGradients: wasmInfo.missingGradients },
    perImage: results,
    gallery100: { ms: galleryMs, decodeMs, camMs, renderMs },
  }),
);
process.exit(0);
