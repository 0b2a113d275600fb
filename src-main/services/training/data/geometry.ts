/**
 * How a photo becomes a square model input, and back (no TensorFlow here: the heatmap, region and anomaly code reuse
 * it on the main side).
 *
 * - 'squash': the whole photo stretched onto size x size (the historical rule; a tall and a wide photo of the same
 *   part look different to the model, which hands it a cue that is not the defect).
 * - 'letterbox': scaled to fit (aspect kept), centred, the rest padded with PAD_VALUE (neutral grey: 0 after the
 *   model's [-1,1] scaling). The content rectangle says where the photo lies in the input.
 *
 * Coordinates are continuous pixel coordinates: pixel (i, j) covers [i, i+1) x [j, j+1), its centre is (i+0.5, j+0.5).
 */

import type { ResizeMode } from '../../../shared/resize-choice.ts';

export type { ResizeMode };

/** Neutral padding byte (127.5 maps to 0 in [-1,1]; 128 is the nearest byte). */
export const PAD_VALUE = 128;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Geometry {
  mode: ResizeMode;
  /** The original photo's size in pixels. */
  width: number;
  height: number;
  /** The model's square input side. */
  size: number;
  /** Where the photo lies in the input (whole pixels). */
  content: Rect;
}

export function isResizeMode(v: unknown): v is ResizeMode {
  return v === 'squash' || v === 'letterbox' || v === 'tile';
}

/** The resize mode a saved model's preprocessing.resize names ('fill' and anything older = squash). */
export function resizeOfModel(info: { preprocessing?: { resize?: string } }): ResizeMode {
  const r = info.preprocessing?.resize;
  return r === 'letterbox' || r === 'tile' ? r : 'squash';
}

/** A content key that keeps letterboxed inputs apart from squashed ones in the embedding and prefix caches. */
export function keyForResize(key: string, mode: ResizeMode): string {
  // Tiles: each tile's key says its grid (keyForTile in tiles.ts); the photo's own key stays the squashed one.
  return mode === 'letterbox' ? `${key}-lb` : key;
}

export function fitGeometry(width: number, height: number, size: number, mode: ResizeMode): Geometry {
  if (!(width > 0 && height > 0 && size > 0)) throw new RangeError(`Bad geometry ${width}x${height} -> ${size}`);
  // A tile is a square window squashed onto the square input (tiles.ts): squash's geometry, window by window.
  if (mode !== 'letterbox') return { mode, width, height, size, content: { x: 0, y: 0, w: size, h: size } };
  const s = size / Math.max(width, height);
  const w = Math.min(size, Math.max(1, Math.round(width * s)));
  const h = Math.min(size, Math.max(1, Math.round(height * s)));
  return { mode, width, height, size, content: { x: Math.floor((size - w) / 2), y: Math.floor((size - h) / 2), w, h } };
}

/** Padding on each side of the content (sharp's extend()). Zero everywhere for squash. */
export function paddingOf(g: Geometry): { top: number; bottom: number; left: number; right: number } {
  const c = g.content;
  return { top: c.y, bottom: g.size - c.y - c.h, left: c.x, right: g.size - c.x - c.w };
}

/** An original point (continuous coordinates) in model-input coordinates. */
export function originalToInput(g: Geometry, x: number, y: number): { x: number; y: number } {
  const c = g.content;
  return { x: c.x + (x * c.w) / g.width, y: c.y + (y * c.h) / g.height };
}

/** A model-input point in original coordinates; null when it lies in the padding. */
export function inputToOriginal(g: Geometry, x: number, y: number): { x: number; y: number } | null {
  const c = g.content;
  if (x < c.x || y < c.y || x > c.x + c.w || y > c.y + c.h) return null;
  return { x: ((x - c.x) * g.width) / c.w, y: ((y - c.y) * g.height) / c.h };
}

/** An original region box (pixels, x/y/w/h) in model-input coordinates. */
export function boxToInput(g: Geometry, box: Rect): Rect {
  const a = originalToInput(g, box.x, box.y);
  const b = originalToInput(g, box.x + box.w, box.y + box.h);
  return { x: a.x, y: a.y, w: b.x - a.x, h: b.y - a.y };
}

/** The original pixel (whole indices) under the centre of map cell (mx, my) of a mapW x mapH map; null in the padding. */
export function mapPixelToOriginal(g: Geometry, mx: number, my: number, mapW: number, mapH: number): { x: number; y: number } | null {
  const p = inputToOriginal(g, ((mx + 0.5) * g.size) / mapW, ((my + 0.5) * g.size) / mapH);
  if (!p) return null;
  return { x: Math.min(g.width - 1, Math.floor(p.x)), y: Math.min(g.height - 1, Math.floor(p.y)) };
}

/** The map cell (whole indices) of a mapW x mapH map that covers the centre of original pixel (px, py). */
export function originalPixelToMap(g: Geometry, px: number, py: number, mapW: number, mapH: number): { x: number; y: number } {
  const p = originalToInput(g, px + 0.5, py + 0.5);
  return {
    x: Math.min(mapW - 1, Math.max(0, Math.floor((p.x * mapW) / g.size))),
    y: Math.min(mapH - 1, Math.max(0, Math.floor((p.y * mapH) / g.size))),
  };
}

/**
 * A map on the model-input grid (mapW x mapH, row-major) resampled bilinearly onto the original photo's shape at
 * outW x outH (usually the photo's size or a scaled copy of it): the padding is cut away (cells partly in the padding
 * are not read either), the photo's aspect restored.
 */
export function mapToOriginal(g: Geometry, map: ArrayLike<number>, mapW: number, mapH: number, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  // Cells wholly inside the content: sampling stays within them, so padding values never bleed onto the photo.
  const span = (from: number, len: number, n: number): [number, number] => {
    const lo = Math.ceil((from * n) / g.size - 1e-9);
    const hi = Math.floor(((from + len) * n) / g.size + 1e-9) - 1;
    if (hi >= lo) return [lo, hi];
    const mid = Math.min(n - 1, Math.max(0, Math.floor(((from + len / 2) * n) / g.size)));
    return [mid, mid];
  };
  const [x0c, x1c] = span(g.content.x, g.content.w, mapW);
  const [y0c, y1c] = span(g.content.y, g.content.h, mapH);
  const sample = (fx: number, fy: number): number => {
    return bilinearAt(map, mapW, mapH, Math.min(x1c, Math.max(x0c, fx)), Math.min(y1c, Math.max(y0c, fy)));
  };
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      // Centre of the output pixel, in original then input coordinates, then in map cell units (centres at k + 0.5).
      const p = originalToInput(g, ((ox + 0.5) * g.width) / outW, ((oy + 0.5) * g.height) / outH);
      out[oy * outW + ox] = sample((p.x * mapW) / g.size - 0.5, (p.y * mapH) / g.size - 0.5);
    }
  }
  return out;
}

/** A mapW x mapH map (row-major) read bilinearly at (x, y) in cell units (cell centres at whole numbers, x and y within the map). */
export function bilinearAt(map: ArrayLike<number>, mapW: number, mapH: number, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(mapW - 1, x0 + 1);
  const y1 = Math.min(mapH - 1, y0 + 1);
  const ax = x - x0;
  const ay = y - y0;
  const v = (i: number, j: number): number => map[j * mapW + i]!;
  return (1 - ay) * ((1 - ax) * v(x0, y0) + ax * v(x1, y0)) + ay * ((1 - ax) * v(x0, y1) + ax * v(x1, y1));
}

/** Map cells per model-grid cell along the photo's long side when a letterboxed map is put back on the photo. */
const BACK_DETAIL = 4;

/**
 * A map on a letterboxed model's input grid as a grid in the photo's own shape (padding cut away, aspect restored,
 * BACK_DETAIL times finer along the long side so nothing is lost), ready to be scaled onto the photo like the map of a
 * squashed model. Squash maps come back unchanged.
 */
export function gridToOriginal(
  mode: ResizeMode,
  width: number,
  height: number,
  grid: { width: number; height: number; data: Float32Array },
): { width: number; height: number; data: Float32Array } {
  // Tiled models' maps come back already stitched onto the photo's shape (jobs/heatmaps.ts, stitchTileMaps).
  if (mode !== 'letterbox') return grid;
  const g = fitGeometry(width, height, Math.max(grid.width, grid.height), 'letterbox');
  const long = Math.max(grid.width, grid.height) * BACK_DETAIL;
  const outW = Math.max(1, Math.round((long * width) / Math.max(width, height)));
  const outH = Math.max(1, Math.round((long * height) / Math.max(width, height)));
  return { width: outW, height: outH, data: mapToOriginal(g, grid.data, grid.width, grid.height, outW, outH) };
}

/** A content key for letterboxed inputs whose padding is masked out of pooling (their embeddings differ). */
export function keyForPadMask(key: string, mode: ResizeMode, padMask: boolean): string {
  return mode === 'letterbox' && padMask ? `${key}-lbm` : keyForResize(key, mode);
}

/** Letterboxed runs leave the padding out of pooling and maps unless their configuration says padMask: false. */
export const DEFAULT_PAD_MASK = true;

/** Whether a run's configuration pools only the photo's cells (letterbox with padMask, or its default). */
export function padMaskOfConfig(c: { resize?: ResizeMode; padMask?: boolean }): boolean {
  return c.resize === 'letterbox' && (c.padMask ?? DEFAULT_PAD_MASK);
}

/** Whether a saved model pools only the photo's cells (letterbox with padMask; older letterbox models pool all). */
export function padMaskOfModel(info: { preprocessing?: { resize?: string; padMask?: boolean } }): boolean {
  return resizeOfModel(info) === 'letterbox' && info.preprocessing?.padMask === true;
}

/**
 * The content rectangle of an input after one of the fixed variants (augment.ts: 0 original, 1 rotated 180°,
 * 2 rotated 180° then mirrored = flipped upside down): the photo moves when its padding is uneven by a pixel.
 */
export function contentUnderVariant(c: Rect, size: number, variant: number): Rect {
  if (variant === 1) return { x: size - c.x - c.w, y: size - c.y - c.h, w: c.w, h: c.h };
  if (variant === 2) return { x: c.x, y: size - c.y - c.h, w: c.w, h: c.h };
  return c;
}

/**
 * Which cells of a gw x gh feature grid over a size x size input belong to the photo (1) or the padding (0),
 * row-major: a cell belongs to the photo when its receptive-field centre ((k + 0.5) * size / n, as the maps are
 * put back) lies in the content rectangle. Never empty: a photo thinner than a cell keeps the cell under its centre.
 */
export function contentCells(c: Rect, size: number, gw: number, gh: number): Float32Array {
  const out = new Float32Array(gw * gh);
  const inside = (k: number, n: number, from: number, len: number) => {
    const centre = ((k + 0.5) * size) / n;
    return centre >= from && centre < from + len;
  };
  let any = false;
  for (let y = 0; y < gh; y++) {
    if (!inside(y, gh, c.y, c.h)) continue;
    for (let x = 0; x < gw; x++) {
      if (!inside(x, gw, c.x, c.w)) continue;
      out[y * gw + x] = 1;
      any = true;
    }
  }
  if (!any) {
    const cx = Math.min(gw - 1, Math.max(0, Math.floor(((c.x + c.w / 2) * gw) / size)));
    const cy = Math.min(gh - 1, Math.max(0, Math.floor(((c.y + c.h / 2) * gh) / size)));
    out[cy * gw + cx] = 1;
  }
  return out;
}

/**
 * A map on the feature grid with its padded cells (cells[i] = 0) set to the smallest value over the photo's cells,
 * in place: after min-max normalisation they read 0, and the map's maximum can never sit in the padding.
 */
export function suppressPadding(map: Float32Array, cells: ArrayLike<number>, offset = 0): Float32Array {
  let lo = Infinity;
  for (let i = 0; i < cells.length; i++) if (cells[i]) lo = Math.min(lo, map[offset + i]!);
  if (!Number.isFinite(lo)) return map;
  for (let i = 0; i < cells.length; i++) if (!cells[i]) map[offset + i] = lo;
  return map;
}
