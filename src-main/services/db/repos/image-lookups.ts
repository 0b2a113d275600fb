/**
 * What other domains read about images, each in its own words: sizes and names for heatmaps and galleries, content
 * hashes for the engine, batches for folds, labelled samples for training, rows for a label export. Lists of ids may
 * be of any length (chunked by in-list.ts).
 */
import type { CoreType, ImageFilter, ReviewState, Split } from '../../../shared/library-types.ts';
import { IDS, selectIn } from '../in-list.ts';
import type { Db } from '../open.ts';
import { filterSql, type ImageRow } from './images.ts';

/** What a heatmap or gallery needs of an image: its pixel size and its file name. */
export interface ImageSize {
  id: number;
  width: number;
  height: number;
  name: string;
}

/** Pixel sizes and names of the listed images that exist, by id. */
export function imageSizes(db: Db, ids: readonly number[]): Map<number, ImageSize> {
  const rows = selectIn<{ id: number; width: number; height: number; original_name: string }>(
    db,
    `SELECT id, width, height, original_name FROM images WHERE id IN (${IDS})`,
    ids,
  );
  return new Map(rows.map((r) => [r.id, { id: r.id, width: r.width, height: r.height, name: r.original_name }]));
}

/** Content hashes (the engine's sample keys) of the listed images that exist, by id. */
export function imageShas(db: Db, ids: readonly number[]): Map<number, string> {
  const rows = selectIn<{ id: number; sha256: string }>(db, `SELECT id, sha256 FROM images WHERE id IN (${IDS})`, ids);
  return new Map(rows.map((r) => [r.id, r.sha256]));
}

export function imageSha(db: Db, id: number): string | null {
  return (db.prepare('SELECT sha256 FROM images WHERE id = ?').pluck().get(id) as string | undefined) ?? null;
}

/** Import batch of every image (null: added outside an import), by id: for folds grouped by batch. */
export function imageBatchIds(db: Db): Map<number, number | null> {
  const rows = db.prepare('SELECT id, batch_id FROM images').all() as { id: number; batch_id: number | null }[];
  return new Map(rows.map((r) => [r.id, r.batch_id]));
}

/** An image as a label export writes it. */
export interface ExportImage {
  id: number;
  sha256: string;
  ext: string;
  name: string;
  page: number | null;
  split: Split;
  coreType: CoreType;
  reviewState: ReviewState;
  /** Label key; null when unlabelled. */
  label: string | null;
}

/** The images a grid filter selects, in id order, with their label keys: what a label export writes. */
export function listExportImages(db: Db, f?: ImageFilter): ExportImage[] {
  const { where, params } = filterSql(f);
  const rows = db
    .prepare(
      `SELECT i.id, i.sha256, i.ext, i.original_name, i.page, i.split, i.core_type, i.review_state, t.key AS label
       FROM images i LEFT JOIN defect_types t ON t.id = i.label_id ${where} ORDER BY i.id`,
    )
    .all(...params) as (Pick<ImageRow, 'id' | 'sha256' | 'ext' | 'original_name' | 'page' | 'split' | 'core_type' | 'review_state'> & {
    label: string | null;
  })[];
  return rows.map((r) => ({
    id: r.id,
    sha256: r.sha256,
    ext: r.ext,
    name: r.original_name,
    page: r.page,
    split: r.split,
    coreType: r.core_type,
    reviewState: r.review_state,
    label: r.label,
  }));
}

/** A labelled image as training and heatmaps take it. */
export interface LabelledImage {
  imageId: number;
  sha256: string;
  /** Defect type key. */
  label: string;
  split: Split;
  width: number;
  height: number;
}

/** Labelled images only, in id order. */
export function listLabelledImages(db: Db): LabelledImage[] {
  return db
    .prepare(
      `SELECT i.id AS imageId, i.sha256, t.key AS label, i.split, i.width, i.height
       FROM images i JOIN defect_types t ON t.id = i.label_id ORDER BY i.id`,
    )
    .all() as LabelledImage[];
}

/** How many regions an image has (0 when it is not in the catalog). */
export function regionCountOf(db: Db, id: number): number {
  return (db.prepare('SELECT region_count FROM images WHERE id = ?').pluck().get(id) as number | undefined) ?? 0;
}
