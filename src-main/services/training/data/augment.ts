/**
 * Augmentation on size x size x 3 RGB byte buffers (what a SampleSource returns).
 * Variants 0..2 are the study's fixed copies: 0 original, 1 rotated 180°, 2 rotated 180° and mirrored
 * left-right. They are deterministic, so backbone embeddings of each can be cached.
 */
import type { AugmentationConfig } from '../../../shared/training-types.ts';
import type { Rng } from '../train/rng.ts';

export const FIXED_VARIANTS = [0, 1, 2] as const;
export type FixedVariant = (typeof FIXED_VARIANTS)[number];
export const VARIANT_NAMES = ['orig', 'rot180', 'rot180-mirror'] as const;

/** Fixed variants used by a mode: fixed = all three copies, random = one drawn per epoch, none = the original. */
export function variantsFor(mode: AugmentationConfig['mode']): FixedVariant[] {
  return mode === 'none' ? [0] : [0, 1, 2];
}

/** True when augmentation draws random transforms that cannot be cached (rotation, jitter, crops). */
export function hasRandomExtras(a: AugmentationConfig): boolean {
  return a.rotationDeg > 0 || a.brightness > 0 || a.contrast > 0 || a.cropMinScale < 1;
}

/** Applies a fixed variant; returns a new buffer (variant 0 returns the input). */
export function applyVariant(src: Uint8Array, size: number, v: FixedVariant): Uint8Array {
  if (v === 0) return src;
  const out = new Uint8Array(src.length);
  const n = size * size;
  if (v === 1) {
    // 180° rotation = reversed pixel order.
    for (let p = 0; p < n; p++) {
      const q = (n - 1 - p) * 3;
      out[p * 3] = src[q]!;
      out[p * 3 + 1] = src[q + 1]!;
      out[p * 3 + 2] = src[q + 2]!;
    }
    return out;
  }
  // 180° then left-right mirror = vertical flip.
  const row = size * 3;
  for (let y = 0; y < size; y++) out.set(src.subarray((size - 1 - y) * row, (size - y) * row), y * row);
  return out;
}

/**
 * Random extras: rotation by ±rotationDeg and a crop keeping >= cropMinScale of the side (one bilinear
 * affine warp, edges clamped), then brightness / contrast jitter.
 */
export function applyRandomExtras(src: Uint8Array, size: number, a: AugmentationConfig, rng: Rng): Uint8Array {
  if (!hasRandomExtras(a)) return src;
  let out = src;
  const angle = a.rotationDeg > 0 ? (rng.range(-a.rotationDeg, a.rotationDeg) * Math.PI) / 180 : 0;
  const scale = a.cropMinScale < 1 ? rng.range(a.cropMinScale, 1) : 1;
  if (angle !== 0 || scale !== 1) {
    const maxShift = ((1 - scale) * size) / 2;
    const cx = size / 2 + (maxShift ? rng.range(-maxShift, maxShift) : 0);
    const cy = size / 2 + (maxShift ? rng.range(-maxShift, maxShift) : 0);
    const cos = Math.cos(angle) * scale;
    const sin = Math.sin(angle) * scale;
    out = new Uint8Array(src.length);
    const h = size / 2;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dx = x + 0.5 - h;
        const dy = y + 0.5 - h;
        const sx = Math.min(size - 1, Math.max(0, cos * dx - sin * dy + cx - 0.5));
        const sy = Math.min(size - 1, Math.max(0, sin * dx + cos * dy + cy - 0.5));
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const x1 = Math.min(size - 1, x0 + 1);
        const y1 = Math.min(size - 1, y0 + 1);
        const fx = sx - x0;
        const fy = sy - y0;
        const o = (y * size + x) * 3;
        for (let c = 0; c < 3; c++) {
          const v00 = src[(y0 * size + x0) * 3 + c]!;
          const v01 = src[(y0 * size + x1) * 3 + c]!;
          const v10 = src[(y1 * size + x0) * 3 + c]!;
          const v11 = src[(y1 * size + x1) * 3 + c]!;
          out[o + c] = (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy;
        }
      }
    }
  }
  if (a.brightness > 0 || a.contrast > 0) {
    const b = a.brightness > 0 ? rng.range(-a.brightness, a.brightness) * 255 : 0;
    const k = a.contrast > 0 ? rng.range(1 - a.contrast, 1 + a.contrast) : 1;
    if (out === src) out = new Uint8Array(src);
    for (let i = 0; i < out.length; i++) {
      const v = (out[i]! - 128) * k + 128 + b;
      out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}
