/**
 * An anomaly model: the patch feature extractor, the memory bank of good patches and the threshold. Fits from good
 * images (streamed: per-image coreset candidates, then one global pass), scores images (worst patch distance, and
 * the patch map), and is saved as the run's model files: model.json + weights.bin (the backbone segment, so an
 * exported model is self-contained), anomaly-bank.bin (float32 rows) and kensa-model.json's `anomaly` block.
 * Engine side only.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelWeightsError } from '../../shared/errors.ts';
import type { AnomalyConfig, AnomalyFlips, AnomalyModelParams } from '../../shared/training-types.ts';
import { pixelsToBatch } from '../model/tf-util.ts';
import type { WeightSet } from '../model/weights.ts';
import { StreamingCoreset } from './coreset.ts';
import { ALL_TYPES, BankSet } from './banks.ts';
import { anomalyTaps, createExtractor, type PatchFeatureExtractor } from './features.ts';
import { contentCells, PAD_VALUE, suppressPadding, type Rect } from '../../services/training/data/geometry.ts';

import { ANOMALY_BANK_FILE } from '../../services/training/anomaly/files.ts';
export { ANOMALY_BANK_FILE };

/** Defaults measured on elpv and the demo project (see bench/anomaly.ts). */
export const DEFAULT_ANOMALY = {
  projectDim: 128,
  coresetFraction: 0.1,
  /** Bank rows at most, whatever the fraction (bounds scoring time: one [patches, dim] x [dim, rows] GEMM). */
  maxBankRows: 10000,
  /** Per-image candidates as a multiple of the final fraction (capped at all patches). */
  candidateFactor: 4,
  coresetProjectDim: 64,
  normaliseIntensity: true,
  smoothingSigma: 4,
  /** Test-time flips (bench/anomaly.ts --flips measures them). */
  flips: 'none' as AnomalyFlips,
} as const;

/**
 * The parameters of a model about to be fitted (nothing learnt yet: no bank, threshold 1): the training job and its
 * estimate build the same model from them.
 */
export function freshAnomalyParams(
  backbone: AnomalyModelParams['backbone'],
  inputSize: number,
  seed: number,
  config: Partial<AnomalyConfig> | undefined,
): AnomalyModelParams {
  const cfg = { ...DEFAULT_ANOMALY, ...(config ?? {}) };
  const taps = anomalyTaps(backbone);
  return {
    backbone,
    inputSize,
    taps: [taps[0].name, taps[1].name],
    seed,
    coresetFraction: cfg.coresetFraction,
    projectDim: cfg.projectDim,
    normaliseIntensity: cfg.normaliseIntensity,
    candidateFactor: cfg.candidateFactor,
    coresetProjectDim: cfg.coresetProjectDim,
    maxBankRows: cfg.maxBankRows,
    bankRows: 0,
    dim: 0,
    rawThreshold: 1,
    thresholdBasis: '',
    smoothingSigma: cfg.smoothingSigma,
    flips: cfg.flips,
  };
}

/**
 * Per-image intensity standardisation (mean 128, sd 48 over all channels), applied before the backbone: the
 * exposure of a photo then does not count as an anomaly, its local contrast does. With a letterboxed input's content
 * rectangle the statistics come from the photo alone and the padding stays neutral grey (a thin photo's padding
 * would otherwise set its contrast).
 * @param px [s * s * 3] RGB bytes (not changed)
 */
export function standardiseIntensity(px: Uint8Array, content: Rect | null = null, size = 0): Uint8Array {
  const inside = content && size > 0 ? (p: number) => insideRect(content, p % size, Math.floor(p / size)) : () => true;
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let p = 0; p < px.length / 3; p++) {
    if (!inside(p)) continue;
    for (let c = 0; c < 3; c++) {
      const v = px[p * 3 + c]!;
      s += v;
      s2 += v * v;
    }
    n += 3;
  }
  const mean = s / Math.max(1, n);
  const sd = Math.sqrt(Math.max(0, s2 / Math.max(1, n) - mean * mean)) || 1;
  const out = new Uint8Array(px.length);
  const k = 48 / sd;
  for (let p = 0; p < px.length / 3; p++) {
    const on = inside(p);
    for (let c = 0; c < 3; c++) {
      const i = p * 3 + c;
      out[i] = on ? Math.max(0, Math.min(255, Math.round(128 + (px[i]! - mean) * k))) : PAD_VALUE;
    }
  }
  return out;
}

function insideRect(r: Rect, x: number, y: number): boolean {
  return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

/**
 * One batch of good inputs for AnomalyModel.fit: `photos` photos gave `inputs` (one each, or one per tile), and
 * `contents[i]` (letterbox) says where the photo lies in input i (null or absent: the whole input).
 */
export interface FitBatch {
  inputs: Uint8Array[];
  contents?: (Rect | null)[];
  photos: number;
}

/** Inputs per backbone pass at most (8 photos of 16 tiles would otherwise be one 128-image batch). */
export const MAX_INPUTS = 8;

export interface ImageScore {
  /** Raw score: the worst patch's distance to the bank (divided by the bank's scale). */
  raw: number;
  /** Patch distances [grid * grid], row-major. */
  patches: Float32Array;
}

export class AnomalyModel {
  readonly params: AnomalyModelParams;
  readonly extractor: PatchFeatureExtractor;
  readonly banks: BankSet;
  /** Where the fit's coreset passes run (bench/anomaly.ts compares the two; same picks). */
  coresetOn: 'cpu' | 'backend' = 'cpu';

  constructor(params: AnomalyModelParams, weights: WeightSet) {
    this.params = params;
    this.extractor = createExtractor({
      backbone: params.backbone,
      size: params.inputSize,
      weights,
      projectDim: params.projectDim,
      seed: params.seed,
    });
    this.banks = new BankSet(this.extractor.dim);
  }

  get grid(): number {
    return this.extractor.grid;
  }

  get bankSize(): number {
    return this.banks.size;
  }

  private batchOf(pixels: Uint8Array[], contents: readonly (Rect | null)[] = []): tf.Tensor4D {
    const size = this.params.inputSize;
    const px = this.params.normaliseIntensity ? pixels.map((p, i) => standardiseIntensity(p, contents[i] ?? null, size)) : pixels;
    return pixelsToBatch(px, this.params.inputSize);
  }

  /**
   * Builds a bank from good images, streamed in batches: the one bank of all types, or (with `opts.coreType`)
   * that type's bank, whose share of maxBankRows is its share of `opts.allImages`.
   * @param next yields batches (size x size x 3 RGB bytes per model input; a FitBatch when a photo gives several inputs,
   *   tiles, or only some of an input's patches lie on the photo, letterbox); called until it returns null
   * @returns bank rows, candidates considered, and the global pass's covering radii
   */
  async fit(
    next: () => Promise<Uint8Array[] | FitBatch | null>,
    expectedImages: number,
    onImages?: (done: number) => void,
    signal?: AbortSignal,
    opts: { coreType?: string; allImages?: number } = {},
  ): Promise<{ rows: number; candidates: number; radii: number[]; featuresMs: number; coresetMs: number }> {
    const p = this.params;
    const share = (n: number) => n / Math.max(n, opts.allImages ?? n);
    let stream: StreamingCoreset | null = null;
    let images = 0;
    let patchesSeen = 0;
    const t0 = performance.now();
    for (let got = await next(); got; got = await next()) {
      if (signal?.aborted) throw new DOMException('Cancelled', 'AbortError');
      const batch: FitBatch = Array.isArray(got) ? { inputs: got, photos: got.length } : got;
      if (!batch.inputs.length) continue;
      const kept = batch.inputs.map((_, i) => this.photoPatches(batch.contents?.[i] ?? null));
      // The per-input candidate share comes from the first batch's patches per photo (tiles, letterbox cells).
      stream ??= new StreamingCoreset(this.extractor.dim, {
        perImageFraction: this.candidateFraction(expectedImages, kept.reduce((a, k) => a + k.length, 0) / Math.max(1, batch.photos), share),
        projectDim: p.coresetProjectDim,
        seed: p.seed,
        on: this.coresetOn,
      });
      // Tiled photos give several inputs each: the backbone sees at most MAX_INPUTS of them at once.
      for (let from = 0; from < batch.inputs.length; from += MAX_INPUTS) {
        const part = batch.inputs.slice(from, from + MAX_INPUTS);
        const feats = tf.tidy(() => this.extractor.embed(this.batchOf(part, batch.contents?.slice(from, from + MAX_INPUTS))));
        try {
          for (let i = 0; i < part.length; i++) {
            const k = kept[from + i]!;
            // Letterbox: only the patches whose receptive centre lies on the photo join the bank.
            const one = tf.tidy(() => {
              const all = feats.slice([i * this.grid * this.grid, 0], [this.grid * this.grid, this.extractor.dim]);
              return k.length === this.grid * this.grid ? all : (tf.gather(all, tf.tensor1d(k, 'int32')) as tf.Tensor2D);
            });
            try {
              await stream.add(one);
            } finally {
              one.dispose();
            }
            patchesSeen += k.length;
          }
        } finally {
          feats.dispose();
        }
      }
      images += batch.photos;
      onImages?.(images);
    }
    if (images === 0 || !stream) throw new Error('No good images to learn from');
    const candidates = stream.candidates;
    const t1 = performance.now();
    const { bank, rows, radii } = await stream.finish(this.bankTargetOfPatches(patchesSeen, share(images)));
    this.banks.set(opts.coreType ?? ALL_TYPES, bank, rows, images);
    // featuresMs includes the per-image candidate selection (it runs as the features arrive).
    return { rows, candidates, radii, featuresMs: t1 - t0, coresetMs: performance.now() - t1 };
  }

  /** Share of each input's patches kept as candidates, for `images` photos of `patchesPerPhoto` bank-eligible patches. */
  private candidateFraction(images: number, patchesPerPhoto: number, share: (n: number) => number): number {
    const all = Math.max(1, images) * Math.max(1, patchesPerPhoto);
    return Math.min(1, (this.params.candidateFactor * this.bankTargetOfPatches(all, share(images))) / all);
  }

  /** Bank rows for `patches` good patches: the coreset fraction of them, at most `share` of maxBankRows. */
  bankTargetOfPatches(patches: number, share = 1): number {
    const cap = Math.round((this.params.maxBankRows ?? DEFAULT_ANOMALY.maxBankRows) * share);
    return Math.max(1, Math.min(Math.round(patches * this.params.coresetFraction), cap));
  }

  /**
   * Bank rows for `images` good images: the coreset fraction of their patches, at most their `share` of maxBankRows.
   */
  bankTarget(images: number, share = 1): number {
    return this.bankTargetOfPatches(images * this.grid * this.grid, share);
  }

  /**
   * The patches of an input that lie on the photo (row-major indices on the patch grid): all of them, or with a
   * letterboxed input's content rectangle those whose receptive centre lies in it (geometry.ts contentCells).
   */
  photoPatches(content: Rect | null): number[] {
    const g = this.grid;
    if (!content) return Array.from({ length: g * g }, (_, k) => k);
    const cells = contentCells(content, this.params.inputSize, g, g);
    const out: number[] = [];
    cells.forEach((c, k) => {
      if (c) out.push(k);
    });
    return out;
  }

  /** The bank rows [bankSize * dim], float32, bank after bank (what anomaly-bank.bin holds). */
  bankData(): Float32Array {
    return this.banks.data();
  }

  /** One bank of all types. @param rows [m * dim] row-major */
  setBank(rows: Float32Array, m: number): void {
    this.banks.dispose();
    this.banks.set(ALL_TYPES, rows, m, 0);
  }

  /**
   * Scores a batch of images (size x size x 3 RGB bytes each), each against its core type's bank (`types[i]`;
   * null or unknown: all banks). With test-time flips the mirrored images are scored too and every patch keeps the
   * smallest distance over the flips, mapped back onto the original grid (a part that is normal when mirrored is
   * not an anomaly; a defect stays far in every flip). `contents[i]` (letterbox): where the photo lies in input i;
   * the score is then the worst patch over the photo only, and the padding's patches are set to the photo's smallest
   * distance, so the map can never peak there.
   */
  async score(
    pixels: Uint8Array[],
    types: readonly (string | null)[] = [],
    contents: readonly (Rect | null)[] = [],
  ): Promise<ImageScore[]> {
    if (pixels.length > MAX_INPUTS) {
      const out: ImageScore[] = [];
      for (let from = 0; from < pixels.length; from += MAX_INPUTS) {
        const to = from + MAX_INPUTS;
        out.push(...(await this.score(pixels.slice(from, to), types.slice(from, to), contents.slice(from, to))));
      }
      return out;
    }
    const g = this.grid;
    const per = g * g;
    const x = this.batchOf(pixels, contents);
    let all: Float32Array | null = null;
    try {
      for (const flip of flipAxes(this.params.flips)) {
        const feats = tf.tidy(() => this.extractor.embed(flip.length ? (tf.reverse(x, flip) as tf.Tensor4D) : x));
        let d: Float32Array;
        try {
          d = await this.banks.distances(feats, types, per);
        } finally {
          feats.dispose();
        }
        if (flip.length) d = unflipGrids(d, g, flip);
        if (!all) all = d;
        else for (let k = 0; k < all.length; k++) all[k] = Math.min(all[k]!, d[k]!);
      }
    } finally {
      x.dispose();
    }
    return pixels.map((_, i) => {
      const patches = all!.slice(i * per, (i + 1) * per);
      const content = contents[i] ?? null;
      if (content) suppressPadding(patches, contentCells(content, this.params.inputSize, g, g));
      let raw = 0;
      for (const v of patches) if (v > raw) raw = v;
      return { raw, patches };
    });
  }

  /** Writes the bank beside the model files. */
  saveBank(dir: string): void {
    const r = this.banks.data();
    writeFileSync(join(dir, ANOMALY_BANK_FILE), new Uint8Array(r.buffer, r.byteOffset, r.byteLength));
  }

  loadBank(dir: string): void {
    const f = join(dir, ANOMALY_BANK_FILE);
    if (!existsSync(f)) throw new ModelWeightsError(`The anomaly model in ${dir} lacks its memory bank (${ANOMALY_BANK_FILE}).`, { dir });
    const b = readFileSync(f);
    const dim = this.extractor.dim;
    if (b.byteLength !== this.params.bankRows * dim * 4)
      throw new ModelWeightsError(
        `${f} has ${b.byteLength} bytes; ${this.params.bankRows} patches of ${dim} values were expected. Copy the model folder again.`,
        { file: f },
      );
    const rows = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    const banks = this.params.banks ?? [];
    if (banks.length && banks.reduce((a, x) => a + x.rows, 0) !== this.params.bankRows)
      throw new ModelWeightsError(`The per-type banks of ${dir} do not add up to its ${this.params.bankRows} patches.`, { dir });
    this.banks.load(rows, banks);
  }

  dispose(): void {
    this.banks.dispose();
    this.extractor.dispose();
  }
}

/** Tensor axes reversed per flip of an NHWC batch: none, then horizontal (width), then vertical (height). */
export function flipAxes(flips: AnomalyFlips | undefined): number[][] {
  return flips === 'hv' ? [[], [2], [1]] : flips === 'h' ? [[], [2]] : [[]];
}

/**
 * Puts patch maps of flipped images back on the original grid.
 * @param d [n * g * g] row-major per image @param axes [2]: mirrored left-right, [1]: upside down
 */
export function unflipGrids(d: Float32Array, g: number, axes: readonly number[]): Float32Array {
  const out = new Float32Array(d.length);
  const h = axes.includes(2);
  const v = axes.includes(1);
  for (let base = 0; base < d.length; base += g * g)
    for (let y = 0; y < g; y++)
      for (let x = 0; x < g; x++) out[base + y * g + x] = d[base + (v ? g - 1 - y : y) * g + (h ? g - 1 - x : x)]!;
  return out;
}

/**
 * The anomaly map of one image on an output grid: patch distances upsampled (bilinear, pixel centres aligned)
 * and smoothed with a Gaussian of `sigma` output pixels.
 * @param patches [g * g]
 * @returns [height * width]
 */
export function anomalyMap(patches: Float32Array, grid: number, width: number, height: number, sigma: number): Float32Array {
  const out = new Float32Array(width * height);
  const sx = grid / width;
  const sy = grid / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(grid - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(grid - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(grid - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(grid - 1, x0 + 1);
      const wx = fx - x0;
      const top = patches[y0 * grid + x0]! * (1 - wx) + patches[y0 * grid + x1]! * wx;
      const bot = patches[y1 * grid + x0]! * (1 - wx) + patches[y1 * grid + x1]! * wx;
      out[y * width + x] = top * (1 - wy) + bot * wy;
    }
  }
  return sigma > 0 ? gaussianBlur(out, width, height, sigma) : out;
}

/** Separable Gaussian blur (edges clamped). @param a [h * w] */
export function gaussianBlur(a: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  const tmp = new Float32Array(a.length);
  const out = new Float32Array(a.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r]! * a[y * w + Math.min(w - 1, Math.max(0, x + i))]!;
      tmp[y * w + x] = s;
    }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r]! * tmp[Math.min(h - 1, Math.max(0, y + i)) * w + x]!;
      out[y * w + x] = s;
    }
  return out;
}
