/** The catalog as a service: media resolvers, project-close housekeeping, the import task. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageFormat, ImportReport, ImportRequest } from '../../shared/library-types.ts';
import { NotFoundError, ValidationError } from '../../shared/errors.ts';
import type { TaskSnapshot } from '../../shared/types.ts';
import { requireImageRow, storeRelPath } from '../db/repos/images.ts';
import type { Project } from '../projects/project.ts';
import type { EventBus } from '../events.ts';
import type { MediaFile, MediaRegistry } from '../media-registry.ts';
import type { ProjectManager } from '../projects/project-manager.ts';
import type { TaskManager } from '../tasks/task-manager.ts';
import { displayPath, makeDisplayPng, makeThumbnail, openImageBytes, thumbPath, writeOnce } from './imaging.ts';
import { checkImportPaths, runImport } from './import.ts';

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

export interface LibraryServiceDeps {
  projects: ProjectManager;
  tasks: TaskManager;
  events: EventBus;
  media: MediaRegistry;
}

/** The catalog's part of the services: its media kinds, the import task and what closing a project must stop. */
export class LibraryService {
  private readonly projects: ProjectManager;
  private readonly tasks: TaskManager;
  private readonly events: EventBus;
  /** Imports queued or running, so closing their project can stop them first. */
  private readonly importTasks = new Set<string>();

  constructor(deps: LibraryServiceDeps) {
    this.projects = deps.projects;
    this.tasks = deps.tasks;
    this.events = deps.events;
    deps.media.register('thumb', (id) => thumbFile(this.projects.require(), imageId(id)));
    deps.media.register('image', (id) => displayFile(this.projects.require(), imageId(id)));
    // A batch still 'running' at open was cut off by a crash: Project.open marks it (projects/recover.ts).
    // Closing the project stops its imports first (they finish the files in progress, then the batch is 'cancelled').
    this.projects.onClose(async () => {
      for (const id of this.importTasks) {
        try {
          this.tasks.cancel(id);
          await this.tasks.wait(id);
        } catch {
          // Already pruned from the task list.
        }
      }
    });
  }

  /** Starts an import as a cancellable task (one at a time: queue 'import'). */
  startImport(req: ImportRequest): TaskSnapshot {
    const project = this.projects.require();
    // Only the chosen paths are checked here (a bad request fails the call); their folders are walked in the task,
    // asynchronously and cancellably, so a huge or self-linking folder never holds up the process that answers the UI.
    checkImportPaths(req);
    const n = req.paths.length;
    const snap = this.tasks.start(
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
            imported: (ids) => this.events.emit('libraryChanged', { reason: 'import', imageIds: ids }),
          });
        } finally {
          this.events.emit('libraryChanged', { reason: 'import' });
        }
        ctx.update({
          message: `${report.imported} imported, ${report.duplicates.length} duplicates, ${report.skipped.length} skipped`,
          step: { kind: 'import-done', imported: report.imported, duplicates: report.duplicates.length, skipped: report.skipped.length },
        });
        return report;
      },
      { queue: 'import', what: { kind: 'import', files: null } },
    );
    this.importTasks.add(snap.id);
    void this.tasks.wait(snap.id).finally(() => this.importTasks.delete(snap.id));
    return snap;
  }
}
