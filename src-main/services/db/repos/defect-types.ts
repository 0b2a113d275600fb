import type { DefectType } from '../../../shared/library-types.ts';
import type { Db } from '../open.ts';

interface DefectTypeRow {
  id: number;
  key: string;
  name_en: string;
  name_ja: string;
  color: string;
  hotkey: string | null;
  is_ok: number;
  sort_order: number;
  image_count: number;
  region_count: number;
}

const SELECT = `
  SELECT t.*,
    (SELECT COUNT(*) FROM images i WHERE i.label_id = t.id) AS image_count,
    (SELECT COUNT(*) FROM regions r WHERE r.defect_type_id = t.id) AS region_count
  FROM defect_types t`;

function map(r: DefectTypeRow): DefectType {
  return {
    id: r.id,
    key: r.key,
    nameEn: r.name_en,
    nameJa: r.name_ja,
    color: r.color,
    hotkey: r.hotkey,
    isOk: r.is_ok === 1,
    sortOrder: r.sort_order,
    imageCount: r.image_count,
    regionCount: r.region_count,
  };
}

export function listTypes(db: Db): DefectType[] {
  return (db.prepare(`${SELECT} ORDER BY t.sort_order, t.id`).all() as DefectTypeRow[]).map(map);
}

export function getType(db: Db, id: number): DefectType | null {
  const r = db.prepare(`${SELECT} WHERE t.id = ?`).get(id) as DefectTypeRow | undefined;
  return r ? map(r) : null;
}

export function getTypeByKey(db: Db, key: string): DefectType | null {
  const r = db.prepare(`${SELECT} WHERE t.key = ?`).get(key) as DefectTypeRow | undefined;
  return r ? map(r) : null;
}

export function insertType(
  db: Db,
  t: { key: string; nameEn: string; nameJa: string; color: string; hotkey: string | null; isOk?: boolean },
): number {
  const order = (db.prepare('SELECT COALESCE(MAX(sort_order), -1) + 1 AS n FROM defect_types').get() as { n: number }).n;
  const res = db
    .prepare(
      'INSERT INTO defect_types(key, name_en, name_ja, color, hotkey, is_ok, sort_order, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .run(t.key, t.nameEn, t.nameJa, t.color, t.hotkey, t.isOk ? 1 : 0, order, new Date().toISOString());
  return Number(res.lastInsertRowid);
}

export function updateTypeRow(
  db: Db,
  id: number,
  patch: { nameEn?: string; nameJa?: string; color?: string; hotkey?: string | null },
): void {
  const cols = { nameEn: 'name_en', nameJa: 'name_ja', color: 'color', hotkey: 'hotkey' } as const;
  const sets: string[] = [];
  const vals: (string | null)[] = [];
  for (const k of Object.keys(cols) as (keyof typeof cols)[]) {
    if (patch[k] === undefined) continue;
    sets.push(`${cols[k]} = ?`);
    vals.push(patch[k]);
  }
  if (!sets.length) return;
  db.prepare(`UPDATE defect_types SET ${sets.join(', ')} WHERE id = ?`).run(...vals, id);
}

export function deleteTypeRow(db: Db, id: number): void {
  db.prepare('DELETE FROM defect_types WHERE id = ?').run(id);
}

/** Relabels every image labelled `fromId` to `toId`; returns how many. */
export function moveImageLabels(db: Db, fromId: number, toId: number): number {
  return db.prepare('UPDATE images SET label_id = ? WHERE label_id = ?').run(toId, fromId).changes;
}

/** Gives every region of type `fromId` the type `toId`; returns how many. */
export function moveRegionTypes(db: Db, fromId: number, toId: number): number {
  return db.prepare('UPDATE regions SET defect_type_id = ? WHERE defect_type_id = ?').run(toId, fromId).changes;
}

/** Makes the images labelled `typeId` unlabelled again; returns how many. */
export function unlabelImagesOf(db: Db, typeId: number): number {
  return db.prepare(`UPDATE images SET label_id = NULL, review_state = 'unlabelled' WHERE label_id = ?`).run(typeId).changes;
}

/** Deletes the regions of type `typeId`; returns how many. */
export function deleteRegionsOf(db: Db, typeId: number): number {
  return db.prepare('DELETE FROM regions WHERE defect_type_id = ?').run(typeId).changes;
}
