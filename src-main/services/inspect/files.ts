/**
 * Which files an inspection looks at: folders walked like the import walks them, every file judged like the import
 * judges it (same reason codes), and the skip code of a photo the engine could not read.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { extname, isAbsolute } from 'node:path';
import type { InspectSkip } from '../../shared/api/inspect.ts';
import type { ImageFormat } from '../../shared/library-types.ts';
import { classifyDecodeError, sniffFormat } from '../library/imaging.ts';
import { collectEntries } from '../library/import.ts';

export const INSPECT_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff']);

/** The first bytes of a file (enough for sniffFormat) and its size. */
function head(path: string): { bytes: Buffer; size: number } {
  const fd = openSync(path, 'r');
  try {
    const bytes = Buffer.alloc(64);
    const n = readSync(fd, bytes, 0, bytes.length, 0);
    return { bytes: bytes.subarray(0, n), size: statSync(path).size };
  } finally {
    closeSync(fd);
  }
}

/** Why a file cannot be inspected, judged like the import does (same codes), or null when it looks like an image. */
export function precheckFile(path: string): InspectSkip | null {
  const ext = extname(path).toLowerCase();
  let h: { bytes: Buffer; size: number };
  try {
    h = head(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    if (code === 'ENOENT') return { path, code: 'missing', reason: 'The file does not exist (moved or deleted?).' };
    return { path, code: 'unreadable', reason: `Cannot read the file: ${code}` };
  }
  const fmt = sniffFormat(h.bytes);
  if (fmt && fmt !== 'other-image') return null;
  if (!INSPECT_EXTENSIONS.has(ext) && fmt === null)
    return { path, code: 'not-an-image', reason: `Not an image file (${ext || 'no extension'}).` };
  if (h.size === 0) return { path, code: 'empty', reason: 'The file is empty (0 bytes).' };
  if (fmt === 'other-image')
    return {
      path,
      code: 'unsupported',
      reason: `Unsupported image format (${ext || 'no extension'}). Kensa reads JPEG, PNG, BMP and TIFF.`,
    };
  return { path, code: 'corrupt', reason: `The file is named ${ext} but its content is not a readable image (damaged?).` };
}

/**
 * Files to inspect from the request's paths (folders walked), with what is left out and why. A path that does not
 * exist is reported ('missing') and the others are still inspected.
 */
export function collectInspectFiles(paths: string[]): { files: string[]; skipped: InspectSkip[] } {
  const files: string[] = [];
  const skipped: InspectSkip[] = [];
  const present: string[] = [];
  for (const p of paths) {
    try {
      statSync(p);
      present.push(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      skipped.push(
        code === 'ENOENT' || code === 'ENOTDIR'
          ? { path: p, code: 'missing', reason: 'No such file or folder (moved, renamed or not connected?).' }
          : { path: p, code: 'unreadable', reason: `Cannot read it: ${code}` },
      );
    }
  }
  for (const e of present.length ? collectEntries({ paths: present }) : []) {
    const why = precheckFile(e.path);
    if (why) skipped.push(why);
    else files.push(e.path);
  }
  return { files, skipped };
}

/** The skip code of a photo the engine could not read or predict. */
export function failureOf(path: string, err: unknown): InspectSkip {
  const e = err as Error;
  const text = `${e.name}: ${e.message}`;
  if (e.name === 'NotFoundError') return { path, code: 'missing', reason: text };
  if (e.name === 'UnsupportedImageError') return { path, code: 'unsupported', reason: text };
  if (e.name === 'CorruptImageError') {
    let file: { bytes: Uint8Array; format: ImageFormat } | undefined;
    // A catalog image ("#id") or a file gone since: the message alone decides.
    if (isAbsolute(path)) {
      try {
        const bytes = readFileSync(path);
        const format = sniffFormat(bytes);
        if (format && format !== 'other-image') file = { bytes, format };
      } catch {
        // unreadable now: the message decides
      }
    }
    return { path, code: classifyDecodeError(err, file).reason, reason: text };
  }
  return { path, code: 'failed', reason: text };
}
