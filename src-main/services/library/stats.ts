/** Catalog statistics and label export (CSV or class folders). */
import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { LibraryStats, LabelExportRequest, LabelExportResult } from '../../shared/library-types.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { Db } from '../db/open.ts';
import { readLibraryStats } from '../db/repos/catalog-stats.ts';
import { listExportImages } from '../db/repos/image-lookups.ts';
import { storeRelPath } from '../db/repos/images.ts';
import { CSV_BOM, toCsv } from '../csv.ts';
import { checkTarget, checkTargetFolder, copyFileAtomic, writeFileAtomic } from '../export-file.ts';

export function libraryStats(db: Db): LibraryStats {
  return readLibraryStats(db);
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
  const rows = listExportImages(db, req.filter);
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
        r.coreType,
        r.reviewState,
        r.name,
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
      const stem = basename(r.name, extname(r.name)) + (r.page !== null ? `_p${r.page}` : '');
      let target = join(dir, `${stem}.${r.ext}`);
      if (used.has(target.toLowerCase())) target = join(dir, `${stem}_${r.id}.${r.ext}`);
      used.add(target.toLowerCase());
      copyFileAtomic(join(projectDir, storeRelPath(r.sha256, r.ext)), target, { overwrite });
    }
  } else throw new ValidationError("Export format must be 'csv' or 'folders'.");
  return { out, written: labelled.length, skippedUnlabelled: rows.length - labelled.length };
}
