/**
 * The fit's coreset pass in plain memory (greedyCoresetCpu): the same picks as the backend's matMul version, pruning
 * that changes nothing but the work, deterministic per seed, each pick the point farthest from the set before it, and
 * a covering radius that never grows.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { greedyCoreset, greedyCoresetCpu } from '../../src-main/engine/anomaly/coreset.ts';
import { createRng } from '../../src-main/services/training/train/rng.ts';
import { initWasmBackend } from '../../src-main/engine/wasm-grads/setup-wasm.ts';

beforeAll(async () => {
  await initWasmBackend();
  await tf.setBackend('wasm');
});

/** Points in a few tight clusters plus spread ones (what patch features look like: many near-duplicates). */
function clustered(n: number, d: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const centres = Array.from({ length: 6 }, () => Array.from({ length: d }, () => rng.range(-4, 4)));
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = centres[i % 6]!;
    const spread = i % 7 === 0 ? 2 : 0.2;
    for (let j = 0; j < d; j++) out[i * d + j] = c[j]! + rng.range(-spread, spread);
  }
  return out;
}

const dist2 = (x: Float32Array, d: number, a: number, b: number): number => {
  let s = 0;
  for (let j = 0; j < d; j++) s += (x[a * d + j]! - x[b * d + j]!) ** 2;
  return s;
};

describe('greedy k-center in plain memory', () => {
  const n = 600;
  const d = 12;
  const x = clustered(n, d, 5);

  it('picks what the backend version picks, with the same radii', async () => {
    const t = tf.tensor2d(x, [n, d]);
    const onBackend = await greedyCoreset(t, 50, 3);
    t.dispose();
    const cpu = greedyCoresetCpu(x, n, d, 50, 3);
    expect(cpu.indices).toEqual(onBackend.indices);
    cpu.radii.forEach((r, s) => expect(r).toBeCloseTo(onBackend.radii[s]!, 3));
  });

  it('prunes without changing a pick; deterministic per seed; radius never grows and is the true covering radius', () => {
    const a = greedyCoresetCpu(x, n, d, 80, 9);
    expect(greedyCoresetCpu(x, n, d, 80, 9, false)).toEqual(a);
    expect(greedyCoresetCpu(x, n, d, 80, 9)).toEqual(a);
    expect(greedyCoresetCpu(x, n, d, 80, 10).indices).not.toEqual(a.indices);
    expect(new Set(a.indices).size).toBe(80);
    for (let s = 1; s < a.radii.length; s++) expect(a.radii[s]!).toBeLessThanOrEqual(a.radii[s - 1]!);
    // Brute force: every pick is the point farthest from the picks before it; the last radius covers every point.
    for (const s of [1, 10, 79]) {
      let far = -1;
      for (let i = 0; i < n; i++) far = Math.max(far, Math.min(...a.indices.slice(0, s).map((c) => dist2(x, d, i, c))));
      expect(Math.min(...a.indices.slice(0, s).map((c) => dist2(x, d, a.indices[s]!, c)))).toBeCloseTo(far, 6);
    }
    let cover = 0;
    for (let i = 0; i < n; i++) cover = Math.max(cover, Math.min(...a.indices.map((c) => dist2(x, d, i, c))));
    expect(a.radii[79]).toBeCloseTo(Math.sqrt(cover), 6);
  });

  it('caps k at the number of points and covers them all (radius 0)', () => {
    const r = greedyCoresetCpu(x.subarray(0, 20 * d), 20, d, 50, 1);
    expect(r.indices).toHaveLength(20);
    expect(new Set(r.indices).size).toBe(20);
    expect(r.radii.at(-1)).toBe(0);
  });
});
