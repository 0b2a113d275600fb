/**
 * Run-length coding of defect masks, the contract of `Region.rle` (shared/library-types.ts):
 * row-major over the w*h bounding box, alternating runs of 0 and 1 starting with a 0-run.
 * Shared by the catalog (storage, validation) and the labeller (brush strokes).
 */
import { ValidationError } from './errors.ts';

/** Runs of a bitmap (any non-zero = inside). */
export function encodeRle(bitmap: ArrayLike<number>): number[] {
  const runs: number[] = [];
  let cur = 0;
  let n = 0;
  for (let i = 0; i < bitmap.length; i++) {
    const v = bitmap[i] ? 1 : 0;
    if (v === cur) n++;
    else {
      runs.push(n);
      cur = v;
      n = 1;
    }
  }
  runs.push(n);
  return runs;
}

/** Bitmap of w*h (1 = inside) from runs; ValidationError when the runs do not fit the box. */
export function decodeRle(runs: readonly number[], w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  let pos = 0;
  for (let i = 0; i < runs.length; i++) {
    const n = runs[i]!;
    if (!Number.isInteger(n) || n < 0) throw new ValidationError('A mask run length must be a whole number >= 0.');
    if (pos + n > out.length) throw new ValidationError(`The mask runs cover more than its ${w}x${h} box.`);
    if (i % 2 === 1) out.fill(1, pos, pos + n);
    pos += n;
  }
  return out;
}
