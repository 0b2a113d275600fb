/**
 * Run-length encoding of defect masks (see `Region` in shared/library-types.ts):
 * row-major over the w*h bounding box, alternating runs of 0 and 1 starting with a 0-run.
 * Stored in the database as unsigned LEB128 varints (db/rle-blob.ts, the storage layer's half).
 */
import { ValidationError } from '../../shared/errors.ts';
export { decodeRle, encodeRle } from '../../shared/rle.ts';
import { encodeRle } from '../../shared/rle.ts';

export function validateRle(runs: readonly number[], w: number, h: number): void {
  let sum = 0;
  for (const n of runs) {
    if (!Number.isInteger(n) || n < 0) throw new ValidationError('A mask run length must be a whole number >= 0.');
    sum += n;
  }
  if (sum > w * h) throw new ValidationError(`The mask runs cover ${sum} pixels, more than its ${w}x${h} box.`);
}

/** Bounding box of the non-zero pixels of a full-image bitmap and the RLE inside it; null when empty. */
export function maskToRegion(
  bitmap: ArrayLike<number>,
  width: number,
  height: number,
): { x: number; y: number; w: number; h: number; rle: number[] } | null {
  let x0 = width,
    y0 = height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (bitmap[row + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const box = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) box[y * w + x] = bitmap[(y + y0) * width + x + x0] ? 1 : 0;
  return { x: x0, y: y0, w, h, rle: encodeRle(box) };
}
