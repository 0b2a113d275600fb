/**
 * Reads the NEU-DET development set (../shared/datasets/neu-det) straight from its folders: used by
 * tests, the bench and acceptance runs before / without the catalog.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { appRoot } from '../../paths.ts';
import { createRng, shuffleInPlace } from '../train/rng.ts';
import type { EngineSample } from './source.ts';

export const NEU_DIR = resolve(appRoot, '..', 'shared', 'datasets', 'neu-det');
export const NEU_CLASSES = ['crazing', 'inclusion', 'patches', 'pitted_surface', 'rolled-in_scale', 'scratches'] as const;

export function neuAvailable(dir = NEU_DIR): boolean {
  return existsSync(join(dir, 'manifest.csv'));
}

export interface NeuOptions {
  dir?: string;
  /** Images per class (default all 300). */
  perClass?: number;
  /** Only these classes (default all six). */
  classes?: readonly string[];
  valFraction?: number;
  testFraction?: number;
  seed?: number;
}

/** NEU samples with a stratified split (76/24 by default, seed 1), keys = the manifest's sha256. */
export function neuSamples(opts: NeuOptions = {}): { classes: string[]; samples: EngineSample[] } {
  const dir = opts.dir ?? NEU_DIR;
  const classes = [...(opts.classes ?? NEU_CLASSES)];
  const lines = readFileSync(join(dir, 'manifest.csv'), 'utf8').trim().split('\n').slice(1);
  const byClass = new Map<string, { path: string; sha: string }[]>();
  for (const line of lines) {
    const [image, cls, , , , , sha] = line.split(',');
    if (!image || !cls || !classes.includes(cls)) continue;
    const list = byClass.get(cls) ?? [];
    list.push({ path: join(dir, image), sha: sha ?? createHash('sha256').update(image).digest('hex') });
    byClass.set(cls, list);
  }
  const rng = createRng(opts.seed ?? 1);
  const valF = opts.valFraction ?? 0.24;
  const testF = opts.testFraction ?? 0;
  const samples: EngineSample[] = [];
  let id = 1;
  classes.forEach((cls, label) => {
    const list = (byClass.get(cls) ?? []).sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
    const picked = shuffleInPlace(list.slice(), rng).slice(0, opts.perClass ?? list.length);
    const nVal = Math.round(picked.length * valF);
    const nTest = Math.round(picked.length * testF);
    picked.forEach((p, k) => {
      const split = k < nVal ? 'val' : k < nVal + nTest ? 'test' : 'train';
      samples.push({ id: id++, key: p.sha, label, split, path: p.path });
    });
  });
  return { classes, samples };
}
