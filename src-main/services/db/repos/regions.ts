import type { Region } from '../../../shared/library-types.ts';
import { blobToRle, rleToBlob } from '../rle-blob.ts';
import type { Db } from '../open.ts';

export interface RegionRow {
  id: number;
  image_id: number;
  defect_type_id: number;
  kind: 'rect' | 'mask';
  x: number;
  y: number;
  w: number;
  h: number;
  rle: Buffer | null;
  source: Region['source'];
  created_at: string;
}

export function mapRegion(r: RegionRow): Region {
  const out: Region = {
    id: r.id,
    imageId: r.image_id,
    defectTypeId: r.defect_type_id,
    kind: r.kind,
    x: r.x,
    y: r.y,
    w: r.w,
    h: r.h,
    source: r.source,
    createdAt: r.created_at,
  };
  if (r.kind === 'mask' && r.rle) out.rle = blobToRle(r.rle);
  return out;
}

/** A region to store, in the domain's words (mask runs as numbers). */
export interface RegionFields {
  imageId: number;
  defectTypeId: number;
  kind: 'rect' | 'mask';
  x: number;
  y: number;
  w: number;
  h: number;
  /** Mask runs (shared/rle.ts); ignored for a rect. */
  rle?: readonly number[] | null;
  source: Region['source'];
  createdAt: string;
}

/** The row a region is stored as: the other way of `mapRegion` (a mask's runs become their blob, a rect has none). */
export function regionRowOf(r: RegionFields): Omit<RegionRow, 'id'> {
  return {
    image_id: r.imageId,
    defect_type_id: r.defectTypeId,
    kind: r.kind,
    x: r.x,
    y: r.y,
    w: r.w,
    h: r.h,
    rle: r.kind === 'mask' ? rleToBlob(r.rle ?? []) : null,
    source: r.source,
    created_at: r.createdAt,
  };
}

/** An image's regions, of one defect type (by key) when given. */
export function listRegions(db: Db, imageId: number, defectTypeKey?: string): Region[] {
  const rows =
    defectTypeKey === undefined
      ? db.prepare('SELECT * FROM regions WHERE image_id = ? ORDER BY id').all(imageId)
      : db
          .prepare(
            'SELECT r.* FROM regions r JOIN defect_types t ON t.id = r.defect_type_id WHERE r.image_id = ? AND t.key = ? ORDER BY r.id',
          )
          .all(imageId, defectTypeKey);
  return (rows as RegionRow[]).map(mapRegion);
}

export interface RegionBox {
  defectTypeKey: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Bounding boxes (image pixels) of every region of an image: rects as drawn, masks as their box. */
export function listRegionBoxes(db: Db, imageId: number): RegionBox[] {
  return db
    .prepare(
      'SELECT t.key AS defectTypeKey, r.x, r.y, r.w, r.h FROM regions r JOIN defect_types t ON t.id = r.defect_type_id WHERE r.image_id = ? ORDER BY r.id',
    )
    .all(imageId) as RegionBox[];
}

export function getRegionRow(db: Db, id: number): RegionRow | null {
  return (db.prepare('SELECT * FROM regions WHERE id = ?').get(id) as RegionRow | undefined) ?? null;
}

/** Inserts a region (with its id when given: undo of a delete puts the same row back). */
export function insertRegionRow(db: Db, r: Omit<RegionRow, 'id'> & { id?: number }): number {
  const res = db
    .prepare(
      `INSERT INTO regions(id, image_id, defect_type_id, kind, x, y, w, h, rle, source, created_at)
       VALUES (@id, @image_id, @defect_type_id, @kind, @x, @y, @w, @h, @rle, @source, @created_at)`,
    )
    .run({ ...r, id: r.id ?? null });
  return Number(res.lastInsertRowid);
}

export function replaceRegionRow(db: Db, r: RegionRow): void {
  db.prepare(
    `UPDATE regions SET image_id = @image_id, defect_type_id = @defect_type_id, kind = @kind, x = @x, y = @y, w = @w, h = @h,
       rle = @rle, source = @source, created_at = @created_at WHERE id = @id`,
  ).run(r);
}

export function deleteRegionRow(db: Db, id: number): void {
  db.prepare('DELETE FROM regions WHERE id = ?').run(id);
}

export function regionRowToJson(r: RegionRow): Omit<RegionRow, 'rle'> & { rle: number[] | null } {
  return { ...r, rle: r.rle ? blobToRle(r.rle) : null };
}

export function regionRowFromJson(j: Omit<RegionRow, 'rle'> & { rle: number[] | null }): RegionRow {
  return { ...j, rle: j.rle ? rleToBlob(j.rle) : null };
}
