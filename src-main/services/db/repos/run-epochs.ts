/**
 * What a training run records as it goes: one row per epoch (with its localisation figures as JSON), the epoch's
 * batch losses as float32 blobs, and one evaluation per split. Row mappers both ways.
 */
import type { BatchLossRecord, EpochRecord, Evaluation, TrainingPhase } from '../../../shared/training-types.ts';
import type { Db } from '../open.ts';

/** The localisation fields of an epoch (EpochMetrics valPointing…) as JSON, or null when it has none. */
function localisationJson(e: EpochRecord): string | null {
  if (typeof e.valPointing !== 'number') return null;
  const { valPointing, valEnergy, valRegionArea, valPointingChance, valLocalisedCount, valLocalisationMs, valPointingByClass } = e;
  return JSON.stringify({
    valPointing,
    valEnergy,
    valRegionArea,
    valPointingChance,
    valLocalisedCount,
    valLocalisationMs,
    valPointingByClass,
  });
}

export function nullIfNaN(v: number | null | undefined): number | null {
  return v === undefined || v === null || !Number.isFinite(v) ? null : v;
}

export function insertEpoch(db: Db, runId: number, e: EpochRecord, batchLosses: number[]): void {
  db.transaction(() => {
    db.prepare(
      `INSERT OR REPLACE INTO run_epochs (run_id, phase, epoch, global_epoch, loss, accuracy, val_loss, val_accuracy, learning_rate, duration_ms, localisation)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      runId,
      e.phase,
      e.epoch,
      e.globalEpoch,
      e.loss,
      e.accuracy,
      nullIfNaN(e.valLoss),
      nullIfNaN(e.valAccuracy),
      e.learningRate,
      Math.round(e.durationMs),
      localisationJson(e),
    );
    const f = Float32Array.from(batchLosses);
    db.prepare('INSERT OR REPLACE INTO run_batches (run_id, phase, epoch, losses) VALUES (?, ?, ?, ?)').run(
      runId,
      e.phase,
      e.epoch,
      Buffer.from(f.buffer),
    );
  })();
}

export function upsertEvaluation(db: Db, runId: number, ev: Evaluation): void {
  db.prepare(
    `INSERT INTO run_evaluations (run_id, split, accuracy, loss, metrics, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(run_id, split) DO UPDATE SET accuracy = excluded.accuracy, loss = excluded.loss, metrics = excluded.metrics, created_at = excluded.created_at`,
  ).run(runId, ev.split, nullIfNaN(ev.accuracy), nullIfNaN(ev.loss), JSON.stringify(ev), new Date().toISOString());
  const col = ev.split === 'val' ? 'val_accuracy' : ev.split === 'test' ? 'test_accuracy' : null;
  if (col) db.prepare(`UPDATE runs SET ${col} = ? WHERE id = ?`).run(nullIfNaN(ev.accuracy), runId);
}

interface EpochRow {
  phase: TrainingPhase;
  epoch: number;
  global_epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number | null;
  val_accuracy: number | null;
  learning_rate: number;
  duration_ms: number;
  localisation: string | null;
}

/** A run's epochs in training order. */
export function listEpochs(db: Db, runId: number): EpochRecord[] {
  const rows = db.prepare('SELECT * FROM run_epochs WHERE run_id = ? ORDER BY global_epoch').all(runId) as EpochRow[];
  return rows.map((e): EpochRecord => ({
    ...(e.localisation ? (JSON.parse(e.localisation) as Partial<EpochRecord>) : {}),
    phase: e.phase,
    epoch: e.epoch,
    globalEpoch: e.global_epoch,
    loss: e.loss,
    accuracy: e.accuracy,
    valLoss: e.val_loss,
    valAccuracy: e.val_accuracy,
    learningRate: e.learning_rate,
    durationMs: e.duration_ms,
  }));
}

/** A run's evaluations: validation first, then test. */
export function listEvaluations(db: Db, runId: number): Evaluation[] {
  return (
    db
      .prepare("SELECT metrics FROM run_evaluations WHERE run_id = ? ORDER BY CASE split WHEN 'val' THEN 0 WHEN 'test' THEN 1 ELSE 2 END")
      .pluck()
      .all(runId) as string[]
  ).map((m) => JSON.parse(m) as Evaluation);
}

/** Every batch loss of a run: transfer phase first, by epoch. */
export function listBatchLosses(db: Db, runId: number): BatchLossRecord[] {
  const rows = db
    .prepare("SELECT phase, epoch, losses FROM run_batches WHERE run_id = ? ORDER BY CASE phase WHEN 'transfer' THEN 0 ELSE 1 END, epoch")
    .all(runId) as {
    phase: TrainingPhase;
    epoch: number;
    losses: Buffer;
  }[];
  const out: BatchLossRecord[] = [];
  for (const r of rows) {
    const f = new Float32Array(r.losses.buffer.slice(r.losses.byteOffset, r.losses.byteOffset + r.losses.byteLength));
    f.forEach((loss, i) => out.push({ phase: r.phase, epoch: r.epoch, batch: i + 1, loss }));
  }
  return out;
}
