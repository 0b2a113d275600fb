/**
 * Greedy k-center coreset selection (PatchCore's memory-bank reduction): repeatedly add the point farthest from
 * the points chosen so far. Two implementations with the same rule and first point:
 * - `greedyCoreset` on the backend: distances by matMul, the argmax index kept a tensor (gathered on the device), so a
 *   selection of k points downloads once at the end, not once per step;
 * - `greedyCoresetCpu` on a float32 copy in plain memory (what the fit uses: on wasm each backend step costs several
 *   kernel dispatches, ~5 ms at 40,000 x 64, where one pruned JS loop over the copy costs a fraction; measured in
 *   bench/anomaly.ts). A point is skipped when the triangle inequality proves the new centre cannot be nearer to it
 *   than its own centre (|c - a| >= 2 |x - a|), so late steps, with small radii, touch few points.
 * The covering radius (the largest distance of any point to its nearest chosen point) is recorded per step.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../services/training/train/rng.ts';
import { projectionMatrix } from './features.ts';

export interface CoresetResult {
  /** Chosen row indices, in the order chosen. */
  indices: number[];
  /** radii[s]: covering radius (Euclidean, in the distance space used) after s + 1 points were chosen. */
  radii: number[];
}

/**
 * Greedy k-center on the rows of `x`.
 * @param x [N, D] points (distances are taken on this matrix as given; project first for speed)
 * @param k points to choose (capped at N)
 * @param seed picks the first point
 */
export async function greedyCoreset(x: tf.Tensor2D, k: number, seed: number): Promise<CoresetResult> {
  const [n] = x.shape;
  const count = Math.max(1, Math.min(k, n));
  const first = createRng(seed).int(n);
  const norms = tf.tidy(() => tf.sum(tf.square(x), 1)); // [N]
  /** Squared distance of every row to the row `idx` ([1] int32). */
  const distTo = (idx: tf.Tensor1D): tf.Tensor1D =>
    tf.tidy(() => {
      const c = tf.gather(x, idx); // [1, D]
      const dot = tf.matMul(x, c, false, true).reshape([n]); // [N]
      return tf.relu(tf.add(tf.sub(norms, tf.mul(dot, 2)), tf.sum(tf.square(c)))) as tf.Tensor1D;
    });
  const chosen: tf.Tensor1D[] = [tf.tensor1d([first], 'int32')];
  const radii: tf.Tensor[] = [];
  let minD = distTo(chosen[0]!);
  try {
    for (let s = 1; s < count; s++) {
      const idx = tf.tidy(() => tf.argMax(minD).reshape([1]) as tf.Tensor1D);
      radii.push(tf.tidy(() => tf.max(minD)));
      chosen.push(idx);
      const d = distTo(idx);
      const next = tf.minimum(minD, d) as tf.Tensor1D;
      d.dispose();
      minD.dispose();
      minD = next;
    }
    radii.push(tf.tidy(() => tf.max(minD)));
    const all = [tf.concat(chosen), tf.stack(radii)];
    try {
      const [idxData, radData] = await Promise.all(all.map((t) => t.data()));
      return { indices: Array.from(idxData!), radii: Array.from(radData!, (r) => Math.sqrt(r)) };
    } finally {
      tf.dispose(all);
    }
  } finally {
    minD.dispose();
    norms.dispose();
    tf.dispose(chosen);
    tf.dispose(radii);
  }
}

/**
 * Greedy k-center on rows in plain memory (see the module comment: same rule and first point as `greedyCoreset`; ties
 * go to the lowest index).
 * @param x [n * d] row-major points (distances are taken on them as given)
 * @param k points to choose (capped at n)
 * @param seed picks the first point
 * @param prune skip points the triangle inequality rules out (same result; false only to measure it)
 */
export function greedyCoresetCpu(x: Float32Array, n: number, d: number, k: number, seed: number, prune = true): CoresetResult {
  const count = Math.max(1, Math.min(k, n));
  const minD = new Float64Array(n).fill(Infinity); // squared distance to the nearest chosen point
  const owner = new Int32Array(n); // position (in `indices`) of that point
  const indices: number[] = [createRng(seed).int(n)];
  const radii: number[] = [];
  const centreD = new Float64Array(prune ? count : 0); // squared distance of each chosen point to the newest
  for (let s = 0; s < count; s++) {
    const c = indices[s]!;
    const co = c * d;
    if (prune)
      for (let a = 0; a < s; a++) {
        const ao = indices[a]! * d;
        let acc = 0;
        for (let j = 0; j < d; j++) {
          const v = x[ao + j]! - x[co + j]!;
          acc += v * v;
        }
        centreD[a] = acc;
      }
    let best = -1;
    let bestD = -1;
    for (let i = 0; i < n; i++) {
      let m = minD[i]!;
      // |x - c| >= |c - a| - |x - a| >= |x - a| when |c - a|^2 >= 4 |x - a|^2: c cannot be nearer than x's own centre a.
      if (!(s > 0 && prune && centreD[owner[i]!]! >= 4 * m)) {
        const io = i * d;
        let acc = 0;
        for (let j = 0; j < d; j++) {
          const v = x[io + j]! - x[co + j]!;
          acc += v * v;
        }
        if (acc < m) {
          m = acc;
          minD[i] = acc;
          owner[i] = s;
        }
      }
      if (m > bestD) {
        bestD = m;
        best = i;
      }
    }
    radii.push(Math.sqrt(bestD));
    if (s + 1 < count) indices.push(best);
  }
  return { indices, radii };
}

/**
 * Rows times a seeded random projection on the backend, downloaded (the copy greedyCoresetCpu works on).
 * @param x [N, D] @returns [N * projectDim] row-major
 */
export async function projectedRows(x: tf.Tensor2D, seed: number, projectDim: number): Promise<Float32Array> {
  const d = x.shape[1];
  const p = tf.tidy(() => tf.matMul(x, tf.tensor2d(projectionMatrix(d, projectDim, seed + 7), [d, projectDim])));
  try {
    return (await p.data()) as Float32Array;
  } finally {
    p.dispose();
  }
}

/**
 * Greedy k-center on a seeded random projection of the rows (PatchCore's speed-up: the order of distances is
 * kept approximately, at a fraction of the cost).
 * @param x [N, D]
 * @param projectDim dimensions of the copy the distances are taken on (0 or >= D: none)
 */
export async function projectedCoreset(x: tf.Tensor2D, k: number, seed: number, projectDim: number): Promise<CoresetResult> {
  const d = x.shape[1];
  if (projectDim <= 0 || projectDim >= d) return greedyCoreset(x, k, seed);
  const p = tf.tidy(() => tf.matMul(x, tf.tensor2d(projectionMatrix(d, projectDim, seed + 7), [d, projectDim]))) as tf.Tensor2D;
  try {
    return await greedyCoreset(p, k, seed);
  } finally {
    p.dispose();
  }
}

export interface StreamingCoresetOptions {
  perImageFraction: number;
  projectDim: number;
  seed: number;
  /** Where the greedy passes run: 'cpu' (default, greedyCoresetCpu) or 'backend' (greedyCoreset; bench comparison). */
  on?: 'cpu' | 'backend';
}

/**
 * A coreset built as a stream: each image's patches are reduced to `perImage` candidates on arrival (kept in plain
 * memory, not on the backend), then one global greedy pass over all candidates picks the bank. Peak backend memory
 * is one image's patches plus the projected candidates, so thousands of large images fit.
 */
export class StreamingCoreset {
  private readonly rows: Float32Array[] = [];
  private count = 0;
  readonly dim: number;
  private readonly opts: StreamingCoresetOptions;

  constructor(dim: number, opts: StreamingCoresetOptions) {
    this.dim = dim;
    this.opts = opts;
  }

  get candidates(): number {
    return this.count;
  }

  /** Adds one image's patches. @param patches [P, D] (not disposed) */
  async add(patches: tf.Tensor2D): Promise<void> {
    const p = patches.shape[0];
    const k = Math.max(1, Math.ceil(p * this.opts.perImageFraction));
    const all = (await patches.data()) as Float32Array;
    if (k >= p) {
      this.rows.push(all.slice());
      this.count += p;
      return;
    }
    const { indices } = await this.select(patches, all, k, this.opts.seed + this.rows.length);
    this.rows.push(gatherRows(all, indices, this.dim));
    this.count += indices.length;
  }

  /** Greedy k-center on the rows (on their projected copy when projectDim is below D), in plain memory. */
  private async select(x: tf.Tensor2D, data: Float32Array, k: number, seed: number): Promise<CoresetResult> {
    const [n, d] = x.shape;
    const pd = this.opts.projectDim;
    if (this.opts.on === 'backend') return projectedCoreset(x, k, seed, pd);
    if (pd <= 0 || pd >= d) return greedyCoresetCpu(data, n, d, k, seed);
    return greedyCoresetCpu(await projectedRows(x, seed, pd), n, pd, k, seed);
  }

  /** All candidates as one matrix. @returns [candidates * D] row-major */
  private gathered(): Float32Array {
    const all = new Float32Array(this.count * this.dim);
    let off = 0;
    for (const r of this.rows) {
      all.set(r, off);
      off += r.length;
    }
    return all;
  }

  /**
   * The global pass: `size` bank rows chosen among the candidates.
   * @returns bank rows [size * D] row-major, and the covering radius history of the global pass
   */
  async finish(size: number): Promise<{ bank: Float32Array; rows: number; radii: number[] }> {
    const all = this.gathered();
    this.rows.length = 0;
    if (size >= this.count) return { bank: all, rows: this.count, radii: [] };
    const x = tf.tensor2d(all, [this.count, this.dim]);
    try {
      const { indices, radii } = await this.select(x, all, size, this.opts.seed);
      return { bank: gatherRows(all, indices, this.dim), rows: indices.length, radii };
    } finally {
      x.dispose();
    }
  }
}

/** Rows `indices` of a row-major matrix. @returns [indices.length * d] */
function gatherRows(all: Float32Array, indices: number[], d: number): Float32Array {
  const out = new Float32Array(indices.length * d);
  indices.forEach((r, i) => out.set(all.subarray(r * d, (r + 1) * d), i * d));
  return out;
}
