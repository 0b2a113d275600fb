import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankSet } from '../../src-main/engine/anomaly/banks.ts';
import { bankTypes } from '../../src-main/engine/anomaly/core-types.ts';
import { AnomalyModel, freshAnomalyParams, unflipGrids } from '../../src-main/engine/anomaly/model.ts';
import { typeScale } from '../../src-main/engine/anomaly/threshold.ts';
import { readWeightSet } from '../../src-main/engine/model/weights.ts';
import { rocCurve } from '../../src-main/services/training/train/metrics.ts';
import { createRng } from '../../src-main/services/training/train/rng.ts';
import { initWasmBackend } from '../../src-main/engine/wasm-grads/setup-wasm.ts';
import type { AnomalyModelParams } from '../../src-main/shared/training-types.ts';

const WEIGHTS = resolve(import.meta.dirname, '../../../shared/models/mobilenet_v1_0.25_224');
const size = 128;

beforeAll(async () => {
  await initWasmBackend();
  await tf.setBackend('wasm');
});

/**
 * Two core types whose normal surfaces differ: 'stator' has stripes across (vertical lines), 'rotor' stripes along
 * (horizontal lines), each at a random phase with grain. `foreign`: the image shows the OTHER type's surface (a
 * stator punched with the rotor's pattern is defective, though that surface is normal in the plant's other part).
 */
function core(type: 'stator' | 'rotor', seed: number, foreign = false): Uint8Array {
  const rng = createRng(seed);
  const phase = rng.range(0, 2 * Math.PI);
  const px = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const across = (type === 'stator') !== foreign;
      const v = 128 + 40 * Math.sin((2 * Math.PI * (across ? x : y)) / 8 + phase) + rng.range(-10, 10);
      px.fill(Math.max(0, Math.min(255, Math.round(v))), (y * size + x) * 3, (y * size + x) * 3 + 3);
    }
  return px;
}

const params: AnomalyModelParams = {
  ...freshAnomalyParams('mobilenet_v1_0.25', size, 1, { coresetFraction: 0.25, projectDim: 64 }),
  candidateFactor: 2,
  coresetProjectDim: 32,
  dim: 64,
  thresholdBasis: 'test',
};

const once = (images: Uint8Array[]) => {
  let given = false;
  return async () => (given ? null : ((given = true), images));
};
const TYPES = ['stator', 'rotor'] as const;
const trainOf = (t: (typeof TYPES)[number]) => Array.from({ length: 6 }, (_, i) => core(t, (t === 'stator' ? 100 : 200) + i));
// Held-out good and defective cores of both types, and each image's type.
const heldTypes = TYPES.flatMap((t) => [t, t, t, t, t, t]);
const held = TYPES.flatMap((t, j) =>
  [0, 1, 2].map((i) => core(t, 300 + 10 * j + i)).concat([0, 1, 2].map((i) => core(t, 400 + 10 * j + i, true))),
);
const positive = TYPES.flatMap(() => [false, false, false, true, true, true]);
const auc = (scores: { raw: number }[]) =>
  rocCurve(
    scores.map((s) => s.raw),
    positive,
  ).auc;

describe('one memory bank per core type', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('separates a type whose defect is the other type’s normal surface, where one bank of both cannot', async () => {
    const weights = readWeightSet(WEIGHTS);
    const one = new AnomalyModel(params, weights);
    await one.fit(once([...trainOf('stator'), ...trainOf('rotor')]), 12);
    const oneAuc = auc(await one.score(held));
    one.dispose();

    const typed = new AnomalyModel(params, weights);
    for (const t of TYPES) await typed.fit(once(trainOf(t)), 6, undefined, undefined, { coreType: t, allImages: 12 });
    expect(typed.banks.count).toBe(2);
    expect(typed.bankSize).toBe(2 * Math.round(6 * 16 * 16 * 0.25));
    // Scales from held-out good images of each type (the product's per-type rule), so one threshold fits both.
    for (const t of TYPES) {
      const good = await typed.score(
        [0, 1].map((i) => core(t, 500 + i)),
        [t, t],
      );
      typed.banks.setScale(t, typeScale(good.map((s) => s.raw)));
    }
    const typedScores = await typed.score(held, heldTypes);
    expect(auc(typedScores)).toBe(1);
    // The single bank holds both surfaces, so a foreign square looks normal to it.
    expect(oneAuc).toBeLessThan(0.8);

    // Saved and loaded: the same banks, scales and scores; an image of unknown type scores against the nearest bank.
    const dir = mkdtempSync(join(tmpdir(), 'kensa-banks-'));
    dirs.push(dir);
    typed.saveBank(dir);
    const info = typed.banks.info();
    expect(info.map((b) => b.coreType)).toEqual(['stator', 'rotor']);
    const again = new AnomalyModel({ ...params, bankRows: typed.bankSize, banks: info }, weights);
    again.loadBank(dir);
    const reloaded = await again.score(held, heldTypes);
    reloaded.forEach((s, i) => expect(s.raw).toBeCloseTo(typedScores[i]!.raw, 4));
    const [unknown] = await again.score([held[0]!]);
    const [asStator] = await again.score([held[0]!], ['stator']);
    const [asRotor] = await again.score([held[0]!], ['rotor']);
    expect(unknown!.raw).toBeLessThanOrEqual(Math.min(asStator!.raw, asRotor!.raw) + 1e-5);
    typed.dispose();
    again.dispose();
  });

  it('scores with test-time flips never farther than without, patch by patch, and frees the flipped copies', async () => {
    const model = new AnomalyModel(params, readWeightSet(WEIGHTS));
    await model.fit(once(trainOf('stator')), 6);
    const img = [core('stator', 900, true)];
    const [plain] = await model.score(img);
    model.params.flips = 'hv';
    const [flipped] = await model.score(img);
    plain!.patches.forEach((v, k) => expect(flipped!.patches[k]!).toBeLessThanOrEqual(v + 1e-5));
    // The flipped copies leave nothing behind on the backend.
    const before = tf.memory();
    for (let i = 0; i < 5; i++) await model.score(img);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    model.dispose();
  });
});

describe('bank helpers', () => {
  it('puts flipped patch maps back on the original grid', () => {
    const g = 3;
    const d = Float32Array.from({ length: 2 * g * g }, (_, i) => i);
    expect(Array.from(unflipGrids(d, g, [2]).subarray(0, 9))).toEqual([2, 1, 0, 5, 4, 3, 8, 7, 6]);
    expect(Array.from(unflipGrids(d, g, [1]).subarray(9))).toEqual([15, 16, 17, 12, 13, 14, 9, 10, 11]);
    expect(unflipGrids(unflipGrids(d, g, [1, 2]), g, [1, 2])).toEqual(d);
  });

  it('takes an image of a type without a bank against all banks, each divided by its scale', async () => {
    const set = new BankSet(2);
    set.set('a', Float32Array.from([0, 0]), 1, 1, 2);
    set.set('b', Float32Array.from([10, 0]), 1, 1, 1);
    const x = tf.tensor2d([
      [4, 0],
      [4, 0],
      [4, 0],
    ]);
    // per image of one patch: own bank a (4 / 2), own bank b (6 / 1), unknown (min of both)
    expect(Array.from(await set.distances(x, ['a', 'b', null], 1))).toEqual([2, 6, 2]);
    x.dispose();
    set.dispose();
  });

  it('gives each core type a bank only when two or more types have enough good images', () => {
    const many = (t: string, n: number) => Array.from({ length: n }, () => t);
    expect(bankTypes([...many('stator', 20), ...many('unknown', 30)])).toBeNull();
    expect(bankTypes([...many('stator', 20), ...many('rotor', 3)])).toBeNull();
    expect(bankTypes([...many('stator', 20), ...many('rotor', 12)])).toEqual(['rotor', 'stator']);
    expect(bankTypes([...many('stator', 20), ...many('rotor', 12), 'unknown'])).toEqual(['rotor', 'stator', 'unknown']);
  });
});
