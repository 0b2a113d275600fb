/**
 * Import: files and folders into the content-addressed store, with labels (folders / CSV / given),
 * regions (VOC XML, mask PNGs, given), thumbnails, split assignment and a batch record that lets an
 * interrupted or cancelled import resume without duplicates (sha256 is unique in the catalog). Splits are
 * provisional while the workers run (so a run trained mid-import has them) and settled in hash order when the
 * batch ends or resumes (splits.ts settleBatchSplits): the same files give the same splits, whatever the timing.
 *
 * The steps live beside this file: what a request covers (import-collect.ts), one file read, probed and checked
 * (import-file.ts), stored with its row (import-store.ts) and its regions (import-regions.ts); the state they share
 * (import-context.ts).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { ImportReport, ImportRequest } from '../../shared/library-types.ts';
import { CancelledError, ValidationError } from '../../shared/errors.ts';
import { bulkWriter } from '../db/open.ts';
import { createBatch, findResumable, markBatch } from '../db/repos/batches.ts';
import { listTypes } from '../db/repos/defect-types.ts';
import { findBySha } from '../db/repos/images.ts';
import type { Project } from '../projects/project.ts';
import { collectImport, indexByStem, type ImportEntry } from './import-collect.ts';
import type { ImportContext } from './import-context.ts';
import { importFile } from './import-file.ts';
import { LabelResolver } from './labels.ts';
import { loadAnnotations, withoutAnnotationFiles } from './region-formats/index.ts';
import { assignerForNewImages, compilePattern, getSplitSettings, settleBatchSplits } from './splits.ts';

// The import's public names, where callers have always found them.
export {
  checkImportPaths,
  collectEntries,
  collectImport,
  previewFolders,
  type CollectOptions,
  type GivenRegion,
  type ImportEntry,
} from './import-collect.ts';
export { parseVoc, vocToRect, type VocBox } from './region-formats/voc.ts';

export const IMPORT_CONCURRENCY = 2;

export interface ImportCallbacks {
  signal?: AbortSignal;
  /** While the folders are walked: the number of files found so far. */
  found?(files: number): void;
  progress?(done: number, total: number): void;
  /** Called now and then with ids imported since the last call (UI refresh). */
  imported?(ids: number[]): void;
}

export function importFingerprint(req: ImportRequest): string {
  const norm = { ...req, paths: req.paths.map((p) => resolve(p)).sort() };
  return createHash('sha256').update(JSON.stringify(norm)).digest('hex');
}

/**
 * Runs an import to the end (or cancellation). Re-running the same request continues its unfinished
 * batch; files whose bytes are already in the catalog are reported, never re-imported.
 */
export async function runImport(
  project: Project,
  req: ImportRequest,
  cb: ImportCallbacks = {},
  given?: ImportEntry[],
): Promise<ImportReport> {
  const db = project.db;
  const t0 = Date.now();
  const collected = given
    ? { entries: given, skipped: [] }
    : await collectImport(req, { ...(cb.signal ? { signal: cb.signal } : {}), ...(cb.found ? { onFound: cb.found } : {}) });
  const entries = withoutAnnotationFiles(collected.entries, req.regions);
  if (!given && entries.length === 0 && collected.skipped.length === 0)
    throw new ValidationError('There are no files in what you chose to import.');
  const fingerprint = importFingerprint(req);
  const resumeId = given ? null : findResumable(db, fingerprint);
  const batchId = resumeId ?? createBatch(db, fingerprint, req);
  if (resumeId) {
    // What the interrupted run imported gets its settled splits now, and primes the provisional ones below.
    settleBatchSplits(db, resumeId);
    markBatch(db, resumeId, 'running');
  }
  const mapping = req.labels && req.labels.from !== 'none' ? (req.labels.mapping ?? {}) : {};
  const createUnknown = req.labels && req.labels.from !== 'none' ? (req.labels.createUnknown ?? true) : true;
  const labels = new LabelResolver(db, mapping, createUnknown);
  const voc = req.regions?.vocDir ? await indexByStem(req.regions.vocDir, '.xml', cb.signal) : null;
  const masks = req.regions?.masksDir ? await indexByStem(req.regions.masksDir, '.png', cb.signal) : null;
  const annotations =
    req.regions?.labelme || req.regions?.coco
      ? loadAnnotations(
          req.regions,
          entries.map((e) => e.path),
        )
      : null;
  const settings = getSplitSettings(db);
  const groupRe = compilePattern(settings.groupPattern);
  const splits = assignerForNewImages(db);

  const report: ImportReport = {
    batchId,
    resumed: resumeId !== null,
    state: 'running',
    filesSeen: entries.length,
    imported: 0,
    alreadyImported: 0,
    imageIds: [],
    duplicates: [],
    skipped: [...collected.skipped],
    labelled: {},
    createdDefectTypes: labels.created,
    regionsImported: 0,
    regionProblems: annotations?.problems ?? [],
    warnings: [],
    elapsedMs: 0,
    imagesPerSecond: 0,
  };
  // Resolve every label name up front (creates new types once, in one transaction).
  db.transaction(() => {
    for (const e of entries) {
      if (e.labelName === null) continue;
      if (labels.resolve(e.labelName) === undefined)
        report.warnings.push(`Unknown label "${e.labelName}" for ${e.path}: imported unlabelled.`);
    }
  })();
  const ctx: ImportContext = {
    project,
    db,
    req,
    batchId,
    report,
    labels,
    typeKeys: new Map(listTypes(db).map((t) => [t.id, t.key])),
    voc,
    masks,
    annotations,
    groupRe,
    splits,
    // One commit per image: synced once a second rather than each (db/open.ts bulkWriter); released by finish().
    bulk: bulkWriter(db),
    claimed: new Map(),
    pendingIds: [],
  };
  const { bulk } = ctx;
  let lastFlush = Date.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < entries.length) {
      if (cb.signal?.aborted) return;
      const e = entries[next++]!;
      await importFile(ctx, e);
      done++;
      cb.progress?.(done, entries.length);
      if (cb.imported && ctx.pendingIds.length && Date.now() - lastFlush > 1000) {
        cb.imported(ctx.pendingIds);
        ctx.pendingIds = [];
        lastFlush = Date.now();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(IMPORT_CONCURRENCY, entries.length) }, worker));
  } catch (err) {
    finish('failed');
    throw err;
  }
  if (cb.imported && ctx.pendingIds.length) cb.imported(ctx.pendingIds);
  for (const d of report.duplicates) {
    if (d.imageId === -1) d.imageId = findBySha(db, d.sha256)?.id ?? -1;
  }
  if (cb.signal?.aborted) {
    finish('cancelled');
    throw new CancelledError(`Import cancelled after ${done} of ${entries.length} files; run the same import again to continue.`, {
      report,
    });
  }
  finish('done');
  return report;

  /**
   * Ends the batch: its images' splits settled (order-free, see settleBatchSplits) and its record in one
   * transaction, so a batch marked finished always has its settled splits.
   */
  function finish(state: ImportReport['state']): void {
    bulk.release(); // synchronous = FULL again: the batch's final commit below syncs every image row before it
    report.state = state;
    report.elapsedMs = Date.now() - t0;
    report.imagesPerSecond = report.elapsedMs > 0 ? Math.round((report.imported / report.elapsedMs) * 100000) / 100 : 0;
    db.transaction(() => {
      settleBatchSplits(db, batchId);
      markBatch(db, batchId, state, report);
    })();
  }
}
