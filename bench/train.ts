/**
 * Training-engine bench: `npm run bench -- train` (or `node bench/train.ts [--quick]`).
 * Side by side in one run:
 *  - embedding extraction images/s per backend (wasm vs cpu) at 224 and 520, through the real pipeline
 *    (sharp decode + resize of NEU JPEGs + preprocessing + backbone), against a bare predict of the same batch;
 *  - a head epoch on 3,300 cached samples vs recomputing the backbone for them (ratio);
 *  - fine-tuning epoch time for N = 2 and N = 6 unfrozen blocks;
 *  - peak RSS at 224 and 520 with 500 vs 2,000 images (each in a fresh process: flat memory).
 * Ends with one JSON line.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initWasmForProbe } from '../src-main/engine/backend/wasm-init.ts';
import { neuSamples } from '../src-main/services/training/data/neu.ts';
import { fileSource, type SampleSource } from '../src-main/services/training/data/source.ts';
import { buildSegment, parseBackbone } from '../src-main/engine/model/mobilenet.ts';
import { pixelsToBatch, useBackend } from '../src-main/engine/model/tf-util.ts';
import { assignWeightsByName, readWeightSet } from '../src-main/engine/model/weights.ts';
import { EmbeddingCache } from '../src-main/engine/train/embedding-cache.ts';
import { createRng } from '../src-main/services/training/train/rng.ts';
import { Trainer, type TrainerEvent } from '../src-main/engine/train/trainer.ts';
import { resolveConfig } from '../src-main/services/training/train/config.ts';

const WEIGHTS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/models/mobilenet_v1_0.25_224');
const BACKBONE = 'mobilenet_v1_0.25';
const quick = process.argv.includes('--quick');

/** Synthetic images: random bytes, no decode (for counts larger than the development set). */
function syntheticSource(n: number, classes: number, seed = 1): SampleSource {
  return {
    count: n,
    labelOf: (i) => i % classes,
    idOf: (i) => i + 1,
    keyOf: (i) => `synthetic-${seed}-${i}`,
    async loadPixels(i, size) {
      const r = createRng(seed * 100003 + i);
      const px = new Uint8Array(size * size * 3);
      for (let k = 0; k < px.length; k += 3) px[k] = px[k + 1] = px[k + 2] = r.int(256);
      return px;
    },
  };
}

/** NEU JPEGs, cycled to n samples. */
function neuSource(n: number): SampleSource {
  const { samples } = neuSamples({});
  const pick = Array.from({ length: n }, (_, i) => ({ ...samples[i % samples.length]!, id: i + 1, key: `neu-${i}` }));
  return fileSource(pick);
}

async function embeddingThroughput(backend: string, size: number, n: number): Promise<{ pipeline: number; bare: number; ratio: number }> {
  const spec = parseBackbone(BACKBONE);
  await useBackend(backend);
  const m = buildSegment(spec, 0, spec.blocks, [size, size, 3], { gap: true });
  assignWeightsByName(m, readWeightSet(WEIGHTS));
  const batch = 16;
  const src = neuSource(n);
  // warm-up
  tf.tidy(() => (m.apply(tf.zeros([Math.min(batch, n), size, size, 3]), { training: false }) as tf.Tensor).dataSync());
  // Pipeline: decode with one batch of look-ahead, as the trainer does.
  const t0 = performance.now();
  const load = (k: number) => Promise.all(Array.from({ length: Math.min(batch, n - k) }, (_, j) => src.loadPixels(k + j, size)));
  let next: Promise<Uint8Array[]> | null = load(0);
  let lastPx: Uint8Array[] = [];
  for (let k = 0; next; k += batch) {
    const px = await next;
    next = k + batch < n ? load(k + batch) : null;
    lastPx = px;
    tf.tidy(() => (m.apply(pixelsToBatch(px, size), { training: false }) as tf.Tensor).dataSync());
  }
  const pipeline = n / ((performance.now() - t0) / 1000);
  // Bare predict of the same batch (tensor already made), same number of images.
  const x = pixelsToBatch(lastPx, size);
  const t1 = performance.now();
  let done = 0;
  while (done < n) {
    tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync());
    done += x.shape[0];
  }
  const bare = done / ((performance.now() - t1) / 1000);
  x.dispose();
  m.dispose();
  return { pipeline, bare, ratio: bare / pipeline };
}

async function headEpochCached(training: string, samples: number): Promise<{ headEpochMs: number }> {
  const spec = parseBackbone(BACKBONE);
  const cacheRoot = mkdtempSync(join(tmpdir(), 'kensa-bench-cache-'));
  const nImages = Math.ceil(samples / 3);
  const weights = readWeightSet(WEIGHTS);
  const cache = new EmbeddingCache(cacheRoot, {
    backbone: spec.id,
    inputSize: 224,
    weightsFingerprint: weights.fingerprint,
    channels: spec.featureChannels,
  });
  const src = syntheticSource(nImages + 20, 2, 7);
  const r = createRng(3);
  for (let i = 0; i < nImages + 20; i++)
    for (const v of [0, 1, 2])
      cache.put(
        src.keyOf(i),
        v,
        Float32Array.from({ length: spec.featureChannels }, () => r.next() * 6),
      );
  const splits = { train: Array.from({ length: nImages }, (_, i) => i), val: Array.from({ length: 20 }, (_, i) => nImages + i), test: [] };
  const events: TrainerEvent[] = [];
  await new Trainer({
    config: resolveConfig({ backbone: BACKBONE, inputSize: 224, epochs: 4, fineTuneEpochs: 0, batchSize: 32, patience: 0 }),
    classes: ['a', 'b'],
    okIndex: null,
    source: src,
    splits,
    backboneWeights: weights,
    cacheDir: cacheRoot,
    backends: { training, inference: 'wasm' },
    signal: new AbortController().signal,
    onEvent: (e) => events.push(e),
  }).run();
  rmSync(cacheRoot, { recursive: true, force: true });
  const ep = events.filter((e): e is Extract<TrainerEvent, { kind: 'epoch' }> => e.kind === 'epoch').map((e) => e.durationMs);
  return { headEpochMs: Math.min(...ep.slice(1)) };
}

async function fineTuneEpoch(training: string, blocks: number, n: number, size: number): Promise<{ epochMs: number; msPerSample: number }> {
  const src = neuSource(n + 8);
  const splits = { train: Array.from({ length: n }, (_, i) => i), val: Array.from({ length: 8 }, (_, i) => n + i), test: [] };
  const events: TrainerEvent[] = [];
  await new Trainer({
    config: resolveConfig({
      backbone: BACKBONE,
      inputSize: size,
      epochs: 0,
      fineTuneBlocks: blocks,
      fineTuneEpochs: 2,
      batchSize: 32,
      patience: 0,
      augmentation: { mode: 'none' },
    }),
    classes: ['a', 'b', 'c', 'd', 'e', 'f'],
    okIndex: null,
    source: { ...src, labelOf: (i) => i % 6 },
    splits,
    backboneWeights: readWeightSet(WEIGHTS),
    cacheDir: null,
    backends: { training, inference: 'wasm' },
    signal: new AbortController().signal,
    onEvent: (e) => events.push(e),
  }).run();
  // The second epoch: the first pays one-time kernel set-up (XNNPACK operators, wasm code).
  const ep = events.filter((e): e is Extract<TrainerEvent, { kind: 'epoch' }> => e.kind === 'epoch').pop()!;
  return { epochMs: ep.durationMs, msPerSample: ep.durationMs / n };
}

/** Child mode: embeddings of n synthetic images at size (no cache), one transfer epoch; prints max RSS. */
async function rssChild(size: number, n: number): Promise<void> {
  const f = await initWasmForProbe();
  const training = f.missingGradients.length ? 'cpu' : 'wasm';
  const src = syntheticSource(n + 16, 2, size);
  const t0 = performance.now();
  await new Trainer({
    config: resolveConfig({
      backbone: BACKBONE,
      inputSize: size,
      epochs: 1,
      fineTuneEpochs: 0,
      batchSize: 32,
      augmentation: { mode: 'none' },
      useEmbeddingCache: false,
    }),
    classes: ['a', 'b'],
    okIndex: null,
    source: src,
    splits: { train: Array.from({ length: n }, (_, i) => i), val: Array.from({ length: 16 }, (_, i) => n + i), test: [] },
    backboneWeights: readWeightSet(WEIGHTS),
    cacheDir: null,
    backends: { training, inference: 'wasm' },
    signal: new AbortController().signal,
    onEvent: () => undefined,
  }).run();
  process.send?.({ maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), seconds: (performance.now() - t0) / 1000 });
}

function runRssChild(size: number, n: number): Promise<{ maxRssMB: number; seconds: number }> {
  return new Promise((res, rej) => {
    const c = fork(fileURLToPath(import.meta.url), ['--rss-child', String(size), String(n)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    c.once('message', (m) => res(m as { maxRssMB: number; seconds: number }));
    c.once('exit', (code) => code !== 0 && rej(new Error(`rss child exited ${code}`)));
  });
}

async function main(): Promise<void> {
  const f = await initWasmForProbe();
  const training = f.missingGradients.length ? 'cpu' : 'wasm';
  const log = (s: string) => process.stdout.write(`${s}\n`);
  log(`Kensa training bench (${BACKBONE}); wasm: SIMD ${f.simd}, ${f.threads} thread(s); training backend: ${training}`);
  const out: Record<string, unknown> = { backbone: BACKBONE, trainingBackend: training, wasmThreads: f.threads, wasmSimd: f.simd };

  const emb: Record<string, unknown> = {};
  for (const [backend, size, n] of [
    ['wasm', 224, quick ? 32 : 128],
    ['wasm', 520, quick ? 16 : 48],
    ['cpu', 224, quick ? 8 : 16],
    ['cpu', 520, quick ? 4 : 8],
  ] as const) {
    const r = await embeddingThroughput(backend, size, n);
    emb[`${backend}_${size}`] = {
      pipelineImagesPerSec: +r.pipeline.toFixed(1),
      barePredictImagesPerSec: +r.bare.toFixed(1),
      bareOverPipeline: +r.ratio.toFixed(2),
    };
    log(
      `embeddings ${backend} ${size}px: ${r.pipeline.toFixed(1)} img/s through decode+predict, bare predict ${r.bare.toFixed(1)} img/s (x${r.ratio.toFixed(2)})`,
    );
  }
  out.embeddings = emb;

  const head = await headEpochCached(training, 3300);
  const wasm224 = emb.wasm_224 as { pipelineImagesPerSec: number };
  const recomputeMs = (3300 / wasm224.pipelineImagesPerSec) * 1000 + head.headEpochMs;
  out.headEpoch = {
    samples: 3300,
    cachedMs: head.headEpochMs,
    recomputeBackboneMs: Math.round(recomputeMs),
    speedup: +(recomputeMs / head.headEpochMs).toFixed(1),
  };
  log(
    `head epoch on 3300 cached samples: ${head.headEpochMs} ms; recomputing the backbone: ~${Math.round(recomputeMs)} ms (x${(recomputeMs / head.headEpochMs).toFixed(0)})`,
  );

  const ftN = quick ? 32 : 64;
  const ft: Record<string, unknown> = {};
  for (const blocks of [2, 6]) {
    const r = await fineTuneEpoch(training, blocks, ftN, 224);
    ft[`N${blocks}`] = {
      samples: ftN,
      epochMs: r.epochMs,
      msPerSample: +r.msPerSample.toFixed(1),
      epochSecondsFor3300: +((r.msPerSample * 3300) / 1000).toFixed(0),
    };
    log(
      `fine-tuning N=${blocks} at 224: ${r.epochMs} ms for ${ftN} samples (${r.msPerSample.toFixed(1)} ms/sample, ~${((r.msPerSample * 3300) / 1000).toFixed(0)} s per 3300-sample epoch)`,
    );
  }
  out.fineTune224 = ft;

  const rss: Record<string, unknown> = {};
  for (const [size, n] of (quick
    ? [
        [224, 100],
        [224, 400],
      ]
    : [
        [224, 500],
        [224, 2000],
        [520, 500],
        [520, 2000],
      ]) as [number, number][]) {
    const r = await runRssChild(size, n);
    rss[`${size}_${n}`] = r;
    log(`peak RSS at ${size}px with ${n} images: ${r.maxRssMB} MB (${r.seconds.toFixed(0)} s)`);
  }
  out.peakRss = rss;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (process.argv[2] === '--rss-child') await rssChild(Number(process.argv[3]), Number(process.argv[4]));
else await main();
