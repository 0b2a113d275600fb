/**
 * Import: files and folders into the content-addressed store, with labels (folders / CSV / given),
 * regions (VOC XML, mask PNGs, given), thumbnails, split assignment and a batch record that lets an
 * interrupted or cancelled import resume without duplicates (sha256 is unique in the catalog).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import sharp from 'sharp';
import type { CoreType, ImageFormat, ImportPreview, ImportReport, ImportRequest, ImportSkip, Region } from '../../shared/catalog-types.ts';
import { CancelledError, ValidationError } from '../../shared/errors.ts';
import { bulkWriter, type Db } from '../db/open.ts';
import { createBatch, findResumable, markBatch } from '../db/repos/batches.ts';
import { listTypes } from '../db/repos/defect-types.ts';
import { findBySha, insertImage, storeRelPath } from '../db/repos/images.ts';
import { insertRegionRow } from '../db/repos/regions.ts';
import type { Project } from '../projects/project.ts';
import {
  classifyDecodeError,
  DECODE_FAIL_ON,
  makeThumbnail,
  openImageBytes,
  probeImage,
  sniffFormat,
  STORE_EXT,
  thumbPath,
  writeOnce,
  writeReplacing,
  type ProbedImage,
  unsupportedFormatName,
} from './imaging.ts';
import { walkFolders, walkFoldersSync, type WalkLimits, type WalkResult, type WalkSkip } from './folder-walk.ts';
import { LabelResolver, readLabelsCsv, suggestTarget } from './labels.ts';
import { maskToRegion, rleToBlob } from './rle.ts';
import { loadAnnotations, withoutAnnotationFiles } from './region-formats/index.ts';
import { assignerForNewImages, compilePattern, getSplitSettings, groupKeyFor } from './splits.ts';

const IMAGE_EXTS = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.png',
  '.bmp',
  '.dib',
  '.tif',
  '.tiff',
  '.gif',
  '.webp',
  '.heic',
  '.heif',
  '.avif',
  '.jp2',
  '.j2k',
  '.pgm',
  '.ppm',
  '.psd',
  '.svg',
  '.raw',
  '.dng',
  '.cr2',
  '.nef',
]);
const IGNORED_FILES = new Set(['thumbs.db', 'desktop.ini']);
export const IMPORT_CONCURRENCY = 2;

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

export interface ImportCallbacks {
  signal?: AbortSignal;
  /** While the folders are walked: the number of files found so far. */
  found?(files: number): void;
  progress?(done: number, total: number): void;
  /** Called now and then with ids imported since the last call (UI refresh). */
  imported?(ids: number[]): void;
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
async function indexByStem(dir: string, ext: string, signal?: AbortSignal): Promise<Map<string, string>> {
  const walked = await walkFolders([resolve(dir)], { ignoreNames: WALK_IGNORE, ...(signal ? { signal } : {}) });
  const files = walked.files.map((f) => f.path);
  const m = new Map<string, string>();
  for (const f of files) if (extname(f).toLowerCase() === ext && !m.has(basename(f, extname(f)))) m.set(basename(f, extname(f)), f);
  return m;
}

export interface VocBox {
  name: string;
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/** The objects of a PASCAL VOC annotation (name + bndbox); tolerant of whitespace and attribute order. */
export function parseVoc(xml: string): { width: number | null; height: number | null; boxes: VocBox[] } {
  const num = (s: string, tag: string) => {
    const m = new RegExp(`<${tag}>\\s*([-\\d.]+)\\s*</${tag}>`).exec(s);
    return m ? Number(m[1]) : NaN;
  };
  const size = /<size>([\s\S]*?)<\/size>/.exec(xml)?.[1] ?? '';
  const boxes: VocBox[] = [];
  for (const m of xml.matchAll(/<object>([\s\S]*?)<\/object>/g)) {
    const o = m[1]!;
    const name = /<name>\s*([\s\S]*?)\s*<\/name>/.exec(o)?.[1]?.trim();
    const bb = /<bndbox>([\s\S]*?)<\/bndbox>/.exec(o)?.[1];
    if (!name || !bb) continue;
    const b = { name, xmin: num(bb, 'xmin'), ymin: num(bb, 'ymin'), xmax: num(bb, 'xmax'), ymax: num(bb, 'ymax') };
    if ([b.xmin, b.ymin, b.xmax, b.ymax].every(Number.isFinite)) boxes.push(b);
  }
  const w = num(size, 'width');
  const h = num(size, 'height');
  return { width: Number.isFinite(w) ? w : null, height: Number.isFinite(h) ? h : null, boxes };
}

/** VOC box (1-based inclusive corners by the VOC convention) to a pixel rect clamped to the image. */
export function vocToRect(b: VocBox, width: number, height: number): { x: number; y: number; w: number; h: number } | null {
  const x0 = Math.max(0, Math.round(b.xmin) - 1);
  const y0 = Math.max(0, Math.round(b.ymin) - 1);
  const x1 = Math.min(width, Math.round(b.xmax));
  const y1 = Math.min(height, Math.round(b.ymax));
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

export function importFingerprint(req: ImportRequest): string {
  const norm = { ...req, paths: req.paths.map((p) => resolve(p)).sort() };
  return createHash('sha256').update(JSON.stringify(norm)).digest('hex');
}

interface Prepared {
  entry: ImportEntry;
  sha256: string;
  bytes: Buffer;
  probed: ProbedImage;
  page: number | null;
  thumb: Buffer;
  storeExt: string;
  format: ImageFormat;
}

/**
 * Runs an import to the end (or cancellation). Re-running the same request continues its unfinished
 * batch; files whose bytes are already in the catalog are reported, never re-imported.
 */
export async function runImport(
  project: Project,
  req: ImportRequest,
  cb: ImportCallbacks = {},
  given?: ImportEntry[],
): Promise<ImportReport> {
  const db = project.db;
  const t0 = Date.now();
  const collected = given
    ? { entries: given, skipped: [] }
    : await collectImport(req, { ...(cb.signal ? { signal: cb.signal } : {}), ...(cb.found ? { onFound: cb.found } : {}) });
  const entries = withoutAnnotationFiles(collected.entries, req.regions);
  if (!given && entries.length === 0 && collected.skipped.length === 0)
    throw new ValidationError('There are no files in what you chose to import.');
  const fingerprint = importFingerprint(req);
  const resumeId = given ? null : findResumable(db, fingerprint);
  const batchId = resumeId ?? createBatch(db, fingerprint, req);
  if (resumeId) markBatch(db, resumeId, 'running');
  const mapping = req.labels && req.labels.from !== 'none' ? (req.labels.mapping ?? {}) : {};
  const createUnknown = req.labels && req.labels.from !== 'none' ? (req.labels.createUnknown ?? true) : true;
  const labels = new LabelResolver(db, mapping, createUnknown);
  const voc = req.regions?.vocDir ? await indexByStem(req.regions.vocDir, '.xml', cb.signal) : null;
  const masks = req.regions?.masksDir ? await indexByStem(req.regions.masksDir, '.png', cb.signal) : null;
  const annotations =
    req.regions?.labelme || req.regions?.coco
      ? loadAnnotations(
          req.regions,
          entries.map((e) => e.path),
        )
      : null;
  const settings = getSplitSettings(db);
  const groupRe = compilePattern(settings.groupPattern);
  const splits = assignerForNewImages(db);

  const report: ImportReport = {
    batchId,
    resumed: resumeId !== null,
    state: 'running',
    filesSeen: entries.length,
    imported: 0,
    alreadyImported: 0,
    imageIds: [],
    duplicates: [],
    skipped: [...collected.skipped],
    labelled: {},
    createdDefectTypes: labels.created,
    regionsImported: 0,
    regionProblems: annotations?.problems ?? [],
    warnings: [],
    elapsedMs: 0,
    imagesPerSecond: 0,
  };
  // Resolve every label name up front (creates new types once, in one transaction).
  db.transaction(() => {
    for (const e of entries) {
      if (e.labelName === null) continue;
      if (labels.resolve(e.labelName) === undefined)
        report.warnings.push(`Unknown label "${e.labelName}" for ${e.path}: imported unlabelled.`);
    }
  })();
  const typeKeys = new Map(listTypes(db).map((t) => [t.id, t.key]));
  const claimed = new Map<string, string>(); // sha -> path, for content being imported right now
  const skip = (path: string, reason: ImportSkip['reason'], message: string, detail = ''): void => {
    report.skipped.push({ path, reason, message, detail });
  };
  let pendingIds: number[] = [];
  let lastFlush = Date.now();

  const insert = (p: Prepared): void => {
    const e = p.entry;
    const labelId = e.labelName === null ? null : (labels.resolve(e.labelName) ?? null);
    const groupKey = groupKeyFor(groupRe, basename(e.path));
    // Regions first computed (pure), then everything in one transaction.
    const regionRows: { typeId: number; r: GivenRegion; source: Region['source'] }[] = [];
    const W = p.probed.width;
    const H = p.probed.height;
    if (p.page === null || p.page === 0) {
      const stem = basename(e.path, extname(e.path));
      const xmlPath = voc?.get(stem);
      if (xmlPath) {
        try {
          const parsed = parseVoc(readFileSync(xmlPath, 'utf8'));
          for (const b of parsed.boxes) {
            const typeId = labels.resolve(b.name);
            if (typeId === undefined || typeId === null) {
              report.warnings.push(`${xmlPath}: box class "${b.name}" matches no defect type; box skipped.`);
              continue;
            }
            const rect = vocToRect(b, W, H);
            if (rect) regionRows.push({ typeId, r: { defectTypeKey: '', kind: 'rect', ...rect }, source: 'voc' });
          }
        } catch (err) {
          report.warnings.push(`${xmlPath}: ${(err as Error).message}`);
        }
      }
      for (const a of annotations?.rowsFor(e.path, W, H, (n) => labels.resolve(n)) ?? [])
        regionRows.push({ typeId: a.typeId, r: { defectTypeKey: '', ...a.region }, source: a.source });
      for (const r of e.regions ?? []) {
        const t = [...typeKeys.entries()].find(([, k]) => k === r.defectTypeKey);
        if (t) regionRows.push({ typeId: t[0], r, source: e.regionSource ?? 'user' });
        else report.warnings.push(`${e.path}: region type ${r.defectTypeKey} does not exist; region skipped.`);
      }
    }
    bulk.transaction(() => {
      const split = splits.assign(labelId, groupKey);
      const id = insertImage(db, {
        sha256: p.sha256,
        ext: p.storeExt,
        format: p.format,
        width: W,
        height: H,
        channels: p.probed.channels,
        bit_depth: p.probed.bitDepth,
        orientation: p.probed.orientation,
        pages: p.probed.pages,
        page: p.page,
        byte_size: p.bytes.length,
        original_path: e.path,
        original_name: basename(e.path),
        batch_id: batchId,
        imported_at: new Date().toISOString(),
        label_id: labelId,
        core_type: e.coreType ?? 'unknown',
        note: '',
        review_state: labelId === null ? 'unlabelled' : 'labelled',
        split,
        group_key: groupKey,
      });
      const now = new Date().toISOString();
      for (const { typeId, r, source } of regionRows) {
        insertRegionRow(db, {
          image_id: id,
          defect_type_id: typeId,
          kind: r.kind,
          x: r.x,
          y: r.y,
          w: r.w,
          h: r.h,
          rle: r.kind === 'mask' ? rleToBlob(r.rle ?? []) : null,
          source,
          created_at: now,
        });
      }
      report.regionsImported += regionRows.length;
      report.imported++;
      report.imageIds.push(id);
      const k = labelId === null ? '(unlabelled)' : (typeKeys.get(labelId) ?? String(labelId));
      report.labelled[k] = (report.labelled[k] ?? 0) + 1;
      pendingIds.push(id);
    });
  };

  const maskRegion = async (p: Prepared): Promise<void> => {
    const stem = basename(p.entry.path, extname(p.entry.path));
    const mp = masks?.get(stem);
    if (!mp || (p.page !== null && p.page !== 0)) return;
    const labelId = p.entry.labelName === null ? null : (labels.resolve(p.entry.labelName) ?? null);
    const key = labelId === null ? undefined : typeKeys.get(labelId);
    const isOk = labelId !== null && listTypes(db).find((t) => t.id === labelId)?.isOk;
    if (!key || isOk) {
      report.warnings.push(`${mp}: the image has no defect label, so its mask has no defect type; skipped.`);
      return;
    }
    try {
      const { data, info } = await sharp(mp).greyscale().raw().toBuffer({ resolveWithObject: true });
      if (info.width !== p.probed.width || info.height !== p.probed.height) {
        report.warnings.push(`${mp}: mask is ${info.width}x${info.height} but the image is ${p.probed.width}x${p.probed.height}; skipped.`);
        return;
      }
      const r = maskToRegion(data, info.width, info.height);
      if (r) {
        (p.entry.regions ??= []).push({ defectTypeKey: key, kind: 'mask', ...r });
        p.entry.regionSource = 'mask';
      }
    } catch (err) {
      report.warnings.push(`${mp}: ${(err as Error).message}`);
    }
  };

  /** Decodes (thumbnail = full decode, so corrupt/truncated files fail here), stores, inserts. */
  const prepareAndInsert = async (
    entry: ImportEntry,
    bytes: Buffer,
    sha256: string,
    format: ImageFormat,
    page: number | null,
    probed: ProbedImage,
  ): Promise<void> => {
    const thumb = await makeThumbnail(openImageBytes(bytes, format, page ?? 0));
    const p: Prepared = { entry, sha256, bytes, probed, page, thumb, format, storeExt: STORE_EXT[format] };
    if (masks) await maskRegion(p);
    writeOnce(thumbPath(project.paths.cache, sha256), thumb);
    writeOnce(join(project.dir, storeRelPath(sha256, p.storeExt)), bytes);
    insert(p);
  };

  /**
   * A stored original is written without an fsync of its own; after a power cut it may be missing or cut short while
   * its row survived (rows are synced at least once a second). Meeting the same bytes again, as re-running the import
   * does, puts it right.
   */
  const repairStored = (id: number, sha256: string, bytes: Buffer, path: string): void => {
    const ext = db.prepare('SELECT ext FROM images WHERE id = ?').pluck().get(id) as string;
    const file = join(project.dir, storeRelPath(sha256, ext));
    let size = -1;
    try {
      size = statSync(file).size;
    } catch {
      // Missing: written below.
    }
    if (size === bytes.length) return;
    writeReplacing(file, bytes);
    report.warnings.push(`The stored copy of ${path} was missing or incomplete (power cut?); it was written again.`);
  };

  /** true = claimed for import; false = reported (duplicate / already in). */
  const claim = (entry: ImportEntry, sha256: string, bytes: Buffer): boolean => {
    const path = entry.path;
    const inFlight = claimed.get(sha256);
    if (inFlight !== undefined) {
      report.duplicates.push({ path, sha256, imageId: -1, of: 'import', existingPath: inFlight });
      return false;
    }
    const existing = findBySha(db, sha256);
    if (existing) {
      repairStored(existing.id, sha256, bytes, path);
      if (existing.original_path === path) report.alreadyImported++;
      else {
        const b = db.prepare('SELECT batch_id FROM images WHERE id = ?').pluck().get(existing.id) as number | null;
        report.duplicates.push({
          path,
          sha256,
          imageId: existing.id,
          of: b === batchId ? 'import' : 'catalog',
          existingPath: existing.original_path,
        });
      }
      return false;
    }
    claimed.set(sha256, path);
    return true;
  };

  const processOne = async (entry: ImportEntry): Promise<void> => {
    const path = entry.path;
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      skip(path, 'unreadable', `Cannot read the file: ${code}`, code);
      return;
    }
    if (bytes.length === 0) return skip(path, 'empty', 'The file is empty (0 bytes).');
    const fmt = sniffFormat(bytes);
    const ext = extname(path).toLowerCase();
    if (fmt === 'other-image') {
      // Said by content: a GIF named .jpg is "GIF is not supported", not a damaged JPEG.
      const format = unsupportedFormatName(bytes) ?? 'this image format';
      const named = ext ? ` (the file is named ${ext})` : '';
      report.skipped.push({
        path,
        reason: 'unsupported',
        message: `${format} is not supported${named}. Kensa reads JPEG, PNG, BMP and TIFF; convert the file to one of them.`,
        detail: ext,
        format,
      });
      return;
    }
    if (fmt === null) {
      if (IMAGE_EXTS.has(ext))
        return skip(path, 'corrupt', `The file is named ${ext} but its content is not a readable image (damaged?).`, ext);
      return skip(path, 'not-an-image', `Not an image file (${ext || 'no extension'}).`, ext);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    try {
      const probed = await probeImage(bytes, fmt);
      if (fmt === 'tiff' && probed.pages > 1 && req.tiffPages === 'all') {
        for (let page = 0; page < probed.pages; page++) {
          const png = await sharp(bytes, { page, autoOrient: true, failOn: DECODE_FAIL_ON }).png().toBuffer();
          const psha = createHash('sha256').update(png).digest('hex');
          const m = await sharp(png).metadata();
          const pp: ProbedImage = {
            format: 'png',
            width: m.width,
            height: m.height,
            channels: m.channels,
            bitDepth: m.bitsPerSample ?? 8,
            orientation: 1,
            pages: probed.pages,
          };
          const pe: ImportEntry = { ...entry };
          if (!claim(pe, psha, png)) continue;
          await prepareAndInsert(pe, png, psha, 'png', page, pp);
        }
        return;
      }
      if (!claim(entry, sha256, bytes)) return;
      await prepareAndInsert(entry, bytes, sha256, fmt, null, probed);
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        const ex = findBySha(db, sha256);
        report.duplicates.push({ path, sha256, imageId: ex?.id ?? -1, of: 'import', existingPath: ex?.original_path ?? '' });
        return;
      }
      if ((err as { code?: string }).code?.startsWith('SQLITE')) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw err;
      const c = classifyDecodeError(err, { bytes, format: fmt });
      const detail = c.message.split('\n')[0]!;
      skip(
        path,
        c.reason,
        `${
          c.reason === 'truncated'
            ? 'The image is truncated (incomplete file)'
            : c.reason === 'unsupported'
              ? 'Unsupported image variant'
              : c.reason === 'too-large'
                ? 'The image is too large'
                : 'The image is damaged'
        }: ${detail}`,
        detail,
      );
    } finally {
      claimed.delete(sha256);
    }
  };

  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < entries.length) {
      if (cb.signal?.aborted) return;
      const e = entries[next++]!;
      await processOne(e);
      done++;
      cb.progress?.(done, entries.length);
      if (cb.imported && pendingIds.length && Date.now() - lastFlush > 1000) {
        cb.imported(pendingIds);
        pendingIds = [];
        lastFlush = Date.now();
      }
    }
  };
  // One commit per image: synced once a second rather than each (db/open.ts bulkWriter); released by finish().
  const bulk = bulkWriter(db);
  try {
    await Promise.all(Array.from({ length: Math.min(IMPORT_CONCURRENCY, entries.length) }, worker));
  } catch (err) {
    finish('failed');
    throw err;
  }
  if (cb.imported && pendingIds.length) cb.imported(pendingIds);
  for (const d of report.duplicates) {
    if (d.imageId === -1) d.imageId = findBySha(db, d.sha256)?.id ?? -1;
  }
  if (cb.signal?.aborted) {
    finish('cancelled');
    throw new CancelledError(`Import cancelled after ${done} of ${entries.length} files; run the same import again to continue.`, {
      report,
    });
  }
  finish('done');
  return report;

  function finish(state: ImportReport['state']): void {
    bulk.release(); // synchronous = FULL again: the batch's final commit below syncs every image row before it
    report.state = state;
    report.elapsedMs = Date.now() - t0;
    report.imagesPerSecond = report.elapsedMs > 0 ? Math.round((report.imported / report.elapsedMs) * 100000) / 100 : 0;
    markBatch(db, batchId, state, report);
  }
}
