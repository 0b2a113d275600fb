import type { ImportBatch, ImportBatchState, ImportReport, ImportRequest } from '../../../shared/library-types.ts';
import type { Db } from '../open.ts';

interface BatchRow {
  id: number;
  created_at: string;
  finished_at: string | null;
  state: ImportBatchState;
  fingerprint: string;
  request: string;
  imported: number;
  duplicates: number;
  skipped: number;
  report: string | null;
  image_count: number;
}

function map(r: BatchRow): ImportBatch {
  const req = JSON.parse(r.request) as ImportRequest;
  return {
    id: r.id,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    state: r.state,
    paths: req.paths,
    imported: r.imported,
    duplicates: r.duplicates,
    skipped: r.skipped,
    imageCount: r.image_count,
  };
}

const SELECT = 'SELECT b.*, (SELECT COUNT(*) FROM images i WHERE i.batch_id = b.id) AS image_count FROM import_batches b';

export function listBatches(db: Db): ImportBatch[] {
  return (db.prepare(`${SELECT} ORDER BY b.id`).all() as BatchRow[]).map(map);
}

/** The latest unfinished batch (running when a crash hit, cancelled, interrupted) of the same import. */
export function findResumable(db: Db, fingerprint: string): number | null {
  const r = db
    .prepare(
      `SELECT id FROM import_batches WHERE fingerprint = ? AND state IN ('running', 'cancelled', 'interrupted', 'failed') ORDER BY id DESC LIMIT 1`,
    )
    .get(fingerprint) as { id: number } | undefined;
  return r?.id ?? null;
}

export function createBatch(db: Db, fingerprint: string, request: ImportRequest): number {
  const res = db
    .prepare(`INSERT INTO import_batches(created_at, state, fingerprint, request) VALUES (?, 'running', ?, ?)`)
    .run(new Date().toISOString(), fingerprint, JSON.stringify(request));
  return Number(res.lastInsertRowid);
}

export function markBatch(db: Db, id: number, state: ImportBatchState, report?: ImportReport): void {
  db.prepare(
    `UPDATE import_batches SET state = ?, finished_at = CASE WHEN ? = 'running' THEN NULL ELSE ? END,
       imported = COALESCE(?, imported), duplicates = COALESCE(?, duplicates), skipped = COALESCE(?, skipped),
       report = COALESCE(?, report) WHERE id = ?`,
  ).run(
    state,
    state,
    new Date().toISOString(),
    report ? (db.prepare('SELECT COUNT(*) AS n FROM images WHERE batch_id = ?').get(id) as { n: number }).n : null,
    report?.duplicates.length ?? null,
    report?.skipped.length ?? null,
    report ? JSON.stringify(report) : null,
    id,
  );
}

export function batchReport(db: Db, id: number): ImportReport | null {
  const r = db.prepare('SELECT report FROM import_batches WHERE id = ?').get(id) as { report: string | null } | undefined;
  return r?.report ? (JSON.parse(r.report) as ImportReport) : null;
}

/** Batches left 'running' by a process that is gone (one process per project: at open, every running one is). */
/** Batches left 'running' (by a Kensa that stopped) become 'interrupted'; returns how many. */
export function markInterrupted(db: Db): number {
  return db.prepare(`UPDATE import_batches SET state = 'interrupted' WHERE state = 'running'`).run().changes;
}

/** Distinct files found to be copies of a different file already imported, over every batch. */
export function distinctDuplicates(db: Db): number {
  const paths = new Set<string>();
  for (const r of db.prepare('SELECT report FROM import_batches WHERE report IS NOT NULL').all() as { report: string }[]) {
    for (const d of (JSON.parse(r.report) as ImportReport).duplicates) if (d.existingPath !== d.path) paths.add(d.path);
  }
  return paths.size;
}
