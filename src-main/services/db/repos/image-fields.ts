/**
 * Writes and reads of the image columns that labelling edits change (and undo/redo replay), over any number of
 * images. The column name is put into the SQL, so only the journal's whitelist is accepted.
 */
import { IDS, runIn, selectIn } from '../in-list.ts';
import type { Db } from '../open.ts';
import { IMAGE_FIELDS, type FieldValue, type ImageField } from './journal.ts';

function checkField(f: string): asserts f is ImageField {
  if (!(IMAGE_FIELDS as readonly string[]).includes(f)) throw new Error(`Not an editable image field: ${f}`);
}

/** Sets one column to one value on the listed images (in the caller's transaction). */
export function setImageField(db: Db, field: ImageField, value: FieldValue, ids: readonly number[]): void {
  checkField(field);
  runIn(db, `UPDATE images SET ${field} = @value WHERE id IN (${IDS})`, ids, { value });
}

/** One column of the listed images that exist, by id. */
export function readImageField(db: Db, field: ImageField, ids: readonly number[]): Map<number, FieldValue> {
  checkField(field);
  const rows = selectIn<{ id: number; v: FieldValue }>(db, `SELECT id, ${field} AS v FROM images WHERE id IN (${IDS})`, ids);
  return new Map(rows.map((r) => [r.id, r.v]));
}
