/**
 * k-fold cross-validation over the training service: one task trains the folds one after another (folds × repeats),
 * each a normal run tagged with the group and its fold, on the catalog's non-test images (the locked test split is
 * never used). Cancelling lets the fold in progress finish and keeps every finished fold. The group's record lives
 * in the catalog; its figures are read back from the fold runs' validation evaluations.
 */
import {
  checkCrossValidationSpec,
  foldFigures,
  newCrossValidationId,
  summariseFolds,
  type CrossValidationFold,
  type CrossValidationRecord,
  type CrossValidationSpec,
  type CrossValidationStarted,
  type CrossValidationStatus,
  type CrossValidationView,
  type CrossValidationWrongImage,
  type FoldResult,
} from '../../shared/cross-validation.ts';
import { decideClass } from '../../shared/operating-point.ts';
import { CancelledError, NotFoundError, ValidationError, serializeError, type SerializedError } from '../../shared/errors.ts';
import type { TrainConfigInput } from '../../shared/training-types.ts';
import * as groups from '../db/repos/cross-validations.ts';
import { imageBatchIds } from '../db/repos/image-lookups.ts';
import type { Project } from '../projects/project.ts';
import type { ProjectManager } from '../projects/project-manager.ts';
import type { TaskContext, TaskManager } from '../tasks/task-manager.ts';
import type { TrainingService } from './training-service.ts';
import { buildDataset } from './train/dataset.ts';
import { resolveConfig } from './train/config.ts';

export interface CrossValidationDeps {
  training: TrainingService;
  tasks: TaskManager;
  projects: ProjectManager;
}

/** A finished fold as `kensa cv` prints it, with the ids it held out (for the always-wrong count). */
export type FoldOutcome = FoldResult & { heldOut: number[] };

export interface CrossValidationOptions {
  /** Called as each fold finishes (the CLI prints it). */
  onFold?: (r: FoldOutcome) => void;
}

export class CrossValidationService {
  private readonly training: TrainingService;
  private readonly tasks: TaskManager;
  private readonly projects: ProjectManager;

  constructor(deps: CrossValidationDeps) {
    this.training = deps.training;
    this.tasks = deps.tasks;
    this.projects = deps.projects;
  }

  /**
   * Starts the group's task (kind 'crossValidation', not on the training queue: its folds queue there). The base
   * configuration is checked with the first fold's split before anything is stored.
   */
  start(base: TrainConfigInput, specIn: CrossValidationSpec, opts: CrossValidationOptions = {}): CrossValidationStarted {
    const project = this.projects.require();
    const spec = checkCrossValidationSpec(specIn);
    const split = (repeat: number, fold: number) =>
      ({ mode: 'fold', folds: spec.folds, fold, seed: spec.seed + repeat, groupBy: spec.groupBy }) as const;
    const probe = resolveConfig({ ...base, split: split(0, 0) });
    if (probe.task === 'anomaly')
      throw new ValidationError(
        'Cross-validation is for classifiers (binary or multiclass); anomaly detection learns from good parts only.',
      );
    if (probe.continueFromRunId !== null)
      throw new ValidationError('Cross-validation trains each fold afresh: leave "continue from" empty.');
    if (spec.groupBy === 'batch') {
      // Counted before any fold is drawn: with fewer batches than folds a fold is left empty, and buildDataset's own
      // words ("no training images") would not say why.
      const batchOf = imageBatchIds(project.db);
      const pool = buildDataset(project, { ...probe, split: { mode: 'catalog' } }).snapshot.filter((x) => x.split !== 'test');
      const batches = new Set(pool.map((x) => batchOf.get(x.imageId) ?? null)).size;
      if (batches < spec.folds)
        throw new ValidationError(
          `Keeping each import batch in one fold needs at least ${spec.folds} batches with labelled images; this set has ${batches}. Choose fewer folds or let batches be split (--group none).`,
        );
    }
    // Every fold's split is drawn now (cheap on the small sets this is for), so a fold left without validation or
    // training images refuses the group before any run is queued.
    for (let r = 0; r < spec.repeats; r++)
      for (let f = 0; f < spec.folds; f++) {
        const held = buildDataset(project, resolveConfig({ ...base, split: split(r, f) })).snapshot;
        if (!held.some((x) => x.split === 'val'))
          throw new ValidationError(`Fold ${f + 1} of ${spec.folds} would have no validation images: choose fewer folds.`);
      }
    let id = newCrossValidationId();
    for (let n = 2; groups.getCrossValidation(project.db, id); n++) id = `${newCrossValidationId()}-${n}`;
    const name = base.name?.trim() || 'Cross-validation';
    const total = spec.folds * spec.repeats;
    const record: CrossValidationRecord = {
      id,
      name,
      spec,
      status: 'running',
      taskId: null,
      createdAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    };
    const snap = this.tasks.start(
      'crossValidation',
      `Cross-validation: ${name} (${spec.folds} folds)`,
      (ctx) => this.execute(ctx, project, record, base, split, opts),
      { what: { kind: 'crossValidation', name, total } },
    );
    record.taskId = snap.id;
    groups.putCrossValidation(project.db, record);
    return { id, taskId: snap.id, total };
  }

  private async execute(
    ctx: TaskContext,
    project: Project,
    record: CrossValidationRecord,
    base: TrainConfigInput,
    split: (repeat: number, fold: number) => TrainConfigInput['split'],
    opts: CrossValidationOptions,
  ): Promise<{ id: string; folds: number }> {
    const { spec } = record;
    const total = spec.folds * spec.repeats;
    const stillOpen = () => this.projects.project === project;
    const finish = (status: CrossValidationStatus, error: SerializedError | null = null) => {
      if (!stillOpen()) return;
      groups.putCrossValidation(project.db, { ...record, status, error, finishedAt: new Date().toISOString() });
    };
    const activeBefore = this.training.getActive()?.id ?? null;
    let done = 0;
    let step: { fold: number; repeat: number } | null = null;
    const say = () => {
      if (!step) return;
      const stopping = ctx.signal.aborted;
      ctx.update({
        message: `Fold ${step.fold} of ${spec.folds}${spec.repeats > 1 ? `, repeat ${step.repeat} of ${spec.repeats}` : ''}${stopping ? ' (stopping after it)' : ''}`,
        step: { kind: 'cv-fold', fold: step.fold, folds: spec.folds, repeat: step.repeat, repeats: spec.repeats, stopping },
      });
    };
    // A cancel lets the fold in progress finish: say so at once rather than when it ends.
    ctx.signal.addEventListener('abort', say);
    try {
      for (let r = 0; r < spec.repeats && !ctx.signal.aborted; r++) {
        for (let f = 0; f < spec.folds && !ctx.signal.aborted; f++) {
          if (!stillOpen()) throw new ValidationError('The project was closed during cross-validation.');
          ctx.progress(done, total, 'folds');
          step = { fold: f + 1, repeat: r + 1 };
          say();
          const run = this.training.start({
            ...base,
            seed: spec.seed + r,
            name: `${record.name} · fold ${f + 1}/${spec.folds}${spec.repeats > 1 ? ` · repeat ${r + 1}` : ''}`,
            split: split(r, f),
            crossValidation: { id: record.id, repeat: r + 1, repeats: spec.repeats, fold: f + 1, folds: spec.folds },
          });
          const end = await this.tasks.wait(run.id);
          // Fold runs are measurements, not the model to inspect with: one that became active by itself is set back.
          if (activeBefore === null && stillOpen() && this.training.getActive()?.id === run.runId) this.training.setActive(null);
          // The fold's own run cancelled from the task list: the group stops there, like a cancel of the group.
          if (end.state === 'cancelled') {
            finish('cancelled');
            throw new CancelledError(`Fold ${f + 1} was cancelled; the ${done} finished folds are kept.`);
          }
          if (end.state !== 'succeeded') throw new ValidationError(`Fold ${f + 1} of repeat ${r + 1} did not finish (${end.state}).`);
          const val = this.training.get(run.runId).evaluations.find((e) => e.split === 'val');
          if (!val) throw new ValidationError(`Fold ${f + 1} has no validation images: use fewer folds.`);
          done++;
          ctx.progress(done, total, 'folds');
          opts.onFold?.({ repeat: r + 1, fold: f + 1, runId: run.runId, images: val.count, ...foldFigures(val) });
        }
      }
      finish(ctx.signal.aborted ? 'cancelled' : 'succeeded');
      return { id: record.id, folds: done };
    } catch (err) {
      if (!(err instanceof Error && err.name === 'CancelledError')) finish('failed', serializeError(err));
      throw err;
    } finally {
      ctx.signal.removeEventListener('abort', say);
    }
  }

  /** The open project's groups, newest first. */
  list(): CrossValidationRecord[] {
    return groups.listCrossValidations(this.projects.require().db).map((r) => this.live(r));
  }

  /** One group: its folds in order with their figures, and the summary over the finished ones. */
  get(id: string): CrossValidationView {
    const record = groups.getCrossValidation(this.projects.require().db, id);
    if (!record) throw new NotFoundError(`No cross-validation ${id} in this project.`);
    const folds: (CrossValidationFold & { order: number })[] = [];
    const finished: FoldOutcome[] = [];
    const seen = new Map<number, CrossValidationWrongImage>();
    for (const r of this.training.list()) {
      const detail = this.training.get(r.id);
      const tag = detail.config.crossValidation;
      if (!tag || tag.id !== id) continue;
      const val = r.status === 'succeeded' ? detail.evaluations.find((e) => e.split === 'val') : undefined;
      const fig = val ? foldFigures(val) : null;
      if (val && fig) finished.push({ repeat: tag.repeat, fold: tag.fold, runId: r.id, images: val.count, ...fig });
      for (const x of val?.samples ?? []) {
        const label = detail.classInfo[x.label];
        const predicted = detail.classInfo[decideClass(x.probs, null, null)];
        if (label && predicted) seen.set(x.id, { imageId: x.id, label, predicted });
      }
      folds.push({
        order: (tag.repeat - 1) * tag.folds + tag.fold,
        repeat: tag.repeat,
        fold: tag.fold,
        runId: r.id,
        status: r.status,
        images: val?.count ?? null,
        accuracy: fig?.accuracy ?? null,
        auc: fig?.auc ?? null,
        wrong: fig ? fig.wrong.length : null,
      });
    }
    folds.sort((a, b) => a.order - b.order || a.runId - b.runId);
    const summary = summariseFolds(finished, record.spec.repeats);
    return {
      ...this.live(record),
      folds: folds.map(({ order: _o, ...f }) => f),
      summary,
      wrongImages: summary.alwaysWrong.flatMap((imageId) => seen.get(imageId) ?? []),
    };
  }

  /** A record left 'running' by a process that ended (no such task here) was interrupted: shown as cancelled. */
  private live(r: CrossValidationRecord): CrossValidationRecord {
    if (r.status !== 'running') return r;
    const alive = r.taskId !== null && this.tasks.list().some((t) => t.id === r.taskId && !t.finishedAt);
    return alive ? r : { ...r, status: 'cancelled' };
  }
}
