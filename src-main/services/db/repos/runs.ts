/** Training runs in the catalog: plain functions over Db with row mappers (schema: migrations/003-runs.ts). */
import { NotFoundError } from '../../../shared/errors.ts';
import type { SerializedError } from '../../../shared/errors.ts';
import type { OperatingPointChoice } from '../../../shared/operating-point.ts';
import type {
  BatchLossRecord,
  ClassInfo,
  DatasetSnapshotEntry,
  PhaseSummary,
  RunDetail,
  RunDurations,
  RunStatus,
  RunSummary,
  TrainConfig,
  TrainingTaskKind,
} from '../../../shared/training-types.ts';
import type { BackendName } from '../../../shared/types.ts';
import { IDS, selectIn } from '../in-list.ts';
import type { Db } from '../open.ts';
import { listBatchLosses, listEpochs, listEvaluations, nullIfNaN } from './run-epochs.ts';

// Where callers (`import * as runs`) have always found them.
export { insertEpoch, upsertEvaluation } from './run-epochs.ts';

interface RunRow {
  id: number;
  name: string;
  status: RunStatus;
  task: TrainingTaskKind;
  backbone: string;
  input_size: number;
  weights_source: string;
  config: string;
  classes: string;
  backend: string | null;
  parent_run_id: number | null;
  task_id: string | null;
  model_dir: string | null;
  threshold: number | null;
  val_accuracy: number | null;
  val_loss: number | null;
  test_accuracy: number | null;
  phases: string | null;
  durations: string | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Migration 005. */
  operating_point: string | null;
}

const ACTIVE_KEY = 'active_model_run_id';

export function getActiveRunId(db: Db): number | null {
  const v = db.prepare('SELECT value FROM project_meta WHERE key = ?').pluck().get(ACTIVE_KEY) as string | undefined;
  return v ? Number(v) : null;
}

export function setActiveRunId(db: Db, id: number | null): void {
  if (id === null) db.prepare('DELETE FROM project_meta WHERE key = ?').run(ACTIVE_KEY);
  else
    db.prepare('INSERT INTO project_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
      ACTIVE_KEY,
      String(id),
    );
}

export interface NewRun {
  name: string;
  status: RunStatus;
  config: TrainConfig;
  classInfo: ClassInfo[];
  weightsSource: string;
  parentRunId: number | null;
  taskId: string | null;
  snapshot: (DatasetSnapshotEntry & { sha256: string })[];
}

export function insertRun(db: Db, r: NewRun): number {
  return db.transaction(() => {
    const res = db
      .prepare(
        `INSERT INTO runs (name, status, task, backbone, input_size, weights_source, config, classes, parent_run_id, task_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.name,
        r.status,
        r.config.task,
        r.config.backbone,
        r.config.inputSize,
        r.weightsSource,
        JSON.stringify(r.config),
        JSON.stringify(r.classInfo),
        r.parentRunId,
        r.taskId,
        new Date().toISOString(),
      );
    const id = Number(res.lastInsertRowid);
    const ins = db.prepare('INSERT INTO run_samples (run_id, image_id, sha256, label, class_index, split) VALUES (?, ?, ?, ?, ?, ?)');
    for (const s of r.snapshot) ins.run(id, s.imageId > 0 ? s.imageId : null, s.sha256, s.label, s.classIndex, s.split);
    return id;
  })();
}

export function setRunTask(db: Db, id: number, taskId: string): void {
  db.prepare('UPDATE runs SET task_id = ? WHERE id = ?').run(taskId, id);
}

export function markRunStarted(db: Db, id: number, backend: { training: BackendName; inference: BackendName } | null): void {
  db.prepare("UPDATE runs SET status = 'running', started_at = ?, backend = ? WHERE id = ?").run(
    new Date().toISOString(),
    backend ? JSON.stringify(backend) : null,
    id,
  );
}

export function setRunBackend(db: Db, id: number, backend: { training: BackendName; inference: BackendName }): void {
  db.prepare('UPDATE runs SET backend = ? WHERE id = ?').run(JSON.stringify(backend), id);
}

export interface RunFinish {
  status: RunStatus;
  modelDir?: string | null;
  threshold?: number | null;
  operatingPoint?: OperatingPointChoice | null;
  valAccuracy?: number | null;
  valLoss?: number | null;
  testAccuracy?: number | null;
  phases?: PhaseSummary[];
  durations?: RunDurations | null;
  error?: SerializedError | null;
}

export function finishRun(db: Db, id: number, f: RunFinish): void {
  db.prepare(
    `UPDATE runs SET status = ?, model_dir = COALESCE(?, model_dir), threshold = COALESCE(?, threshold),
       operating_point = COALESCE(?, operating_point), val_accuracy = COALESCE(?, val_accuracy),
       val_loss = COALESCE(?, val_loss), test_accuracy = COALESCE(?, test_accuracy), phases = COALESCE(?, phases), durations = COALESCE(?, durations),
       error = ?, finished_at = ? WHERE id = ?`,
  ).run(
    f.status,
    f.modelDir ?? null,
    f.threshold ?? null,
    f.operatingPoint ? JSON.stringify(f.operatingPoint) : null,
    nullIfNaN(f.valAccuracy),
    nullIfNaN(f.valLoss),
    nullIfNaN(f.testAccuracy),
    f.phases ? JSON.stringify(f.phases) : null,
    f.durations ? JSON.stringify(f.durations) : null,
    f.error ? JSON.stringify(f.error) : null,
    new Date().toISOString(),
    id,
  );
}

function rowOf(db: Db, id: number): RunRow {
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  if (!r) throw new NotFoundError(`There is no training run ${id} in this project.`, { runId: id });
  return r;
}

function splitCounts(db: Db, ids: number[]): Map<number, { train: number; val: number; test: number }> {
  const out = new Map<number, { train: number; val: number; test: number }>();
  const rows = selectIn<{ run_id: number; split: 'train' | 'val' | 'test'; n: number }>(
    db,
    `SELECT run_id, split, COUNT(*) AS n FROM run_samples WHERE run_id IN (${IDS}) GROUP BY run_id, split`,
    ids,
  );
  for (const r of rows) {
    const c = out.get(r.run_id) ?? { train: 0, val: 0, test: 0 };
    c[r.split] = r.n;
    out.set(r.run_id, c);
  }
  return out;
}

function toSummary(r: RunRow, counts: { train: number; val: number; test: number } | undefined, activeId: number | null): RunSummary {
  const classes = (JSON.parse(r.classes) as ClassInfo[]).map((c) => c.key);
  const started = r.started_at ? Date.parse(r.started_at) : null;
  const finished = r.finished_at ? Date.parse(r.finished_at) : null;
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    task: r.task,
    backbone: r.backbone as RunSummary['backbone'],
    inputSize: r.input_size,
    classes,
    backend: r.backend ? (JSON.parse(r.backend) as RunSummary['backend']) : null,
    trainCount: counts?.train ?? 0,
    valCount: counts?.val ?? 0,
    testCount: counts?.test ?? 0,
    valAccuracy: r.val_accuracy,
    valLoss: r.val_loss,
    testAccuracy: r.test_accuracy,
    parentRunId: r.parent_run_id,
    taskId: r.task_id,
    isActive: activeId === r.id,
    hasModel: !!r.model_dir,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    durationMs: started !== null && finished !== null ? finished - started : null,
    error: r.error ? (JSON.parse(r.error) as SerializedError) : null,
    threshold: r.threshold,
    operatingPoint: r.operating_point ? (JSON.parse(r.operating_point) as OperatingPointChoice) : null,
  };
}

export function listRuns(db: Db): RunSummary[] {
  const rows = db.prepare('SELECT * FROM runs ORDER BY id DESC').all() as RunRow[];
  const counts = splitCounts(
    db,
    rows.map((r) => r.id),
  );
  const active = getActiveRunId(db);
  return rows.map((r) => toSummary(r, counts.get(r.id), active));
}

export function getRunSummary(db: Db, id: number): RunSummary {
  const r = rowOf(db, id);
  return toSummary(r, splitCounts(db, [id]).get(id), getActiveRunId(db));
}

export function getRunDetail(db: Db, id: number): RunDetail {
  const r = rowOf(db, id);
  const summary = toSummary(r, splitCounts(db, [id]).get(id), getActiveRunId(db));
  const epochs = listEpochs(db, id);
  const evaluations = listEvaluations(db, id);
  return {
    ...summary,
    config: JSON.parse(r.config) as TrainConfig,
    classInfo: JSON.parse(r.classes) as ClassInfo[],
    weightsSource: r.weights_source,
    epochs,
    phases: r.phases ? (JSON.parse(r.phases) as PhaseSummary[]) : [],
    durations: r.durations ? (JSON.parse(r.durations) as RunDurations) : null,
    evaluations,
    modelDir: r.model_dir,
  };
}

export function getRunThreshold(db: Db, id: number): number | null {
  return rowOf(db, id).threshold;
}

/** Stores a run's decision threshold and how it was chosen ("Use this threshold", or the choice after training). */
export function setRunOperatingPoint(db: Db, id: number, choice: OperatingPointChoice): void {
  rowOf(db, id);
  db.prepare('UPDATE runs SET threshold = ?, operating_point = ? WHERE id = ?').run(choice.threshold, JSON.stringify(choice), id);
}

export function getRunBatchLosses(db: Db, id: number): BatchLossRecord[] {
  rowOf(db, id);
  return listBatchLosses(db, id);
}

/** The dataset snapshot of a run: image ids per split with their labels at training time. */
export function getRunSnapshot(db: Db, id: number): (DatasetSnapshotEntry & { sha256: string })[] {
  return (
    db.prepare('SELECT image_id, sha256, label, class_index, split FROM run_samples WHERE run_id = ? ORDER BY rowid').all(id) as {
      image_id: number | null;
      sha256: string;
      label: string;
      class_index: number;
      split: 'train' | 'val' | 'test';
    }[]
  ).map((r) => ({ imageId: r.image_id ?? 0, sha256: r.sha256, label: r.label, classIndex: r.class_index, split: r.split }));
}

export function renameRun(db: Db, id: number, name: string): void {
  rowOf(db, id);
  db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(name, id);
}

export function deleteRun(db: Db, id: number): void {
  rowOf(db, id);
  db.transaction(() => {
    if (getActiveRunId(db) === id) setActiveRunId(db, null);
    db.prepare('DELETE FROM runs WHERE id = ?').run(id);
  })();
}

/** Runs left 'queued' / 'running' by an app that stopped (crash, power cut) are marked failed on open. */
export function failInterruptedRuns(db: Db): number {
  return db
    .prepare("UPDATE runs SET status = 'failed', error = ?, finished_at = ? WHERE status IN ('queued', 'running')")
    .run(JSON.stringify({ name: 'EngineCrashedError', message: 'Kensa stopped while this run was in progress.' }), new Date().toISOString())
    .changes;
}

/** Adds a run for an imported model (no dataset snapshot, status 'imported'). */
export function insertImportedRun(
  db: Db,
  r: {
    name: string;
    config: TrainConfig;
    classInfo: ClassInfo[];
    weightsSource: string;
    threshold: number | null;
    operatingPoint?: OperatingPointChoice | null;
  },
): number {
  const now = new Date().toISOString();
  const res = db
    .prepare(
      `INSERT INTO runs (name, status, task, backbone, input_size, weights_source, config, classes, threshold, operating_point, created_at, started_at, finished_at)
       VALUES (?, 'imported', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      r.name,
      r.config.task,
      r.config.backbone,
      r.config.inputSize,
      r.weightsSource,
      JSON.stringify(r.config),
      JSON.stringify(r.classInfo),
      r.threshold,
      r.operatingPoint ? JSON.stringify(r.operatingPoint) : null,
      now,
      now,
      now,
    );
  return Number(res.lastInsertRowid);
}

export function setRunModelDir(db: Db, id: number, dir: string): void {
  db.prepare('UPDATE runs SET model_dir = ? WHERE id = ?').run(dir, id);
}
