/** Wires the catalog into the services: media resolvers, project-open housekeeping, the import task. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageFormat, ImportReport, ImportRequest } from '../../shared/catalog-types.ts';
import { NotFoundError, ValidationError } from '../../shared/errors.ts';
import type { TaskSnapshot } from '../../shared/types.ts';
import { requireImageRow, storeRelPath } from '../db/repos/images.ts';
import type { Project } from '../projects/project.ts';
import type { MediaFile, Services } from '../services.ts';
import { displayPath, makeDisplayPng, makeThumbnail, openImageBytes, thumbPath, writeOnce } from './imaging.ts';
import { checkImportPaths, runImport } from './import.ts';

const wired = new WeakSet<Services>();
const importTasks = new WeakMap<Services, Set<string>>();
const MIME: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', bmp: 'image/bmp', tif: 'image/tiff' };

function imageId(id: string): number {
  const n = Number(id);
  if (!Number.isInteger(n) || n <= 0) throw new NotFoundError(`No image ${id}`);
  return n;
}

/** Thumbnail file of an image, made again when the cache was cleared. */
export async function thumbFile(project: Project, id: number): Promise<MediaFile> {
  const r = requireImageRow(project.db, id);
  const file = thumbPath(project.paths.cache, r.sha256);
  if (!existsSync(file)) {
    const bytes = readFileSync(join(project.dir, storeRelPath(r.sha256, r.ext)));
    writeOnce(file, await makeThumbnail(openImageBytes(bytes, r.format as ImageFormat)));
  }
  return { path: file, mime: 'image/jpeg' };
}

/** A browser-displayable file: the original JPEG / 8-bit PNG, else a cached 8-bit PNG conversion. */
export async function displayFile(project: Project, id: number): Promise<MediaFile> {
  const r = requireImageRow(project.db, id);
  const original = join(project.dir, storeRelPath(r.sha256, r.ext));
  if (r.format === 'jpeg' || (r.format === 'png' && r.bit_depth <= 8))
    return { path: original, mime: MIME[r.ext] ?? 'application/octet-stream' };
  const file = displayPath(project.paths.cache, r.sha256);
  if (!existsSync(file)) writeOnce(file, await makeDisplayPng(readFileSync(original), r.format as ImageFormat));
  return { path: file, mime: 'image/png' };
}

/** Idempotent: registers the catalog's media kinds and open hooks once per Services. */
export function ensureCatalog(s: Services): void {
  if (wired.has(s)) return;
  wired.add(s);
  s.registerMedia('thumb', (id) => thumbFile(s.projects.require(), imageId(id)));
  s.registerMedia('image', (id) => displayFile(s.projects.require(), imageId(id)));
  // A batch still 'running' at open was cut off by a crash: Project.open marks it (projects/recover.ts).
  // Closing the project stops its imports first (they finish the files in progress, then the batch is 'cancelled').
  s.projects.onClose(async () => {
    for (const id of importTasks.get(s) ?? []) {
      try {
        s.tasks.cancel(id);
        await s.tasks.wait(id);
      } catch {
        // Already pruned from the task list.
      }
    }
  });
}

/** Starts an import as a cancellable task (one at a time: queue 'import'). */
export function startImportTask(s: Services, req: ImportRequest): TaskSnapshot {
  ensureCatalog(s);
  const project = s.projects.require();
  // Only the chosen paths are checked here (a bad request fails the call); their folders are walked in the task,
  // asynchronously and cancellably, so a huge or self-linking folder never holds up the process that answers the UI.
  checkImportPaths(req);
  const n = req.paths.length;
  const snap = s.tasks.start(
    'import',
    `Import from ${n.toLocaleString('en')} place${n === 1 ? '' : 's'}`,
    async (ctx): Promise<ImportReport> => {
      if (!project.isOpen) throw new ValidationError('The project was closed before the import started.');
      let report: ImportReport;
      try {
        ctx.update({ step: { kind: 'import-scan', files: 0 } });
        let scanning = true;
        report = await runImport(project, req, {
          signal: ctx.signal,
          found: (files) => ctx.update({ message: `Looking for files: ${files} found`, step: { kind: 'import-scan', files } }),
          progress: (done, total) => {
            if (scanning) {
              scanning = false;
              ctx.update({ message: `Importing ${total} files`, step: { kind: 'import-scan', files: total } });
            }
            ctx.progress(done, total, 'files');
          },
          imported: (ids) => s.events.emit('catalogChanged', { reason: 'import', imageIds: ids }),
        });
      } finally {
        s.events.emit('catalogChanged', { reason: 'import' });
      }
      ctx.update({
        message: `${report.imported} imported, ${report.duplicates.length} duplicates, ${report.skipped.length} skipped`,
        step: { kind: 'import-done', imported: report.imported, duplicates: report.duplicates.length, skipped: report.skipped.length },
      });
      return report;
    },
    { queue: 'import', what: { kind: 'import', files: null } },
  );
  let ids = importTasks.get(s);
  if (!ids) importTasks.set(s, (ids = new Set()));
  ids.add(snap.id);
  void s.tasks.wait(snap.id).finally(() => ids.delete(snap.id));
  return snap;
}
