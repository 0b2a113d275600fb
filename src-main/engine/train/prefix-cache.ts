/**
 * Fine-tuning with fixed augmentation: the frozen prefix (blocks 0..cut, BN in inference mode) gives the same output
 * for an (image, variant) item in every epoch, so it is computed once and kept here; a fine-tune step then runs only
 * the trainable blocks. Not used with random extras (rotation, brightness, contrast, crop): those change the input
 * every epoch.
 *
 * Memory budget: up to `memoryBytes` of float32 features are kept in memory (default 1 GiB, at most a quarter of the
 * machine's memory). Items beyond it go to one scratch file as float16 (half the bytes; relative error <= 2^-11 in the
 * normal range), up to `diskBytes` (default 8 GiB, at most half the disk's free space); items beyond both are
 * recomputed every epoch, as without the cache.
 * The scratch file lives in a fresh folder that dispose() removes; folders left by a process that died (crash, kill -9)
 * are removed by the next cache that makes one.
 *
 * Sizes (v1, N = 6, prefix = blocks 0..7, 3 variants per training image): 0.75 at 224 px is 14x14x384 floats =
 * 301 KB per item (1,000 training images: 0.9 GB float32); at 520 px 33x33x384 = 1.67 MB (2.5 GB float16 on disk).
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrefixCacheOptions {
  /** Bytes of float32 features kept in memory. */
  memoryBytes?: number;
  /** Bytes of float16 features kept in the scratch file; 0 = no disk. */
  diskBytes?: number;
}

export const DEFAULT_PREFIX_MEMORY_BYTES = Math.min(2 ** 30, Math.floor(totalmem() / 4));
export const DEFAULT_PREFIX_DISK_BYTES = 8 * 2 ** 30;

// ---------------------------------------------------------------- float16

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a float32 (round to nearest, ties to even; overflow gives ±Infinity). */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const e = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const exp = e - 127 + 15;
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa moves to the next exponent (or to Infinity), which is the right rounding.
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Every binary16 code as a float32 (decoding is one look-up). */
const HALF_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

export function fromHalfBits(h: number): number {
  return HALF_TABLE[h & 0xffff]!;
}

export function encodeHalf<T extends Uint16Array>(src: Float32Array, out: T): T;
export function encodeHalf(src: Float32Array): Uint16Array<ArrayBuffer>;
export function encodeHalf(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) out[i] = toHalfBits(src[i]!);
  return out;
}

export function decodeHalf(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  for (let i = 0; i < src.length; i++) out[i] = HALF_TABLE[src[i]!]!;
  return out;
}

// ---------------------------------------------------------------- cache

export interface PrefixCacheStats {
  /** Items read from the cache. */
  hits: number;
  /** Items the cache lacked (computed). */
  misses: number;
  memoryItems: number;
  diskItems: number;
  /** Items that fitted neither budget (recomputed each time). */
  refused: number;
}

export class PrefixCache {
  /** Floats per item (h x w x c of the prefix output). */
  readonly itemFloats: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
  private readonly scratchRoot: string;
  private readonly mem = new Map<string, Float32Array>();
  /** Key → item slot in the scratch file. */
  private readonly slots = new Map<string, number>();
  private scratch: { dir: string; fd: number; limit: number } | null = null;
  private readonly half: Uint16Array<ArrayBuffer>;
  readonly stats: PrefixCacheStats = { hits: 0, misses: 0, memoryItems: 0, diskItems: 0, refused: 0 };

  /** @param scratchRoot folder under which the scratch folder is made (the project's cache/ or the OS temp folder) */
  constructor(itemFloats: number, scratchRoot: string | null, opts: PrefixCacheOptions = {}) {
    this.itemFloats = itemFloats;
    this.memoryBytes = Math.max(0, opts.memoryBytes ?? DEFAULT_PREFIX_MEMORY_BYTES);
    this.diskBytes = Math.max(0, opts.diskBytes ?? DEFAULT_PREFIX_DISK_BYTES);
    this.scratchRoot = join(scratchRoot ?? tmpdir(), 'prefix-cache');
    this.half = new Uint16Array(itemFloats);
  }

  private get memoryUsed(): number {
    return this.mem.size * this.itemFloats * 4;
  }

  has(key: string): boolean {
    return this.mem.has(key) || this.slots.has(key);
  }

  /** The item's features (a view the caller must not change), or null. */
  get(key: string): Float32Array | null {
    const m = this.mem.get(key);
    if (m) {
      this.stats.hits++;
      return m;
    }
    const slot = this.slots.get(key);
    if (slot === undefined || !this.scratch) {
      this.stats.misses++;
      return null;
    }
    const bytes = this.itemFloats * 2;
    readSync(this.scratch.fd, this.half, 0, bytes, slot * bytes);
    this.stats.hits++;
    return decodeHalf(this.half);
  }

  /** Keeps an item's features (copied): in memory while the budget allows, else float16 on disk, else not at all. */
  put(key: string, v: Float32Array): void {
    if (v.length !== this.itemFloats) throw new RangeError(`prefix features of ${v.length} floats, expected ${this.itemFloats}`);
    if (this.has(key)) return;
    if (this.memoryUsed + this.itemFloats * 4 <= this.memoryBytes) {
      this.mem.set(key, v.slice());
      this.stats.memoryItems++;
      return;
    }
    const bytes = this.itemFloats * 2;
    const need = (this.slots.size + 1) * bytes;
    const scratch = need <= this.diskBytes ? this.scratchFile() : null;
    if (!scratch || need > scratch.limit) {
      this.stats.refused++;
      return;
    }
    const fd = scratch.fd;
    const slot = this.slots.size;
    writeSync(fd, encodeHalf(v, this.half), 0, bytes, slot * bytes);
    this.slots.set(key, slot);
    this.stats.diskItems++;
  }

  /** The scratch file, made on first use; null when the disk budget is 0. */
  private scratchFile(): { dir: string; fd: number; limit: number } | null {
    if (this.scratch || this.diskBytes === 0) return this.scratch;
    mkdirSync(this.scratchRoot, { recursive: true });
    removeStaleScratch(this.scratchRoot);
    const fs = statfsSync(this.scratchRoot);
    const limit = Math.min(this.diskBytes, Math.floor((fs.bavail * fs.bsize) / 2));
    const dir = mkdtempSync(join(this.scratchRoot, `${process.pid}-`));
    this.scratch = { dir, fd: openSync(join(dir, 'features.f16'), 'w+'), limit };
    return this.scratch;
  }

  /** Frees the memory and removes the scratch file. */
  dispose(): void {
    this.mem.clear();
    this.slots.clear();
    if (this.scratch) {
      closeSync(this.scratch.fd);
      rmSync(this.scratch.dir, { recursive: true, force: true });
      this.scratch = null;
    }
  }
}

/** Removes scratch folders of processes that are gone (a crash or kill -9 skips dispose()). */
function removeStaleScratch(root: string): void {
  for (const d of readdirSync(root)) {
    const pid = Number(/^(\d+)-/.exec(d)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    rmSync(join(root, d), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Batches of prefix features for `items`: cached items are read, the others are loaded (`load`, one batch of
 * look-ahead), run through the prefix (`compute`: features of the loaded batch, batch-major) and kept.
 * Yields the batch's items and their features (items.length x cache.itemFloats, batch-major).
 */
export async function* cachedFeatureBatches<I>(
  cache: PrefixCache,
  items: I[],
  batchSize: number,
  keyOf: (it: I) => string,
  load: (its: I[]) => Promise<Uint8Array[]>,
  compute: (pixels: Uint8Array[]) => Promise<Float32Array>,
): AsyncGenerator<{ items: I[]; features: Float32Array }> {
  const F = cache.itemFloats;
  const start = (k: number) => {
    const part = items.slice(k, k + batchSize);
    const missing = part.map((it, j) => [it, j] as const).filter(([it]) => !cache.has(keyOf(it)));
    const p = missing.length ? load(missing.map(([it]) => it)) : Promise.resolve([]);
    p.catch(() => undefined); // handled when awaited
    return { part, missing, p };
  };
  let next = items.length ? start(0) : null;
  for (let k = 0; next; k += batchSize) {
    const cur = next;
    const pixels = await cur.p;
    next = k + batchSize < items.length ? start(k + batchSize) : null;
    const out = new Float32Array(cur.part.length * F);
    const computed = new Set<number>();
    if (cur.missing.length) {
      cache.stats.misses += cur.missing.length;
      const feats = await compute(pixels);
      cur.missing.forEach(([it, j], m) => {
        const v = feats.subarray(m * F, (m + 1) * F);
        out.set(v, j * F);
        cache.put(keyOf(it), v);
        computed.add(j);
      });
    }
    cur.part.forEach((it, j) => {
      if (computed.has(j)) return;
      const v = cache.get(keyOf(it));
      if (!v) throw new Error('prefix cache lost an item it held');
      out.set(v, j * F);
    });
    yield { items: cur.part, features: out };
  }
}
