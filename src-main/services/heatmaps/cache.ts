/**
 * Disk cache of raw heatmaps under the project's cache/heatmaps/: one file per (run, image, method, class,
 * parameters). File: int32 header [magic, width, height, classes], float32 probabilities, float32 map.
 * Run folders carry a fingerprint of the run's model so a re-used run id never shows stale maps.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HeatmapMethod, HeatmapParams } from '../../shared/heatmap-types.ts';
import { HEATMAP_METHODS } from '../../shared/heatmap-types.ts';
import type { Grid } from './grid.ts';

const MAGIC = 0x314d484b; // 'KHM1'

export interface HeatmapKey {
  runId: number;
  imageId: number;
  method: HeatmapMethod;
  classIndex: number;
  paramsKey: string;
}

export interface CachedMap {
  map: Grid;
  probabilities: number[];
}

/** A short, file-name-safe key of the parameters that change a method's map. */
export function paramsKeyOf(method: HeatmapMethod, p: HeatmapParams = {}): string {
  if (method === 'smoothgrad') return `n${p.n ?? 50}-s${p.sigma ?? 0.1}`;
  if (method === 'gradcam' && p.layer) return `l-${p.layer.replace(/[^A-Za-z0-9_.-]/g, '')}`;
  return 'd';
}

/** Parameters back from a key (for on-demand computation of a media id). */
export function paramsFromKey(method: HeatmapMethod, key: string): HeatmapParams {
  if (method === 'smoothgrad') {
    const m = /^n(\d+)-s([\d.]+)$/.exec(key);
    return m ? { n: Number(m[1]), sigma: Number(m[2]) } : {};
  }
  if (method === 'gradcam' && key.startsWith('l-')) return { layer: key.slice(2) };
  return {};
}

export function mediaIdOf(k: HeatmapKey): string {
  return [k.runId, k.imageId, k.method, k.classIndex, k.paramsKey].join(':');
}

const METHODS = new Set<string>(HEATMAP_METHODS);

export function parseMediaId(id: string): HeatmapKey | null {
  const [run, img, method, cls, ...rest] = id.split(':');
  const k = {
    runId: Number(run),
    imageId: Number(img),
    method: method as HeatmapMethod,
    classIndex: Number(cls),
    paramsKey: rest.join(':'),
  };
  if (!Number.isInteger(k.runId) || !Number.isInteger(k.imageId) || !Number.isInteger(k.classIndex) || k.classIndex < 0) return null;
  if (!METHODS.has(k.method) || !/^[A-Za-z0-9_.-]+$/.test(k.paramsKey)) return null;
  return k;
}

export function runFingerprint(createdAt: string, modelDir: string | null): string {
  return createHash('sha1')
    .update(`${createdAt}|${modelDir ?? ''}`)
    .digest('hex')
    .slice(0, 8);
}

export class HeatmapCache {
  readonly root: string;
  private readonly fingerprints = new Map<number, string>();

  constructor(cacheDir: string) {
    this.root = join(cacheDir, 'heatmaps');
  }

  setRun(runId: number, fingerprint: string): void {
    this.fingerprints.set(runId, fingerprint);
  }

  runDir(runId: number): string {
    return join(this.root, `run-${runId}-${this.fingerprints.get(runId) ?? 'x'}`);
  }

  file(k: HeatmapKey, ext = 'bin'): string {
    return join(this.runDir(k.runId), String(k.imageId), `${k.method}-${k.classIndex}-${k.paramsKey}.${ext}`);
  }

  has(k: HeatmapKey): boolean {
    return existsSync(this.file(k));
  }

  write(k: HeatmapKey, map: Grid, probabilities: number[]): void {
    const f = this.file(k);
    mkdirSync(dirname(f), { recursive: true });
    const head = new Int32Array([MAGIC, map.width, map.height, probabilities.length]);
    const buf = Buffer.concat([
      Buffer.from(head.buffer),
      Buffer.from(Float32Array.from(probabilities).buffer),
      Buffer.from(map.data.buffer, map.data.byteOffset, map.data.byteLength),
    ]);
    const tmp = `${f}.${process.pid}.tmp`;
    writeFileSync(tmp, buf);
    renameSync(tmp, f);
  }

  read(k: HeatmapKey): CachedMap | null {
    const f = this.file(k);
    if (!existsSync(f)) return null;
    const b = readFileSync(f);
    const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    const head = new Int32Array(ab, 0, 4);
    if (head[0] !== MAGIC) return null;
    const [, w, h, c] = head as unknown as [number, number, number, number];
    const probabilities = Array.from(new Float32Array(ab, 16, c));
    const data = new Float32Array(ab, 16 + 4 * c, w * h);
    return { map: { width: w, height: h, data }, probabilities };
  }
}
