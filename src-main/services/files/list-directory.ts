/**
 * The folder/file browser behind browser mode's path pickers: one folder's entries, its parent and the roots
 * (home; drives A:–Z: on Windows, `/` elsewhere). Never throws for a folder it may not read: it says `denied`.
 */
import { accessSync, constants, existsSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, extname, join, resolve, sep } from 'node:path';
import type { DirectoryEntry, DirectoryListing, DirectoryRoot, ListDirectoryOptions } from '../../shared/files-types.ts';
import { PathNotFoundError, ValidationError } from '../../shared/errors.ts';

/** Most entries one listing returns (a camera dump folder can hold far more; the rest is flagged `truncated`). */
export const MAX_ENTRIES = 5000;

const HIDDEN_NAMES = new Set(['desktop.ini', 'thumbs.db', '$recycle.bin', 'system volume information', '$windows.~bt']);

export function isHiddenName(name: string): boolean {
  return name.startsWith('.') || HIDDEN_NAMES.has(name.toLowerCase());
}

/** Home first, then the file-system roots: drive letters that exist on Windows, `/` elsewhere. */
export function listRoots(platform: NodeJS.Platform = process.platform, exists: (p: string) => boolean = existsSync): DirectoryRoot[] {
  const roots: DirectoryRoot[] = [{ path: homedir(), kind: 'home' }];
  if (platform === 'win32') {
    for (let c = 65; c <= 90; c++) {
      const drive = `${String.fromCharCode(c)}:\\`;
      if (exists(drive)) roots.push({ path: drive, kind: 'drive' });
    }
  } else roots.push({ path: '/', kind: 'root' });
  return roots;
}

function canOpen(dir: string): boolean {
  try {
    accessSync(dir, constants.R_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export function listDirectory(pathIn: string | null, options: ListDirectoryOptions): DirectoryListing {
  if (pathIn !== null && typeof pathIn !== 'string') throw new ValidationError('The folder must be given as a path.');
  const kind = options?.kind === 'file' ? 'file' : 'dir';
  const given = Array.isArray(options?.extensions) ? options.extensions.filter((e): e is string => typeof e === 'string') : [];
  const exts = new Set(given.map((e) => `.${e.replace(/^\./, '').toLowerCase()}`));
  const showHidden = options?.showHidden === true;
  const raw = pathIn?.trim() ? pathIn.trim() : homedir();
  const path = resolve(raw.replace(/^~(?=$|[\\/])/, homedir()));
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new PathNotFoundError(`There is no folder ${path}.`, { path });
  const parentDir = dirname(path);
  const base: Omit<DirectoryListing, 'entries' | 'denied' | 'truncated'> = {
    path,
    parent: parentDir === path ? null : parentDir,
    roots: listRoots(),
    sep,
  };
  let dirents: Dirent[];
  try {
    dirents = readdirSync(path, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return { ...base, entries: [], denied: true, truncated: false };
    throw new PathNotFoundError(`Cannot list ${path}: ${code ?? (err as Error).message}`, { path });
  }
  const entries: DirectoryEntry[] = [];
  for (const d of dirents) {
    if (!showHidden && isHiddenName(d.name)) continue;
    const full = join(path, d.name);
    let dir = d.isDirectory();
    let size = 0;
    let mtime: string | null = null;
    if (d.isSymbolicLink() || dir || d.isFile()) {
      try {
        const st = statSync(full);
        dir = st.isDirectory();
        if (!dir && !st.isFile()) continue;
        size = dir ? 0 : st.size;
        mtime = st.mtime.toISOString();
      } catch {
        if (d.isSymbolicLink()) continue; // a dangling link
      }
    } else continue; // sockets, devices, fifos
    if (!dir && (kind === 'dir' || (exts.size > 0 && !exts.has(extname(d.name).toLowerCase())))) continue;
    entries.push({ name: d.name, path: full, isDir: dir, size, mtime, readable: dir ? canOpen(full) : true });
  }
  entries.sort((a, b) => (a.isDir !== b.isDir ? (a.isDir ? -1 : 1) : collator.compare(a.name, b.name)));
  const truncated = entries.length > MAX_ENTRIES;
  return { ...base, entries: truncated ? entries.slice(0, MAX_ENTRIES) : entries, denied: false, truncated };
}
