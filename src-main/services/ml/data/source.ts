/**
 * Where training images come from. The training core only sees a SampleSource; adapters map the
 * catalog (engine side: read-only) or plain files (tests, bench, CLI predict) onto it.
 */
import { readFile } from 'node:fs/promises';
import type { Sharp } from 'sharp';
import { CorruptImageError, UnsupportedImageError } from '../../../shared/errors.ts';
import { openImageBytes, sniffFormat, unsupportedFormatName } from '../../catalog/imaging.ts';
import { fitGeometry, keyForResize, PAD_VALUE, paddingOf, type ResizeMode } from './geometry.ts';

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
  close?(): void;
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
    const m = await img.metadata();
    let w = m.width ?? size;
    let h = (m.pages ?? 1) > 1 && m.pageHeight ? m.pageHeight : (m.height ?? size);
    // Inputs opened by openImageBytes auto-orient in the constructor too: a 90° EXIF turn swaps the sides either way.
    if ((m.orientation ?? 1) >= 5) [w, h] = [h, w];
    const g = fitGeometry(w, h, size, 'letterbox');
    const bg = { r: PAD_VALUE, g: PAD_VALUE, b: PAD_VALUE, alpha: 1 };
    pipe = pipe.resize(g.content.w, g.content.h, { fit: 'fill' }).extend({ ...paddingOf(g), background: bg });
  } else {
    pipe = pipe.resize(size, size, { fit: 'fill' });
  }
  const { data, info } = await pipe.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const n = size * size;
  if (info.channels === 3) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(n * 3);
  const ch = info.channels;
  for (let p = 0; p < n; p++) {
    const v = data[p * ch]!;
    out[p * 3] = v;
    out[p * 3 + 1] = v;
    out[p * 3 + 2] = v;
  }
  return out;
}

/**
 * An image file as model input, decoded by the same rule as the import (format from the bytes, BMP through the same
 * reader, libvips failing on errors such as a PNG CRC mismatch): what the import accepts predicts, what it refuses
 * is refused here with the same reason.
 */
export async function loadFileRgb(path: string, size: number, resize: ResizeMode = 'squash'): Promise<Uint8Array> {
  try {
    const bytes = await readFile(path);
    const format = sniffFormat(bytes);
    if (format === null || format === 'other-image')
      throw new UnsupportedImageError(`${unsupportedFormatName(bytes) ?? 'This file'} is not a JPEG, PNG, BMP or TIFF image.`, { path });
    return await sharpToRgb(openImageBytes(bytes, format), size, { autoOrient: false, resize });
  } catch (err) {
    if (err instanceof UnsupportedImageError) throw err;
    throw new CorruptImageError(`Cannot read the image ${path}: ${(err as Error).message}`, { path });
  }
}

/** A source over image files (each sample carries its path). */
export function fileSource(samples: EngineSample[], resize: ResizeMode = 'squash'): SampleSource {
  return {
    count: samples.length,
    labelOf: (i) => samples[i]!.label,
    idOf: (i) => samples[i]!.id,
    keyOf: (i) => keyForResize(samples[i]!.key, resize),
    loadPixels: (i, size) => {
      const p = samples[i]!.path;
      if (!p) throw new Error(`Sample ${samples[i]!.id} has no file path`);
      return loadFileRgb(p, size, resize);
    },
  };
}

/** A view of some samples of a source (e.g. one split). */
export function subset(src: SampleSource, indices: number[]): SampleSource {
  return {
    count: indices.length,
    labelOf: (i) => src.labelOf(indices[i]!),
    idOf: (i) => src.idOf(indices[i]!),
    keyOf: (i) => src.keyOf(indices[i]!),
    loadPixels: (i, size) => src.loadPixels(indices[i]!, size),
  };
}
