/**
 * Core types of the images an anomaly job scores or learns from. Catalog images carry theirs in the catalog (set at
 * import or edited), read here over a read-only connection so that every caller of the anomaly jobs (runs, Inspect,
 * predict, heatmaps) gets per-type scoring without sending types; a file sample may bring its own.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { listExportImages } from '../../services/db/repos/image-lookups.ts';
import type { EngineSample } from '../../services/training/data/source.ts';
import type { SourceSpec } from '../../services/engine/job-types.ts';
import { CATALOG_FILE } from '../../services/projects/project.ts';

/** The catalog's word for an image whose type nobody set. */
export const UNKNOWN_TYPE = 'unknown';

/** Core type per sample ('unknown' where none is known). */
export function sampleCoreTypes(spec: SourceSpec, samples: readonly (EngineSample & { coreType?: string })[]): string[] {
  const own = samples.map((s) => s.coreType ?? null);
  if (spec.kind !== 'catalog' || own.every((t) => t !== null)) return own.map((t) => t ?? UNKNOWN_TYPE);
  const db = new Database(join(spec.projectDir, CATALOG_FILE), { readonly: true, fileMustExist: true });
  try {
    const byId = new Map(listExportImages(db).map((r) => [r.id, r.coreType as string]));
    return samples.map((s, i) => own[i] ?? (s.path ? undefined : byId.get(s.id)) ?? UNKNOWN_TYPE);
  } finally {
    db.close();
  }
}

/** Good images of a type needed before that type gets its own bank. */
export const MIN_TYPE_IMAGES = 10;

/**
 * Whether the good training images call for one bank per core type: two or more known types with at least
 * MIN_TYPE_IMAGES images each. @returns the types that get a bank (unknown-type images get one too, when present)
 */
export function bankTypes(trainTypes: readonly string[]): string[] | null {
  const counts = new Map<string, number>();
  for (const t of trainTypes) counts.set(t, (counts.get(t) ?? 0) + 1);
  const known = [...counts].filter(([t, n]) => t !== UNKNOWN_TYPE && n >= MIN_TYPE_IMAGES).map(([t]) => t);
  if (known.length < 2) return null;
  // Types too small for a bank of their own, and unknown-type images, share one remaining bank, scored with the rest.
  const rest = [...counts.keys()].some((t) => !known.includes(t));
  return [...known.sort(), ...(rest ? [UNKNOWN_TYPE] : [])];
}
