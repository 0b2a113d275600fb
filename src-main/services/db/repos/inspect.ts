/**
 * What Inspect reads from the catalog about the images it looks at: their names and labels (the results' table) and,
 * after adding photos by path to the catalog, which image each path became.
 */
import { IDS, selectIn } from '../in-list.ts';
import type { Db } from '../open.ts';

/** A catalog image as Inspect shows it. */
export interface InspectedImage {
  id: number;
  /** The file name it was imported under. */
  name: string;
  /** Its label's key; null when unlabelled. */
  labelKey: string | null;
}

interface InspectedImageRow {
  id: number;
  original_name: string;
  label_key: string | null;
}

function inspectedImageOf(r: InspectedImageRow): InspectedImage {
  return { id: r.id, name: r.original_name, labelKey: r.label_key };
}

/** Name and label of catalog images by id (ids not in the catalog are left out). */
export function inspectedImages(db: Db, ids: readonly number[]): Map<number, InspectedImage> {
  const rows = selectIn<InspectedImageRow>(
    db,
    `SELECT i.id AS id, i.original_name AS original_name, d.key AS label_key
       FROM images i LEFT JOIN defect_types d ON d.id = i.label_id
      WHERE i.id IN (${IDS})`,
    ids,
  );
  return new Map(rows.map((r) => [r.id, inspectedImageOf(r)]));
}

/** A catalog image and the path it was imported from. */
export interface ImageOrigin {
  id: number;
  path: string;
}

interface ImageOriginRow {
  id: number;
  original_path: string;
}

function imageOriginOf(r: ImageOriginRow): ImageOrigin {
  return { id: r.id, path: r.original_path };
}

/** Where catalog images were imported from (ids not in the catalog are left out). */
export function imageOrigins(db: Db, ids: readonly number[]): ImageOrigin[] {
  return selectIn<ImageOriginRow>(db, `SELECT id, original_path FROM images WHERE id IN (${IDS})`, ids).map(imageOriginOf);
}
