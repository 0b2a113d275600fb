/**
 * One file of an import: read, recognised by its content, probed (every page of a multi-page TIFF when asked),
 * stored; or skipped with the reason the UI words (unreadable, empty, unsupported, corrupt, truncated, …).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import sharp from 'sharp';
import { CancelledError } from '../../shared/errors.ts';
import { findBySha } from '../db/repos/images.ts';
import { classifyDecodeError, DECODE_FAIL_ON, probeImage, sniffFormat, unsupportedFormatName, type ProbedImage } from './imaging.ts';
import type { ImportEntry } from './import-collect.ts';
import { skip, type ImportContext } from './import-context.ts';
import { claim, storeAndInsert } from './import-store.ts';

/** Extensions of image files: a file named so whose content is no readable image is reported as damaged. */
const IMAGE_EXTS = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.png',
  '.bmp',
  '.dib',
  '.tif',
  '.tiff',
  '.gif',
  '.webp',
  '.heic',
  '.heif',
  '.avif',
  '.jp2',
  '.j2k',
  '.pgm',
  '.ppm',
  '.psd',
  '.svg',
  '.raw',
  '.dng',
  '.cr2',
  '.nef',
]);

/** Imports one file (every page of a multi-page TIFF when the request asks), or reports why not. */
export async function importFile(ctx: ImportContext, entry: ImportEntry): Promise<void> {
  const { db, req, report } = ctx;
  const path = entry.path;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    skip(ctx, path, 'unreadable', `Cannot read the file: ${code}`, code);
    return;
  }
  if (bytes.length === 0) return skip(ctx, path, 'empty', 'The file is empty (0 bytes).');
  const fmt = sniffFormat(bytes);
  const ext = extname(path).toLowerCase();
  if (fmt === 'other-image') {
    // Said by content: a GIF named .jpg is "GIF is not supported", not a damaged JPEG.
    const format = unsupportedFormatName(bytes) ?? 'this image format';
    const named = ext ? ` (the file is named ${ext})` : '';
    report.skipped.push({
      path,
      reason: 'unsupported',
      message: `${format} is not supported${named}. Kensa reads JPEG, PNG, BMP and TIFF; convert the file to one of them.`,
      detail: ext,
      format,
    });
    return;
  }
  if (fmt === null) {
    if (IMAGE_EXTS.has(ext))
      return skip(ctx, path, 'corrupt', `The file is named ${ext} but its content is not a readable image (damaged?).`, ext);
    return skip(ctx, path, 'not-an-image', `Not an image file (${ext || 'no extension'}).`, ext);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  try {
    const probed = await probeImage(bytes, fmt);
    if (fmt === 'tiff' && probed.pages > 1 && req.tiffPages === 'all') {
      for (let page = 0; page < probed.pages; page++) {
        const png = await sharp(bytes, { page, autoOrient: true, failOn: DECODE_FAIL_ON }).png().toBuffer();
        const psha = createHash('sha256').update(png).digest('hex');
        const m = await sharp(png).metadata();
        const pp: ProbedImage = {
          format: 'png',
          width: m.width,
          height: m.height,
          channels: m.channels,
          bitDepth: m.bitsPerSample ?? 8,
          orientation: 1,
          pages: probed.pages,
        };
        const pe: ImportEntry = { ...entry };
        if (!claim(ctx, pe, psha, png)) continue;
        await storeAndInsert(ctx, pe, png, psha, 'png', page, pp);
      }
      return;
    }
    if (!claim(ctx, entry, sha256, bytes)) return;
    await storeAndInsert(ctx, entry, bytes, sha256, fmt, null, probed);
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
      const ex = findBySha(db, sha256);
      report.duplicates.push({ path, sha256, imageId: ex?.id ?? -1, of: 'import', existingPath: ex?.originalPath ?? '' });
      return;
    }
    if ((err as { code?: string }).code?.startsWith('SQLITE')) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw err;
    const c = classifyDecodeError(err, { bytes, format: fmt });
    const detail = c.message.split('\n')[0]!;
    skip(
      ctx,
      path,
      c.reason,
      `${
        c.reason === 'truncated'
          ? 'The image is truncated (incomplete file)'
          : c.reason === 'unsupported'
            ? 'Unsupported image variant'
            : c.reason === 'too-large'
              ? 'The image is too large'
              : 'The image is damaged'
      }: ${detail}`,
      detail,
    );
  } finally {
    ctx.claimed.delete(sha256);
  }
}
