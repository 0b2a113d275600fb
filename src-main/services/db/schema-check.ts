/**
 * What a catalog at a given `user_version` must contain, derived from the migrations themselves (they are run on an
 * in-memory database once per version), and the check of a real catalog against it. A table or column missing from a
 * catalog is damage (a tool or a hand edit dropped it, or the file was replaced): the catalog is refused at open
 * instead of failing later with a bare "no such table".
 */
import Database from 'better-sqlite3';
import type { Db } from './open.ts';
import { migrations } from './migrations/index.ts';

/** Table name -> its column names, for one schema version. */
export type ExpectedSchema = ReadonlyMap<string, readonly string[]>;

interface FullSchema {
  tables: ExpectedSchema;
  /** Indexes and triggers by name (a dropped trigger would silently stop keeping counts right). */
  others: ReadonlyMap<string, 'index' | 'trigger'>;
}

const cache = new Map<number, FullSchema>();

/** Named indexes and triggers of `db` (not SQLite's automatic ones). */
function othersOf(db: Db): Map<string, 'index' | 'trigger'> {
  const rows = db
    .prepare(
      "SELECT name, type FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .all() as { name: string; type: 'index' | 'trigger' }[];
  return new Map(rows.map((r) => [r.name, r.type]));
}

/** Tables (and their columns) of `db`, leaving out SQLite's own. */
export function tablesOf(db: Db): Map<string, string[]> {
  const names = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
    .pluck()
    .all() as string[];
  const out = new Map<string, string[]>();
  for (const n of names) {
    const cols = db.prepare('SELECT name FROM pragma_table_info(?) ORDER BY cid').pluck().all(n) as string[];
    out.set(n, cols);
  }
  return out;
}

function fullSchema(version: number): FullSchema {
  const hit = cache.get(version);
  if (hit) return hit;
  const mem = new Database(':memory:');
  try {
    for (const m of migrations) if (m.version <= version) m.up(mem);
    const schema = { tables: tablesOf(mem), others: othersOf(mem) };
    cache.set(version, schema);
    return schema;
  } finally {
    mem.close();
  }
}

/** The tables (and their columns) the migrations up to `version` produce. */
export function expectedSchema(version: number): ExpectedSchema {
  return fullSchema(version).tables;
}

export interface SchemaProblem {
  /** The missing table, or the table of a missing column, or the missing index / trigger. */
  table: string;
  /** Missing column; absent when the whole table is missing. */
  column?: string;
  /** Set for a missing index or trigger (then `table` is its name). */
  kind?: 'index' | 'trigger';
}

/** Tables and columns that `user_version` promises but `db` lacks (empty when the catalog is whole). */
export function schemaProblems(db: Db, version: number): SchemaProblem[] {
  const { tables: want, others } = fullSchema(version);
  const have = tablesOf(db);
  const problems: SchemaProblem[] = [];
  for (const [table, cols] of want) {
    const got = have.get(table);
    if (!got) {
      problems.push({ table });
      continue;
    }
    const present = new Set(got);
    for (const c of cols) if (!present.has(c)) problems.push({ table, column: c });
  }
  const haveOthers = othersOf(db);
  for (const [name, kind] of others) if (haveOthers.get(name) !== kind) problems.push({ table: name, kind });
  return problems;
}

/** "table runs", "column images.sha256", … for messages. */
export function describeProblems(problems: SchemaProblem[]): string {
  const parts = problems.map((p) => (p.column ? `column ${p.table}.${p.column}` : `${p.kind ?? 'table'} ${p.table}`));
  return parts.length > 6 ? `${parts.slice(0, 6).join(', ')} and ${parts.length - 6} more` : parts.join(', ');
}
