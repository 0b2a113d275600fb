/**
 * The viewer's view transform as plain numbers: a point of the image at (ix, iy) is drawn at screen
 * (tx + ix * scale, ty + iy * scale) inside the stage. Pure so the zoom and pan rules can be tested under Node.
 */

export interface View {
  scale: number;
  tx: number;
  ty: number;
}

export interface Size {
  w: number;
  h: number;
}

/** Most the viewer magnifies: 32 screen pixels per image pixel. */
export const MAX_SCALE = 32;
/** One step of the zoom buttons and the + / - keys. */
export const ZOOM_STEP = 1.25;
/** From 2× on, image pixels are drawn as hard squares so a defect's edge is seen as it is stored. */
export const PIXELATED_FROM = 2;

/** Scale that shows the whole image with a small margin (4 %) around it. */
export function fitScale(stage: Size, img: Size): number {
  return Math.min(stage.w / img.w, stage.h / img.h) * 0.96;
}

/** The whole image, centred in the stage. */
export function fitView(stage: Size, img: Size): View {
  const scale = fitScale(stage, img);
  return { scale, tx: (stage.w - img.w * scale) / 2, ty: (stage.h - img.h * scale) / 2 };
}

/**
 * Zooms to `next` keeping the image point under screen (sx, sy) where it is. Zooming out stops at half the
 * fitted scale (or 5 % when that is smaller still), zooming in at MAX_SCALE.
 */
export function zoomViewAt(v: View, sx: number, sy: number, next: number, fit: number): View {
  const s = Math.max(Math.min(fit * 0.5, 0.05), Math.min(MAX_SCALE, next));
  const { ix, iy } = toImagePoint(v, sx, sy);
  return { scale: s, tx: sx - ix * s, ty: sy - iy * s };
}

/** The view moved by a drag of (dsx, dsy) screen pixels from where it started. */
export function panView(from: View, dsx: number, dsy: number): View {
  return { scale: from.scale, tx: from.tx + dsx, ty: from.ty + dsy };
}

export function toImagePoint(v: View, sx: number, sy: number): { ix: number; iy: number } {
  return { ix: (sx - v.tx) / v.scale, iy: (sy - v.ty) / v.scale };
}

export function toScreenPoint(v: View, ix: number, iy: number): { sx: number; sy: number } {
  return { sx: ix * v.scale + v.tx, sy: iy * v.scale + v.ty };
}

/**
 * The scale after one wheel event: exponential in the wheel's travel, so a trackpad's many small deltas and a
 * mouse's few line steps (deltaMode 1) zoom alike.
 */
export function wheelScale(scale: number, deltaY: number, deltaMode: number): number {
  return scale * Math.exp(-deltaY * (deltaMode === 1 ? 0.05 : 0.0015));
}

/** The scale one zoom step in (by 1) or out (by -1) from `scale`. */
export function stepScale(scale: number, by: 1 | -1): number {
  return by > 0 ? scale * ZOOM_STEP : scale / ZOOM_STEP;
}

/** The zoom as the whole percentage shown beside the zoom buttons. */
export function zoomPercent(scale: number): number {
  return Math.round(scale * 100);
}
