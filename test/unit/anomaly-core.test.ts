import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { greedyCoreset, StreamingCoreset } from '../../src-main/engine/anomaly/coreset.ts';
import { anomalyTaps, createExtractor } from '../../src-main/engine/anomaly/features.ts';
import { PatchBank } from '../../src-main/engine/anomaly/knn.ts';
import { AnomalyModel, anomalyMap, DEFAULT_ANOMALY } from '../../src-main/engine/anomaly/model.ts';
import { readWeightSet } from '../../src-main/engine/model/weights.ts';
import { rocCurve } from '../../src-main/services/training/train/metrics.ts';
import { createRng } from '../../src-main/services/training/train/rng.ts';
import { initWasmBackend } from '../../src-main/engine/wasm-grads/setup-wasm.ts';

const WEIGHTS = resolve(import.meta.dirname, '../../../shared/models/mobilenet_v1_0.25_224');

beforeAll(async () => {
  await initWasmBackend();
  await tf.setBackend('wasm');
});

function randomRows(n: number, d: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * d }, () => rng.range(-1, 1));
}

function bruteNearest(q: Float32Array, bank: Float32Array, d: number): { dist: number; index: number } {
  let best = Infinity;
  let index = -1;
  for (let j = 0; j < bank.length / d; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += (q[k]! - bank[j * d + k]!) ** 2;
    if (s < best) {
      best = s;
      index = j;
    }
  }
  return { dist: Math.sqrt(best), index };
}

describe('nearest-neighbour distances to the bank', () => {
  it('equal brute force, over several bank chunks, with the right indices', async () => {
    const d = 24;
    const bankRows = randomRows(530, d, 1);
    const queries = randomRows(70, d, 2);
    const bank = PatchBank.fromArray(bankRows, 530, d, 128); // 5 chunks, the last one partial
    const x = tf.tensor2d(queries, [70, d]);
    const { distances, indices } = bank.nearest(x);
    const sq = bank.nearestSquared(x);
    const [dist, idx, sqd] = [await distances.data(), await indices.data(), await sq.data()];
    for (let i = 0; i < 70; i++) {
      const b = bruteNearest(queries.subarray(i * d, (i + 1) * d), bankRows, d);
      expect(dist[i]).toBeCloseTo(b.dist, 4);
      expect(Math.sqrt(sqd[i]!)).toBeCloseTo(b.dist, 4);
      expect(idx[i]).toBe(b.index);
    }
    // A bank patch is at distance 0 from itself.
    const self = tf.tensor2d(bankRows.slice(17 * d, 18 * d), [1, d]);
    expect((await bank.nearest(self).distances.data())[0]).toBeLessThan(1e-3);
    tf.dispose([x, distances, indices, sq, self]);
    bank.dispose();
  });
});

describe('greedy k-center coreset', () => {
  it('is deterministic for a seed, picks distinct points, and its covering radius never grows', async () => {
    const d = 8;
    const rows = randomRows(400, d, 3);
    const x = tf.tensor2d(rows, [400, d]);
    const a = await greedyCoreset(x, 40, 7);
    const b = await greedyCoreset(x, 40, 7);
    const c = await greedyCoreset(x, 40, 8);
    expect(a).toEqual(b);
    expect(c.indices).not.toEqual(a.indices);
    expect(new Set(a.indices).size).toBe(40);
    expect(a.radii).toHaveLength(40);
    for (let s = 1; s < a.radii.length; s++) expect(a.radii[s]!).toBeLessThanOrEqual(a.radii[s - 1]! + 1e-6);
    // The last radius is the true covering radius of the chosen set (brute force), and each pick was the point
    // farthest from the set before it.
    const chosen = new Float32Array(a.indices.flatMap((i) => Array.from(rows.subarray(i * d, (i + 1) * d))));
    let cover = 0;
    for (let i = 0; i < 400; i++) cover = Math.max(cover, bruteNearest(rows.subarray(i * d, (i + 1) * d), chosen, d).dist);
    expect(a.radii[39]).toBeCloseTo(cover, 3);
    const prefix = chosen.subarray(0, 5 * d);
    const nextPick = rows.subarray(a.indices[5]! * d, (a.indices[5]! + 1) * d);
    expect(bruteNearest(nextPick, prefix, d).dist).toBeCloseTo(a.radii[4]!, 3);
    x.dispose();
  });

  it('streams: per-image candidates then a global pass, leaving no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const d = 6;
    const stream = new StreamingCoreset(d, { perImageFraction: 0.25, projectDim: 0, seed: 1 });
    for (let i = 0; i < 5; i++) {
      const img = tf.tensor2d(randomRows(64, d, 10 + i), [64, d]);
      await stream.add(img);
      img.dispose();
    }
    expect(stream.candidates).toBe(5 * 16);
    const { bank, rows, radii } = await stream.finish(20);
    expect(rows).toBe(20);
    expect(bank).toHaveLength(20 * d);
    expect(radii).toHaveLength(20);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('patch features', () => {
  it('tap conv_pw_5 and conv_pw_11 on v1 (576 values at alpha 0.75) and the stride-8/16 block outputs on v2', () => {
    const v1 = anomalyTaps('mobilenet_v1_0.75');
    expect(v1.map((t) => t.name)).toEqual(['conv_pw_5_relu', 'conv_pw_11_relu']);
    expect(v1[0].channels + v1[1].channels).toBe(576);
    const v2 = anomalyTaps('mobilenet_v2_1.0');
    expect(v2.map((t) => t.stride)).toEqual([8, 16]);
    expect(v2.map((t) => t.name)).toEqual(['block_5_add', 'block_12_add']);
  });

  it('embed a batch into one row per stride-8 patch', () => {
    const ex = createExtractor({ backbone: 'mobilenet_v1_0.25', size: 96, weights: readWeightSet(WEIGHTS), projectDim: 32, seed: 1 });
    const x = tf.zeros([2, 96, 96, 3]) as tf.Tensor4D;
    const e = ex.embed(x);
    expect(ex.grid).toBe(12);
    expect(ex.rawDim).toBe(64 + 128);
    expect(e.shape).toEqual([2 * 144, 32]);
    tf.dispose([x, e]);
    ex.dispose();
  });
});

/** A grey machined-surface texture (fine stripes at a random phase, plus grain), optionally with a dark disc; RGB bytes. */
function texture(size: number, seed: number, blob?: { x: number; y: number; r: number }): Uint8Array {
  const rng = createRng(seed);
  const phase = rng.range(0, 2 * Math.PI);
  const px = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let v = 128 + 30 * Math.sin((2 * Math.PI * (x + 0.3 * y)) / 8 + phase) + rng.range(-12, 12);
      if (blob && (x - blob.x) ** 2 + (y - blob.y) ** 2 <= blob.r ** 2) v = 25;
      px.fill(Math.max(0, Math.min(255, Math.round(v))), (y * size + x) * 3, (y * size + x) * 3 + 3);
    }
  return px;
}

describe('anomaly model on a synthetic texture', () => {
  const size = 128;
  const params = {
    backbone: 'mobilenet_v1_0.25' as const,
    inputSize: size,
    taps: ['conv_pw_5_relu', 'conv_pw_11_relu'] as [string, string],
    seed: 1,
    coresetFraction: 0.25,
    candidateFactor: 2,
    coresetProjectDim: 32,
    maxBankRows: 10000,
    projectDim: 64,
    normaliseIntensity: DEFAULT_ANOMALY.normaliseIntensity,
    bankRows: 0,
    dim: 64,
    rawThreshold: 1,
    thresholdBasis: 'test',
    smoothingSigma: 4,
  };

  it('separates textures with a drawn blob from good ones (AUROC 1) and puts the map maximum inside the blob', async () => {
    const model = new AnomalyModel(params, readWeightSet(WEIGHTS));
    const train = Array.from({ length: 8 }, (_, i) => texture(size, 100 + i));
    let given = false;
    const fit = await model.fit(async () => {
      if (given) return null;
      given = true;
      return train;
    }, train.length);
    expect(fit.rows).toBe(Math.round(8 * 16 * 16 * 0.25));
    const blobs = [
      { x: 40, y: 40, r: 9 },
      { x: 90, y: 70, r: 8 },
      { x: 64, y: 100, r: 10 },
      { x: 100, y: 30, r: 7 },
    ];
    const good = await model.score(Array.from({ length: 4 }, (_, i) => texture(size, 200 + i)));
    const bad = await model.score(blobs.map((b, i) => texture(size, 300 + i, b)));
    const auc = rocCurve(
      [...good, ...bad].map((s) => s.raw),
      [...good.map(() => false), ...bad.map(() => true)],
    ).auc;
    expect(auc).toBe(1);
    bad.forEach((s, i) => {
      const map = anomalyMap(s.patches, model.grid, size, size, params.smoothingSigma);
      let arg = 0;
      for (let k = 1; k < map.length; k++) if (map[k]! > map[arg]!) arg = k;
      const b = blobs[i]!;
      const [mx, my] = [arg % size, Math.floor(arg / size)];
      expect(Math.hypot(mx - b.x, my - b.y)).toBeLessThanOrEqual(b.r + 4);
    });
    model.dispose();
  });

  it('keeps tf.memory() flat over repeated scorings', async () => {
    const model = new AnomalyModel(params, readWeightSet(WEIGHTS));
    await model.fit(
      (() => {
        let n = 0;
        return async () => (n++ < 1 ? [texture(size, 1), texture(size, 2)] : null);
      })(),
      2,
    );
    const img = [texture(size, 3)];
    await model.score(img);
    const before = tf.memory();
    const N = 200;
    for (let i = 0; i < N; i++) await model.score(img);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    model.dispose();
  });
});
