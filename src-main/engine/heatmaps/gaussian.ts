/**
 * Seeded standard-normal noise for SmoothGrad, ≈ 4× faster than tf.randomNormal.
 *
 * tf.randomNormal draws in JS with seedrandom and the polar method: 50 copies of a 224 × 224 × 3 image took ≈ 200 ms, a
 * third of a SmoothGrad map on wasm; this takes ≈ 50 ms. It is Marsaglia and Tsang's ziggurat (128 layers) on
 * xoshiro128**: nearly every draw is one multiply and one compare. Each draw's 32 bits are split, 7 for the layer
 * and 25 for the signed value, so the layer choice and the value are independent (the flaw Doornik found in the
 * original ziggurat, which used the same bits for both).
 */

const LAYERS = 128;
/** Scale of the 25-bit signed value: |j| < 2^24. */
const M = 2 ** 24;
/** Right edge of the base layer, and the area of each layer (Marsaglia and Tsang 2000). */
const R = 3.442619855899;
const V = 9.91256303526217e-3;

/** kn: acceptance bound per layer in value units; wn: value → x; fn: the density at each layer's edge. */
const kn = new Int32Array(LAYERS);
const wn = new Float64Array(LAYERS);
const fn = new Float64Array(LAYERS);
{
  let dn = R;
  let tn = dn;
  const q = V / Math.exp(-0.5 * dn * dn);
  kn[0] = Math.floor((dn / q) * M);
  kn[1] = 0;
  wn[0] = q / M;
  wn[LAYERS - 1] = dn / M;
  fn[0] = 1;
  fn[LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(V / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = Math.floor((dn / tn) * M);
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / M;
  }
}

/** splitmix32: spreads a small seed over 32 bits (xoshiro must not start from a near-zero state). */
function splitmix32(state: number): () => number {
  let s = state | 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Fills `out` with draws of N(0, std²) added to `base` (or to 0), deterministic in `seed`.
 * @param out [L] written in place
 * @param base [L] added element-wise when given (the image a noisy copy is made of)
 */
export function fillGaussian(out: Float32Array, seed: number, std = 1, base?: ArrayLike<number>): void {
  const init = splitmix32(seed);
  let s0 = init() | 0;
  let s1 = init() | 0;
  let s2 = init() | 0;
  let s3 = init() | 0;
  // The rare draws that leave the fast path are finished in a second pass, on a second stream: a call inside this
  // loop made V8 keep the generator state in memory and tripled the cost of every draw.
  let rare = new Int32Array(256);
  let nRare = 0;
  for (let k = 0; k < out.length; k++) {
    const m5 = Math.imul(s1, 5);
    const u = Math.imul((m5 << 7) | (m5 >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    const i = u & (LAYERS - 1);
    const j = u >> 7; // signed, |j| < 2^24
    if (Math.abs(j) < kn[i]!) {
      out[k] = j * wn[i]! * std;
    } else {
      if (nRare * 2 === rare.length) {
        const grown = new Int32Array(rare.length * 2);
        grown.set(rare);
        rare = grown;
      }
      rare[nRare * 2] = k;
      rare[nRare * 2 + 1] = u;
      nRare++;
    }
  }
  const st = new Int32Array([init(), init(), init(), init()]);
  for (let r = 0; r < nRare; r++) {
    const u = rare[r * 2 + 1]!;
    out[rare[r * 2]!] = slowDraw(st, u & (LAYERS - 1), u >> 7) * std;
  }
  if (base) for (let k = 0; k < out.length; k++) out[k]! += base[k]!;
}

/** xoshiro128** on a state array, as unsigned 32 bits. */
function nextU32(st: Int32Array): number {
  const s1 = st[1]!;
  const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
  const t = s1 << 9;
  st[2]! ^= st[0]!;
  st[3]! ^= s1;
  st[1]! ^= st[2]!;
  st[0]! ^= st[3]!;
  st[2]! ^= t;
  st[3] = rotl(st[3]!, 11);
  return r >>> 0;
}

/** The ziggurat's rare path (≈ 1 % of draws): the wedge of layer i, or the tail beyond R for the base layer. */
function slowDraw(st: Int32Array, i: number, j: number): number {
  /** Uniform in (0, 1]. */
  const uni = (): number => ((nextU32(st) >>> 8) + 1) / 16777216;
  for (;;) {
    if (i === 0) {
      let x: number;
      let y: number;
      do {
        x = -Math.log(uni()) / R;
        y = -Math.log(uni());
      } while (y + y < x * x);
      return j > 0 ? R + x : -R - x;
    }
    const x = j * wn[i]!;
    if (fn[i]! + uni() * (fn[i - 1]! - fn[i]!) < Math.exp(-0.5 * x * x)) return x;
    const u = nextU32(st) | 0;
    i = u & (LAYERS - 1);
    j = u >> 7;
    if (Math.abs(j) < kn[i]!) return j * wn[i]!;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
