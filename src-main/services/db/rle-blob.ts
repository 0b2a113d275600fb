/**
 * How a mask's runs (shared/rle.ts) are stored in `regions.rle`: unsigned LEB128 varints, one per run. Storage
 * format, so it lives with the repositories; the catalog validates and builds runs, the repositories store them.
 */

export function rleToBlob(runs: readonly number[]): Buffer {
  const bytes: number[] = [];
  for (let n of runs) {
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      bytes.push(b);
    } while (n > 0);
  }
  return Buffer.from(bytes);
}

export function blobToRle(blob: Uint8Array): number[] {
  const runs: number[] = [];
  let n = 0;
  let mul = 1;
  for (const b of blob) {
    n += (b & 0x7f) * mul;
    if (b & 0x80) mul *= 128;
    else {
      runs.push(n);
      n = 0;
      mul = 1;
    }
  }
  return runs;
}
