import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../../src-main/services/db/migrations/index.ts';
import { expectedSchema } from '../../src-main/services/db/schema-check.ts';
import { EventBus } from '../../src-main/services/events.ts';
import { ProjectManager } from '../../src-main/services/projects/project-manager.ts';
import { Project } from '../../src-main/services/projects/project.ts';
import { SettingsStore } from '../../src-main/services/settings/store.ts';
import { useTmp } from '../helpers/tmp.ts';

const tmp = useTmp();

describe('project folders', () => {
  it('creates the folder layout and a migrated catalog with WAL and foreign keys', () => {
    const dir = join(tmp(), 'line3');
    const p = Project.create(dir, 'Line 3');
    for (const sub of ['images', 'models', 'runs', 'cache', 'kensa.sqlite']) expect(existsSync(join(dir, sub))).toBe(true);
    expect(p.info()).toMatchObject({ name: 'Line 3', schemaVersion: LATEST_SCHEMA_VERSION, isDemo: false });
    expect(p.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(p.db.pragma('synchronous', { simple: true })).toBe(2); // FULL: a returned commit survives a power cut
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

  it('refuses a zero-byte catalog in a project folder and leaves it (and the stored images) as they were', () => {
    const dir = join(tmp(), 'emptied');
    Project.create(dir, 'Line 7').close();
    mkdirSync(join(dir, 'images', 'ab'), { recursive: true });
    writeFileSync(join(dir, 'images', 'ab', 'ab12.jpg'), 'stored image');
    writeFileSync(join(dir, 'kensa.sqlite'), '');
    for (const f of ['kensa.sqlite-wal', 'kensa.sqlite-shm']) if (existsSync(join(dir, f))) writeFileSync(join(dir, f), '');
    expect(() => Project.open(dir)).toThrow(
      expect.objectContaining({ name: 'CorruptDatabaseError', message: expect.stringMatching(/0 bytes/) }),
    );
    expect(readFileSync(join(dir, 'kensa.sqlite')).length).toBe(0);
    expect(readFileSync(join(dir, 'images', 'ab', 'ab12.jpg'), 'utf8')).toBe('stored image');
    expect(existsSync(join(dir, 'kensa.lock'))).toBe(false);
  });

  it.each(['runs', 'images', 'project_meta'])('refuses a catalog whose %s table was dropped, byte-identical afterwards', (table) => {
    const dir = join(tmp(), `dropped-${table}`);
    Project.create(dir).close();
    const file = join(dir, 'kensa.sqlite');
    const db = new Database(file);
    db.pragma('foreign_keys = OFF');
    db.exec(`DROP TABLE ${table}`);
    db.close();
    const before = readFileSync(file);
    expect(() => Project.open(dir)).toThrow(
      expect.objectContaining({ name: 'CorruptDatabaseError', message: expect.stringContaining(`table ${table}`) }),
    );
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(existsSync(join(dir, 'kensa.lock'))).toBe(false);
  });

  it('refuses a catalog that lost a column its schema version promises', () => {
    const dir = join(tmp(), 'column');
    Project.create(dir).close();
    const db = new Database(join(dir, 'kensa.sqlite'));
    db.exec('ALTER TABLE images DROP COLUMN note');
    db.close();
    expect(() => Project.open(dir)).toThrow(
      expect.objectContaining({ name: 'CorruptDatabaseError', message: expect.stringContaining('column images.note') }),
    );
  });

  it('refuses a catalog whose trigger keeping region counts was dropped', () => {
    const dir = join(tmp(), 'trigger');
    Project.create(dir).close();
    const db = new Database(join(dir, 'kensa.sqlite'));
    db.exec('DROP TRIGGER regions_count_ins');
    db.close();
    expect(() => Project.open(dir)).toThrow(
      expect.objectContaining({ name: 'CorruptDatabaseError', message: expect.stringContaining('trigger regions_count_ins') }),
    );
  });

  it('derives the expected schema from the migrations, per version', () => {
    expect([...expectedSchema(1).keys()]).toEqual(['project_meta']);
    const v3 = expectedSchema(3);
    expect(v3.has('runs')).toBe(true);
    expect(v3.has('heatmap_predictions')).toBe(false);
    expect(v3.get('images')).toContain('sha256');
    expect(expectedSchema(LATEST_SCHEMA_VERSION).size).toBeGreaterThanOrEqual(v3.size);
  });

  it('keeps the previous project open when opening a damaged one fails', async () => {
    const base = tmp();
    const pm = new ProjectManager(new SettingsStore(join(base, 'config')), new EventBus());
    const good = await pm.create(join(base, 'good'), 'Good');
    Project.create(join(base, 'bad')).close();
    const db = new Database(join(base, 'bad', 'kensa.sqlite'));
    db.exec('DROP TABLE runs');
    db.close();
    await expect(pm.open(join(base, 'bad'))).rejects.toMatchObject({ name: 'CorruptDatabaseError' });
    expect(pm.project).toBe(good);
    expect(good.info().name).toBe('Good');
    expect(existsSync(join(base, 'bad', 'kensa.lock'))).toBe(false);
    // A failure after the checks (an open listener) also leaves the previous project in place.
    pm.onOpen((p) => {
      if (p.dir.endsWith('other')) throw new Error('listener failed');
    });
    Project.create(join(base, 'other')).close();
    await expect(pm.open(join(base, 'other'))).rejects.toThrow('listener failed');
    expect(pm.project?.dir).toBe(good.dir);
    expect(existsSync(join(base, 'other', 'kensa.lock'))).toBe(false);
    expect(existsSync(join(base, 'good', 'kensa.lock'))).toBe(true);
    await pm.close();
  });

  it('marks runs and import batches left running by a killed process at every open', () => {
    const dir = join(tmp(), 'killed');
    const p = Project.create(dir);
    p.db
      .prepare(
        `INSERT INTO runs (name, status, task, backbone, input_size, weights_source, config, classes, created_at)
         VALUES ('r', 'running', 'binary', 'mobilenet_v2', 224, 'x', '{}', '[]', 'now')`,
      )
      .run();
    p.db.prepare("INSERT INTO import_batches (created_at, state, fingerprint, request) VALUES ('now', 'running', 'f', '{}')").run();
    p.close();
    const q = Project.open(dir);
    expect(q.recovered).toEqual({ importBatches: 1, runs: 1 });
    expect(q.db.prepare('SELECT status FROM runs').pluck().get()).toBe('failed');
    expect(q.db.prepare('SELECT state FROM import_batches').pluck().get()).toBe('interrupted');
    q.close();
  });

  it('a run left running by a killed process is failed once `kensa stats` opens the project (CLI entry point)', () => {
    const base = tmp();
    const dir = join(base, 'cli');
    const p = Project.create(dir);
    p.db
      .prepare(
        `INSERT INTO runs (name, status, task, backbone, input_size, weights_source, config, classes, created_at)
         VALUES ('r', 'running', 'binary', 'mobilenet_v2', 224, 'x', '{}', '[]', 'now')`,
      )
      .run();
    p.close();
    const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/kensa.js'), 'stats', dir, '--json'], {
      encoding: 'utf8',
      env: { ...process.env, KENSA_HOME: join(base, 'home') },
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    const check = new Database(join(dir, 'kensa.sqlite'), { readonly: true });
    expect(check.prepare('SELECT status FROM runs').pluck().get()).toBe('failed');
    check.close();
  });
});
