import Database from 'better-sqlite3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../../src-main/services/db/migrations/index.ts';
import { Project } from '../../src-main/services/projects/project.ts';
import { useTmp } from '../helpers/tmp.ts';

const tmp = useTmp();

describe('project folders', () => {
  it('creates the folder layout and a migrated catalog with WAL and foreign keys', () => {
    const dir = join(tmp(), 'line3');
    const p = Project.create(dir, 'Line 3');
    for (const sub of ['images', 'models', 'runs', 'cache', 'kensa.sqlite']) expect(existsSync(join(dir, sub))).toBe(true);
    expect(p.info()).toMatchObject({ name: 'Line 3', schemaVersion: LATEST_SCHEMA_VERSION, isDemo: false });
    expect(p.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(p.db.pragma('foreign_keys', { simple: true })).toBe(1);
    p.close();
    const again = Project.open(dir);
    expect(again.info().name).toBe('Line 3');
    again.close();
  });

  it('refuses a missing folder, a folder that is not a project, and a non-empty folder for a new project', () => {
    const base = tmp();
    expect(() => Project.open(join(base, 'nope'))).toThrow(expect.objectContaining({ name: 'ProjectNotFoundError' }));
    mkdirSync(join(base, 'plain'));
    expect(() => Project.open(join(base, 'plain'))).toThrow(expect.objectContaining({ name: 'NotAProjectError' }));
    writeFileSync(join(base, 'plain', 'photo.jpg'), 'x');
    expect(() => Project.create(join(base, 'plain'))).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    const p = Project.create(join(base, 'proj'));
    p.close();
    expect(() => Project.create(join(base, 'proj'))).toThrow(expect.objectContaining({ name: 'ProjectExistsError' }));
  });

  it('refuses a database from a newer Kensa and leaves it untouched', () => {
    const dir = join(tmp(), 'future');
    Project.create(dir).close();
    const file = join(dir, 'kensa.sqlite');
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    db.exec("INSERT INTO project_meta(key, value) VALUES ('marker', 'kept')");
    db.close();
    expect(() => Project.open(dir)).toThrow(expect.objectContaining({ name: 'DatabaseTooNewError' }));
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION + 5);
    expect(check.prepare("SELECT value FROM project_meta WHERE key='marker'").get()).toEqual({ value: 'kept' });
    check.close();
    // The lock taken during the failed open was released.
    expect(existsSync(join(dir, 'kensa.lock'))).toBe(false);
  });

  it('locks a project against a second instance and takes over a stale lock', () => {
    const dir = join(tmp(), 'locked');
    const p = Project.create(dir);
    // A second process on the same project is told it is in use.
    const child = spawnSync(
      process.execPath,
      [
        '-e',
        `import('${join(process.cwd(), 'src-main/services/projects/project.ts')}').then(m => { try { m.Project.open(${JSON.stringify(dir)}); console.log('opened') } catch (e) { console.log(e.name) } })`,
      ],
      { encoding: 'utf8' },
    );
    expect(child.stdout.trim()).toBe('ProjectLockedError');
    p.close();
    // A lock left by a process that no longer exists does not block.
    writeFileSync(join(dir, 'kensa.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: 'then' }));
    const q = Project.open(dir);
    q.close();
  });

  it('reports a damaged catalog file clearly', () => {
    const dir = join(tmp(), 'broken');
    Project.create(dir).close();
    writeFileSync(join(dir, 'kensa.sqlite'), 'this is not sqlite at all, just text that is long enough to look like a header');
    for (const f of ['kensa.sqlite-wal', 'kensa.sqlite-shm']) if (existsSync(join(dir, f))) writeFileSync(join(dir, f), '');
    expect(() => Project.open(dir)).toThrow(expect.objectContaining({ name: 'CorruptDatabaseError' }));
  });
});
