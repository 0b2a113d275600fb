/** Catalog statistics and label export (CSV or class folders). */
import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { CatalogStats, CoreType, LabelExportRequest, LabelExportResult, ReviewState, Split } from '../../shared/catalog-types.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { Db } from '../db/open.ts';
import { distinctDuplicates } from '../db/repos/batches.ts';
import { filterSql, storeRelPath } from '../db/repos/images.ts';
import { CSV_BOM, toCsv } from '../csv.ts';
import { checkTarget, checkTargetFolder, copyFileAtomic, writeFileAtomic } from '../export-file.ts';

export function catalogStats(db: Db): CatalogStats {
  const perSplit: Record<Split, number> = { train: 0, val: 0, test: 0 };
  const perReviewState: Record<ReviewState, number> = { unlabelled: 0, labelled: 0, reviewed: 0 };
  const perCoreType: Record<CoreType, number> = { stator: 0, rotor: 0, unknown: 0 };
  for (const r of db.prepare('SELECT split AS k, COUNT(*) AS n FROM images GROUP BY split').all() as { k: Split; n: number }[])
    perSplit[r.k] = r.n;
  for (const r of db.prepare('SELECT review_state AS k, COUNT(*) AS n FROM images GROUP BY review_state').all() as {
    k: ReviewState;
    n: number;
  }[])
    perReviewState[r.k] = r.n;
  for (const r of db.prepare('SELECT core_type AS k, COUNT(*) AS n FROM images GROUP BY core_type').all() as { k: CoreType; n: number }[])
    perCoreType[r.k] = r.n;
  const perLabel = db
    .prepare(
      `SELECT t.key, t.name_en AS nameEn, t.name_ja AS nameJa, COUNT(i.id) AS total,
           COALESCE(SUM(i.split = 'train'), 0) AS train, COALESCE(SUM(i.split = 'val'), 0) AS val, COALESCE(SUM(i.split = 'test'), 0) AS test,
           AVG(CAST(i.width AS REAL) / NULLIF(i.height, 0)) AS aspect
         FROM defect_types t LEFT JOIN images i ON i.label_id = t.id GROUP BY t.id ORDER BY t.sort_order, t.id`,
    )
    .all() as CatalogStats['perLabel'];
  const n = (sql: string) => (db.prepare(sql).pluck().get() as number) ?? 0;
  return {
    total: n('SELECT COUNT(*) FROM images'),
    unlabelled: n('SELECT COUNT(*) FROM images WHERE label_id IS NULL'),
    perLabel,
    perSplit,
    perReviewState,
    perCoreType,
    regions: n('SELECT COUNT(*) FROM regions'),
    batches: n('SELECT COUNT(*) FROM import_batches'),
    duplicatesFound: distinctDuplicates(db),
  };
}

/**
 * CSV: `path,label,split,core_type,review_state,original_name,sha256` (path = the store file, absolute), UTF-8 with
 * BOM, RFC 4180, cells neutralised for spreadsheets (../csv.ts); refused over an existing file unless `overwrite`.
 * Folders: `<out>/<label key>/<original name>` copies (name clashes within the export get `_<id>`); refused into a
 * folder that is not empty unless `overwrite` (then files of the same name are replaced, others left alone).
 * Every file is written atomically.
 */
export function exportLabels(db: Db, projectDir: string, req: LabelExportRequest): LabelExportResult {
  if (!req.out?.trim()) throw new ValidationError('Choose where to write the export.');
  const out = resolve(req.out);
  const { where, params } = filterSql(req.filter);
  const rows = db
    .prepare(
      `SELECT i.id, i.sha256, i.ext, i.original_name, i.page, i.split, i.core_type, i.review_state, t.key AS label
       FROM images i LEFT JOIN defect_types t ON t.id = i.label_id ${where} ORDER BY i.id`,
    )
    .all(...params) as {
    id: number;
    sha256: string;
    ext: string;
    original_name: string;
    page: number | null;
    split: string;
    core_type: string;
    review_state: string;
    label: string | null;
  }[];
  const labelled = rows.filter((r) => r.label !== null);
  const overwrite = req.overwrite === true;
  if (req.format === 'csv') {
    checkTarget(out, overwrite);
    const table = [
      ['path', 'label', 'split', 'core_type', 'review_state', 'original_name', 'sha256'],
      ...labelled.map((r) => [
        join(projectDir, storeRelPath(r.sha256, r.ext)),
        r.label,
        r.split,
        r.core_type,
        r.review_state,
        r.original_name,
        r.sha256,
      ]),
    ];
    writeFileAtomic(out, CSV_BOM + toCsv(table), { overwrite });
  } else if (req.format === 'folders') {
    checkTargetFolder(out, overwrite);
    mkdirSync(out, { recursive: true });
    const used = new Set<string>();
    for (const r of labelled) {
      const dir = join(out, r.label!);
      const stem = basename(r.original_name, extname(r.original_name)) + (r.page !== null ? `_p${r.page}` : '');
      let target = join(dir, `${stem}.${r.ext}`);
      if (used.has(target.toLowerCase())) target = join(dir, `${stem}_${r.id}.${r.ext}`);
      used.add(target.toLowerCase());
      copyFileAtomic(join(projectDir, storeRelPath(r.sha256, r.ext)), target, { overwrite });
    }
  } else throw new ValidationError("Export format must be 'csv' or 'folders'.");
  return { out, written: labelled.length, skippedUnlabelled: rows.length - labelled.length };
}
