/**
 * Draws the viewer's overlay canvas: every region (masks as tinted bitmaps, rectangles as tinted boxes), the
 * selected one's handles, and the box or brush stroke being drawn. The image itself is an <img> under the
 * canvas, scaled by CSS, so only the overlay is redrawn while zooming or editing.
 */
import type { Region } from '../../../../../src-main/shared/library-types.ts';
import { decodeRle, maskPixels, type Box } from '../mask.ts';
import { handlePoints } from './region-edit.ts';
import type { View } from './viewport.ts';

/** A region being drawn: a rectangle dragged out, or the points of a brush stroke (image pixels). */
export interface Draft {
  box?: Box;
  stroke?: { x: number; y: number }[];
}

export interface OverlayScene {
  regions: readonly Region[];
  selected: number | null;
  /** The selected region's box while it is moved or resized (drawn instead of its stored box). */
  live: Box | null;
  draft: Draft | null;
  view: View;
  stageW: number;
  stageH: number;
  /** Brush radius in image pixels. */
  brush: number;
  colorOf: (defectTypeId: number) => string | undefined;
  /** Colour of the type new regions are drawn as. */
  drawColor: string | undefined;
}

const FALLBACK = '#ff0000';

/** An offscreen canvas painting a mask in a colour, for drawImage at the region box. */
function maskCanvas(bm: Uint8Array, w: number, h: number, color: string): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  img.data.set(maskPixels(bm, w, h, color));
  ctx.putImageData(img, 0, 0);
  return c;
}

/** Mask bitmaps drawn once per region shape and colour: decoding the runs on every frame would stall dragging. */
export class MaskImages {
  #cache = new Map<string, HTMLCanvasElement>();

  get(r: Region, color: string): HTMLCanvasElement | null {
    if (!r.rle) return null;
    const k = `${r.id}:${r.w}x${r.h}:${color}:${r.rle.length}:${r.rle[1] ?? 0}`;
    let c = this.#cache.get(k);
    if (!c) {
      c = maskCanvas(decodeRle(r.rle, r.w, r.h), r.w, r.h, color);
      this.#cache.set(k, c);
    }
    return c;
  }
}

export function drawOverlay(canvas: HTMLCanvasElement, s: OverlayScene, masks: MaskImages): void {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(s.stageW * dpr) || canvas.height !== Math.round(s.stageH * dpr)) {
    canvas.width = Math.round(s.stageW * dpr);
    canvas.height = Math.round(s.stageH * dpr);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  // Image coordinates from here on.
  const { scale, tx, ty } = s.view;
  ctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * tx, dpr * ty);
  ctx.imageSmoothingEnabled = false;
  const px = 1 / scale;
  for (const r of s.regions) {
    const color = s.colorOf(r.defectTypeId) ?? FALLBACK;
    const b = r.id === s.selected && s.live ? s.live : r;
    if (r.kind === 'mask') {
      const m = masks.get(r, color);
      if (m) ctx.drawImage(m, b.x, b.y, b.w, b.h);
      ctx.setLineDash([4 * px, 3 * px]);
    } else {
      ctx.fillStyle = color + '38';
      ctx.fillRect(b.x, b.y, b.w, b.h);
      ctx.setLineDash([]);
    }
    // A dark halo under a bright line keeps the outline visible on any grey steel, light or dark.
    const width = (r.id === s.selected ? 3 : 2.25) * px;
    ctx.strokeStyle = 'rgba(0,0,0,0.75)';
    ctx.lineWidth = width + 2.5 * px;
    ctx.strokeRect(b.x, b.y, b.w, b.h);
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.strokeRect(b.x, b.y, b.w, b.h);
    ctx.setLineDash([]);
    if (r.id === s.selected) {
      ctx.fillStyle = '#fff';
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5 * px;
      for (const [, hx, hy] of handlePoints(b)) {
        ctx.fillRect(hx - 4 * px, hy - 4 * px, 8 * px, 8 * px);
        ctx.strokeRect(hx - 4 * px, hy - 4 * px, 8 * px, 8 * px);
      }
    }
  }
  const dColor = s.drawColor || FALLBACK;
  const draft = s.draft;
  if (draft?.box) {
    ctx.strokeStyle = dColor;
    ctx.lineWidth = 2 * px;
    ctx.setLineDash([6 * px, 4 * px]);
    ctx.strokeRect(draft.box.x, draft.box.y, draft.box.w, draft.box.h);
    ctx.setLineDash([]);
  }
  if (draft?.stroke?.length) {
    ctx.strokeStyle = dColor + '99';
    ctx.lineWidth = s.brush * 2;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(draft.stroke[0]!.x, draft.stroke[0]!.y);
    for (const p of draft.stroke) ctx.lineTo(p.x, p.y);
    if (draft.stroke.length === 1) ctx.lineTo(draft.stroke[0]!.x + 0.01, draft.stroke[0]!.y);
    ctx.stroke();
  }
}
