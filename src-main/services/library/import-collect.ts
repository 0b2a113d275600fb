/**
 * What an import covers, before any file is read: the files under the chosen paths (walked bounded and loop-safe),
 * each with the label name its folder or the labels CSV gives, and what the walk left out.
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import type { CoreType, ImportPreview, ImportRequest, ImportSkip, Region } from '../../shared/library-types.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { Db } from '../db/open.ts';
import { listTypes } from '../db/repos/defect-types.ts';
import { walkFolders, walkFoldersSync, type WalkLimits, type WalkResult, type WalkSkip } from './folder-walk.ts';
import { readLabelsCsv, suggestTarget } from './labels.ts';

const IGNORED_FILES = new Set(['thumbs.db', 'desktop.ini']);

/** A region given with a file (demo generator, programmatic imports). */
export type GivenRegion = Pick<Region, 'kind' | 'x' | 'y' | 'w' | 'h' | 'rle'> & { defectTypeKey: string };

/** One file to import, with what is known about it before decoding. */
export interface ImportEntry {
  path: string;
  /** Label name (folder, CSV) resolved through the request's mapping; null = unlabelled. */
  labelName: string | null;
  coreType?: CoreType;
  regions?: GivenRegion[];
  regionSource?: Region['source'];
}

const WALK_IGNORE: ReadonlySet<string> = IGNORED_FILES;

/** Whether `path` (a link) leads to a folder. */
async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Class folders directly under `root` with a suggested mapping each (each folder walked, bounded, loop-safe). */
export async function previewFolders(db: Db, rootIn: string, opts: { limits?: Partial<WalkLimits> } = {}): Promise<ImportPreview> {
  const root = resolve(rootIn);
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new ValidationError(`Cannot read the folder ${root}: ${(err as Error).message}`);
  }
  const types = listTypes(db);
  let looseFiles = 0;
  const folders: ImportPreview['folders'] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    if (e.isFile()) looseFiles++;
    if (!e.isDirectory() && !(e.isSymbolicLink() && (await isFolder(join(root, e.name))))) continue;
    const walked = await walkFolders([join(root, e.name)], { ignoreNames: WALK_IGNORE, ...(opts.limits ? { limits: opts.limits } : {}) });
    folders.push({ name: e.name, fileCount: walked.files.length, ...suggestTarget(types, e.name) });
  }
  return { root, folders, looseFiles };
}

/** The request's paths, resolved and checked to exist (cheap: no folder is walked). */
export function checkImportPaths(req: ImportRequest): string[] {
  if (!Array.isArray(req.paths) || req.paths.length === 0) throw new ValidationError('Choose at least one file or folder to import.');
  return req.paths.map((pIn) => {
    const p = resolve(pIn);
    if (!existsSync(p)) throw new ValidationError(`${p} does not exist.`);
    return p;
  });
}

/** A folder-walk finding as an import report line. */
function walkSkip(k: WalkSkip): ImportSkip {
  const message =
    k.reason === 'link-loop'
      ? `A link to ${k.detail}, which this import already covers (the folder itself, a parent or a folder met before): not followed.`
      : k.reason === 'broken-link'
        ? `A link to ${k.detail || 'a place'} that does not exist: skipped.`
        : k.reason === 'limit'
          ? `The folder walk stopped here: it reached its bound of ${k.detail}. Import fewer folders at a time.`
          : `Cannot list the folder: ${k.detail}`;
  return { path: k.path, reason: k.reason, message, detail: k.detail };
}

function entriesOf(req: ImportRequest, roots: string[], walked: WalkResult): ImportEntry[] {
  const csv = req.labels?.from === 'csv' ? readLabelsCsv(req.labels.csvPath) : null;
  const out: ImportEntry[] = [];
  const seen = new Set<string>();
  const rootIsDir = new Set(roots.filter((r) => !walked.files.some((f) => f.path === r && f.root === r)));
  for (const { path: f, root } of walked.files) {
    if (seen.has(f)) continue;
    seen.add(f);
    let labelName: string | null = null;
    if (req.labels?.from === 'folders' && rootIsDir.has(root)) {
      const rel = relative(root, f).split(sep);
      if (rel.length >= 2) labelName = rel[0]!;
    } else if (csv) {
      labelName = csv.byPath.get(f) ?? csv.byName.get(basename(f)) ?? null;
    }
    const e: ImportEntry = { path: f, labelName };
    if (req.coreType) e.coreType = req.coreType;
    out.push(e);
  }
  return out;
}

export interface CollectOptions {
  signal?: AbortSignal;
  limits?: Partial<WalkLimits>;
  onFound?(files: number): void;
}

/**
 * The files an import request covers, with their label names, and what the walk left out (links to folders already
 * covered, broken links, unreadable folders, the bound). Asynchronous: the process keeps answering while it runs.
 */
export async function collectImport(
  req: ImportRequest,
  opts: CollectOptions = {},
): Promise<{ entries: ImportEntry[]; skipped: ImportSkip[] }> {
  const roots = checkImportPaths(req);
  const walked = await walkFolders(roots, {
    ignoreNames: WALK_IGNORE,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.onFound ? { onFound: opts.onFound } : {}),
  });
  return { entries: entriesOf(req, roots, walked), skipped: walked.skipped.map(walkSkip) };
}

/** The files an import request covers (the same walk, synchronous: for small selections such as files to inspect). */
export function collectEntries(req: ImportRequest): ImportEntry[] {
  const roots = checkImportPaths(req);
  return entriesOf(req, roots, walkFoldersSync(roots, { ignoreNames: WALK_IGNORE }));
}

/** stem -> file, for annotation folders (VOC XML, mask PNGs). */
export async function indexByStem(dir: string, ext: string, signal?: AbortSignal): Promise<Map<string, string>> {
  const walked = await walkFolders([resolve(dir)], { ignoreNames: WALK_IGNORE, ...(signal ? { signal } : {}) });
  const files = walked.files.map((f) => f.path);
  const m = new Map<string, string>();
  for (const f of files) if (extname(f).toLowerCase() === ext && !m.has(basename(f, extname(f)))) m.set(basename(f, extname(f)), f);
  return m;
}
