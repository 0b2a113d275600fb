import type { EditAction, UndoState } from '../../../shared/catalog-types.ts';
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
}

export interface JournalEntry {
  id: number;
  action: EditAction;
  summary: string;
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
  return r ? { id: r.id, action: r.action, summary: r.summary, changes: JSON.parse(r.changes) as JournalChanges } : null;
}

/** Appends an entry; a new edit drops the redo branch. Old entries beyond the last 2,000 are pruned. */
export function appendEntry(db: Db, action: EditAction, summary: string, changes: JournalChanges): number {
  db.prepare('DELETE FROM edit_journal WHERE undone = 1').run();
  const id = Number(
    db
      .prepare('INSERT INTO edit_journal(created_at, action, summary, changes) VALUES (?, ?, ?, ?)')
      .run(new Date().toISOString(), action, summary, JSON.stringify(changes)).lastInsertRowid,
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

export function undoState(db: Db): UndoState {
  const u = db.prepare('SELECT summary FROM edit_journal WHERE undone = 0 ORDER BY id DESC LIMIT 1').pluck().get() as string | undefined;
  const r = db.prepare('SELECT summary FROM edit_journal WHERE undone = 1 ORDER BY id ASC LIMIT 1').pluck().get() as string | undefined;
  return { canUndo: u !== undefined, canRedo: r !== undefined, undoSummary: u ?? null, redoSummary: r ?? null };
}
