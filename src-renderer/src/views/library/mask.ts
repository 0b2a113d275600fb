/**
 * Brush masks in the renderer: rasterising a stroke, resampling and drawing masks. Run-length coding
 * (the contract of `Region.rle`) is shared with the catalog: src-main/shared/rle.ts.
 */
export { decodeRle, encodeRle } from '../../../../src-main/shared/rle.ts';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Rasterises a brush stroke (points in image pixels, radius r) into a bitmap clipped to the image;
 * null when nothing of it lies inside. Discs are stamped along each segment every r/2 pixels.
 */
export function rasterStroke(
  points: { x: number; y: number }[],
  r: number,
  imgW: number,
  imgH: number,
): (Box & { bitmap: Uint8Array }) | null {
  if (!points.length) return null;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const p of points) {
    x0 = Math.min(x0, p.x - r);
    y0 = Math.min(y0, p.y - r);
    x1 = Math.max(x1, p.x + r);
    y1 = Math.max(y1, p.y + r);
  }
  const bx = Math.max(0, Math.floor(x0));
  const by = Math.max(0, Math.floor(y0));
  const bx1 = Math.min(imgW, Math.ceil(x1));
  const by1 = Math.min(imgH, Math.ceil(y1));
  const w = bx1 - bx;
  const h = by1 - by;
  if (w <= 0 || h <= 0) return null;
  const bm = new Uint8Array(w * h);
  const stamp = (cx: number, cy: number): void => {
    const r2 = r * r;
    for (let y = Math.max(by, Math.floor(cy - r)); y < Math.min(by1, Math.ceil(cy + r)); y++) {
      for (let x = Math.max(bx, Math.floor(cx - r)); x < Math.min(bx1, Math.ceil(cx + r)); x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        if (dx * dx + dy * dy <= r2) bm[(y - by) * w + (x - bx)] = 1;
      }
    }
  };
  const step = Math.max(0.5, r / 2);
  stamp(points[0]!.x, points[0]!.y);
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    const d = Math.hypot(b.x - a.x, b.y - a.y);
    const n = Math.ceil(d / step);
    for (let k = 1; k <= n; k++) stamp(a.x + ((b.x - a.x) * k) / n, a.y + ((b.y - a.y) * k) / n);
  }
  // Shrink to the pixels actually set.
  let mx0 = w;
  let my0 = h;
  let mx1 = -1;
  let my1 = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (bm[y * w + x]) {
        if (x < mx0) mx0 = x;
        if (x > mx1) mx1 = x;
        if (y < my0) my0 = y;
        if (y > my1) my1 = y;
      }
  if (mx1 < 0) return null;
  const tw = mx1 - mx0 + 1;
  const th = my1 - my0 + 1;
  const out = new Uint8Array(tw * th);
  for (let y = 0; y < th; y++) out.set(bm.subarray((y + my0) * w + mx0, (y + my0) * w + mx0 + tw), y * tw);
  return { x: bx + mx0, y: by + my0, w: tw, h: th, bitmap: out };
}

/** Nearest-neighbour resample of a mask bitmap to a new box size (resizing a brush region). */
export function resampleMask(bm: Uint8Array, w: number, h: number, nw: number, nh: number): Uint8Array {
  const out = new Uint8Array(nw * nh);
  for (let y = 0; y < nh; y++) {
    const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / nh));
    for (let x = 0; x < nw; x++) out[y * nw + x] = bm[sy * w + Math.min(w - 1, Math.floor(((x + 0.5) * w) / nw))]!;
  }
  return out;
}

/**
 * RGBA pixels painting a mask in a colour (#rrggbb) for a w×h canvas: outside transparent, the contour opaque so
 * a thin brush stroke stays visible on grey steel, the inside at `alpha` so the steel shows through.
 */
export function maskPixels(bm: Uint8Array, w: number, h: number, color: string, alpha = 0.5): Uint8ClampedArray {
  const data = new Uint8ClampedArray(w * h * 4);
  const n = parseInt(color.replace('#', ''), 16);
  const r = (n >> 16) & 255;
  const g = (n >> 8) & 255;
  const b = n & 255;
  const a = Math.round(alpha * 255);
  for (let i = 0; i < bm.length; i++) {
    if (!bm[i]) continue;
    data[i * 4] = r;
    data[i * 4 + 1] = g;
    data[i * 4 + 2] = b;
    const x = i % w;
    const edge = x === 0 || x === w - 1 || i < w || i >= bm.length - w || !bm[i - 1] || !bm[i + 1] || !bm[i - w] || !bm[i + w];
    data[i * 4 + 3] = edge ? 255 : a;
  }
  return data;
}
