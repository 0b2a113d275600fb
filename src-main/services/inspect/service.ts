/**
 * Inspect: the active (or a chosen) model over catalog images or folders of new photos, as a cancellable task, on
 * top of the training service's predict and the catalog's import. Results live in memory per open project (the
 * latest few inspections, store.ts); photos given by path are shown through media kinds 'file' and
 * 'inspect-heatmap' (media.ts). Built once by the composition root with what it depends on.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { AddToLibraryResult, InspectItem, InspectRequest, Inspection, InspectionSummary } from '../../shared/api/inspect.ts';
import { NotFoundError, ValidationError } from '../../shared/errors.ts';
import type { TaskSnapshot } from '../../shared/types.ts';
import { setLabel } from '../library/edits.ts';
import { runImport } from '../library/import.ts';
import { CSV_BOM } from '../csv.ts';
import { getType } from '../db/repos/defect-types.ts';
import { imageOrigins, inspectedImages } from '../db/repos/inspect.ts';
import type { EngineService } from '../engine/engine-service.ts';
import type { EventBus } from '../events.ts';
import { checkTarget, writeFileAtomic } from '../export-file.ts';
import { fileHeatmap } from '../heatmaps/file-heatmap.ts';
import type { MediaRegistry } from '../media-registry.ts';
import { readModelInfo } from '../training/model/saved-model.ts';
import type { ProjectManager } from '../projects/project-manager.ts';
import type { TaskManager } from '../tasks/task-manager.ts';
import { inspectionToCsv, unreadableOf } from './csv.ts';
import { collectInspectFiles } from './files.ts';
import { inspectMediaResolvers } from './media.ts';
import { chooseTypeRun, type InspectModels } from './models.ts';
import { InspectStore } from './store.ts';
import { runInspection, type InspectPlan } from './task.ts';
import { applyThreshold } from './verdict.ts';

export interface InspectServiceDeps {
  projects: ProjectManager;
  tasks: TaskManager;
  events: EventBus;
  media: Pick<MediaRegistry, 'register'>;
  /** Maps inspected photos (their heatmaps). */
  engine: EngineService;
  /** The trained models: runs, model folders, predict (the training service). */
  models: InspectModels;
}

function checkThreshold(threshold: unknown): void {
  if (!(typeof threshold === 'number' && threshold >= 0 && threshold <= 1))
    throw new ValidationError('The threshold must be between 0 and 1.');
}

export class InspectService {
  private readonly projects: ProjectManager;
  private readonly tasks: TaskManager;
  private readonly events: EventBus;
  private readonly models: InspectModels;
  private readonly store: InspectStore;

  constructor(deps: InspectServiceDeps) {
    this.projects = deps.projects;
    this.tasks = deps.tasks;
    this.events = deps.events;
    this.models = deps.models;
    this.store = new InspectStore(() => this.projects.require().dir);
    const heatmapDeps = { projects: deps.projects, training: deps.models, engine: deps.engine };
    const resolvers = inspectMediaResolvers({
      store: this.store,
      cacheDir: () => this.projects.require().paths.cache,
      fileHeatmap: (req) => fileHeatmap(heatmapDeps, req),
    });
    deps.media.register('file', resolvers.file);
    deps.media.register('inspect-heatmap', resolvers['inspect-heatmap']);
    this.projects.onClose(() => this.store.clear());
  }

  /** Checks the request, then starts the task; its result is `{ inspectionId }`. */
  start(request: InspectRequest): TaskSnapshot {
    const project = this.projects.require();
    const req = request ?? {};
    const imageIds = (req.imageIds ?? []).map(Number);
    if (imageIds.some((n) => !Number.isInteger(n) || n <= 0)) throw new ValidationError('Image ids must be whole numbers.');
    const { files, skipped } = req.paths?.length
      ? collectInspectFiles(req.paths.map((p) => resolve(String(p))))
      : { files: [], skipped: [] };
    const total = imageIds.length + files.length;
    if (!total) {
      const missing = skipped.filter((k) => k.code === 'missing').map((k) => k.path);
      throw missing.length
        ? new NotFoundError(`Nothing to inspect: ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist.`, {
            paths: missing,
          })
        : new ValidationError('There are no images to inspect in what you chose (JPEG, PNG, BMP or TIFF).');
    }
    const t = this.models;
    const runId = req.runId ?? t.getActive()?.id;
    if (runId === undefined || runId === null)
      throw new ValidationError('No active model: train a model, or set one as active on the Runs screen.');
    const run = t.get(runId);
    if (!run.hasModel) throw new ValidationError(`Run ${runId} has no saved model.`);
    if (req.threshold !== undefined) checkThreshold(req.threshold);
    if (req.tta !== undefined && typeof req.tta !== 'boolean')
      throw new ValidationError('Test-time augmentation is on or off (true or false).');
    if (run.task === 'anomaly' && req.tta === true)
      throw new ValidationError(
        `Run ${runId} is an anomaly model: test-time augmentation averages a classifier's views and does not apply to it.`,
      );
    const plan: InspectPlan = {
      id: randomUUID().slice(0, 8),
      run,
      imageIds,
      files,
      skipped,
      typeRun: run.task === 'anomaly' ? chooseTypeRun(t, req.typeRunId) : null,
      // What the task will use, recorded in the results: asked for, else the model's own setting.
      tta: run.task === 'anomaly' ? false : (req.tta ?? readModelInfo(t.modelDir(runId).dir).tta ?? false),
      threshold: req.threshold,
    };
    const set = this.store.current();
    const deps = { models: t, libraryImages: (ids: readonly number[]) => inspectedImages(project.db, ids) };
    return this.tasks.start(
      'inspect',
      `Inspect ${total.toLocaleString('en')} image${total === 1 ? '' : 's'} with “${run.name}”`,
      async (ctx) => {
        const ins = await runInspection(ctx, plan, deps);
        // Kept only in the project it started in (the user may have switched meanwhile).
        if (project.isOpen) this.store.putIfCurrent(set, ins);
        const ng = ins.items.filter((x) => x.verdict === 'ng').length;
        ctx.update({
          message: `${ins.items.length} inspected, ${ng} NG, ${ins.imagesPerSecond.toFixed(1)} images/s${plan.tta ? ' (test-time augmentation)' : ''}`,
          step: { kind: 'inspect-done', inspected: ins.items.length, ng, imagesPerSecond: ins.imagesPerSecond },
          metrics: { imagesPerSecond: ins.imagesPerSecond },
        });
        return { inspectionId: plan.id };
      },
      { queue: 'inspect', what: { kind: 'inspect', images: total, run: run.name } },
    );
  }

  get(id: string): Inspection {
    return this.store.get(id);
  }

  /** Inspections of the open project since the app started (newest first). */
  list(): InspectionSummary[] {
    return this.store.list();
  }

  /** Re-applies a threshold (null: the model's own) to the verdicts, without new inference. */
  setThreshold(id: string, threshold: number | null): Inspection {
    if (threshold !== null) checkThreshold(threshold);
    const ins = applyThreshold(this.store.get(id), threshold ?? this.store.get(id).modelThreshold);
    this.store.put(ins);
    return ins;
  }

  csv(id: string): string {
    return inspectionToCsv(this.store.get(id));
  }

  /** Writes the CSV (with BOM, for Excel) through export-file.ts: an existing file is refused unless `overwrite`. */
  exportCsv(id: string, file: string, opts?: { overwrite?: boolean }): { file: string; rows: number } {
    if (!file || !String(file).trim()) throw new ValidationError('Choose a file to write the CSV to.');
    const ins = this.store.get(id);
    const out = resolve(String(file));
    const overwrite = opts?.overwrite === true;
    checkTarget(out, overwrite);
    writeFileAtomic(out, CSV_BOM + inspectionToCsv(ins), { overwrite });
    return { file: out, rows: ins.items.length + unreadableOf(ins).length };
  }

  /**
   * Adds photos of an inspection to the catalog through the import (duplicates are found where they already are)
   * and labels them and the chosen catalog images (undoable); the inspection's items learn their catalog ids.
   */
  async addToLibrary(id: string, indices: number[], defectTypeId: number | null): Promise<AddToLibraryResult> {
    const project = this.projects.require();
    const ins = this.store.get(id);
    if (defectTypeId !== null && !Number.isInteger(defectTypeId)) throw new ValidationError('Choose a label.');
    const chosen = [...new Set((indices ?? []).map(Number))].map((i) => ins.items[i]).filter((x): x is InspectItem => !!x);
    if (!chosen.length) throw new ValidationError('Select the images to add first.');
    const result: AddToLibraryResult = { imported: 0, duplicates: 0, labelled: 0, imageIds: [], skipped: [] };
    const byPath = new Map<string, InspectItem>();
    for (const it of chosen) if (it.path && it.imageId === null) byPath.set(resolve(it.path), it);
    const ids: number[] = chosen.filter((x) => x.imageId !== null).map((x) => x.imageId!);
    if (byPath.size) {
      const report = await runImport(project, { paths: [...byPath.keys()], labels: { from: 'none' } });
      result.imported = report.imported;
      result.duplicates = report.duplicates.length;
      result.skipped = report.skipped.map((k) => ({ path: k.path, code: k.reason, reason: k.message }));
      // Map created / duplicate images back onto the inspected files.
      for (const r of imageOrigins(project.db, report.imageIds)) {
        const it = byPath.get(resolve(r.path));
        if (it) it.imageId = r.id;
        ids.push(r.id);
      }
      for (const d of report.duplicates) {
        const it = byPath.get(resolve(d.path));
        if (it && it.imageId === null) it.imageId = d.imageId;
        ids.push(d.imageId);
      }
      this.events.emit('libraryChanged', { reason: 'import', imageIds: report.imageIds });
    }
    const unique = [...new Set(ids)];
    if (unique.length && defectTypeId !== null) {
      const edit = setLabel(project.db, unique, defectTypeId);
      result.labelled = edit.imageIds.length;
      this.events.emit('libraryChanged', { reason: 'labels', imageIds: unique });
      const key = getType(project.db, defectTypeId)?.key ?? null;
      for (const it of ins.items) if (it.imageId !== null && unique.includes(it.imageId)) it.labelKey = key;
    }
    result.imageIds = unique;
    this.store.put(ins);
    return result;
  }
}
