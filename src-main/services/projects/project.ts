import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { NotAProjectError, ProjectExistsError, ProjectNotFoundError, ReadOnlyFolderError, ValidationError } from '../../shared/errors.ts';
import type { ProjectInfo } from '../../shared/types.ts';
import { closeDatabase, openDatabase, schemaVersion, type Db } from '../db/open.ts';
import { getMeta, imageCountIfAny, setMeta } from '../db/repos/project-meta.ts';
import { acquireLock } from './lock.ts';
import { recoverInterrupted, type Recovered } from './recover.ts';

export const CATALOG_FILE = 'kensa.sqlite';
const SUBFOLDERS = ['images', 'models', 'runs', 'cache'] as const;

export interface ProjectPaths {
  dir: string;
  catalog: string;
  images: string;
  models: string;
  runs: string;
  cache: string;
}

/** An open project: its folder layout, its catalog connection and its lock. */
export class Project {
  readonly paths: ProjectPaths;
  readonly db: Db;
  /** What was found still in progress at open (and marked interrupted / failed). */
  readonly recovered: Recovered;
  private releaseLock: (() => void) | null;

  private constructor(dir: string, db: Db, release: () => void, recovered: Recovered) {
    this.db = db;
    this.paths = projectPaths(dir);
    this.releaseLock = release;
    this.recovered = recovered;
  }

  get dir(): string {
    return this.paths.dir;
  }

  meta(key: string): string | null {
    return getMeta(this.db, key);
  }

  setMeta(key: string, value: string): void {
    setMeta(this.db, key, value);
  }

  info(): ProjectInfo {
    const imageCount = imageCountIfAny(this.db);
    return {
      dir: this.dir,
      name: this.meta('name') ?? basename(this.dir),
      createdAt: this.meta('created_at') ?? '',
      schemaVersion: schemaVersion(this.db),
      isDemo: this.meta('is_demo') === '1',
      imageCount,
    };
  }

  close(): void {
    if (!this.releaseLock) return;
    closeDatabase(this.db);
    this.releaseLock();
    this.releaseLock = null;
  }

  get isOpen(): boolean {
    return this.releaseLock !== null;
  }

  /** Creates a new project in an empty (or not yet existing) folder. */
  static create(dirIn: string, name?: string, opts: { isDemo?: boolean } = {}): Project {
    const dir = resolve(dirIn);
    if (existsSync(join(dir, CATALOG_FILE)))
      throw new ProjectExistsError(`A Kensa project already exists in ${dir}. Open it instead.`, { dir });
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw new ValidationError(`${dir} is a file, not a folder.`, { dir });
      const entries = readdirSync(dir).filter((e) => !e.startsWith('.'));
      if (entries.length > 0)
        throw new ValidationError(`The folder ${dir} is not empty. Choose an empty or new folder for a project.`, { dir });
    }
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new ReadOnlyFolderError(`Cannot create the folder ${dir}: ${(err as Error).message}`, { dir });
    }
    assertWritable(dir);
    for (const sub of SUBFOLDERS) mkdirSync(join(dir, sub), { recursive: true });
    const project = Project.openExisting(dir, true);
    project.db.transaction(() => {
      project.setMeta('name', name?.trim() || basename(dir));
      project.setMeta('created_at', new Date().toISOString());
      project.setMeta('is_demo', opts.isDemo ? '1' : '0');
    })();
    return project;
  }

  /** Opens an existing project; checks folder, catalog, write access and the lock first. */
  static open(dirIn: string): Project {
    const dir = resolve(dirIn);
    if (!existsSync(dir)) throw new ProjectNotFoundError(`The folder ${dir} does not exist (moved or deleted?).`, { dir });
    if (!statSync(dir).isDirectory()) throw new NotAProjectError(`${dir} is a file, not a project folder.`, { dir });
    if (!existsSync(join(dir, CATALOG_FILE))) {
      throw new NotAProjectError(`${dir} is not a Kensa project (no ${CATALOG_FILE} in it). Create a new project instead.`, { dir });
    }
    assertWritable(dir);
    return Project.openExisting(dir, false);
  }

  /** Lock, catalog (checked, migrated), housekeeping; on any failure the lock is released and nothing is left open. */
  private static openExisting(dir: string, create: boolean): Project {
    const release = acquireLock(dir);
    let db: Db | null = null;
    try {
      db = openDatabase(join(dir, CATALOG_FILE), { create });
      const recovered = recoverInterrupted(db);
      if (recovered.runs)
        process.stderr.write(`Kensa: ${recovered.runs} training run(s) interrupted by a previous stop were marked failed.\n`);
      for (const sub of SUBFOLDERS) mkdirSync(join(dir, sub), { recursive: true });
      return new Project(dir, db, release, recovered);
    } catch (err) {
      db?.close();
      release();
      throw err;
    }
  }
}

export function projectPaths(dir: string): ProjectPaths {
  return {
    dir,
    catalog: join(dir, CATALOG_FILE),
    images: join(dir, 'images'),
    models: join(dir, 'models'),
    runs: join(dir, 'runs'),
    cache: join(dir, 'cache'),
  };
}

function assertWritable(dir: string): void {
  // access() alone is not enough on Windows (ACLs) or read-only mounts: try a real write.
  const probe = join(dir, `.kensa-write-test-${process.pid}`);
  try {
    accessSync(dir, constants.W_OK);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (err) {
    throw new ReadOnlyFolderError(
      `Kensa cannot write in ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Choose a folder you can write to, or copy the project.`,
      { dir },
    );
  }
}
