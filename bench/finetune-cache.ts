/**
 * Fine-tuning with the prefix cache (engine/train/prefix-cache.ts) against recomputing the frozen prefix every step, in
 * one run, through the real Trainer on NEU-DET images (sharp decode, x3 fixed augmentation, batch 16).
 *
 *   node bench/finetune-cache.ts [--images 24] [--images520 9] [--val 6] [--sizes 224,520] [--alphas 0.25,0.75]
 *                                [--rounds 2] [--disk]
 *
 * Per (size, alpha): N = 6 blocks, no transfer phase, two fine-tune epochs from the ImageNet weights. "old" recomputes
 * the prefix each step (prefixCache: false); "new" computes it in epoch 1 and reads it from memory in epoch 2 (and in
 * both epochs' validation); with --disk also "f16" (memory budget 0: float16 on disk). The runs alternate old/new
 * `--rounds` times (the machine is shared: each run is reported). Epoch time includes the epoch's validation.
 * Losses of every batch are compared with the old run's. Conv GFLOP/s of a run = its convolution FLOPs (forward of
 * the blocks it runs, filter and input gradients of the trainable ones) over its epoch time; wasm matMul GFLOP/s
 * (1024 x 1024, best of 5) beside it is the compute ceiling. Ends with one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initWasmForProbe } from '../src-main/engine/backend/wasm-init.ts';
import { neuSamples } from '../src-main/services/training/data/neu.ts';
import { fileSource } from '../src-main/services/training/data/source.ts';
import { readWeightSet } from '../src-main/engine/model/weights.ts';
import type { PrefixCacheOptions, PrefixCacheStats } from '../src-main/engine/train/prefix-cache.ts';
import { Trainer, type TrainerEvent } from '../src-main/engine/train/trainer.ts';
import { resolveConfig } from '../src-main/services/training/train/config.ts';
import type { BackboneId } from '../src-main/shared/training-types.ts';
import { V1_BLOCKS } from '../src-main/services/training/model/backbone-table.ts';

const MODELS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/models');
const args = process.argv.slice(2);
const flag = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};
const IMAGES = Number(flag('images', '24'));
const IMAGES_520 = Number(flag('images520', '9'));
const VAL = Number(flag('val', '6'));
const SIZES = flag('sizes', '224,520').split(',').map(Number);
const ALPHAS = flag('alphas', '0.25,0.75').split(',');
const ROUNDS = Number(flag('rounds', '2'));
const DISK = args.includes('--disk');
const N = 6;
const BATCH = 16;

// ---------------------------------------------------------------- FLOPs (MobileNet v1)

/** Conv multiply-adds per image of each block (0 = stem) of v1 at `alpha` and `size`. */
function blockMacs(alpha: number, size: number): number[] {
  let s = Math.ceil(size / 2);
  let c = Math.floor(32 * alpha);
  const out = [s * s * 27 * c];
  for (const [f, stride] of V1_BLOCKS) {
    s = Math.ceil(s / stride);
    const co = Math.floor(f * alpha);
    out.push(s * s * 9 * c + s * s * c * co);
    c = co;
  }
  return out;
}

/** Conv FLOPs of one training item: forward of the blocks run, 2x more for trainable ones (minus the first's input gradient, not needed). */
function itemFlops(alpha: number, size: number, withPrefix: boolean): number {
  const m = blockMacs(alpha, size);
  const cut = 13 - N;
  let f = 0;
  m.forEach((macs, b) => {
    if (b <= cut) f += withPrefix ? 2 * macs : 0;
    else f += 2 * macs * (b === cut + 1 ? 2 : 3);
  });
  return f;
}
function validationFlops(alpha: number, size: number, withPrefix: boolean): number {
  const m = blockMacs(alpha, size);
  return m.reduce((a, macs, b) => a + (b <= 13 - N && !withPrefix ? 0 : 2 * macs), 0);
}

function matMulGflops(n: number): number {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    tf.tidy(() => {
      tf.matMul(a, b).dataSync();
    });
    if (i > 0) times.push(performance.now() - t0);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (Math.min(...times) * 1e6);
}

// ---------------------------------------------------------------- runs

interface RunResult {
  mode: 'old' | 'new' | 'f16';
  round: number;
  epochMs: number[];
  /** Process CPU time (all threads) of each epoch: less disturbed by other processes than wall time. */
  epochCpuMs: number[];
  losses: number[];
  valLoss: (number | null)[];
  stats: PrefixCacheStats | null;
}

async function fineTuneRun(
  size: number,
  alpha: string,
  mode: RunResult['mode'],
  round: number,
  training: string,
  cacheDir: string,
): Promise<RunResult> {
  const perClass = Math.ceil((size >= 400 ? IMAGES_520 : IMAGES) / 3);
  const valFraction = VAL / (perClass * 3 + VAL);
  const { classes, samples } = neuSamples({
    perClass: perClass + Math.ceil(VAL / 3),
    classes: ['patches', 'inclusion', 'scratches'],
    valFraction,
  });
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  samples.forEach((s, i) => splits[s.split].push(i));
  const events: TrainerEvent[] = [];
  const cpuMarks: number[] = [];
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const prefixCache: PrefixCacheOptions | false = mode === 'old' ? false : mode === 'f16' ? { memoryBytes: 0 } : {};
  const trainer = new Trainer({
    config: resolveConfig({
      task: 'multiclass',
      backbone: `mobilenet_v1_${alpha}` as BackboneId,
      inputSize: size,
      batchSize: BATCH,
      epochs: 0,
      fineTuneBlocks: N,
      fineTuneEpochs: 2,
      fineTunePatience: 10,
      augmentation: { mode: 'fixed' },
      seed: 3,
    }),
    classes,
    okIndex: null,
    source: fileSource(samples),
    splits,
    backboneWeights: readWeightSet(join(MODELS, `mobilenet_v1_${alpha}_224`)),
    cacheDir,
    prefixCache,
    backends: { training, inference: 'wasm' },
    signal: new AbortController().signal,
    onEvent: (e) => {
      if ((e.kind === 'phase' && e.phase === 'finetune') || (e.kind === 'epoch' && e.phase === 'finetune')) cpuMarks.push(cpuNow());
      events.push(e);
    },
  });
  const out = await trainer.run();
  if (out.status !== 'completed') throw new Error(`run ${mode} did not complete`);
  const ft = events.filter((e): e is Extract<TrainerEvent, { kind: 'epoch' }> => e.kind === 'epoch' && e.phase === 'finetune');
  return {
    mode,
    round,
    epochMs: ft.map((e) => e.durationMs),
    epochCpuMs: ft.map((_, i) => cpuMarks[i + 1]! - cpuMarks[i]!),
    losses: ft.flatMap((e) => e.batchLosses),
    valLoss: ft.map((e) => e.metrics.valLoss),
    stats: trainer.prefixCacheStats,
  };
}

async function main(): Promise<void> {
  const load0 = os.loadavg()[0] ?? NaN;
  const wasm = await initWasmForProbe();
  const training = wasm.missingGradients.length ? 'cpu' : 'wasm';
  await tf.setBackend('wasm');
  const matmul = matMulGflops(1024);
  const cacheDir = mkdtempSync(join(os.tmpdir(), 'kensa-bench-prefix-'));
  // A run stopped by `timeout` (SIGTERM) leaves no scratch behind either.
  process.once('SIGTERM', () => {
    rmSync(cacheDir, { recursive: true, force: true });
    process.exit(143);
  });
  const groups: {
    size: number;
    alpha: string;
    trainItems: number;
    valItems: number;
    runs: RunResult[];
  }[] = [];
  try {
    for (const size of SIZES) {
      for (const alpha of ALPHAS) {
        const runs: RunResult[] = [];
        const modes: RunResult['mode'][] = DISK ? ['old', 'new', 'f16'] : ['old', 'new'];
        for (let r = 1; r <= ROUNDS; r++) {
          // Alternate which goes first, so that a change of load hits both.
          for (const mode of r % 2 ? modes : [...modes].reverse()) {
            const res = await fineTuneRun(size, alpha, mode, r, training, cacheDir);
            runs.push(res);
            console.error(
              `  ${size}px v1 ${alpha} ${mode} round ${r}: epochs ${res.epochMs.map((m) => (m / 1000).toFixed(2)).join(' s, ')} s` +
                ` (CPU ${res.epochCpuMs.map((m) => (m / 1000).toFixed(2)).join(' s, ')} s)`,
            );
          }
        }
        const perClass = Math.ceil((size >= 400 ? IMAGES_520 : IMAGES) / 3);
        groups.push({ size, alpha, trainItems: perClass * 3 * 3, valItems: Math.ceil(VAL / 3) * 3, runs });
      }
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }

  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const rows = groups.map((g) => {
    const old = g.runs.filter((r) => r.mode === 'old');
    const ref = old[0]!;
    const maxDiff = (m: RunResult['mode']) =>
      Math.max(
        0,
        ...g.runs
          .filter((r) => r.mode === m)
          .flatMap((r) => [
            ...r.losses.map((l, i) => Math.abs(l - ref.losses[i]!)),
            ...r.valLoss.map((l, i) => Math.abs(l! - ref.valLoss[i]!)),
          ]),
      );
    const a = Number(g.alpha);
    const gflops = (ms: number, cachedPrefix: boolean) =>
      (g.trainItems * itemFlops(a, g.size, !cachedPrefix) + g.valItems * validationFlops(a, g.size, !cachedPrefix)) / (ms * 1e6);
    const ep = (m: RunResult['mode'], e: number) => g.runs.filter((r) => r.mode === m).map((r) => r.epochMs[e]!);
    const cpu = (m: RunResult['mode'], e: number) => g.runs.filter((r) => r.mode === m).map((r) => r.epochCpuMs[e]!);
    const oldE2 = median(ep('old', 1));
    const newE2 = median(ep('new', 1));
    const f16E2 = DISK ? median(ep('f16', 1)) : NaN;
    return {
      size: g.size,
      alpha: g.alpha,
      trainItems: g.trainItems,
      valItems: g.valItems,
      runs: g.runs.map((r) => ({
        mode: r.mode,
        round: r.round,
        epochMs: r.epochMs.map(Math.round),
        epochCpuMs: r.epochCpuMs.map(Math.round),
        stats: r.stats,
      })),
      medianEpochMs: {
        oldEpoch1: Math.round(median(ep('old', 0))),
        oldEpoch2: Math.round(oldE2),
        newEpoch1: Math.round(median(ep('new', 0))),
        newEpoch2: Math.round(newE2),
        ...(DISK ? { f16Epoch2: Math.round(f16E2) } : {}),
      },
      speedupCachedEpoch: round(oldE2 / newE2),
      speedupCachedEpochCpu: round(median(cpu('old', 1)) / median(cpu('new', 1))),
      speedupTwoEpochs: round((median(ep('old', 0)) + oldE2) / (median(ep('new', 0)) + newE2)),
      ...(DISK ? { speedupF16Epoch: round(oldE2 / f16E2) } : {}),
      convGflops: { old: round(gflops(oldE2, false)), newCachedEpoch: round(gflops(newE2, true)) },
      maxLossDiff: { new: Number(maxDiff('new').toExponential(2)), ...(DISK ? { f16: Number(maxDiff('f16').toExponential(2)) } : {}) },
    };
  });
  const load1 = os.loadavg()[0] ?? NaN;
  console.log(
    `\nFine-tune epoch, MobileNet v1, N = ${N}, batch ${BATCH}, x3 fixed augmentation, NEU-DET, training backend ${training}` +
      ` (wasm simd=${wasm.simd} threads=${wasm.threads}); load ${load0.toFixed(1)} -> ${load1.toFixed(1)} on ${os.cpus().length} cores`,
  );
  console.log(
    `wasm matMul 1024x1024: ${matmul.toFixed(2)} GFLOP/s (the ceiling); epoch times are medians over ${ROUNDS} alternating rounds\n`,
  );
  const header = [
    'size',
    'alpha',
    'items',
    'old ep2 s',
    'new ep1 s',
    'new ep2 s',
    ...(DISK ? ['f16 ep2 s'] : []),
    'x ep2',
    'x ep2 cpu',
    'x 2 ep',
    'GFLOP/s old/new',
    'max |dloss|',
  ];
  const table = rows.map((r) => [
    String(r.size),
    r.alpha,
    `${r.trainItems}+${r.valItems}`,
    (r.medianEpochMs.oldEpoch2 / 1000).toFixed(2),
    (r.medianEpochMs.newEpoch1 / 1000).toFixed(2),
    (r.medianEpochMs.newEpoch2 / 1000).toFixed(2),
    ...(DISK ? [((r.medianEpochMs.f16Epoch2 ?? NaN) / 1000).toFixed(2)] : []),
    `${r.speedupCachedEpoch.toFixed(2)}x`,
    `${r.speedupCachedEpochCpu.toFixed(2)}x`,
    `${r.speedupTwoEpochs.toFixed(2)}x`,
    `${r.convGflops.old.toFixed(1)}/${r.convGflops.newCachedEpoch.toFixed(1)}`,
    `${r.maxLossDiff.new.toExponential(1)}${DISK ? ` (f16 ${(r.maxLossDiff.f16 ?? NaN).toExponential(1)})` : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  console.log(line(header));
  for (const row of table) console.log(line(row));
  const minSpeedup = Math.min(...rows.map((r) => r.speedupCachedEpoch));
  console.log(`\ncached epoch vs old epoch: min ${minSpeedup.toFixed(2)}x (goal >= 1.6x: ${minSpeedup >= 1.6 ? 'met' : 'NOT met'})`);
  console.log(
    JSON.stringify({
      bench: 'finetune-cache',
      n: N,
      batch: BATCH,
      training,
      wasm: { simd: wasm.simd, threads: wasm.threads },
      loadAverage: { start: round(load0), end: round(load1) },
      matmulGflops1024: round(matmul),
      rows,
      minSpeedupCachedEpoch: round(minSpeedup),
    }),
  );
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

await main();
