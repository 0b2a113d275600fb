/** The project's key/value facts (`project_meta`: name, creation time, demo flag, split settings). */
import type { Db } from '../open.ts';

export function getMeta(db: Db, key: string): string | null {
  return (db.prepare('SELECT value FROM project_meta WHERE key = ?').pluck().get(key) as string | undefined) ?? null;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO project_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** Images in the catalog; 0 for a catalog whose images table does not exist yet (a project being created). */
export function imageCountIfAny(db: Db): number {
  const hasImages = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='images'").get() !== undefined;
  return hasImages ? (db.prepare('SELECT COUNT(*) FROM images').pluck().get() as number) : 0;
}
