import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IDS, IN_CHUNK, placeholders, runIn, selectIn, selectInBy } from '../../src-main/services/db/in-list.ts';
import type { Db } from '../../src-main/services/db/open.ts';

/** SQLite's bound-variable limit in better-sqlite3's build (SQLITE_MAX_VARIABLE_NUMBER). */
const SQLITE_VARIABLE_LIMIT = 32766;
const N = 40_000;

let db: Db;

beforeEach(() => {
  db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER NOT NULL) STRICT');
  const ins = db.prepare('INSERT INTO t(id, v, n) VALUES (?, ?, 0)');
  db.transaction(() => {
    for (let i = 1; i <= N; i++) ins.run(i, `v${i}`);
  })();
});

afterEach(() => db.close());

const all = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('selectIn', () => {
  it('reads a list longer than SQLite allows in one statement', () => {
    expect(N).toBeGreaterThan(SQLITE_VARIABLE_LIMIT);
    // The hand-built list this helper replaces fails on such a list.
    expect(() => db.prepare(`SELECT id FROM t WHERE id IN (${placeholders(N)})`)).toThrow(/too many SQL variables/);
    const rows = selectIn<{ id: number; v: string }>(db, `SELECT id, v FROM t WHERE id IN (${IDS}) ORDER BY id`, all(N));
    expect(rows).toHaveLength(N);
    expect(rows[0]).toEqual({ id: 1, v: 'v1' });
    expect(rows[N - 1]).toEqual({ id: N, v: `v${N}` });
  });

  it('returns nothing for an empty list and prepares nothing (invalid SQL is never seen)', () => {
    expect(selectIn(db, 'SELECT id FROM t WHERE id IN (/*ids*/)', [])).toEqual([]);
    expect(selectIn(db, 'NOT SQL AT ALL', [])).toEqual([]);
    expect(runIn(db, `UPDATE t SET n = 1 WHERE id IN (${IDS})`, [])).toBe(0);
  });

  it('keeps the order: chunk after chunk as given, the statement’s ORDER BY inside each', () => {
    const asc = selectIn<{ id: number }>(db, `SELECT id FROM t WHERE id IN (${IDS}) ORDER BY id`, all(3 * IN_CHUNK + 7));
    expect(asc.map((r) => r.id)).toEqual(all(3 * IN_CHUNK + 7));
    // Given descending, the chunks come back in the order given, each sorted ascending by the statement.
    const desc = all(2 * IN_CHUNK).reverse();
    const got = selectIn<{ id: number }>(db, `SELECT id FROM t WHERE id IN (${IDS}) ORDER BY id`, desc).map((r) => r.id);
    expect(got.slice(0, IN_CHUNK)).toEqual(all(2 * IN_CHUNK).slice(IN_CHUNK));
    expect(got.slice(IN_CHUNK)).toEqual(all(IN_CHUNK));
  });

  it('pads short chunks without changing the result, and matches a repeated id once, even across chunks', () => {
    for (const ids of [[5], [5, 9, 2], [7, 7, 7], all(IN_CHUNK + 3), [...all(IN_CHUNK + 3), 1, 2]]) {
      const got = selectIn<{ id: number }>(db, `SELECT id FROM t WHERE id IN (${IDS}) ORDER BY id`, ids).map((r) => r.id);
      const want = [...new Set(ids)].sort((a, b) => a - b);
      expect(got).toEqual(want);
    }
  });

  it('binds named parameters beside the list and keys rows by a column', () => {
    const m = selectInBy<{ id: number; v: string }, 'id'>(db, `SELECT id, v FROM t WHERE id IN (${IDS}) AND v <> @skip`, 'id', [1, 2, 3], {
      skip: 'v2',
    });
    expect([...m.keys()].sort()).toEqual([1, 3]);
    expect(m.get(3)?.v).toBe('v3');
  });

  it('reuses one statement per padded size instead of preparing one per list', () => {
    let prepared = 0;
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      prepared++;
      return prepare(sql);
    }) as Db['prepare'];
    const sql = `SELECT id FROM t WHERE id IN (${IDS})`;
    for (let n = 1; n <= IN_CHUNK; n++) selectIn(db, sql, all(n));
    // Sizes 1, 2, 4 … 256 and the full chunk of 500: ten statements for 500 list lengths.
    expect(prepared).toBe(10);
    selectIn(db, sql, all(5 * IN_CHUNK));
    expect(prepared).toBe(10);
  });

  it('refuses SQL without the list marker', () => {
    expect(() => selectIn(db, 'SELECT id FROM t WHERE id = ?', [1])).toThrow(/IN \(\$\{IDS\}\)/);
  });
});

describe('runIn', () => {
  it('updates every listed row across chunks and counts the rows changed once each', () => {
    const ids = all(N).filter((i) => i % 3 === 0);
    ids.push(ids[0]!);
    const changed = runIn(db, `UPDATE t SET n = @n WHERE id IN (${IDS})`, ids, { n: 7 });
    expect(changed).toBe(Math.floor(N / 3));
    expect(db.prepare('SELECT COUNT(*) FROM t WHERE n = 7').pluck().get()).toBe(Math.floor(N / 3));
    expect(db.prepare('SELECT COUNT(*) FROM t WHERE n = 7 AND id % 3 <> 0').pluck().get()).toBe(0);
  });

  it('runs inside the caller’s transaction (rolled back with it)', () => {
    expect(() =>
      db.transaction(() => {
        runIn(db, `UPDATE t SET n = 1 WHERE id IN (${IDS})`, all(2 * IN_CHUNK));
        throw new Error('caller fails after the update');
      })(),
    ).toThrow(/caller fails/);
    expect(db.prepare('SELECT COUNT(*) FROM t WHERE n = 1').pluck().get()).toBe(0);
  });

  it('applies a long list whole or not at all outside a transaction', () => {
    // A trigger makes the write fail in the last chunk: the earlier chunks must not stay written.
    db.exec("CREATE TRIGGER stop BEFORE UPDATE ON t WHEN NEW.id = 1600 BEGIN SELECT RAISE(ABORT, 'stop'); END");
    expect(() => runIn(db, `UPDATE t SET n = 2 WHERE id IN (${IDS})`, all(1600))).toThrow(/stop/);
    expect(db.prepare('SELECT COUNT(*) FROM t WHERE n = 2').pluck().get()).toBe(0);
  });
});

describe('placeholders', () => {
  it('writes one ? per value and refuses an empty list', () => {
    expect(placeholders(3)).toBe('?, ?, ?');
    expect(() => placeholders(0)).toThrow(RangeError);
  });
});
