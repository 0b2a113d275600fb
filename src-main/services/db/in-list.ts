/**
 * The one way to run SQL over a list of ids (`WHERE id IN (…)`). A list of any length is split into chunks well below
 * SQLite's limit on bound variables (32,766 in this build), each chunk's statement is prepared once per database and
 * list size and then reused, and the list is bound as parameters, never pasted into the SQL.
 *
 * Write `IN (${IDS})` where the list goes; other parameters are named (`@value`) and passed as one object, because
 * positional ones would shift with the list's length.
 */
import type Database from 'better-sqlite3';
import type { Db } from './open.ts';

type Statement = Database.Statement<unknown[]>;
export type InValue = number | string | bigint;
export type NamedParams = Record<string, unknown>;

/** Stands for the list in the SQL given to the helpers: `SELECT … WHERE id IN (${IDS})`. */
export const IDS = '/*ids*/';

/**
 * The most values bound for one list. 500 leaves room for the statement's own parameters and keeps each statement
 * small; SQLite looks an IN list up through a temporary index, so larger chunks save nothing measurable.
 */
export const IN_CHUNK = 500;

/** `?, ?, ?` for `n` values: for a short list inside a larger clause (a grid filter's label or split list). */
export function placeholders(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`An IN list needs at least one value (got ${n}).`);
  return Array.from({ length: n }, () => '?').join(', ');
}

/**
 * Chunks are padded to a power of two (repeating their last value, which changes nothing for IN) so that a database
 * holds at most ten statements per SQL text (1, 2, 4 … 256, 500 values) instead of one per list length.
 */
function slots(n: number): number {
  let s = 1;
  while (s < n) s *= 2;
  return Math.min(s, IN_CHUNK);
}

const cache = new WeakMap<Db, Map<string, Statement>>();

function statement(db: Db, sql: string, size: number): Statement {
  let byKey = cache.get(db);
  if (!byKey) cache.set(db, (byKey = new Map()));
  const key = `${size}\u0000${sql}`;
  let stmt = byKey.get(key);
  if (!stmt) {
    if (!sql.includes(IDS)) throw new Error(`SQL for an id list must contain IN (\${IDS}): ${sql}`);
    stmt = db.prepare<unknown[]>(sql.split(IDS).join(placeholders(size)));
    byKey.set(key, stmt);
  }
  return stmt;
}

/**
 * Calls `fn` with each chunk's statement and its padded values, in the order of `values`. Repeated values are dropped
 * first (keeping the first), so a value listed twice matches once even when the two fall into different chunks.
 */
function eachChunk(db: Db, sql: string, values: readonly InValue[], fn: (stmt: Statement, chunk: InValue[]) => void): void {
  const unique = [...new Set(values)];
  for (let k = 0; k < unique.length; k += IN_CHUNK) {
    const chunk = unique.slice(k, k + IN_CHUNK);
    const size = slots(chunk.length);
    while (chunk.length < size) chunk.push(chunk[chunk.length - 1]!);
    fn(statement(db, sql, size), chunk);
  }
}

/**
 * The rows of a SELECT over `values`, chunk after chunk in the order of `values` (within a chunk in the statement's
 * own ORDER BY): ids given ascending with `ORDER BY id` come back ascending. An empty list returns no rows and runs
 * nothing. A value given twice matches once.
 */
export function selectIn<R>(db: Db, sql: string, values: readonly InValue[], params?: NamedParams): R[] {
  const out: R[] = [];
  eachChunk(db, sql, values, (stmt, chunk) => {
    const rows = (params ? stmt.all(...chunk, params) : stmt.all(...chunk)) as R[];
    for (const r of rows) out.push(r);
  });
  return out;
}

/** `selectIn` keyed by one column (a later row with the same key wins). */
export function selectInBy<R, K extends keyof R>(
  db: Db,
  sql: string,
  key: K,
  values: readonly InValue[],
  params?: NamedParams,
): Map<R[K], R> {
  return new Map(selectIn<R>(db, sql, values, params).map((r) => [r[key], r]));
}

/**
 * Runs an UPDATE / DELETE over `values` and returns the rows changed. The chunks run inside the caller's
 * transaction, or in one of their own when there is none, so a long list is applied whole or not at all.
 */
export function runIn(db: Db, sql: string, values: readonly InValue[], params?: NamedParams): number {
  let changes = 0;
  const body = () =>
    eachChunk(db, sql, values, (stmt, chunk) => {
      changes += (params ? stmt.run(...chunk, params) : stmt.run(...chunk)).changes;
    });
  if (db.inTransaction) body();
  else db.transaction(body)();
  return changes;
}
