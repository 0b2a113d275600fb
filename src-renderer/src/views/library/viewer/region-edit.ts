/**
 * What the viewer's gestures do to a region, as pure functions of boxes in image pixels: which region or
 * handle a point hits, a box moved or resized and kept inside the image, and the patch that stores the result.
 */
import type { Region, RegionPatch } from '../../../../../src-main/shared/library-types.ts';
import { decodeRle, encodeRle, resampleMask, type Box } from '../mask.ts';
import { toScreenPoint, type View } from './viewport.ts';

/** A resize handle, named for the compass point of the box it sits on. */
export type Handle = 'nw' | 'n' | 'ne' | 'e' | 'se' | 's' | 'sw' | 'w';

/** How near (screen pixels, each axis) a pointer must come to a handle to grab it. */
export const HANDLE_REACH = 7;
/** A drawn box smaller than this on screen (either side) is taken for a slip of the mouse and not stored. */
export const MIN_DRAWN_PX = 3;

/** The eight handles of a box with their image positions, clockwise from the top-left corner. */
export function handlePoints(b: Box): [Handle, number, number][] {
  const { x, y, w, h } = b;
  return [
    ['nw', x, y],
    ['n', x + w / 2, y],
    ['ne', x + w, y],
    ['e', x + w, y + h / 2],
    ['se', x + w, y + h],
    ['s', x + w / 2, y + h],
    ['sw', x, y + h],
    ['w', x, y + h / 2],
  ];
}

/** The smallest region containing the image point (edges included): a small defect inside a big one stays reachable. */
export function hitRegion<T extends Box>(regions: readonly T[], ix: number, iy: number): T | null {
  let best: T | null = null;
  for (const r of regions) {
    if (ix < r.x || iy < r.y || ix > r.x + r.w || iy > r.y + r.h) continue;
    if (!best || r.w * r.h < best.w * best.h) best = r;
  }
  return best;
}

/** The handle of `box` under screen point (sx, sy), if any (the first in handlePoints order wins). */
export function hitHandle(box: Box | undefined, v: View, sx: number, sy: number): Handle | null {
  if (!box) return null;
  for (const [h, hx, hy] of handlePoints(box)) {
    const p = toScreenPoint(v, hx, hy);
    if (Math.abs(p.sx - sx) <= HANDLE_REACH && Math.abs(p.sy - sy) <= HANDLE_REACH) return h;
  }
  return null;
}

/** A box dragged in any direction made positive, rounded to whole pixels, at least 1×1 and inside the image. */
export function normaliseBox(b: Box, imgW: number, imgH: number): Box {
  let { x, y, w, h } = b;
  if (w < 0) [x, w] = [x + w, -w];
  if (h < 0) [y, h] = [y + h, -h];
  x = Math.max(0, Math.round(x));
  y = Math.max(0, Math.round(y));
  w = Math.max(1, Math.min(imgW - x, Math.round(w)));
  h = Math.max(1, Math.min(imgH - y, Math.round(h)));
  return { x, y, w, h };
}

/** `origin` moved by (dx, dy) image pixels, its size kept and the whole box kept inside the image. */
export function movedBox(origin: Box, dx: number, dy: number, imgW: number, imgH: number): Box {
  const x = Math.max(0, Math.min(imgW - origin.w, Math.round(origin.x + dx)));
  const y = Math.max(0, Math.min(imgH - origin.h, Math.round(origin.y + dy)));
  return { x, y, w: origin.w, h: origin.h };
}

/** `origin` with the sides `handle` names moved by (dx, dy); dragging past the opposite side flips the box. */
export function resizedBox(origin: Box, handle: Handle, dx: number, dy: number, imgW: number, imgH: number): Box {
  let { x, y, w, h } = origin;
  if (handle.includes('w')) [x, w] = [x + dx, w - dx];
  if (handle.includes('e')) w = w + dx;
  if (handle.includes('n')) [y, h] = [y + dy, h - dy];
  if (handle.includes('s')) h = h + dy;
  return normaliseBox({ x, y, w, h }, imgW, imgH);
}

export function sameBox(a: Box, b: Box): boolean {
  return a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h;
}

/** True when a box drawn at this scale is too small on screen to be meant. */
export function tooSmallToKeep(b: Box, scale: number): boolean {
  return b.w * scale < MIN_DRAWN_PX || b.h * scale < MIN_DRAWN_PX;
}

/**
 * The patch that stores `region` at box `b`. A mask whose size changed is resampled to the new box, so its
 * shape stretches with the box instead of being cut off or padded.
 */
export function boxPatch(region: Region, b: Box): RegionPatch {
  const patch: RegionPatch = { ...b };
  if (region.kind === 'mask' && region.rle && (b.w !== region.w || b.h !== region.h))
    patch.rle = encodeRle(resampleMask(decodeRle(region.rle, region.w, region.h), region.w, region.h, b.w, b.h));
  return patch;
}

/** The CSS cursor while hovering with the select tool: a resize arrow on a handle, move on a region, grab elsewhere. */
export function hoverCursor(handle: Handle | null, overRegion: boolean): string {
  return handle ? `${handle}-resize` : overRegion ? 'move' : 'grab';
}
