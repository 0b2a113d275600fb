/**
 * Where training images come from. The training core only sees a SampleSource; adapters map the
 * catalog (engine side: read-only) or plain files (tests, bench, CLI predict) onto it.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { CorruptImageError, UnsupportedImageError } from '../../../shared/errors.ts';
import { openImageBytes, sniffFormat, unsupportedFormatName } from '../../library/imaging.ts';
import { fitGeometry, keyForPadMask, PAD_VALUE, paddingOf, type Rect, type ResizeMode } from './geometry.ts';
import { tileGrid, type TileGrid } from './tiles.ts';

export interface SampleSource {
  readonly count: number;
  /** Class index of sample i. */
  labelOf(i: number): number;
  /** Image id reported in evaluations (catalog image id, or a sequential id for files). */
  idOf(i: number): number;
  /** Stable content key (the image's sha256) for the embedding cache. */
  keyOf(i: number): string;
  /** size x size x 3 RGB bytes (grey images repeated on three channels), resized by the source's ResizeMode. */
  loadPixels(i: number, size: number): Promise<Uint8Array>;
  /**
   * Letterbox with the padding masked out of pooling and maps: where sample i's photo lies in its size x size input
   * (before any variant). Absent when nothing is masked (squash, or letterbox pooling the padding too).
   */
  contentOf?(i: number, size: number): Promise<Rect>;
  /**
   * Tiles (resize 'tile'): sample i's tile grid, from the photo's header, and its tiles as size x size RGB inputs from
   * one decode of the photo (tile-set.ts makes a source with one sample per tile of them). loadPixels still squashes.
   */
  gridOf?(i: number): Promise<TileGrid>;
  loadTiles?(i: number, size: number): Promise<{ grid: TileGrid; pixels: Uint8Array[] }>;
  close?(): void;
}

/** Tile mode's grid parameters (the run's or the model's; tileGrid in tiles.ts). */
export interface TileOptions {
  maxTiles?: number;
}

/** What the main side sends the engine per image (plain data). */
export interface EngineSample {
  id: number;
  key: string;
  /** Class index; -1 when unknown (prediction). */
  label: number;
  split: 'train' | 'val' | 'test';
  /** For file sources: the image file. Catalog sources decode by id. */
  path?: string;
}

/**
 * Decodes any sharp input to size x size x 3 RGB (EXIF-rotated, alpha dropped, grey repeated): squashed (the default)
 * or letterboxed (aspect kept, centred, padded with PAD_VALUE; see geometry.ts).
 */
export async function sharpToRgb(img: Sharp, size: number, opts: { autoOrient?: boolean; resize?: ResizeMode } = {}): Promise<Uint8Array> {
  const orient = opts.autoOrient !== false;
  let pipe = orient ? img.rotate() : img;
  if (opts.resize === 'letterbox') {
    const { w, h } = await orientedSize(img, size);
    const g = fitGeometry(w, h, size, 'letterbox');
    const bg = { r: PAD_VALUE, g: PAD_VALUE, b: PAD_VALUE, alpha: 1 };
    pipe = pipe.resize(g.content.w, g.content.h, { fit: 'fill' }).extend({ ...paddingOf(g), background: bg });
  } else {
    pipe = pipe.resize(size, size, { fit: 'fill' });
  }
  const { data, info } = await pipe.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return toRgb(data, info.channels, size * size);
}

/** n pixels of `channels` bytes each as RGB (grey repeated on three channels). */
function toRgb(data: Buffer, channels: number, n: number): Uint8Array {
  if (channels === 3) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const v = data[p * channels]!;
    out[p * 3] = v;
    out[p * 3 + 1] = v;
    out[p * 3 + 2] = v;
  }
  return out;
}

/**
 * The tiles of a photo (tileGrid over its upright size) as size x size RGB inputs: the photo is decoded once at full
 * size, then each square window is cut out and scaled onto the square input (uniformly: nothing is stretched).
 */
export async function sharpToTiles(
  img: Sharp,
  size: number,
  opts: { autoOrient?: boolean; tiles?: TileOptions } = {},
): Promise<{ grid: TileGrid; pixels: Uint8Array[] }> {
  const pipe = opts.autoOrient !== false ? img.rotate() : img;
  const { data, info } = await pipe.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const grid = tileGrid(info.width, info.height, opts.tiles ?? {});
  const raw = { width: info.width, height: info.height, channels: info.channels };
  const pixels = await Promise.all(
    grid.tiles.map(async (t) => {
      const out = await sharp(data, { raw })
        .extract({ left: t.x, top: t.y, width: t.side, height: t.side })
        .resize(size, size, { fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      return toRgb(out.data, out.info.channels, size * size);
    }),
  );
  return { grid, pixels };
}

/** A photo's tile grid from its header (memoised per sample by the caller). */
export function gridMemo(open: (i: number) => Promise<Sharp>, tiles: TileOptions = {}): (i: number) => Promise<TileGrid> {
  const memo = new Map<number, Promise<TileGrid>>();
  return (i) => {
    let p = memo.get(i);
    if (!p) {
      p = open(i).then(async (img) => {
        const { w, h } = await orientedSize(img, 1);
        return tileGrid(w, h, tiles);
      });
      memo.set(i, p);
    }
    return p;
  };
}

/** The photo's upright size (what letterbox fits). */
export async function orientedSize(img: Sharp, fallback: number): Promise<{ w: number; h: number }> {
  const m = await img.metadata();
  let w = m.width ?? fallback;
  let h = (m.pages ?? 1) > 1 && m.pageHeight ? m.pageHeight : (m.height ?? fallback);
  // Inputs opened by openImageBytes auto-orient in the constructor too: a 90° EXIF turn swaps the sides either way.
  if ((m.orientation ?? 1) >= 5) [w, h] = [h, w];
  return { w, h };
}

/** Where a letterboxed photo lies in the size x size input, from its header (memoised per sample by the caller). */
export function contentMemo(open: (i: number) => Promise<Sharp>): (i: number, size: number) => Promise<Rect> {
  const memo = new Map<string, Promise<Rect>>();
  return (i, size) => {
    const k = `${i}:${size}`;
    let p = memo.get(k);
    if (!p) {
      p = open(i).then(async (img) => {
        const { w, h } = await orientedSize(img, size);
        return fitGeometry(w, h, size, 'letterbox').content;
      });
      memo.set(k, p);
    }
    return p;
  };
}

/** Opens an image file by the import's rule (format from the bytes). */
async function openFile(path: string): Promise<Sharp> {
  const bytes = await readFile(path);
  const format = sniffFormat(bytes);
  if (format === null || format === 'other-image')
    throw new UnsupportedImageError(`${unsupportedFormatName(bytes) ?? 'This file'} is not a JPEG, PNG, BMP or TIFF image.`, { path });
  return openImageBytes(bytes, format);
}

/**
 * An image file as model input, decoded by the same rule as the import (format from the bytes, BMP through the same
 * reader, libvips failing on errors such as a PNG CRC mismatch): what the import accepts predicts, what it refuses
 * is refused here with the same reason.
 */
export async function loadFileRgb(path: string, size: number, resize: ResizeMode = 'squash'): Promise<Uint8Array> {
  try {
    return await sharpToRgb(await openFile(path), size, { autoOrient: false, resize });
  } catch (err) {
    if (err instanceof UnsupportedImageError) throw err;
    throw new CorruptImageError(`Cannot read the image ${path}: ${(err as Error).message}`, { path });
  }
}

/**
 * A source over image files (each sample carries its path). `padMask` (letterbox only): the source says where each
 * photo lies (contentOf), so pooling and maps leave the padding out.
 */
export function fileSource(samples: EngineSample[], resize: ResizeMode = 'squash', padMask = false, tiles: TileOptions = {}): SampleSource {
  const pathOf = (i: number): string => {
    const p = samples[i]!.path;
    if (!p) throw new Error(`Sample ${samples[i]!.id} has no file path`);
    return p;
  };
  const src: SampleSource = {
    count: samples.length,
    labelOf: (i) => samples[i]!.label,
    idOf: (i) => samples[i]!.id,
    keyOf: (i) => keyForPadMask(samples[i]!.key, resize, padMask),
    loadPixels: (i, size) => loadFileRgb(pathOf(i), size, resize),
  };
  if (resize === 'letterbox' && padMask) src.contentOf = contentMemo((i) => openFile(pathOf(i)));
  if (resize === 'tile') {
    src.gridOf = gridMemo((i) => openFile(pathOf(i)), tiles);
    src.loadTiles = async (i, size) => {
      const path = pathOf(i);
      try {
        return await sharpToTiles(await openFile(path), size, { autoOrient: false, tiles });
      } catch (err) {
        if (err instanceof UnsupportedImageError) throw err;
        throw new CorruptImageError(`Cannot read the image ${path}: ${(err as Error).message}`, { path });
      }
    };
  }
  return src;
}

/** A view of some samples of a source (e.g. one split). */
export function subset(src: SampleSource, indices: number[]): SampleSource {
  return {
    count: indices.length,
    labelOf: (i) => src.labelOf(indices[i]!),
    idOf: (i) => src.idOf(indices[i]!),
    keyOf: (i) => src.keyOf(indices[i]!),
    loadPixels: (i, size) => src.loadPixels(indices[i]!, size),
    ...(src.contentOf ? { contentOf: (i: number, size: number) => src.contentOf!(indices[i]!, size) } : {}),
    ...(src.gridOf ? { gridOf: (i: number) => src.gridOf!(indices[i]!) } : {}),
    ...(src.loadTiles ? { loadTiles: (i: number, size: number) => src.loadTiles!(indices[i]!, size) } : {}),
  };
}
