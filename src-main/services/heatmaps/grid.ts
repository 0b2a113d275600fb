/**
 * Heatmap grids and their post-processing on plain arrays (normalising, bilinear resize). TF-free: the heatmap
 * service, rendering and scoring in the process that owns the catalog use these without loading TensorFlow.
 */
import type { HeatmapMethod } from '../../shared/heatmap-types.ts';

/** A map on a grid (row-major, `height` rows of `width`). */
export interface Grid {
  width: number;
  height: number;
  data: Float32Array;
}

export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

/**
 * Scales a map to [0, 1]. 'relu-max': negatives clipped, divided by the max (CAM, Grad-CAM; falls back to min–max
 * when nothing is positive); 'minmax'; 'percentile': divided by the 99th percentile and clipped (saliency, where a few
 * pixels otherwise dominate).
 */
export function normalise(g: Grid, mode: 'relu-max' | 'minmax' | 'percentile' = 'relu-max'): Grid {
  const d = g.data;
  const out = new Float32Array(d.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of d) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (mode === 'relu-max' && hi > 0) {
    for (let i = 0; i < d.length; i++) out[i] = Math.max(0, d[i]!) / hi;
  } else if (mode === 'percentile') {
    const sorted = Float32Array.from(d).sort();
    const p = sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]!;
    const top = p > 0 ? p : hi;
    for (let i = 0; i < d.length; i++) out[i] = top > 0 ? Math.min(1, Math.max(0, d[i]!) / top) : 0;
  } else {
    const span = hi - lo;
    for (let i = 0; i < d.length; i++) out[i] = span > 0 ? (d[i]! - lo) / span : 0;
  }
  return { width: g.width, height: g.height, data: out };
}

/** The normalisation each method uses. */
export function normaliseFor(method: HeatmapMethod, g: Grid): Grid {
  // Anomaly maps come scaled to the model's threshold (0.5 = as far from the good patches as the threshold): kept
  // absolute, so a good part stays calm instead of being stretched to its own maximum.
  if (method === 'anomaly') return { width: g.width, height: g.height, data: g.data.map((v) => Math.min(1, Math.max(0, v))) };
  return normalise(g, method === 'saliency' || method === 'smoothgrad' ? 'percentile' : 'relu-max');
}

/**
 * Bilinear resize (pixel centres aligned, like tf.image.resizeBilinear with halfPixelCenters): a coarse map onto
 * the image's own pixel grid.
 */
export function resizeBilinear(g: Grid, width: number, height: number): Grid {
  const out = new Float32Array(width * height);
  const sx = g.width / width;
  const sy = g.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(g.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(g.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(g.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(g.width - 1, x0 + 1);
      const wx = fx - x0;
      const d = g.data;
      const top = d[y0 * g.width + x0]! * (1 - wx) + d[y0 * g.width + x1]! * wx;
      const bot = d[y1 * g.width + x0]! * (1 - wx) + d[y1 * g.width + x1]! * wx;
      out[y * width + x] = top * (1 - wy) + bot * wy;
    }
  }
  return { width, height, data: out };
}
