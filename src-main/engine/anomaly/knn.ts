/**
 * Nearest-neighbour distances of patches to a memory bank that stays resident on the backend.
 *
 * Layout: the bank is kept as one augmented matrix B = [-2 Mᵀ ; |m|²] of shape [D + 1, M] (|m|² precomputed in
 * float32), and the queries are augmented with a column of ones, so that [x, 1] · B = |m|² - 2 x·m in ONE matMul
 * per bank chunk; the row minimum then follows in one reduction and |x|² is added to the [P] minima only (it is
 * constant along a row). So a scoring costs one GEMM and one min per chunk, and nothing [P, M]-sized beyond the
 * GEMM output is ever written.
 */
import * as tf from '@tensorflow/tfjs';

/** Bank columns per GEMM: bounds the [P, chunk] intermediate (784 x 8192 floats = 25 MB at 224 px). */
export const DEFAULT_BANK_CHUNK = 8192;

export class PatchBank {
  /** Number of bank patches. */
  readonly size: number;
  readonly dim: number;
  /** [D + 1, M] chunks of the augmented bank. */
  private readonly chunks: tf.Tensor2D[];

  /**
   * @param bank [M, D] bank patches (not kept: the augmented copy is)
   */
  constructor(bank: tf.Tensor2D, chunk = DEFAULT_BANK_CHUNK) {
    const [m, d] = bank.shape;
    this.size = m;
    this.dim = d;
    this.chunks = [];
    for (let start = 0; start < m; start += chunk) {
      const n = Math.min(chunk, m - start);
      this.chunks.push(
        tf.tidy(() => {
          const part = bank.slice([start, 0], [n, d]);
          const norms = tf.sum(tf.square(part), 1, true); // [n, 1]
          return tf.concat([tf.mul(part, -2), norms], 1).transpose() as tf.Tensor2D; // [D + 1, n]
        }),
      );
    }
  }

  /** Builds a bank from plain rows. @param rows [M * D] row-major */
  static fromArray(rows: Float32Array, m: number, d: number, chunk = DEFAULT_BANK_CHUNK): PatchBank {
    const t = tf.tensor2d(rows, [m, d]);
    try {
      return new PatchBank(t, chunk);
    } finally {
      t.dispose();
    }
  }

  /**
   * Squared distance of each query to its nearest bank patch.
   * @param x [P, D]
   * @returns [P] (clamped at 0)
   */
  nearestSquared(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const [p] = x.shape;
      const xa = tf.concat([x, tf.ones([p, 1])], 1);
      let best: tf.Tensor1D | null = null;
      for (const c of this.chunks) {
        const m = tf.min(tf.matMul(xa, c), 1) as tf.Tensor1D;
        best = best ? (tf.minimum(best, m) as tf.Tensor1D) : m;
      }
      const x2 = tf.sum(tf.square(x), 1);
      return tf.relu(tf.add(best!, x2)) as tf.Tensor1D;
    });
  }

  /**
   * Euclidean distance of each query to its nearest bank patch and that patch's index.
   * @param x [P, D]
   * @returns distances [P] and indices [P] (int32)
   */
  nearest(x: tf.Tensor2D): { distances: tf.Tensor1D; indices: tf.Tensor1D } {
    return tf.tidy(() => {
      const [p] = x.shape;
      const xa = tf.concat([x, tf.ones([p, 1])], 1);
      let best: tf.Tensor1D | null = null;
      let bestIdx: tf.Tensor1D | null = null;
      let offset = 0;
      for (const c of this.chunks) {
        const prod = tf.matMul(xa, c);
        const m = tf.min(prod, 1) as tf.Tensor1D;
        const i = tf.add(tf.argMin(prod, 1), tf.scalar(offset, 'int32')) as tf.Tensor1D;
        if (best && bestIdx) {
          const better = tf.less(m, best);
          bestIdx = tf.where(better, i, bestIdx) as tf.Tensor1D;
          best = tf.minimum(best, m) as tf.Tensor1D;
        } else {
          best = m;
          bestIdx = i;
        }
        offset += c.shape[1];
      }
      const x2 = tf.sum(tf.square(x), 1);
      return { distances: tf.sqrt(tf.relu(tf.add(best!, x2))) as tf.Tensor1D, indices: bestIdx! };
    });
  }

  dispose(): void {
    tf.dispose(this.chunks);
  }
}
