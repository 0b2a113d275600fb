import Database from 'better-sqlite3';
import { CorruptDatabaseError, DatabaseTooNewError } from '../../shared/errors.ts';
import { LATEST_SCHEMA_VERSION, migrations } from './migrations/index.ts';

export type Db = Database.Database;

export interface OpenDbOptions {
  readonly?: boolean;
}

/**
 * Opens a project catalog: WAL, foreign keys on, migrated to the latest schema. A database written
 * by a newer Kensa is refused before anything is changed in it.
 */
export function openDatabase(file: string, opts: OpenDbOptions = {}): Db {
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: false });
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > LATEST_SCHEMA_VERSION) {
      throw new DatabaseTooNewError(
        `This project was saved by a newer version of Kensa (schema ${version}; this version understands up to ${LATEST_SCHEMA_VERSION}). ` +
          'Update Kensa to open it. The project was not modified.',
        { file, version, supported: LATEST_SCHEMA_VERSION },
      );
    }
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (!opts.readonly) migrate(db);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof Error && /file is not a database|malformed/i.test(err.message)) {
      throw new CorruptDatabaseError(`The catalog ${file} is damaged or not a Kensa database: ${err.message}`, { file });
    }
    throw err;
  }
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
