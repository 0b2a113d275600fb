import type { Database } from 'better-sqlite3';
import type { Migration } from './index.ts';

const OLD_CHECK = "CHECK (task IN ('binary', 'multiclass'))";
const NEW_CHECK = "CHECK (task IN ('binary', 'multiclass', 'anomaly'))";

/**
 * The anomaly task (learn from good parts only): runs.task also accepts 'anomaly'. SQLite cannot change a CHECK
 * constraint in place (and the schema table is write-protected), so `runs` is rebuilt from its own stored
 * definition (whatever columns later migrations added come along), inside the migration's transaction, with
 * foreign keys on. Dropping the old table would cascade into every table that references it (samples, epochs,
 * evaluations, heatmaps…), so those rows are saved first and put back after, unchanged.
 */
export const m006AnomalyTask: Migration = {
  version: 6,
  name: 'anomaly-task',
  up(db) {
    const sql = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'").pluck().get() as string | undefined;
    if (!sql || !sql.includes(OLD_CHECK)) return; // a fresh schema built by a later 003 would already allow it
    const children = tablesReferencingRuns(db);
    const indexes = db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL")
      .pluck()
      .all() as string[];
    for (const c of children) db.exec(`CREATE TEMP TABLE "saved_${c}" AS SELECT * FROM "${c}"`);
    // The copy references itself by its own name so the old table's implicit delete cannot null its parent_run_id;
    // the rename below points it (and the children's clauses, which name "runs") at the new table.
    const created = sql
      .replace(/^CREATE TABLE\s+"?runs"?/, 'CREATE TABLE runs_new')
      .replaceAll('REFERENCES runs(id)', 'REFERENCES runs_new(id)')
      .replace(OLD_CHECK, NEW_CHECK);
    db.exec(created);
    db.exec('INSERT INTO runs_new SELECT * FROM runs');
    db.exec('DROP TABLE runs');
    db.exec('ALTER TABLE runs_new RENAME TO runs');
    for (const i of indexes) db.exec(i);
    for (const c of children) {
      db.exec(`DELETE FROM "${c}"`);
      db.exec(`INSERT INTO "${c}" SELECT * FROM "saved_${c}"`);
      db.exec(`DROP TABLE "saved_${c}"`);
    }
    const broken = db.pragma('foreign_key_check') as unknown[];
    if (broken.length) throw new Error(`Rebuilding the runs table left ${broken.length} broken reference(s)`);
  },
};

function tablesReferencingRuns(db: Database): string[] {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'runs'")
    .pluck()
    .all() as string[];
  return tables.filter((t) => (db.prepare('SELECT "table" FROM pragma_foreign_key_list(?)').pluck().all(t) as string[]).includes('runs'));
}
