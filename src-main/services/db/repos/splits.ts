/** What the split logic (catalog/splits.ts) reads and writes of the images: labels, group keys, splits. */
import type { Split } from '../../../shared/library-types.ts';
import type { Db } from '../open.ts';

/** An image as the splitter sees it. */
export interface SplitImage {
  id: number;
  labelId: number | null;
  groupKey: string | null;
  split: Split;
}

interface SplitImageRow {
  id: number;
  label_id: number | null;
  group_key: string | null;
  split: Split;
}

export function listSplitImages(db: Db): SplitImage[] {
  return (db.prepare('SELECT id, label_id, group_key, split FROM images').all() as SplitImageRow[]).map((r) => ({
    id: r.id,
    labelId: r.label_id,
    groupKey: r.group_key,
    split: r.split,
  }));
}

/** How many images share each (label, group, split): what a split assigner is primed with. */
export function splitCells(db: Db): { labelId: number | null; groupKey: string | null; split: Split; n: number }[] {
  const rows = db.prepare('SELECT label_id, group_key, split, COUNT(*) AS n FROM images GROUP BY label_id, group_key, split').all() as {
    label_id: number | null;
    group_key: string | null;
    split: Split;
    n: number;
  }[];
  return rows.map((r) => ({ labelId: r.label_id, groupKey: r.group_key, split: r.split, n: r.n }));
}

/** Images per label key ('(unlabelled)' for none) and split. */
export function splitCountsByLabel(db: Db): { key: string; split: Split; n: number }[] {
  const rows = db
    .prepare(
      "SELECT COALESCE(t.key, '(unlabelled)') AS k, i.split, COUNT(*) AS n FROM images i LEFT JOIN defect_types t ON t.id = i.label_id GROUP BY k, i.split",
    )
    .all() as { k: string; split: Split; n: number }[];
  return rows.map((r) => ({ key: r.k, split: r.split, n: r.n }));
}

/** Images whose group key comes from the pattern (not set by hand), with the file name it is read from. */
export function patternGroupedImages(db: Db): { id: number; name: string }[] {
  return db.prepare('SELECT id, original_name AS name FROM images WHERE group_manual = 0').all() as { id: number; name: string }[];
}

/** Writes group keys, one statement reused (in the caller's transaction). */
export function setGroupKeys(db: Db, keys: Iterable<{ id: number; groupKey: string | null }>): void {
  const upd = db.prepare('UPDATE images SET group_key = ? WHERE id = ?');
  for (const k of keys) upd.run(k.groupKey, k.id);
}

/** Writes splits, one statement reused (in the caller's transaction). */
export function setSplits(db: Db, splits: Iterable<{ id: number; split: Split }>): void {
  const upd = db.prepare('UPDATE images SET split = ? WHERE id = ?');
  for (const s of splits) upd.run(s.split, s.id);
}

/** An image as the splitter orders it: by its content hash when it has no group, never by its id. */
export interface HashedSplitImage extends SplitImage {
  sha256: string;
}

/** Every image, or one import batch's, with its content hash (ids follow insertion order, which varies run to run). */
export function listHashedSplitImages(db: Db, batchId?: number): HashedSplitImage[] {
  const sql = 'SELECT id, sha256, label_id, group_key, split FROM images';
  const rows = (batchId === undefined ? db.prepare(sql).all() : db.prepare(`${sql} WHERE batch_id = ?`).all(batchId)) as (SplitImageRow & {
    sha256: string;
  })[];
  return rows.map((r) => ({ id: r.id, sha256: r.sha256, labelId: r.label_id, groupKey: r.group_key, split: r.split }));
}

/** splitCells for the images outside one import batch (those from no batch included), in a fixed order. */
export function splitCellsOutsideBatch(db: Db, batchId: number): ReturnType<typeof splitCells> {
  const rows = db
    .prepare(
      `SELECT label_id, group_key, split, COUNT(*) AS n FROM images WHERE batch_id IS NOT ?
        GROUP BY label_id, group_key, split ORDER BY label_id, group_key, split`,
    )
    .all(batchId) as { label_id: number | null; group_key: string | null; split: Split; n: number }[];
  return rows.map((r) => ({ labelId: r.label_id, groupKey: r.group_key, split: r.split, n: r.n }));
}

/**
 * Images of one batch that a split edit still in effect (journaled, not undone) moved by hand: the catalog keeps no
 * flag for a manual split, the edit journal is its record. Journal entries hold [before, after, imageIds] per field.
 */
export function handSplitIds(db: Db, batchId: number): Set<number> {
  const ids = db
    .prepare(
      `SELECT DISTINCT CAST(m.value AS INTEGER) AS id
         FROM edit_journal j, json_each(j.changes, '$.fields') f, json_each(f.value, '$.changes') c, json_each(c.value, '$[2]') m
        WHERE j.action = 'split' AND j.undone = 0 AND json_extract(f.value, '$.field') = 'split'
          AND CAST(m.value AS INTEGER) IN (SELECT id FROM images WHERE batch_id = ?)`,
    )
    .pluck()
    .all(batchId) as number[];
  return new Set(ids);
}
