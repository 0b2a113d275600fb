import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CorruptDatabaseError, DatabaseTooNewError, KensaError } from '../../shared/errors.ts';
import { LATEST_SCHEMA_VERSION, migrations } from './migrations/index.ts';
import { describeProblems, schemaProblems } from './schema-check.ts';

export type Db = Database.Database;

export interface OpenDbOptions {
  readonly?: boolean;
  /** Create the catalog when the file does not exist (a new project); otherwise a missing file is an error. */
  create?: boolean;
}

const RESTORE_HINT =
  'Restore kensa.sqlite (with its -wal file, if any) from a backup, or open a copy of the project. Kensa did not change the file.';

function sizeOf(file: string): number | null {
  try {
    return statSync(file).size;
  } catch {
    return null;
  }
}

/**
 * Opens a project catalog: WAL, foreign keys on, migrated to the latest schema. Before anything is written, the file
 * is checked: a database written by a newer Kensa is refused, and so is a damaged one: an existing zero-byte file
 * (a fresh schema over it would orphan the project's stored images and lose its name), a file that is not SQLite, a
 * non-empty database with no Kensa schema version, or one that lacks a table or column its `user_version` promises.
 *
 * Durability: `journal_mode = WAL` with `synchronous = FULL`: the WAL is synced at every commit, so a write that
 * returned survives a crash of Kensa, a kill -9, an OS crash and a power cut alike (NORMAL would lose the last
 * commits before a power cut); imports relax it to one synced commit a second (bulkWriter). Why and at what cost:
 * docs/ARCHITECTURE.md, "Catalog durability".
 */
export function openDatabase(file: string, opts: OpenDbOptions = {}): Db {
  const size = sizeOf(file);
  if (size === null && !opts.create) throw new CorruptDatabaseError(`The catalog ${file} does not exist.`, { file, problem: 'missing' });
  if (size === 0 && !((sizeOf(`${file}-wal`) ?? 0) > 0)) {
    throw new CorruptDatabaseError(
      `The catalog ${file} is empty (0 bytes): the project's labels, runs and name are not in it. ${RESTORE_HINT}`,
      {
        file,
        problem: 'empty',
      },
    );
  }
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: size !== null });
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > LATEST_SCHEMA_VERSION) {
      throw new DatabaseTooNewError(
        `This project was saved by a newer version of Kensa (schema ${version}; this version understands up to ${LATEST_SCHEMA_VERSION}). ` +
          'Update Kensa to open it. The project was not modified.',
        { file, version, supported: LATEST_SCHEMA_VERSION },
      );
    }
    if (version === 0) {
      const objects = db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").pluck().get() as number;
      if (objects > 0)
        throw new CorruptDatabaseError(
          `The catalog ${file} is an SQLite database but not a Kensa catalog (it has no schema version). ${RESTORE_HINT}`,
          {
            file,
            problem: 'foreign',
          },
        );
    } else {
      const problems = schemaProblems(db, version);
      if (problems.length) {
        throw new CorruptDatabaseError(
          `The catalog ${file} is damaged: ${describeProblems(problems)} ${problems.length === 1 ? 'is' : 'are'} missing (schema ${version}). ${RESTORE_HINT}`,
          { file, problem: 'schema', version, missing: problems },
        );
      }
    }
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (!opts.readonly) migrate(db);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof Error && !(err instanceof KensaError) && /file is not a database|malformed|disk image/i.test(err.message)) {
      throw new CorruptDatabaseError(`The catalog ${file} is damaged or not a Kensa database: ${err.message}. ${RESTORE_HINT}`, {
        file,
        problem: 'unreadable',
      });
    }
    throw err;
  }
}

/**
 * A read-only connection for a process that only reads a catalog another process keeps open (the engine reading
 * samples and region masks). No schema check or migration: the owning process did both when it opened the project.
 */
export function openCatalogReader(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Applies pending migrations, each in its own transaction with its user_version bump. */
export function migrate(db: Db): number {
  let version = db.pragma('user_version', { simple: true }) as number;
  for (const m of migrations) {
    if (m.version <= version) continue;
    if (m.version !== version + 1) throw new Error(`Migration ${m.version} (${m.name}) does not follow ${version}`);
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
    version = m.version;
  }
  return version;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Lets SQLite refresh its query-planner statistics, then closes (what to run when a project closes). */
export function closeDatabase(db: Db): void {
  if (!db.open) return;
  try {
    if (!db.readonly) db.pragma('optimize');
  } catch {
    // Statistics are an optimisation: never let them stop a close.
  }
  db.close();
}

/** The longest a bulk writer leaves its commits unsynced (what a power cut during an import can lose at most). */
export const BULK_SYNC_INTERVAL_MS = 1000;

const bulkWriters = new WeakMap<Db, { users: number; lastSync: number }>();

export interface BulkWriter {
  /** Runs `fn` in a transaction; the commit is synced to disk when the last synced one is older than the interval. */
  transaction<T>(fn: () => T): T;
  /** Back to synchronous = FULL (when no other bulk writer is active); the next commit syncs everything before it. */
  release(): void;
}

/**
 * For writers that commit many small transactions in a row (an import commits one per image): `synchronous = NORMAL`
 * while they run, with one synced commit at least every BULK_SYNC_INTERVAL_MS and FULL again when they end. A power
 * cut during an import can lose the last second of commits (import rows, which the resumable import redoes, and any
 * label given in that second), never corrupt the catalog; outside imports every commit is synced. One fsync per image
 * on the thread that answers the UI cost 40-50 % of the import rate on small images (docs/ARCHITECTURE.md).
 */
export function bulkWriter(db: Db): BulkWriter {
  const state = bulkWriters.get(db) ?? { users: 0, lastSync: Date.now() };
  bulkWriters.set(db, state);
  if (state.users++ === 0 && db.open) db.pragma('synchronous = NORMAL');
  let released = false;
  return {
    transaction<T>(fn: () => T): T {
      const due = Date.now() - state.lastSync >= BULK_SYNC_INTERVAL_MS;
      if (!due) return db.transaction(fn)();
      db.pragma('synchronous = FULL');
      try {
        return db.transaction(fn)();
      } finally {
        state.lastSync = Date.now();
        if (state.users > 0 && db.open) db.pragma('synchronous = NORMAL');
      }
    },
    release(): void {
      if (released) return;
      released = true;
      if (--state.users === 0 && db.open) db.pragma('synchronous = FULL');
    },
  };
}
