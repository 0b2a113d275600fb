import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src-main/services/db/open.ts';
import { migrations } from '../../src-main/services/db/migrations/index.ts';

function atVersion5(): Database.Database {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  for (const m of migrations.filter((x) => x.version <= 5))
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
  return db;
}

const insertRun = (db: Database.Database, task: string, parent: number | null) =>
  db
    .prepare(
      `INSERT INTO runs (name, status, task, backbone, input_size, weights_source, config, classes, parent_run_id, operating_point, created_at)
       VALUES (?, 'succeeded', ?, 'mobilenet_v1_0.75', 224, 'w', '{}', '[]', ?, '{"aim":1}', '2026-01-01')`,
    )
    .run(`run ${task}`, task, parent).lastInsertRowid as number;

describe('migration 006: the anomaly task', () => {
  it('lets runs.task be "anomaly" and keeps every existing run and the rows that reference it', () => {
    const db = atVersion5();
    expect(() => insertRun(db, 'anomaly', null)).toThrow(/CHECK constraint/);
    const a = insertRun(db, 'binary', null);
    const b = insertRun(db, 'multiclass', a);
    db.prepare("INSERT INTO run_samples (run_id, image_id, sha256, label, class_index, split) VALUES (?, NULL, 'x', 'ok', 0, 'val')").run(
      b,
    );
    db.prepare(
      "INSERT INTO run_evaluations (run_id, split, accuracy, loss, metrics, created_at) VALUES (?, 'val', 0.9, 0.1, '{}', 'now')",
    ).run(a);
    db.prepare('INSERT INTO run_epochs VALUES (?, ?, 1, 1, 0.5, 0.8, NULL, NULL, 0.001, 10)').run(b, 'transfer');
    const before = {
      runs: db.prepare('SELECT * FROM runs ORDER BY id').all(),
      samples: db.prepare('SELECT * FROM run_samples').all(),
      evals: db.prepare('SELECT * FROM run_evaluations').all(),
      epochs: db.prepare('SELECT * FROM run_epochs').all(),
    };

    expect(migrate(db)).toBeGreaterThanOrEqual(6);

    // Later migrations may add columns; every value there before is kept.
    expect(db.prepare('SELECT * FROM runs ORDER BY id').all()).toMatchObject(before.runs);
    expect(db.prepare('SELECT * FROM run_samples').all()).toMatchObject(before.samples);
    expect(db.prepare('SELECT * FROM run_evaluations').all()).toMatchObject(before.evals);
    expect(db.prepare('SELECT * FROM run_epochs').all()).toMatchObject(before.epochs);
    const c = insertRun(db, 'anomaly', b);
    expect(db.prepare('SELECT task, parent_run_id FROM runs WHERE id = ?').get(c)).toEqual({ task: 'anomaly', parent_run_id: b });
    expect(() => insertRun(db, 'regression', null)).toThrow(/CHECK constraint/);
    // The references still point at the rebuilt table: deleting a run cascades into its rows as before.
    db.prepare('DELETE FROM runs WHERE id = ?').run(b);
    expect(db.prepare('SELECT COUNT(*) FROM run_samples').pluck().get()).toBe(0);
    expect(db.prepare('SELECT parent_run_id FROM runs WHERE id = ?').pluck().get(c)).toBeNull();
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'runs_created'").pluck().get()).toBe(1);
  });
});
