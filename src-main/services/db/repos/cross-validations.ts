/**
 * Cross-validation groups in the catalog: one JSON record per group in `project_meta` under `cross_validation:<id>`
 * (a group is a handful of facts; its folds are runs carrying its tag, so no table of its own is needed).
 */
import type { CrossValidationRecord } from '../../../shared/cross-validation.ts';
import type { Db } from '../open.ts';

const PREFIX = 'cross_validation:';

function mapRecord(value: string): CrossValidationRecord | null {
  try {
    const r = JSON.parse(value) as CrossValidationRecord;
    return typeof r.id === 'string' && r.spec ? r : null;
  } catch {
    return null;
  }
}

export function putCrossValidation(db: Db, r: CrossValidationRecord): void {
  db.prepare('INSERT INTO project_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
    PREFIX + r.id,
    JSON.stringify(r),
  );
}

export function getCrossValidation(db: Db, id: string): CrossValidationRecord | null {
  const v = db
    .prepare('SELECT value FROM project_meta WHERE key = ?')
    .pluck()
    .get(PREFIX + id) as string | undefined;
  return v === undefined ? null : mapRecord(v);
}

/** Every group, newest first. */
export function listCrossValidations(db: Db): CrossValidationRecord[] {
  // substr rather than LIKE: an id with "_" or "%" must not match other keys.
  const rows = db.prepare('SELECT value FROM project_meta WHERE substr(key, 1, ?) = ?').pluck().all(PREFIX.length, PREFIX) as string[];
  return rows
    .map(mapRecord)
    .filter((r): r is CrossValidationRecord => r !== null)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}
