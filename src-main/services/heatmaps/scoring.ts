/**
 * Localisation scores of a heatmap against defect regions (a 0/1 mask on the map's grid):
 * - pointing game: the map's maximum lies inside the region, or within `tolerance` pixels of it;
 * - energy in region: share of the map's mass (non-negative values) inside the region.
 * Region area share is returned too: it is what energy in region would be for a uniform map (the chance level).
 */
import type { Grid } from './grid.ts';

/** Pointing-game tolerance, in pixels of the original image. */
export const POINTING_TOLERANCE_PX = 4;

export interface LocalisationScore {
  pointing: boolean;
  energy: number;
  /** Fraction of the image covered by the region (chance level of `energy`). */
  area: number;
  /** Position of the map's maximum (pixels of the map grid). */
  peak: { x: number; y: number };
}

/** Scores one normalised map; null when the mask is empty (no region to score against). */
export function scoreMap(map: Grid, mask: Uint8Array, tolerance = 4): LocalisationScore | null {
  const { width: w, height: h, data } = map;
  if (mask.length !== w * h) throw new Error(`scoreMap: mask has ${mask.length} pixels, map ${w * h}`);
  let inside = 0;
  let total = 0;
  let area = 0;
  let best = -Infinity;
  let bi = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Math.max(0, data[i]!);
    total += v;
    if (mask[i]) {
      inside += v;
      area++;
    }
    if (data[i]! > best) {
      best = data[i]!;
      bi = i;
    }
  }
  if (area === 0) return null;
  const px = bi % w;
  const py = Math.floor(bi / w);
  return {
    pointing: nearMask(mask, w, h, px, py, tolerance),
    energy: total > 0 ? inside / total : 0,
    area: area / (w * h),
    peak: { x: px, y: py },
  };
}

/** Whether a mask pixel lies within `r` pixels (Euclidean) of (x, y). */
export function nearMask(mask: Uint8Array, w: number, h: number, x: number, y: number, r: number): boolean {
  const rr = Math.max(0, Math.floor(r));
  for (let dy = -rr; dy <= rr; dy++) {
    const yy = y + dy;
    if (yy < 0 || yy >= h) continue;
    for (let dx = -rr; dx <= rr; dx++) {
      const xx = x + dx;
      if (xx < 0 || xx >= w || dx * dx + dy * dy > r * r) continue;
      if (mask[yy * w + xx]) return true;
    }
  }
  return false;
}

export interface ScoreAggregate {
  count: number;
  pointingAccuracy: number;
  meanEnergy: number;
  meanArea: number;
}

export function aggregateScores(scores: { pointing: boolean; energy: number; area: number }[]): ScoreAggregate {
  const n = scores.length;
  if (!n) return { count: 0, pointingAccuracy: NaN, meanEnergy: NaN, meanArea: NaN };
  let hits = 0;
  let e = 0;
  let a = 0;
  for (const s of scores) {
    if (s.pointing) hits++;
    e += s.energy;
    a += s.area;
  }
  return { count: n, pointingAccuracy: hits / n, meanEnergy: e / n, meanArea: a / n };
}
