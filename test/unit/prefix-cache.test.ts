/**
 * Fine-tuning's prefix cache (engine/train/prefix-cache.ts): float16 encoding bounds, the memory / disk budgets, the same
 * gradients as the full forward pass, and the same fine-tuning losses as without the cache, with no tensor left behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWasmForProbe } from '../../src-main/engine/backend/wasm-init.ts';
import { neuSamples } from '../../src-main/services/training/data/neu.ts';
import { fileSource } from '../../src-main/services/training/data/source.ts';
import {
  buildClassifier,
  buildHead,
  buildSegment,
  copyWeightsByName,
  featureShapeAfter,
  parseBackbone,
} from '../../src-main/engine/model/mobilenet.ts';
import { readWeightSet } from '../../src-main/engine/model/weights.ts';
import {
  cachedFeatureBatches,
  decodeHalf,
  encodeHalf,
  fromHalfBits,
  PrefixCache,
  toHalfBits,
} from '../../src-main/engine/train/prefix-cache.ts';
import { Trainer, type TrainerEvent } from '../../src-main/engine/train/trainer.ts';
import { resolveConfig } from '../../src-main/services/training/train/config.ts';
import type { PrefixCacheOptions } from '../../src-main/engine/train/prefix-cache.ts';

const WEIGHTS = resolve(import.meta.dirname, '../../../shared/models/mobilenet_v1_0.25_224');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-prefix-'));
let training = 'cpu';
beforeAll(async () => {
  const f = await initWasmForProbe();
  training = f.missingGradients.length ? 'cpu' : 'wasm';
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('float16 encoding', () => {
  it('round-trips every finite binary16 value exactly', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const x = fromHalfBits(h);
      // -0 and +0 keep their sign bit.
      if (!Number.isNaN(x) && toHalfBits(x) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
    expect(fromHalfBits(0x3c00)).toBe(1);
    expect(fromHalfBits(0x0001)).toBe(2 ** -24);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
  });

  it('rounds to nearest (ties to even) within half an ulp: 2^-11 relative, 2^-25 absolute below 2^-14', () => {
    let seed = 7;
    const next = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const xs = Float32Array.from({ length: 20000 }, () => (next() - 0.5) * 2 ** (next() * 40 - 28));
    const back = decodeHalf(encodeHalf(xs));
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      const bound = Math.abs(x) >= 2 ** -14 ? Math.abs(x) * 2 ** -11 : 2 ** -25;
      expect(Math.abs(back[i]! - x), `x = ${x}`).toBeLessThanOrEqual(bound);
    }
    // Ties: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10 and goes to the even one (1); 1 + 3 * 2^-11 goes up.
    expect(fromHalfBits(toHalfBits(1 + 2 ** -11))).toBe(1);
    expect(fromHalfBits(toHalfBits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    // The largest finite value and overflow.
    expect(fromHalfBits(toHalfBits(65519))).toBe(65504);
    expect(fromHalfBits(toHalfBits(65520))).toBe(Infinity);
    expect(fromHalfBits(toHalfBits(-1e6))).toBe(-Infinity);
    // ReLU6 outputs (what the prefix gives): 6 is exact, values in [0, 6] within 2^-9 (half an ulp at 4..8).
    expect(fromHalfBits(toHalfBits(6))).toBe(6);
  });
});

describe('PrefixCache', () => {
  it('keeps float32 in memory up to its budget, float16 on disk beyond it, and nothing beyond both', () => {
    const F = 100;
    const item = (k: number) => Float32Array.from({ length: F }, (_, i) => Math.sin(k * 31 + i) * 3 + 3);
    // Room for 2 items in memory (800 B) and 3 on disk (600 B).
    const cache = new PrefixCache(F, join(tmp, 'budget'), { memoryBytes: 2 * F * 4, diskBytes: 3 * F * 2 });
    for (let k = 0; k < 6; k++) cache.put(`k${k}`, item(k));
    expect(cache.stats).toMatchObject({ memoryItems: 2, diskItems: 3, refused: 1 });
    expect(cache.get('k0')).toEqual(item(0));
    expect(cache.get('k1')).toEqual(item(1));
    for (let k = 2; k < 5; k++) {
      const got = cache.get(`k${k}`)!;
      const want = item(k);
      // Values in [0, 6]: half an ulp is at most 2^-9.
      for (let i = 0; i < F; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(2 ** -9);
      expect(got).not.toEqual(want);
    }
    expect(cache.get('k5')).toBeNull();
    expect(cache.has('k5')).toBe(false);
    const scratch = join(tmp, 'budget', 'prefix-cache');
    expect(readdirSync(scratch)).toHaveLength(1);
    cache.dispose();
    expect(readdirSync(scratch)).toHaveLength(0);
    expect(() => cache.put('x', new Float32Array(3))).toThrow(RangeError);
  });

  it('removes scratch folders left by a process that died, and keeps those of live ones', () => {
    const root = join(tmp, 'stale');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    mkdirSync(join(root, 'prefix-cache', `${dead}-left`), { recursive: true });
    mkdirSync(join(root, 'prefix-cache', `${process.ppid}-live`), { recursive: true });
    const cache = new PrefixCache(4, root, { memoryBytes: 0 });
    cache.put('a', Float32Array.of(1, 2, 3, 4));
    const left = readdirSync(join(root, 'prefix-cache'));
    expect(left).toContain(`${process.ppid}-live`);
    expect(left).not.toContain(`${dead}-left`);
    expect(left).toHaveLength(2);
    expect(cache.get('a')).toEqual(Float32Array.of(1, 2, 3, 4));
    cache.dispose();
    expect(readdirSync(join(root, 'prefix-cache'))).toEqual([`${process.ppid}-live`]);
  });

  it('computes only what it lacks: the second pass decodes nothing', async () => {
    const cache = new PrefixCache(2, null, { memoryBytes: 1 << 20 });
    const items = [0, 1, 2, 3, 4];
    const loaded: number[] = [];
    const load = async (its: number[]) => {
      loaded.push(...its);
      return its.map((i) => Uint8Array.of(i));
    };
    const compute = async (px: Uint8Array[]) => Float32Array.from(px.flatMap((p) => [p[0]!, p[0]! * 10]));
    const pass = async () => {
      const out: number[] = [];
      for await (const b of cachedFeatureBatches(cache, items, 2, String, load, compute)) out.push(...b.features);
      return out;
    };
    const want = items.flatMap((i) => [i, i * 10]);
    expect(await pass()).toEqual(want);
    expect(loaded).toEqual(items);
    expect(await pass()).toEqual(want);
    expect(loaded).toEqual(items);
    expect(cache.stats.hits).toBe(5);
    cache.dispose();
  });
});

describe('fine-tuning through the prefix cache', () => {
  it('gives the trainable weights the same gradients as the full forward pass (within 1e-5), with no tensor leaks', async () => {
    await tf.setBackend('cpu');
    const spec = parseBackbone('mobilenet_v1_0.25');
    const size = 96;
    const n = 2;
    const cut = spec.blocks - n;
    const full = buildClassifier(spec, size, 3, 0, 3);
    const prefix = buildSegment(spec, 0, cut, [size, size, 3]);
    const shape = featureShapeAfter(spec, cut, size);
    const tail = buildSegment(spec, cut + 1, spec.blocks, shape, { gap: true });
    const head = buildHead(spec.featureChannels, 3, 3);
    // Non-trivial BN statistics, so that frozen BN matters.
    for (const l of full.layers) {
      if (l.getClassName() !== 'BatchNormalization') continue;
      const w = l.getWeights();
      const c = w[0]!.shape[0]!;
      const vals = [0, 1, 2, 3].map((k) =>
        tf.tensor1d(Array.from({ length: c }, (_, i) => [1.1, 0.05, 0.1, 0.9][k]! + 0.01 * ((i * (k + 3)) % 7))),
      );
      l.setWeights(vals);
      tf.dispose(vals);
    }
    for (const m of [prefix, tail, head]) copyWeightsByName(full, m);
    const before = tf.memory().numTensors;
    const x = tf.randomUniform([4, size, size, 3], -1, 1, 'float32', 11);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 2, 1, 2], 'int32'), 3));
    const ce = (p: tf.Tensor) => tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), 1))) as tf.Scalar;
    const nameOf = (v: tf.LayerVariable) => v.originalName;
    const fullVars = full.trainableWeights.filter((w) => /^(conv_(dw|pw)_1[23]|head_dense)/.test(w.originalName));
    const cachedVars = [...tail.trainableWeights, ...head.trainableWeights];
    expect(fullVars.map(nameOf).sort()).toEqual(cachedVars.map(nameOf).sort());
    const grads = (fn: () => tf.Scalar, vars: tf.LayerVariable[]) => {
      const g = tf.variableGrads(
        fn,
        vars.map((v) => v.read() as tf.Variable),
      );
      const out = new Map(vars.map((v) => [nameOf(v), g.grads[(v.read() as tf.Variable).name]!.dataSync().slice()]));
      const loss = g.value.dataSync()[0]!;
      tf.dispose([g.value, ...Object.values(g.grads)]);
      return { loss, out };
    };
    const a = grads(() => ce(full.apply(x, { training: true }) as tf.Tensor), fullVars);
    // Cached path: the prefix output is stored, read back and fed to the trainable part.
    const cache = new PrefixCache(
      shape.reduce((p, q) => p * q, 1),
      null,
    );
    const feats = tf.tidy(() => (prefix.apply(x, { training: false }) as tf.Tensor).dataSync() as Float32Array);
    for (let j = 0; j < 4; j++) cache.put(`s${j}`, feats.subarray(j * cache.itemFloats, (j + 1) * cache.itemFloats));
    const back = new Float32Array(feats.length);
    for (let j = 0; j < 4; j++) back.set(cache.get(`s${j}`)!, j * cache.itemFloats);
    const input = tf.tensor(back, [4, ...shape]);
    const b = grads(() => ce(head.apply(tail.apply(input, { training: true }) as tf.Tensor, { training: true }) as tf.Tensor), cachedVars);
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
    let worst = 0;
    let largest = 0;
    for (const [name, ga] of a.out) {
      const gb = b.out.get(name)!;
      for (let i = 0; i < ga.length; i++) {
        worst = Math.max(worst, Math.abs(ga[i]! - gb[i]!));
        largest = Math.max(largest, Math.abs(ga[i]!));
      }
    }
    expect(largest).toBeGreaterThan(1e-3); // the gradients are not all zero
    expect(worst).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, y, input]);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const m of [full, prefix, tail, head]) m.dispose();
  });

  const run = async (prefixCache: PrefixCacheOptions | false) => {
    const { classes, samples } = neuSamples({ perClass: 5, classes: ['patches', 'inclusion', 'scratches'], valFraction: 0.4 });
    const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
    samples.forEach((s, i) => splits[s.split].push(i));
    const events: TrainerEvent[] = [];
    const trainer = new Trainer({
      config: resolveConfig({
        task: 'multiclass',
        inputSize: 96,
        batchSize: 4,
        epochs: 1,
        fineTuneBlocks: 2,
        fineTuneEpochs: 2,
        augmentation: { mode: 'fixed' },
      }),
      classes,
      okIndex: null,
      source: fileSource(samples),
      splits,
      backboneWeights: readWeightSet(WEIGHTS),
      cacheDir: join(tmp, 'cache'),
      prefixCache,
      backends: { training, inference: 'wasm' },
      signal: new AbortController().signal,
      onEvent: (e) => events.push(e),
    });
    const out = await trainer.run();
    expect(out.status).toBe('completed');
    const ft = events.filter((e): e is Extract<TrainerEvent, { kind: 'epoch' }> => e.kind === 'epoch' && e.phase === 'finetune');
    expect(ft).toHaveLength(2);
    return { losses: ft.flatMap((e) => e.batchLosses), val: ft.map((e) => e.metrics.valLoss), stats: trainer.prefixCacheStats };
  };

  it('fine-tunes with the same losses as without it: float32 in memory, float16 on disk; no leaks, scratch removed', async () => {
    await tf.setBackend('wasm');
    const wasm0 = tf.memory().numTensors;
    await tf.setBackend(training);
    const other0 = tf.memory().numTensors;
    const plain = await run(false);
    expect(plain.stats).toBeNull();
    const memory = await run({});
    const disk = await run({ memoryBytes: 0 });
    // 9 training images x 3 variants, 6 validation images: computed in epoch 1 (and the baseline), read after.
    expect(memory.stats).toMatchObject({ memoryItems: 33, diskItems: 0 });
    expect(memory.stats!.hits).toBeGreaterThanOrEqual(27 + 6);
    expect(disk.stats).toMatchObject({ memoryItems: 0, diskItems: 33 });
    expect(memory.losses.length).toBe(plain.losses.length);
    memory.losses.forEach((l, i) => expect(Math.abs(l - plain.losses[i]!)).toBeLessThanOrEqual(1e-6));
    memory.val.forEach((l, i) => expect(Math.abs(l! - plain.val[i]!)).toBeLessThanOrEqual(1e-6));
    disk.losses.forEach((l, i) => expect(Math.abs(l - plain.losses[i]!)).toBeLessThanOrEqual(1e-3));
    disk.val.forEach((l, i) => expect(Math.abs(l! - plain.val[i]!)).toBeLessThanOrEqual(1e-3));
    expect(readdirSync(join(tmp, 'cache', 'prefix-cache'))).toHaveLength(0);
    await tf.setBackend('wasm');
    expect(tf.memory().numTensors).toBe(wasm0);
    await tf.setBackend(training);
    expect(tf.memory().numTensors).toBe(other0);
    expect(existsSync(join(tmp, 'cache'))).toBe(true);
  }, 120_000);
});
