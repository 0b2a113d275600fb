/**
 * The folder walk behind imports, folder previews and annotation folders. It never enters a directory twice: directories
 * are known by their identity (device + inode), so a link to the folder itself, to a parent or between two folders is
 * reported, not followed around. Links are followed only after everything reachable without them (so a real folder
 * keeps its own name for labels), a file reached again through a link is reported once, and the walk stops at a bound
 * (files, depth) with the place it stopped at.
 *
 * One traversal, two drivers: the walk is a generator that asks for file-system facts; `walkFolders` answers them with
 * fs.promises (yielding to the event loop, so the process keeps answering the UI, and checking the task's signal),
 * `walkFoldersSync` with the synchronous calls for the few callers that need a plain list at once.
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync, type BigIntStats, type Dirent } from 'node:fs';
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CancelledError } from '../../shared/errors.ts';

export interface WalkLimits {
  /** Files collected at most (over every root); the walk stops there. */
  maxFiles: number;
  /** Folder levels below a root entered at most. */
  maxDepth: number;
}

export const DEFAULT_WALK_LIMITS: WalkLimits = { maxFiles: 500_000, maxDepth: 32 };

export interface WalkedFile {
  /** The path as reached from the root (through a followed link, the link's name stays in it). */
  path: string;
  /** The root it was found under. */
  root: string;
}

export interface WalkSkip {
  path: string;
  /**
   * link-loop: a link to a folder (or file) the walk already covers (itself, a parent, another chosen folder);
   * broken-link: a link whose target does not exist; unreadable: a folder that cannot be listed;
   * limit: the walk stopped here (too many files or folders nested too deep).
   */
  reason: 'link-loop' | 'broken-link' | 'unreadable' | 'limit';
  /** The link's target, the error code, or the bound that was reached ("500000 files", "depth 32"). */
  detail: string;
}

export interface WalkResult {
  files: WalkedFile[];
  skipped: WalkSkip[];
  /** Whether a bound stopped the walk (files or depth). */
  limited: boolean;
}

export interface WalkOptions {
  limits?: Partial<WalkLimits>;
  signal?: AbortSignal;
  /** Names left out (compared lower-case), besides names starting with a dot. */
  ignoreNames?: ReadonlySet<string>;
  /** Called now and then with the number of files found so far. */
  onFound?(files: number): void;
}

interface Facts {
  dir: boolean;
  file: boolean;
  link: boolean;
  id: string;
}

/** A folder entry as listed: its kind from the listing ('unknown' where the file system does not say). */
interface Listed {
  name: string;
  kind: 'file' | 'dir' | 'link' | 'other' | 'unknown';
}

type FsAsk =
  | { op: 'readdir'; path: string }
  | { op: 'stat'; path: string }
  | { op: 'lstat'; path: string }
  | { op: 'realpath'; path: string }
  | { op: 'readlink'; path: string };

type FsAnswer = { ok: true; value: Listed[] | Facts | string } | { ok: false; code: string };

type Walk<T> = Generator<FsAsk, T, FsAnswer>;

function factsOf(st: BigIntStats): Facts {
  return { dir: st.isDirectory(), file: st.isFile(), link: st.isSymbolicLink(), id: `${st.dev}:${st.ino}` };
}

function listed(entries: Dirent[]): Listed[] {
  return entries.map((e) => ({
    name: e.name,
    kind: e.isSymbolicLink()
      ? 'link'
      : e.isFile()
        ? 'file'
        : e.isDirectory()
          ? 'dir'
          : e.isBlockDevice() || e.isCharacterDevice() || e.isFIFO() || e.isSocket()
            ? 'other'
            : 'unknown',
  }));
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

function* ask<T extends Listed[] | Facts | string>(q: FsAsk): Walk<T | { error: string }> {
  const a = yield q;
  return a.ok ? (a.value as T) : { error: a.code };
}

const failed = (x: unknown): x is { error: string } => typeof x === 'object' && x !== null && 'error' in x;

function* plan(roots: string[], opts: WalkOptions): Walk<WalkResult> {
  const limits: WalkLimits = { ...DEFAULT_WALK_LIMITS, ...opts.limits };
  const ignore = opts.ignoreNames ?? new Set<string>();
  const files: WalkedFile[] = [];
  const skipped: WalkSkip[] = [];
  const dirsEntered = new Set<string>();
  const filesTaken = new Set<string>();
  /** Links met on the way, followed once everything reachable without links is collected. */
  const deferred: { path: string; root: string; depth: number }[] = [];
  let limited = false;
  let reported = 0;

  const full = (): boolean => {
    if (files.length < limits.maxFiles) return false;
    if (!limited) skipped.push({ path: files[files.length - 1]?.root ?? '', reason: 'limit', detail: `${limits.maxFiles} files` });
    limited = true;
    return true;
  };
  const take = (path: string, root: string, id: string): void => {
    filesTaken.add(id);
    files.push({ path, root });
    if (opts.onFound && files.length - reported >= 500) opts.onFound((reported = files.length));
  };

  function* linkTarget(path: string): Walk<string> {
    const real = yield* ask<string>({ op: 'realpath', path });
    if (!failed(real)) return real;
    const raw = yield* ask<string>({ op: 'readlink', path });
    return failed(raw) ? '' : raw;
  }

  /**
   * Lists `dir` (already known to be a folder not entered yet) and walks what it holds. Files are known by their real
   * path (the folder's real path + name: no stat per file); folders by device + inode.
   */
  function* enter(dir: string, root: string, depth: number, id: string): Walk<void> {
    dirsEntered.add(id);
    const entries = yield* ask<Listed[]>({ op: 'readdir', path: dir });
    if (failed(entries)) {
      skipped.push({ path: dir, reason: 'unreadable', detail: entries.error });
      return;
    }
    const realDir = yield* ask<string>({ op: 'realpath', path: dir });
    const base = failed(realDir) ? dir : realDir;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (full()) return;
      if (e.name.startsWith('.') || ignore.has(e.name.toLowerCase())) continue;
      const p = join(dir, e.name);
      let kind = e.kind;
      let l: Facts | null = null;
      if (kind === 'dir' || kind === 'unknown') {
        const f = yield* ask<Facts>({ op: 'lstat', path: p });
        if (failed(f)) continue; // gone since the listing
        l = f;
        kind = f.link ? 'link' : f.file ? 'file' : f.dir ? 'dir' : 'other';
      }
      if (kind === 'link') {
        deferred.push({ path: p, root, depth: depth + 1 });
        continue;
      }
      if (kind === 'file') {
        const key = join(base, e.name);
        if (!filesTaken.has(key)) take(p, root, key);
      } else if (kind === 'dir' && l && !dirsEntered.has(l.id)) {
        if (depth + 1 > limits.maxDepth) {
          limited = true;
          skipped.push({ path: p, reason: 'limit', detail: `depth ${limits.maxDepth}` });
        } else yield* enter(p, root, depth + 1, l.id);
      }
    }
  }

  /** A root, or a link found during the walk: followed to what it points at. */
  function* visit(path: string, root: string, depth: number, viaLink: boolean): Walk<void> {
    const t = yield* ask<Facts>({ op: 'stat', path });
    if (failed(t)) {
      if (viaLink) skipped.push({ path, reason: 'broken-link', detail: yield* linkTarget(path) });
      else skipped.push({ path, reason: 'unreadable', detail: t.error });
      return;
    }
    if (t.dir) {
      if (dirsEntered.has(t.id)) {
        if (viaLink) skipped.push({ path, reason: 'link-loop', detail: yield* linkTarget(path) });
        return;
      }
      if (depth > limits.maxDepth) {
        limited = true;
        skipped.push({ path, reason: 'limit', detail: `depth ${limits.maxDepth}` });
        return;
      }
      yield* enter(path, root, depth, t.id);
    } else if (t.file) {
      const real = yield* ask<string>({ op: 'realpath', path });
      const key = failed(real) ? path : real;
      if (filesTaken.has(key)) {
        if (viaLink) skipped.push({ path, reason: 'link-loop', detail: key });
        return;
      }
      if (!full()) take(path, root, key);
    }
  }

  for (const root of roots) {
    if (full()) break;
    yield* visit(root, root, 0, false);
    // Links last, breadth-first (a link inside a followed link is followed after it).
    while (deferred.length && !full()) {
      const d = deferred.shift()!;
      yield* visit(d.path, d.root, d.depth, true);
    }
  }
  if (opts.onFound && files.length !== reported) opts.onFound(files.length);
  return { files, skipped, limited };
}

function answerSync(q: FsAsk): FsAnswer {
  try {
    switch (q.op) {
      case 'readdir':
        return { ok: true, value: listed(readdirSync(q.path, { withFileTypes: true })) };
      case 'stat':
        return { ok: true, value: factsOf(statSync(q.path, { bigint: true })) };
      case 'lstat':
        return { ok: true, value: factsOf(lstatSync(q.path, { bigint: true })) };
      case 'realpath':
        return { ok: true, value: realpathSync(q.path) };
      case 'readlink':
        return { ok: true, value: readlinkSync(q.path) };
    }
  } catch (err) {
    return { ok: false, code: codeOf(err) };
  }
}

async function answerAsync(q: FsAsk): Promise<FsAnswer> {
  try {
    switch (q.op) {
      case 'readdir':
        return { ok: true, value: listed(await readdir(q.path, { withFileTypes: true })) };
      case 'stat':
        return { ok: true, value: factsOf(await stat(q.path, { bigint: true })) };
      case 'lstat':
        return { ok: true, value: factsOf(await lstat(q.path, { bigint: true })) };
      case 'realpath':
        return { ok: true, value: await realpath(q.path) };
      case 'readlink':
        return { ok: true, value: await readlink(q.path) };
    }
  } catch (err) {
    return { ok: false, code: codeOf(err) };
  }
}

/** Walks `roots` (folders or files) asynchronously; rejects with CancelledError when `signal` aborts. */
export async function walkFolders(roots: string[], opts: WalkOptions = {}): Promise<WalkResult> {
  const g = plan(roots, opts);
  let step = g.next();
  while (!step.done) {
    if (opts.signal?.aborted) throw new CancelledError('The folder walk was cancelled.');
    step = g.next(await answerAsync(step.value));
  }
  return step.value;
}

/** The same walk with synchronous calls (bounded the same way; blocks the thread while it runs). */
export function walkFoldersSync(roots: string[], opts: Omit<WalkOptions, 'signal'> = {}): WalkResult {
  const g = plan(roots, opts);
  let step = g.next();
  while (!step.done) step = g.next(answerSync(step.value));
  return step.value;
}
