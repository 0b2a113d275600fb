/**
 * Disk cache of backbone embeddings (GAP of the last conv block) for the transfer phase, under the
 * project's cache/embeddings/. One folder per (backbone, input size, weights fingerprint, preprocessing
 * version); one small file per (image content hash, augmentation variant). A change to any of those
 * gives a new folder, so stale vectors are never read; old folders are pruned by age.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export const PREPROCESSING_VERSION = 'rgb-fill-[-1,1]-v1';

export interface EmbeddingCacheKey {
  backbone: string;
  inputSize: number;
  weightsFingerprint: string;
  channels: number;
}

export class EmbeddingCache {
  readonly dir: string | null;
  readonly channels: number;
  hits = 0;
  misses = 0;

  constructor(root: string | null, key: EmbeddingCacheKey) {
    this.channels = key.channels;
    if (!root) {
      this.dir = null;
      return;
    }
    const id = createHash('sha256')
      .update(JSON.stringify({ ...key, prep: PREPROCESSING_VERSION }))
      .digest('hex')
      .slice(0, 20);
    this.dir = join(root, 'embeddings', `${key.backbone}-${key.inputSize}-${id}`);
    mkdirSync(this.dir, { recursive: true });
    const meta = join(this.dir, 'meta.json');
    if (!existsSync(meta))
      writeFileSync(meta, JSON.stringify({ ...key, prep: PREPROCESSING_VERSION, createdAt: new Date().toISOString() }));
  }

  private file(imageKey: string, variant: number): string {
    return join(this.dir!, `${imageKey.replace(/[^A-Za-z0-9_-]/g, '_')}.${variant}.f32`);
  }

  get(imageKey: string, variant: number): Float32Array | null {
    if (!this.dir) return null;
    const f = this.file(imageKey, variant);
    try {
      const b = readFileSync(f);
      if (b.byteLength !== this.channels * 4) return null;
      this.hits++;
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    } catch {
      this.misses++;
      return null;
    }
  }

  put(imageKey: string, variant: number, v: Float32Array): void {
    if (!this.dir) return;
    const f = this.file(imageKey, variant);
    const tmp = `${f}.${process.pid}.tmp`;
    writeFileSync(tmp, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    renameSync(tmp, f);
  }
}

/** Removes embedding folders not used for `maxAgeDays` (by modification time). */
export function pruneEmbeddingCache(root: string, maxAgeDays = 30): number {
  const dir = join(root, 'embeddings');
  if (!existsSync(dir)) return 0;
  let n = 0;
  const cutoff = Date.now() - maxAgeDays * 86400_000;
  for (const d of readdirSync(dir)) {
    const p = join(dir, d);
    if (statSync(p).mtimeMs < cutoff) {
      rmSync(p, { recursive: true, force: true });
      n++;
    }
  }
  return n;
}
