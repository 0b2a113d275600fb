/**
 * Writing export files (CSV, PNG, model files) where the user chose: never over an existing file unless the call
 * says `overwrite`, and always atomically (a temp file in the same folder, flushed, then renamed or linked into
 * place), so a crash or a full disk never leaves half a file over a good one.
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileExistsError, ValidationError } from '../shared/errors.ts';

export interface WriteOptions {
  /** Replace an existing file (default: refuse with FileExistsError). */
  overwrite?: boolean | undefined;
}

/** FileExistsError when `file` exists and overwriting was not asked for; ValidationError when it is a folder. */
export function checkTarget(file: string, overwrite: boolean | undefined): void {
  let isDir: boolean;
  try {
    isDir = statSync(file).isDirectory();
  } catch {
    return;
  }
  if (isDir) throw new ValidationError(`${file} is a folder. Choose a file name.`, { path: file });
  if (!overwrite) throw new FileExistsError(`${file} already exists.`, { path: file });
}

/** FileExistsError when `dir` exists and holds anything, unless overwriting was asked for. */
export function checkTargetFolder(dir: string, overwrite: boolean | undefined): void {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new ValidationError(`${dir} is a file. Choose a folder.`, { path: dir });
    entries = readdirSync(dir);
  } catch (err) {
    if ((err as Error).name === 'ValidationError') throw err;
    return;
  }
  if (entries.length && !overwrite) throw new FileExistsError(`The folder ${dir} is not empty.`, { path: dir });
}

function tempBeside(file: string): string {
  return join(dirname(file), `.${basename(file)}.${randomUUID().slice(0, 8)}.part`);
}

function flush(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Moves a finished temp file onto `file`: rename when overwriting, else a hard link that fails if `file` exists. */
function place(tmp: string, file: string, overwrite: boolean | undefined): void {
  if (overwrite) {
    renameSync(tmp, file);
    return;
  }
  try {
    linkSync(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new FileExistsError(`${file} already exists.`, { path: file });
    // Drives without hard links (FAT, exFAT, some shares): check, then rename.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS' && code !== 'EXDEV') throw err;
    checkTarget(file, false);
    renameSync(tmp, file);
    return;
  }
  rmSync(tmp, { force: true });
}

function viaTemp(file: string, overwrite: boolean | undefined, fill: (tmp: string) => void): void {
  mkdirSync(dirname(file), { recursive: true });
  checkTarget(file, overwrite);
  const tmp = tempBeside(file);
  try {
    fill(tmp);
    flush(tmp);
    place(tmp, file, overwrite);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Writes `data` to `file` atomically (parent folders created). */
export function writeFileAtomic(file: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  viaTemp(file, opts.overwrite, (tmp) => {
    const fd = openSync(tmp, 'wx');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      for (let at = 0; at < bytes.byteLength;) at += writeSync(fd, bytes, at, bytes.byteLength - at);
    } finally {
      closeSync(fd);
    }
  });
}

/** Copies `src` to `file` atomically (parent folders created). */
export function copyFileAtomic(src: string, file: string, opts: WriteOptions = {}): void {
  viaTemp(file, opts.overwrite, (tmp) => copyFileSync(src, tmp));
}
