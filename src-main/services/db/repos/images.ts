import type {
  CoreType,
  ImageDetail,
  ImageFilter,
  ImageFormat,
  ImageListItem,
  ImageMeta,
  ImagePage,
  ImageQuery,
  ReviewState,
  Split,
} from '../../../shared/library-types.ts';
import { NotFoundError, ValidationError } from '../../../shared/errors.ts';
import { placeholders } from '../in-list.ts';
import type { Db } from '../open.ts';
import { listRegions } from './regions.ts';

export interface ImageRow {
  id: number;
  sha256: string;
  ext: string;
  format: ImageFormat;
  width: number;
  height: number;
  channels: number;
  bit_depth: number;
  orientation: number;
  pages: number;
  page: number | null;
  byte_size: number;
  original_path: string;
  original_name: string;
  batch_id: number | null;
  imported_at: string;
  label_id: number | null;
  core_type: CoreType;
  note: string;
  review_state: ReviewState;
  split: Split;
  group_key: string | null;
  group_manual: number;
  region_count: number;
}

export type NewImage = Omit<ImageRow, 'id' | 'group_manual' | 'region_count'>;

export function storeRelPath(sha256: string, ext: string): string {
  return `images/${sha256.slice(0, 2)}/${sha256}.${ext}`;
}

const LIST_COLS =
  'i.id, i.original_name, i.page, i.width, i.height, i.label_id, i.core_type, i.review_state, i.split, i.region_count, i.note, i.imported_at';

function mapItem(r: ImageRow): ImageListItem {
  return {
    id: r.id,
    name: r.original_name,
    page: r.page,
    width: r.width,
    height: r.height,
    labelId: r.label_id,
    coreType: r.core_type,
    reviewState: r.review_state,
    split: r.split,
    regionCount: r.region_count,
    hasNote: r.note.length > 0,
    importedAt: r.imported_at,
  };
}

function mapMeta(r: ImageRow): ImageMeta {
  return {
    sha256: r.sha256,
    format: r.format,
    width: r.width,
    height: r.height,
    channels: r.channels,
    bitDepth: r.bit_depth,
    orientation: r.orientation,
    pages: r.pages,
    byteSize: r.byte_size,
    storePath: storeRelPath(r.sha256, r.ext),
    originalPath: r.original_path,
    originalName: r.original_name,
    batchId: r.batch_id,
    importedAt: r.imported_at,
  };
}

function ints(xs: unknown, what: string): number[] {
  if (!Array.isArray(xs) || xs.some((x) => !Number.isInteger(x))) throw new ValidationError(`${what} must be a list of ids.`);
  return xs as number[];
}

/** WHERE clause + parameters for a grid filter (parameterised; lists become IN (?, ?, ...): a filter's few values). */
export function filterSql(f: ImageFilter | undefined): { where: string; params: (string | number)[] } {
  const conds: string[] = [];
  const params: (string | number)[] = [];
  const inList = (col: string, vals: readonly (string | number)[]) => {
    params.push(...vals);
    return `${col} IN (${placeholders(vals.length)})`;
  };
  if (f) {
    const labels = f.labels ? ints(f.labels, 'labels') : [];
    if (labels.length && f.unlabelled) conds.push(`(${inList('i.label_id', labels)} OR i.label_id IS NULL)`);
    else if (labels.length) conds.push(inList('i.label_id', labels));
    else if (f.unlabelled) conds.push('i.label_id IS NULL');
    if (f.splits?.length) conds.push(inList('i.split', f.splits));
    if (f.coreTypes?.length) conds.push(inList('i.core_type', f.coreTypes));
    if (f.batchIds?.length) conds.push(inList('i.batch_id', ints(f.batchIds, 'batchIds')));
    if (f.reviewStates?.length) conds.push(inList('i.review_state', f.reviewStates));
    if (f.nameContains) {
      conds.push(`i.original_name LIKE ? ESCAPE '\\'`);
      params.push(`%${f.nameContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
    if (f.hasRegions !== undefined) conds.push(f.hasRegions ? 'i.region_count > 0' : 'i.region_count = 0');
  }
  return { where: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

export function listImagesPage(db: Db, q: ImageQuery): ImagePage {
  const offset = Math.max(0, Math.floor(q.offset ?? 0));
  const limit = Math.min(1000, Math.max(0, Math.floor(q.limit ?? 200)));
  const { where, params } = filterSql(q.filter);
  const dir = q.sort?.dir === 'desc' ? 'DESC' : 'ASC';
  let order: string;
  let join = '';
  switch (q.sort?.by ?? 'id') {
    case 'importedAt':
      order = `i.imported_at ${dir}, i.id ${dir}`;
      break;
    case 'name':
      order = `i.original_name COLLATE NOCASE ${dir}, i.id ${dir}`;
      break;
    case 'label':
      // Unlabelled last when ascending; by the types' display order, then id.
      join = 'LEFT JOIN defect_types t ON t.id = i.label_id';
      order = `(i.label_id IS NULL) ${dir}, t.sort_order ${dir}, i.label_id ${dir}, i.id ${dir}`;
      break;
    case 'id':
      order = `i.id ${dir}`;
      break;
    default:
      throw new ValidationError(`Unknown sort key ${String(q.sort?.by)}.`);
  }
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM images i ${where}`).get(...params) as { n: number }).n;
  const rows = db
    .prepare(`SELECT ${LIST_COLS} FROM images i ${join} ${where} ORDER BY ${order} LIMIT ? OFFSET ?`)
    .all(...params, limit, offset) as ImageRow[];
  return { total, offset, items: rows.map(mapItem) };
}

export function listIds(db: Db, f?: ImageFilter): number[] {
  const { where, params } = filterSql(f);
  return db
    .prepare(`SELECT i.id FROM images i ${where} ORDER BY i.id`)
    .pluck()
    .all(...params) as number[];
}

export function getImageRow(db: Db, id: number): ImageRow | null {
  return (db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined) ?? null;
}

export function requireImageRow(db: Db, id: number): ImageRow {
  const r = getImageRow(db, id);
  if (!r) throw new NotFoundError(`Image ${id} is not in the catalog (deleted?).`, { id });
  return r;
}

export function getImageDetail(db: Db, id: number): ImageDetail {
  const r = requireImageRow(db, id);
  return { ...mapItem(r), meta: mapMeta(r), note: r.note, groupKey: r.group_key, regions: listRegions(db, id) };
}

/** The image already holding these bytes, as an import meets it again: where it came from and how it is stored. */
export interface StoredImage {
  id: number;
  originalPath: string;
  /** Extension of the stored copy (storeRelPath). */
  ext: string;
  batchId: number | null;
}

export function findBySha(db: Db, sha256: string): StoredImage | null {
  const r = db.prepare('SELECT id, original_path, ext, batch_id FROM images WHERE sha256 = ?').get(sha256) as
    Pick<ImageRow, 'id' | 'original_path' | 'ext' | 'batch_id'> | undefined;
  return r ? { id: r.id, originalPath: r.original_path, ext: r.ext, batchId: r.batch_id } : null;
}

export function insertImage(db: Db, img: NewImage): number {
  const res = db
    .prepare(
      `INSERT INTO images(sha256, ext, format, width, height, channels, bit_depth, orientation, pages, page, byte_size,
         original_path, original_name, batch_id, imported_at, label_id, core_type, note, review_state, split, group_key)
       VALUES (@sha256, @ext, @format, @width, @height, @channels, @bit_depth, @orientation, @pages, @page, @byte_size,
         @original_path, @original_name, @batch_id, @imported_at, @label_id, @core_type, @note, @review_state, @split, @group_key)`,
    )
    .run(img);
  return Number(res.lastInsertRowid);
}

/** Ensures every id exists (NotFoundError naming the first missing one). */
export function assertImagesExist(db: Db, ids: readonly number[]): void {
  const stmt = db.prepare('SELECT 1 FROM images WHERE id = ?').pluck();
  for (const id of ids) if (!stmt.get(id)) throw new NotFoundError(`Image ${id} is not in the catalog (deleted?).`, { id });
}
