/**
 * Reading images of every supported kind into sharp: JPEG, PNG (8/16 bit), TIFF (8/16 bit,
 * multi-page) natively, BMP through fast-bmp (sharp has no BMP reader). EXIF orientation is applied
 * for everything derived (thumbnails, display copies, model input); stored originals stay unchanged.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decode as decodeBmp } from 'fast-bmp';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { DECODER_NO_DETAIL, type ImageFormat, type ImageMeta } from '../../shared/library-types.ts';
import { CorruptImageError, UnsupportedImageError } from '../../shared/errors.ts';

export const THUMB_SIZE = 256;

/** What a file's header says: the decoding half of ImageMeta (size as displayed, EXIF orientation applied). */
export type ProbedImage = Pick<ImageMeta, 'format' | 'width' | 'height' | 'channels' | 'bitDepth' | 'orientation' | 'pages'>;

/** Format from magic bytes: a supported one, 'other-image' for known but unsupported ones, or null. */
export function sniffFormat(b: Uint8Array): ImageFormat | 'other-image' | null {
  const f = sniffAny(b);
  return f === null ? null : f.supported ? f.format : 'other-image';
}

/**
 * The name of a known image format Kensa does not read, from the bytes ("GIF", "WebP", "HEIF/AVIF", …), whatever the
 * file is called; null for the supported formats and for bytes that are no known image.
 */
export function unsupportedFormatName(b: Uint8Array): string | null {
  const f = sniffAny(b);
  return f && !f.supported ? f.name : null;
}

type Sniffed = { supported: true; format: ImageFormat } | { supported: false; name: string };

function sniffAny(b: Uint8Array): Sniffed | null {
  const known = sniffKnown(b);
  if (known !== 'other-image') return known === null ? null : { supported: true, format: known };
  const ascii = Buffer.from(b.subarray(0, 16)).toString('latin1');
  const name = ascii.startsWith('GIF8')
    ? 'GIF'
    : ascii.startsWith('RIFF')
      ? 'WebP'
      : ascii.slice(4, 8) === 'ftyp'
        ? /^(avif|avis)/.test(ascii.slice(8, 12))
          ? 'AVIF'
          : 'HEIF'
        : ascii.startsWith('II+') || ascii.startsWith('MM\0+')
          ? 'BigTIFF'
          : ascii.slice(4, 8) === 'jP  '
            ? 'JPEG 2000'
            : ascii.startsWith('8BPS')
              ? 'PSD'
              : ascii.startsWith('P5') || ascii.startsWith('P6')
                ? 'PGM/PPM'
                : ascii.startsWith('<svg')
                  ? 'SVG'
                  : ascii.startsWith('%PDF')
                    ? 'PDF'
                    : 'this image format';
  return { supported: false, name };
}

function sniffKnown(b: Uint8Array): ImageFormat | 'other-image' | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (
    b.length >= 4 &&
    ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))
  )
    return 'tiff';
  const ascii = Buffer.from(b.subarray(0, 16)).toString('latin1');
  if (ascii.startsWith('GIF8') || (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') || ascii.slice(4, 8) === 'ftyp')
    return 'other-image';
  if (ascii.startsWith('II+\0') || ascii.startsWith('MM\0+')) return 'other-image'; // BigTIFF
  if (b.length >= 12 && b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0x0c && ascii.slice(4, 8) === 'jP  ') return 'other-image';
  if (ascii.startsWith('8BPS') || ascii.startsWith('P5') || ascii.startsWith('P6') || ascii.startsWith('<svg') || ascii.startsWith('%PDF'))
    return 'other-image';
  return null;
}

export const STORE_EXT: Record<ImageFormat, string> = { jpeg: 'jpg', png: 'png', bmp: 'bmp', tiff: 'tif' };

interface DecodedBmp {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** BMP pixels (palette applied: grey stays 1 channel, colour palettes become RGB). */
export function decodeBmpPixels(buf: Uint8Array): DecodedBmp {
  if (buf.length >= 26) {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (dv.getUint32(14, true) === 12) assertPixelLimit(dv.getUint16(18, true), Math.abs(dv.getInt16(20, true)));
    else assertPixelLimit(Math.abs(dv.getInt32(18, true)), Math.abs(dv.getInt32(22, true)));
  }
  let img;
  try {
    img = decodeBmp(buf);
  } catch (err) {
    throw new UnsupportedImageError(`This BMP cannot be read: ${(err as Error).message}`);
  }
  const { width, height } = img;
  const data = img.data as Uint8Array;
  if (!width || !height) throw new CorruptImageError('The BMP header gives an impossible size.');
  assertPixelLimit(width, height);
  if (data.length < width * height * img.channels)
    throw new CorruptImageError('The BMP pixel data is shorter than its header says (truncated).');
  if (img.bitsPerPixel <= 8) {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const headerSize = dv.getUint32(14, true);
    let colours = buf.length >= 50 ? dv.getUint32(46, true) : 0;
    if (!colours) colours = 1 << img.bitsPerPixel;
    const palStart = 14 + headerSize;
    const pal: [number, number, number][] = [];
    for (let i = 0; i < colours && palStart + i * 4 + 3 <= buf.length; i++) {
      const o = palStart + i * 4;
      pal.push([buf[o + 2]!, buf[o + 1]!, buf[o]!]);
    }
    const grey = pal.every(([r, g, b]) => r === g && g === b);
    if (pal.length === 0) {
      if (img.bitsPerPixel === 1) for (let i = 0; i < data.length; i++) data[i] = data[i] ? 255 : 0;
      return { data, width, height, channels: 1 };
    }
    if (grey) {
      const out = new Uint8Array(width * height);
      for (let i = 0; i < out.length; i++) out[i] = pal[data[i]!]?.[0] ?? 0;
      return { data: out, width, height, channels: 1 };
    }
    const out = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      const c = pal[data[i]!] ?? [0, 0, 0];
      out[i * 3] = c[0];
      out[i * 3 + 1] = c[1];
      out[i * 3 + 2] = c[2];
    }
    return { data: out, width, height, channels: 3 };
  }
  return { data, width, height, channels: img.channels as 3 | 4 };
}

/**
 * The one decoding rule for every reader (import, thumbnails, training, heatmaps, predict, inspect): libvips fails on
 * errors, not only on truncation, so a PNG whose chunk CRC does not match its bytes is refused everywhere as damaged
 * (it was accepted at import and refused at predict). JPEG warnings (stray bytes before a marker) still pass.
 */
export const DECODE_FAIL_ON = 'error' as const;

/** sharp's (libvips') default limit on width x height; the import reports a larger image as too large, not damaged. */
export const MAX_INPUT_PIXELS = 0x3fff * 0x3fff;

function assertPixelLimit(width: number, height: number): void {
  if (width * height > MAX_INPUT_PIXELS)
    throw new UnsupportedImageError(
      `The image is ${width} x ${height} pixels, over the limit of ${MAX_INPUT_PIXELS.toLocaleString('en')} pixels (too large). Scale it down first.`,
      { tooLarge: true, width, height },
    );
}

/** A sharp pipeline over an image file's bytes, EXIF-oriented, the given page (default first). */
export function openImageBytes(buf: Buffer, format: ImageFormat, page = 0): Sharp {
  if (format === 'bmp') {
    const px = decodeBmpPixels(buf);
    return sharp(Buffer.from(px.data.buffer, px.data.byteOffset, px.data.byteLength), {
      raw: { width: px.width, height: px.height, channels: px.channels },
    });
  }
  return sharp(buf, { autoOrient: true, page, failOn: DECODE_FAIL_ON });
}

export async function probeImage(buf: Buffer, format: ImageFormat): Promise<ProbedImage> {
  if (format === 'bmp') {
    const px = decodeBmpPixels(buf);
    return { format, width: px.width, height: px.height, channels: px.channels, bitDepth: 8, orientation: 1, pages: 1 };
  }
  let m: Metadata;
  try {
    m = await sharp(buf).metadata();
  } catch (err) {
    throw new CorruptImageError(`Not a readable ${format.toUpperCase()}: ${(err as Error).message}`);
  }
  const bitDepth =
    m.depth === 'ushort' || m.depth === 'short'
      ? 16
      : m.depth === 'float' || m.depth === 'uint' || m.depth === 'int'
        ? 32
        : (m.bitsPerSample ?? 8);
  assertPixelLimit(m.width, m.height);
  return {
    format,
    width: m.autoOrient?.width ?? m.width,
    height: m.autoOrient?.height ?? m.height,
    channels: m.channels,
    bitDepth: format === 'png' ? (m.bitsPerSample ?? bitDepth) : bitDepth,
    orientation: m.orientation ?? 1,
    pages: m.pages ?? 1,
  };
}

/** Writes `data` to `file` atomically (temp file + rename); leaves an existing file alone. */
export function writeOnce(file: string, data: Uint8Array): void {
  if (existsSync(file)) return;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Writes `data` to `file` atomically (temp file + rename), replacing what is there. */
export function writeReplacing(file: string, data: Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

export function thumbPath(cacheDir: string, sha256: string): string {
  return join(cacheDir, 'thumbs', sha256.slice(0, 2), `${sha256}.jpg`);
}

export function displayPath(cacheDir: string, sha256: string): string {
  return join(cacheDir, 'display', sha256.slice(0, 2), `${sha256}.png`);
}

/** Thumbnail JPEG bytes (decodes the whole image: a truncated or corrupt file fails here). */
export async function makeThumbnail(pipeline: Sharp): Promise<Buffer> {
  return pipeline
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** A displayable 8-bit PNG of any stored image (BMP, TIFF, 16-bit PNG). */
export async function makeDisplayPng(buf: Buffer, format: ImageFormat): Promise<Buffer> {
  return openImageBytes(buf, format).toColourspace('srgb').png({ compressionLevel: 3 }).toBuffer();
}

export async function readBytes(path: string): Promise<Buffer> {
  return readFile(path);
}

/**
 * Whether a JPEG or PNG file stops before its end (JPEG: no EOI marker, ignoring zero or 0xFF padding; PNG: well-formed
 * chunks up to the end of the file, or a chunk running past it, and no IEND). Decided from the bytes because libvips'
 * message cannot be relied on: with several decodes in flight it often loses the text and says "Unknown error".
 */
export function endsEarly(bytes: Uint8Array, format: ImageFormat): boolean {
  if (format === 'jpeg') {
    let end = bytes.length;
    while (end > 2 && (bytes[end - 1] === 0x00 || bytes[end - 1] === 0xff)) end--;
    return !(bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9);
  }
  if (format === 'png') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const isLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    for (let at = 8; ;) {
      if (at + 8 > bytes.length) return true;
      const length = view.getUint32(at);
      const type = bytes.subarray(at + 4, at + 8);
      if (!type.every(isLetter)) return false; // not a chunk: damaged, not cut short
      if (String.fromCharCode(...type) === 'IEND') return false;
      at += 12 + length;
      if (at > bytes.length) return true;
    }
  }
  return false;
}

/** Maps a sharp/libvips failure to the import report's reason (the file's bytes, when given, settle truncation). */
export function classifyDecodeError(
  err: unknown,
  file?: { bytes: Uint8Array; format: ImageFormat },
): { reason: 'truncated' | 'corrupt' | 'unsupported' | 'too-large'; message: string } {
  const raw = (err as Error).message ?? String(err);
  const msg = /^unknown error$/i.test(raw.trim()) ? DECODER_NO_DETAIL : raw;
  if ((err as { detail?: { tooLarge?: boolean } }).detail?.tooLarge || /exceeds pixel limit|too large/i.test(msg))
    return { reason: 'too-large', message: msg };
  if (err instanceof UnsupportedImageError || /unsupported|not supported|Invalid number of bits|Only BI_RGB/i.test(msg))
    return { reason: 'unsupported', message: msg };
  if (
    /truncat|premature end|short read|end of (file|data)|EOF|insufficient|out of data/i.test(msg) ||
    (file && endsEarly(file.bytes, file.format))
  )
    return { reason: 'truncated', message: msg };
  return { reason: 'corrupt', message: msg };
}
