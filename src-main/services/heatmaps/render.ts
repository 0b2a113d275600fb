/**
 * Heatmap pictures with sharp: a normalised map upsampled (bilinear) onto the original image, colour-mapped and
 * overlaid with adjustable opacity; a legend bar; contact sheets of many tiles.
 */
import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import type { ColormapName } from '../../shared/heatmap-types.ts';
import { colormapLut, overlay } from './colormap.ts';
import { resizeBilinear, type Grid } from './grid.ts';

/** Largest side of rendered heatmaps (display and export). */
export const MAX_RENDER_SIDE = 640;

export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** RGB pixels of an image pipeline, downscaled to fit `maxSide` (grey repeated on 3 channels). */
export async function rgbOf(img: Sharp, maxSide = MAX_RENDER_SIDE): Promise<RgbImage> {
  const { data, info } = await img
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  if (info.channels === 3)
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = data[p * info.channels + Math.min(c, info.channels - 1)]!;
  return { width: info.width, height: info.height, data: out };
}

/** The coloured overlay of a normalised map on an image, as RGB. */
export function overlayRgb(img: RgbImage, normalised: Grid, colormap: ColormapName, opacity: number): RgbImage {
  const up = resizeBilinear(normalised, img.width, img.height);
  return { width: img.width, height: img.height, data: overlay(img.data, up, colormap, opacity) };
}

export function pngOf(img: RgbImage): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/** A horizontal legend: the colour bar from 0 (low) to 1 (high) with labels, as PNG. */
export async function legendPng(
  colormap: ColormapName,
  width: number,
  labels: { low: string; high: string; title?: string } = { low: 'low', high: 'high' },
): Promise<Buffer> {
  const barH = 12;
  const h = 34;
  const w = Math.max(120, width);
  const lut = colormapLut(colormap);
  const bar = Buffer.alloc(w * barH * 3);
  for (let x = 0; x < w; x++) {
    const i = Math.round((x / (w - 1)) * 255) * 3;
    for (let y = 0; y < barH; y++) bar.set([lut[i]!, lut[i + 1]!, lut[i + 2]!], (y * w + x) * 3);
  }
  const esc = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
  const svg = `<svg width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg"><style>text{font-family:sans-serif;font-size:11px;fill:#222}</style>
    <text x="0" y="${h - 3}">${esc(labels.low)}</text><text x="${w / 2}" y="${h - 3}" text-anchor="middle">${esc(labels.title ?? '')}</text><text x="${w}" y="${h - 3}" text-anchor="end">${esc(labels.high)}</text></svg>`;
  return sharp({ create: { width: w, height: h, channels: 3, background: '#ffffff' } })
    .composite([
      { input: bar, raw: { width: w, height: barH, channels: 3 }, left: 0, top: 2 },
      { input: Buffer.from(svg), left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}

/** One picture with a legend strip below it (single-heatmap export). */
export async function withLegend(img: RgbImage, colormap: ColormapName, title: string): Promise<Buffer> {
  const legend = await legendPng(colormap, img.width - 16, { low: 'low', high: 'high', title });
  const meta = await sharp(legend).metadata();
  // The legend has a minimum width: a map narrower than it is centred on a wider white sheet instead of failing.
  const width = Math.max(img.width, (meta.width ?? 0) + 16);
  const h = img.height + (meta.height ?? 34) + 8;
  return sharp({ create: { width, height: h, channels: 3, background: '#ffffff' } })
    .composite([
      {
        input: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength),
        raw: { width: img.width, height: img.height, channels: 3 },
        left: Math.floor((width - img.width) / 2),
        top: 0,
      },
      { input: legend, left: 8, top: img.height + 4 },
    ])
    .png()
    .toBuffer();
}

export interface SheetRow {
  caption: string;
  /** The image, then one per column; null leaves the cell empty (a map not computed yet). */
  tiles: (RgbImage | null)[];
  /** Defect regions drawn on every tile, in the pixel frame of `frame` (the original image). */
  boxes?: { x: number; y: number; w: number; h: number }[];
  frame?: { width: number; height: number };
}

/** `s` cut to about `px` pixels of 11 px sans-serif text, with an ellipsis when cut. */
export function fitText(s: string, px: number): string {
  const max = Math.max(4, Math.floor(px / 6.2));
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * A contact sheet: one row per image (original + maps), captions under each row, legend at the bottom. Column heads
 * ("run\nmethod") and captions (predictions, then scores) may have two lines; every text is cut to its cell's width.
 */
export async function contactSheet(
  rows: SheetRow[],
  opts: { tile: number; colormap: ColormapName; title: string; columns: string[] },
): Promise<Buffer> {
  const pad = 8;
  // Captions may have two lines (image and predictions, then localisation scores).
  const capH = 4 + 14 * Math.max(1, ...rows.map((r) => r.caption.split('\n').length));
  const headLines = Math.max(1, ...opts.columns.map((c) => c.split('\n').length));
  const headH = 26 + 14 * headLines;
  const cols = Math.max(1, opts.columns.length, ...rows.map((r) => r.tiles.length));
  const width = pad + cols * (opts.tile + pad);
  const legendH = 40;
  const height = headH + rows.length * (opts.tile + capH + pad) + legendH + pad;
  const esc = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
  const comps: OverlayOptions[] = [];
  let texts = `<text x="${pad}" y="15" font-weight="bold">${esc(fitText(opts.title, width - 2 * pad))}</text>`;
  opts.columns.forEach((c, i) =>
    c
      .split('\n')
      .forEach(
        (line, j) =>
          (texts += `<text x="${pad + i * (opts.tile + pad) + opts.tile / 2}" y="${33 + 14 * j}" text-anchor="middle" fill="#555"${j === 0 ? ' font-weight="bold"' : ''}>${esc(fitText(line, opts.tile))}</text>`),
      ),
  );
  for (let r = 0; r < rows.length; r++) {
    const top = headH + r * (opts.tile + capH + pad);
    const row = rows[r]!;
    for (let c = 0; c < row.tiles.length; c++) {
      const t = row.tiles[c];
      if (!t) {
        texts += `<rect x="${pad + c * (opts.tile + pad)}" y="${top}" width="${opts.tile}" height="${opts.tile}" fill="#f1f3f5" stroke="#d9e0e7"/><text x="${pad + c * (opts.tile + pad) + opts.tile / 2}" y="${top + opts.tile / 2}" text-anchor="middle" fill="#8a96a3">not computed</text>`;
        continue;
      }
      const buf = await sharp(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), {
        raw: { width: t.width, height: t.height, channels: 3 },
      })
        .resize(opts.tile, opts.tile, { fit: 'contain', background: '#ffffff' })
        .png()
        .toBuffer();
      comps.push({ input: buf, left: pad + c * (opts.tile + pad), top });
      if (row.boxes && row.frame) {
        const k = Math.min(opts.tile / row.frame.width, opts.tile / row.frame.height);
        const ox = pad + c * (opts.tile + pad) + (opts.tile - row.frame.width * k) / 2;
        const oy = top + (opts.tile - row.frame.height * k) / 2;
        for (const b of row.boxes)
          texts += `<rect x="${(ox + b.x * k).toFixed(1)}" y="${(oy + b.y * k).toFixed(1)}" width="${(b.w * k).toFixed(1)}" height="${(b.h * k).toFixed(1)}" fill="none" stroke="#00e5ff" stroke-width="1.2" stroke-dasharray="4 3"/>`;
      }
    }
    row.caption
      .split('\n')
      .forEach(
        (line, j) => (texts += `<text x="${pad}" y="${top + opts.tile + 13 + 14 * j}">${esc(fitText(line, width - 2 * pad))}</text>`),
      );
  }
  const svg = `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><style>text{font-family:sans-serif;font-size:11px;fill:#222}</style>${texts}</svg>`;
  comps.push({ input: Buffer.from(svg), left: 0, top: 0 });
  comps.push({
    input: await legendPng(opts.colormap, Math.min(width - 2 * pad, 360), { low: 'low', high: 'high', title: 'attention' }),
    left: pad,
    top: height - legendH,
  });
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(comps)
    .png()
    .toBuffer();
}
