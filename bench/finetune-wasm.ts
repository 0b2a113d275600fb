/**
 * Fine-tuning throughput of MobileNet v1 on tfjs's wasm backend (with the
 * wasm-grads kernels) against the pure-JS cpu backend, in one run.
 *
 *   node_modules/.bin/node bench/finetune-wasm.ts [--threads N] [--cpu-images N] [--profile] [--skip-cpu]
 *
 * One epoch = 64 fixed synthetic images, batch 16: forward of the frozen base
 * (no gradient tape), then forward + backward + Adam over the last N
 * depthwise/pointwise blocks (BN in inference mode, gamma/beta trained) + GAP
 * + dense head, softmax cross-entropy. MobileNet v1 alpha 0.25 and 0.75 at
 * 224 px, N = 2 and 6, ImageNet weights from /work/shared/models when present.
 * The cpu backend (1-25 s per image here) is timed on one step of
 * --cpu-images images (default 4) and scaled per image; a whole run takes
 * ~4 minutes on 2 idle cores. A 1-image step from the same weights is run on
 * both backends first and its losses compared. BENCH_ALPHAS=0.25 limits the
 * models. Ends with one line of JSON holding every figure.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initWasmBackend } from '../src-main/engine/wasm-grads/setup-wasm.ts';

const ALPHAS = (process.env['BENCH_ALPHAS']?.split(',').map(Number) ?? [0.25, 0.75]) as readonly number[];
const TRAIN_BLOCKS = [2, 6] as const;
const SIZE = 224;
const BATCH = 16;
const IMAGES = 64;
const CLASSES = 4;
const MODELS_DIR = '/work/shared/models';

const args = process.argv.slice(2);
function flag(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}
const THREADS = flag('threads') === undefined ? undefined : Number(flag('threads'));
const CPU_IMAGES = Number(flag('cpu-images') ?? 4);
const PROFILE = args.includes('--profile');
const SKIP_CPU = args.includes('--skip-cpu');

// ---------------------------------------------------------------- model

/** One conv layer of MobileNet v1 at a given input size (for building and FLOP counting). */
interface ConvSpec {
  name: string;
  kind: 'stem' | 'dw' | 'pw';
  block: number; // 0 = stem, 1..13
  stride: number;
  cin: number;
  cout: number;
  outSize: number;
}

/** Keras MobileNet v1: stem conv1 then 13 (conv_dw_i, conv_pw_i) blocks. */
function mobilenetV1Specs(alpha: number, size: number): ConvSpec[] {
  const filters = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024];
  const strides = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1];
  let spatial = Math.ceil(size / 2);
  let channels = Math.floor(32 * alpha);
  const specs: ConvSpec[] = [{ name: 'conv1', kind: 'stem', block: 0, stride: 2, cin: 3, cout: channels, outSize: spatial }];
  filters.forEach((f, i) => {
    const stride = strides[i] ?? 1;
    spatial = Math.ceil(spatial / stride);
    const out = Math.floor(f * alpha);
    specs.push({ name: `conv_dw_${i + 1}`, kind: 'dw', block: i + 1, stride, cin: channels, cout: channels, outSize: spatial });
    specs.push({ name: `conv_pw_${i + 1}`, kind: 'pw', block: i + 1, stride: 1, cin: channels, cout: out, outSize: spatial });
    channels = out;
  });
  return specs;
}

/** Multiply-adds of one conv per image. */
function macs(s: ConvSpec): number {
  const pixels = s.outSize * s.outSize;
  if (s.kind === 'stem') return pixels * 9 * s.cin * s.cout;
  if (s.kind === 'dw') return pixels * 9 * s.cin;
  return pixels * s.cin * s.cout;
}

/**
 * FLOPs per image of a fine-tuning step: every conv forward, plus for the
 * trainable convs the filter gradient and (except the first trainable conv,
 * whose input needs no gradient) the input gradient, each as costly as the
 * forward.
 */
function stepFlopsPerImage(specs: ConvSpec[], trainFrom: number): number {
  let flops = 0;
  let firstTrainable = true;
  for (const s of specs) {
    const f = 2 * macs(s);
    flops += f;
    if (s.block >= trainFrom) {
      flops += f + (firstTrainable ? 0 : f);
      firstTrainable = false;
    }
  }
  return flops;
}

interface MobileNet {
  /** Layers in call order: conv, bn, relu triplets. */
  layers: tf.layers.Layer[];
  head: tf.layers.Layer;
  specs: ConvSpec[];
}

function buildMobileNetV1(alpha: number, size: number): MobileNet {
  const specs = mobilenetV1Specs(alpha, size);
  const layers: tf.layers.Layer[] = [];
  for (const s of specs) {
    if (s.kind === 'dw') {
      layers.push(tf.layers.depthwiseConv2d({ name: s.name, kernelSize: 3, strides: s.stride, padding: 'same', useBias: false }));
    } else {
      const k = s.kind === 'stem' ? 3 : 1;
      layers.push(tf.layers.conv2d({ name: s.name, filters: s.cout, kernelSize: k, strides: s.stride, padding: 'same', useBias: false }));
    }
    layers.push(tf.layers.batchNormalization({ name: `${s.name}_bn`, epsilon: 1e-3, momentum: 0.99 }));
    layers.push(tf.layers.reLU({ name: `${s.name}_relu`, maxValue: 6 }));
  }
  const head = tf.layers.dense({ name: 'head', units: CLASSES, kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) });
  // Building through a functional graph creates every weight once.
  let x = tf.input({ shape: [size, size, 3] }) as tf.SymbolicTensor;
  const input = x;
  for (const layer of layers) x = layer.apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  tf.model({ inputs: input, outputs: head.apply(x) as tf.SymbolicTensor });
  return { layers, head, specs };
}

type WeightStore = Map<string, { shape: number[]; values: Float32Array }>;

/** Reads a tfjs layers-format model's weights by name ("conv1/kernel", ...). */
function readWeights(dir: string): WeightStore | undefined {
  const file = path.join(dir, 'model.json');
  if (!fs.existsSync(file)) return undefined;
  const manifest = (JSON.parse(fs.readFileSync(file, 'utf8')) as { weightsManifest: tf.io.WeightsManifestConfig }).weightsManifest;
  const store: WeightStore = new Map();
  for (const group of manifest) {
    const buffers = group.paths.map((p) => {
      const b = fs.readFileSync(path.join(dir, p));
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    });
    const tensors = tf.io.decodeWeights(tf.io.concatenateArrayBuffers(buffers), group.weights);
    for (const [name, t] of Object.entries(tensors)) {
      store.set(name, { shape: t.shape, values: t.dataSync() as Float32Array });
      t.dispose();
    }
  }
  return store;
}

const WEIGHT_NAMES: Record<string, string[]> = {
  Conv2D: ['kernel'],
  DepthwiseConv2D: ['depthwise_kernel'],
  BatchNormalization: ['gamma', 'beta', 'moving_mean', 'moving_variance'],
};

function loadWeights(net: MobileNet, store: WeightStore): void {
  for (const layer of net.layers) {
    const names = WEIGHT_NAMES[layer.getClassName()];
    if (names === undefined) continue;
    const tensors = names.map((n) => {
      const w = store.get(`${layer.name}/${n}`);
      if (w === undefined) throw new Error(`missing weight ${layer.name}/${n}`);
      return tf.tensor(w.values, w.shape);
    });
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
}

// ---------------------------------------------------------------- data

/** Deterministic images in [-1, 1] and one-hot labels; identical for every backend. */
function syntheticData(): { images: Float32Array; labels: Int32Array } {
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const images = new Float32Array(IMAGES * SIZE * SIZE * 3);
  for (let i = 0; i < images.length; i++) images[i] = next() * 2 - 1;
  const labels = Int32Array.from({ length: IMAGES }, () => Math.floor(next() * CLASSES));
  return { images, labels };
}

// ---------------------------------------------------------------- training

interface RunResult {
  /** Wall time of all timed steps, per image. */
  msPerImage: number;
  /** Wall time of the median step, per image: robust to other load on the machine. */
  medianMsPerImage: number;
  /** Process CPU time (all threads) per image. */
  cpuMsPerImage: number;
  imagesTimed: number;
  /** Loss of a 1-image step from the initial weights: equal on every backend. */
  checkLoss: number;
  losses: number[];
}

function applyAll(layers: tf.layers.Layer[], x: tf.Tensor): tf.Tensor {
  let h = x;
  for (const layer of layers) h = layer.apply(h, { training: false }) as tf.Tensor;
  return h;
}

/**
 * Times fine-tuning steps on the current backend. First a 1-image step from
 * the initial weights whose loss must agree across backends (a correctness
 * check at full size, with real weights; it also warms the JIT), then
 * `warmupImages` more (XNNPACK operator creation, memory growth), then
 * `steps` timed steps of `stepImages` images with a fresh optimizer.
 */
function fineTune(
  net: MobileNet,
  trainBlocks: number,
  data: { images: Float32Array; labels: Int32Array },
  steps: number,
  stepImages: number,
  warmupImages: number,
): RunResult {
  const firstTrainable = 14 - trainBlocks;
  const split = net.specs.findIndex((s) => s.block >= firstTrainable) * 3;
  const frozen = net.layers.slice(0, split);
  const trainable = [...net.layers.slice(split), net.head];
  const vars = trainable.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
  const imageSize = SIZE * SIZE * 3;

  const step = (optimizer: tf.Optimizer, start: number, count: number): number => {
    const x = tf.tensor4d(data.images.subarray(start * imageSize, (start + count) * imageSize), [count, SIZE, SIZE, 3]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(data.labels.subarray(start, start + count), 'int32'), CLASSES));
    // The frozen base runs outside minimize(), so nothing of it is taped.
    const features = tf.tidy(() => applyAll(frozen, x));
    const loss = optimizer.minimize(
      () =>
        tf.losses.softmaxCrossEntropy(y, applyAll([net.head], tf.mean(applyAll(trainable.slice(0, -1), features), [1, 2]))) as tf.Scalar,
      true,
      vars,
    );
    const value = loss?.dataSync()[0] ?? Number.NaN;
    tf.dispose([x, y, features]);
    loss?.dispose();
    return value;
  };

  const warmup = tf.train.adam(1e-3);
  const checkLoss = step(warmup, 0, 1);
  if (warmupImages > 0) step(warmup, 0, warmupImages);
  warmup.dispose();

  const optimizer = tf.train.adam(1e-3);
  const losses: number[] = [];
  const stepMs: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let b = 0; b < steps; b++) {
    const t0 = performance.now();
    losses.push(step(optimizer, b * stepImages, stepImages));
    stepMs.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  optimizer.dispose();
  const images = steps * stepImages;
  const sorted = [...stepMs].sort((p, q) => p - q);
  return {
    msPerImage: stepMs.reduce((a, b) => a + b, 0) / images,
    medianMsPerImage: (sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN) / stepImages,
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / images,
    imagesTimed: images,
    checkLoss,
    losses,
  };
}

function matMulGflops(n: number): number {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  tf.tidy(() => {
    tf.matMul(a, b).dataSync();
  });
  const reps = n >= 1024 ? 5 : 20;
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    tf.tidy(() => {
      tf.matMul(a, b).dataSync();
    });
    times.push(performance.now() - t0);
  }
  tf.dispose([a, b]);
  // The fastest repetition: the least disturbed by other processes.
  return (2 * n ** 3) / (Math.min(...times) * 1e6);
}

/** Per-kernel wasm time of one step, for finding the next bottleneck. */
async function profileStep(net: MobileNet, data: { images: Float32Array; labels: Int32Array }): Promise<void> {
  fineTune(net, 6, data, 0, BATCH, BATCH);
  const info = await tf.profile(() => {
    fineTune(net, 6, data, 1, BATCH, 0);
  });
  const byKernel = new Map<string, number>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + ms);
  }
  if (process.env['PROFILE_DETAIL'] !== undefined) {
    for (const k of info.kernels.filter((k) => k.name === process.env['PROFILE_DETAIL'])) {
      console.log(`  ${k.name} ${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)} ${String(k.kernelTimeMs)}`);
    }
  }
  console.log('profile (one wasm step, N=6):');
  for (const [name, ms] of [...byKernel].sort((p, q) => q[1] - p[1]).slice(0, 20)) {
    console.log(`  ${name.padEnd(40)} ${ms.toFixed(1)} ms`);
  }
}

// ---------------------------------------------------------------- main

interface Row {
  alpha: number;
  trainBlocks: number;
  backend: string;
  imagesTimed: number;
  msPerImage: number;
  medianMsPerImage: number;
  cpuMsPerImage: number;
  epochSeconds: number;
  epochScaled: boolean;
  gflops: number;
  checkLoss: number;
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg()[0] ?? Number.NaN;
  const wasm = await initWasmBackend(THREADS === undefined ? {} : { threads: THREADS });
  const data = syntheticData();
  const stores = new Map<number, WeightStore | undefined>(
    ALPHAS.map((a) => [a, readWeights(path.join(MODELS_DIR, `mobilenet_v1_${a}_224`))]),
  );

  // Measured before and after the wasm runs; the better of the two is kept,
  // as other processes on a small machine can only make it slower.
  const matmul = { n512: matMulGflops(512), n1024: matMulGflops(1024) };
  const remeasureMatMul = (): void => {
    matmul.n512 = Math.max(matmul.n512, matMulGflops(512));
    matmul.n1024 = Math.max(matmul.n1024, matMulGflops(1024));
  };
  const rows: Row[] = [];

  const runBackend = async (backend: 'wasm' | 'cpu'): Promise<void> => {
    await tf.setBackend(backend);
    for (const alpha of ALPHAS) {
      const net = buildMobileNetV1(alpha, SIZE);
      const store = stores.get(alpha);
      if (store !== undefined) loadWeights(net, store);
      const initial = [...net.layers, net.head].map((l) => l.getWeights().map((w) => tf.clone(w)));
      const restore = (): void => [...net.layers, net.head].forEach((l, i) => l.setWeights(initial[i] ?? []));
      if (PROFILE && backend === 'wasm' && alpha === ALPHAS[ALPHAS.length - 1]) {
        await profileStep(net, data);
        restore();
      }
      for (const n of TRAIN_BLOCKS) {
        const result = backend === 'wasm' ? fineTune(net, n, data, IMAGES / BATCH, BATCH, BATCH) : fineTune(net, n, data, 1, CPU_IMAGES, 0);
        const flops = stepFlopsPerImage(net.specs, 14 - n);
        rows.push({
          alpha,
          trainBlocks: n,
          backend,
          imagesTimed: result.imagesTimed,
          msPerImage: result.msPerImage,
          medianMsPerImage: result.medianMsPerImage,
          cpuMsPerImage: result.cpuMsPerImage,
          epochSeconds: (result.msPerImage * IMAGES) / 1000,
          epochScaled: result.imagesTimed < IMAGES,
          gflops: flops / (result.msPerImage * 1e6),
          checkLoss: result.checkLoss,
        });
        const last = rows[rows.length - 1];
        if (last !== undefined) {
          console.error(`  ${backend} a=${alpha} N=${n}: ${last.msPerImage.toFixed(1)} ms/image over ${last.imagesTimed} images`);
        }
        // Training changed the weights; every run starts from the same ones.
        restore();
      }
      tf.dispose(initial);
      tf.disposeVariables();
    }
  };
  await runBackend('wasm');
  remeasureMatMul();
  if (!SKIP_CPU) await runBackend('cpu');

  const speedups = rows
    .filter((r) => r.backend === 'wasm')
    .map((w) => {
      const c = rows.find((r) => r.backend === 'cpu' && r.alpha === w.alpha && r.trainBlocks === w.trainBlocks);
      return {
        alpha: w.alpha,
        trainBlocks: w.trainBlocks,
        speedup: c === undefined ? Number.NaN : c.msPerImage / w.msPerImage,
        speedupMedianStep: c === undefined ? Number.NaN : c.medianMsPerImage / w.medianMsPerImage,
        speedupCpuTime: c === undefined ? Number.NaN : c.cpuMsPerImage / w.cpuMsPerImage,
        checkLossRelDiff: c === undefined ? Number.NaN : Math.abs(w.checkLoss - c.checkLoss) / Math.abs(c.checkLoss),
      };
    });

  const weights = ALPHAS.map((a) => `${a}: ${stores.get(a) === undefined ? 'random init' : 'ImageNet'}`).join(', ');
  const load = { start: loadAtStart, end: os.loadavg()[0] ?? Number.NaN };
  console.log(`\nMobileNet v1 fine-tuning, ${SIZE}px, batch ${BATCH}, epoch = ${IMAGES} synthetic images, weights ${weights}`);
  console.log(
    `wasm: simd=${wasm.simd} threads=${wasm.threads}; ${os.cpus().length} logical cores; Node ${process.version}; ` +
      `1-min load average ${load.start.toFixed(1)} at start, ${load.end.toFixed(1)} at end`,
  );
  console.log(`cpu backend timed on one step of ${CPU_IMAGES} images, its epoch time scaled per image (marked *);`);
  console.log('wall = all timed steps, med = median step, cpu = process CPU time (all threads)\n');
  const header = ['alpha', 'N', 'backend', 'images', 'wall ms/img', 'med ms/img', 'cpu ms/img', 'epoch s', 'GFLOP/s', 'x wall', 'x cpu'];
  const table = rows.map((r) => {
    const s = r.backend === 'wasm' ? speedups.find((x) => x.alpha === r.alpha && x.trainBlocks === r.trainBlocks) : undefined;
    return [
      String(r.alpha),
      String(r.trainBlocks),
      r.backend,
      String(r.imagesTimed),
      r.msPerImage.toFixed(1),
      r.medianMsPerImage.toFixed(1),
      r.cpuMsPerImage.toFixed(1),
      `${r.epochSeconds.toFixed(2)}${r.epochScaled ? '*' : ''}`,
      r.gflops.toFixed(2),
      s === undefined ? '' : `${s.speedup.toFixed(1)}x`,
      s === undefined ? '' : `${s.speedupCpuTime.toFixed(1)}x`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  console.log(line(header));
  for (const row of table) console.log(line(row));
  console.log(`\nwasm matMul (best of reps): 512x512 ${matmul.n512.toFixed(2)} GFLOP/s, 1024x1024 ${matmul.n1024.toFixed(2)} GFLOP/s`);
  const minSpeedup = Math.min(...speedups.map((s) => s.speedup));
  const minCpuSpeedup = Math.min(...speedups.map((s) => s.speedupCpuTime));
  const worstCheck = Math.max(...speedups.map((s) => s.checkLossRelDiff));
  if (Number.isFinite(minSpeedup)) {
    console.log(`loss of the same 1-image step from the same weights, wasm vs cpu: max relative difference ${worstCheck.toExponential(2)}`);
    console.log(
      `wasm/cpu speed-up, wall: min ${minSpeedup.toFixed(1)}x (goal >= 10x: ${minSpeedup >= 10 ? 'met' : 'NOT met'}); ` +
        `by CPU time: min ${minCpuSpeedup.toFixed(1)}x`,
    );
  } else {
    console.log('cpu backend skipped (--skip-cpu): no wasm/cpu comparison in this run');
  }
  console.log(
    JSON.stringify({
      bench: 'finetune-wasm',
      model: 'mobilenet_v1',
      size: SIZE,
      batch: BATCH,
      epochImages: IMAGES,
      cpuImagesTimed: CPU_IMAGES,
      wasm,
      logicalCores: os.cpus().length,
      loadAverage: { start: round(load.start), end: round(load.end) },
      matmulGflops: { n512: round(matmul.n512), n1024: round(matmul.n1024) },
      rows: rows.map((r) => ({
        ...r,
        msPerImage: round(r.msPerImage),
        medianMsPerImage: round(r.medianMsPerImage),
        cpuMsPerImage: round(r.cpuMsPerImage),
        epochSeconds: round(r.epochSeconds),
        gflops: round(r.gflops),
        checkLoss: round(r.checkLoss),
      })),
      speedups: speedups.map((s) => ({
        ...s,
        speedup: round(s.speedup),
        speedupMedianStep: round(s.speedupMedianStep),
        speedupCpuTime: round(s.speedupCpuTime),
        checkLossRelDiff: Number(s.checkLossRelDiff.toExponential(2)),
      })),
      minSpeedup: round(minSpeedup),
      minSpeedupCpuTime: round(minCpuSpeedup),
    }),
  );
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

await main();
