/**
 * Storing an imported file: the content check against the catalog and the files in flight (a copy is reported,
 * never stored twice), the stored original and thumbnail, and the image's row with its regions in one transaction.
 */
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ImageFormat } from '../../shared/library-types.ts';
import { findBySha, insertImage, storeRelPath } from '../db/repos/images.ts';
import { insertRegionRow, regionRowOf } from '../db/repos/regions.ts';
import { makeThumbnail, openImageBytes, STORE_EXT, thumbPath, writeOnce, writeReplacing, type ProbedImage } from './imaging.ts';
import type { ImportEntry } from './import-collect.ts';
import type { ImportContext, Prepared } from './import-context.ts';
import { addMaskRegion, regionsOf } from './import-regions.ts';
import { groupKeyFor } from './splits.ts';

/**
 * A stored original is written without an fsync of its own; after a power cut it may be missing or cut short while
 * its row survived (rows are synced at least once a second). Meeting the same bytes again, as re-running the import
 * does, puts it right.
 */
function repairStored(ctx: ImportContext, ext: string, sha256: string, bytes: Buffer, path: string): void {
  const file = join(ctx.project.dir, storeRelPath(sha256, ext));
  let size = -1;
  try {
    size = statSync(file).size;
  } catch {
    // Missing: written below.
  }
  if (size === bytes.length) return;
  writeReplacing(file, bytes);
  ctx.report.warnings.push(`The stored copy of ${path} was missing or incomplete (power cut?); it was written again.`);
}

/** true = claimed for import; false = reported (duplicate / already in). */
export function claim(ctx: ImportContext, entry: ImportEntry, sha256: string, bytes: Buffer): boolean {
  const { report } = ctx;
  const path = entry.path;
  const inFlight = ctx.claimed.get(sha256);
  if (inFlight !== undefined) {
    report.duplicates.push({ path, sha256, imageId: -1, of: 'import', existingPath: inFlight });
    return false;
  }
  const existing = findBySha(ctx.db, sha256);
  if (existing) {
    repairStored(ctx, existing.ext, sha256, bytes, path);
    if (existing.originalPath === path) report.alreadyImported++;
    else {
      report.duplicates.push({
        path,
        sha256,
        imageId: existing.id,
        of: existing.batchId === ctx.batchId ? 'import' : 'catalog',
        existingPath: existing.originalPath,
      });
    }
    return false;
  }
  ctx.claimed.set(sha256, path);
  return true;
}

/** The image's row and its regions, in one transaction of the bulk writer. */
function insert(ctx: ImportContext, p: Prepared): void {
  const { db, report, labels } = ctx;
  const e = p.entry;
  const labelId = e.labelName === null ? null : (labels.resolve(e.labelName) ?? null);
  const groupKey = groupKeyFor(ctx.groupRe, basename(e.path));
  // Regions first computed (pure), then everything in one transaction.
  const regionRows = regionsOf(ctx, p);
  ctx.bulk.transaction(() => {
    // Provisional (completion order varies): the batch's splits are settled in hash order when it ends.
    const split = ctx.splits.assign(labelId, groupKey);
    const id = insertImage(db, {
      sha256: p.sha256,
      ext: p.storeExt,
      format: p.format,
      width: p.probed.width,
      height: p.probed.height,
      channels: p.probed.channels,
      bit_depth: p.probed.bitDepth,
      orientation: p.probed.orientation,
      pages: p.probed.pages,
      page: p.page,
      byte_size: p.bytes.length,
      original_path: e.path,
      original_name: basename(e.path),
      batch_id: ctx.batchId,
      imported_at: new Date().toISOString(),
      label_id: labelId,
      core_type: e.coreType ?? 'unknown',
      note: '',
      review_state: labelId === null ? 'unlabelled' : 'labelled',
      split,
      group_key: groupKey,
    });
    const now = new Date().toISOString();
    for (const { typeId, r, source } of regionRows) {
      insertRegionRow(db, regionRowOf({ ...r, imageId: id, defectTypeId: typeId, source, createdAt: now }));
    }
    report.regionsImported += regionRows.length;
    report.imported++;
    report.imageIds.push(id);
    const k = labelId === null ? '(unlabelled)' : (ctx.typeKeys.get(labelId) ?? String(labelId));
    report.labelled[k] = (report.labelled[k] ?? 0) + 1;
    ctx.pendingIds.push(id);
  });
}

/** Decodes (thumbnail = full decode, so corrupt/truncated files fail here), stores, inserts. */
export async function storeAndInsert(
  ctx: ImportContext,
  entry: ImportEntry,
  bytes: Buffer,
  sha256: string,
  format: ImageFormat,
  page: number | null,
  probed: ProbedImage,
): Promise<void> {
  const thumb = await makeThumbnail(openImageBytes(bytes, format, page ?? 0));
  const p: Prepared = { entry, sha256, bytes, probed, page, thumb, format, storeExt: STORE_EXT[format] };
  if (ctx.masks) await addMaskRegion(ctx, p);
  writeOnce(thumbPath(ctx.project.paths.cache, sha256), thumb);
  writeOnce(join(ctx.project.dir, storeRelPath(sha256, p.storeExt)), bytes);
  insert(ctx, p);
}
