import type { EditAction, EditWhat, UndoState } from '../../../shared/library-types.ts';
import { editSummaryEn } from '../../../shared/edit-summary.ts';
import type { Db } from '../open.ts';
import type { RegionRow } from './regions.ts';

/** Image columns an edit may change (whitelist: these names are put into SQL). */
export const IMAGE_FIELDS = ['label_id', 'core_type', 'note', 'review_state', 'group_key', 'group_manual', 'split'] as const;
export type ImageField = (typeof IMAGE_FIELDS)[number];
export type FieldValue = string | number | null;

export type RegionJson = Omit<RegionRow, 'rle'> & { rle: number[] | null };

/**
 * One journal entry's changes. Fields: for each changed column, triples [before, after, imageIds].
 * Regions: full rows before/after (null before = added, null after = deleted).
 */
export interface JournalChanges {
  fields: { field: ImageField; changes: [FieldValue, FieldValue, number[]][] }[];
  regions: { before: RegionJson | null; after: RegionJson | null }[];
  /** What the edit did, as data (absent in entries journaled before it was kept). */
  what?: EditWhat;
}

export interface JournalEntry {
  id: number;
  action: EditAction;
  summary: string;
  what: EditWhat | null;
  changes: JournalChanges;
}

interface Row {
  id: number;
  action: EditAction;
  summary: string;
  changes: string;
}

const KEEP_ENTRIES = 2000;

function map(r: Row | undefined): JournalEntry | null {
  if (!r) return null;
  const changes = JSON.parse(r.changes) as JournalChanges;
  return { id: r.id, action: r.action, summary: r.summary, what: changes.what ?? null, changes };
}

/** Appends an entry; a new edit drops the redo branch. Old entries beyond the last 2,000 are pruned. */
export function appendEntry(db: Db, action: EditAction, what: EditWhat, changes: JournalChanges): number {
  db.prepare('DELETE FROM edit_journal WHERE undone = 1').run();
  const id = Number(
    db
      .prepare('INSERT INTO edit_journal(created_at, action, summary, changes) VALUES (?, ?, ?, ?)')
      .run(new Date().toISOString(), action, editSummaryEn(what), JSON.stringify({ ...changes, what })).lastInsertRowid,
  );
  db.prepare('DELETE FROM edit_journal WHERE id <= ?').run(id - KEEP_ENTRIES);
  return id;
}

export function lastDone(db: Db): JournalEntry | null {
  return map(
    db.prepare('SELECT id, action, summary, changes FROM edit_journal WHERE undone = 0 ORDER BY id DESC LIMIT 1').get() as Row | undefined,
  );
}

export function firstUndone(db: Db): JournalEntry | null {
  return map(
    db.prepare('SELECT id, action, summary, changes FROM edit_journal WHERE undone = 1 ORDER BY id ASC LIMIT 1').get() as Row | undefined,
  );
}

export function setUndone(db: Db, id: number, undone: boolean): void {
  db.prepare('UPDATE edit_journal SET undone = ? WHERE id = ?').run(undone ? 1 : 0, id);
}

export function clearJournal(db: Db): void {
  db.prepare('DELETE FROM edit_journal').run();
}

interface EdgeRow {
  summary: string;
  what: string | null;
}

/** The undo/redo edges; json_extract reads `what` without parsing a bulk edit's whole change list. */
export function undoState(db: Db): UndoState {
  const edge = (undone: 0 | 1) =>
    db
      .prepare(
        `SELECT summary, json_extract(changes, '$.what') AS what FROM edit_journal WHERE undone = ? ORDER BY id ${undone ? 'ASC' : 'DESC'} LIMIT 1`,
      )
      .get(undone) as EdgeRow | undefined;
  const u = edge(0);
  const r = edge(1);
  const what = (e: EdgeRow | undefined) => (e?.what ? (JSON.parse(e.what) as EditWhat) : null);
  return {
    canUndo: u !== undefined,
    canRedo: r !== undefined,
    undoSummary: u?.summary ?? null,
    redoSummary: r?.summary ?? null,
    undoWhat: what(u),
    redoWhat: what(r),
  };
}
