import type { HeatmapScore } from '../../../shared/heatmap-types.ts';
import type { Db } from '../open.ts';

/** A stored localisation score of one map (run, image, method, class, parameters). */
export interface ScoreRow extends HeatmapScore {
  imageId: number;
  method: string;
  classKey: string;
  paramsKey: string;
}

/** The class probabilities a run gave an image when its heatmaps were computed. */
export interface PredictionRow {
  probabilities: number[];
  predicted: number;
  confidence: number;
}

export function upsertScore(db: Db, runId: number, s: ScoreRow): void {
  db.prepare(
    `INSERT INTO heatmap_scores (run_id, image_id, method, class_key, params_key, pointing, energy, area) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (run_id, image_id, method, class_key, params_key) DO UPDATE SET pointing = excluded.pointing, energy = excluded.energy, area = excluded.area`,
  ).run(runId, s.imageId, s.method, s.classKey, s.paramsKey, s.pointing ? 1 : 0, s.energy, s.area);
}

export function listScores(db: Db, runId: number): ScoreRow[] {
  const rows = db
    .prepare('SELECT image_id, method, class_key, params_key, pointing, energy, area FROM heatmap_scores WHERE run_id = ?')
    .all(runId) as {
    image_id: number;
    method: string;
    class_key: string;
    params_key: string;
    pointing: number;
    energy: number;
    area: number;
  }[];
  return rows.map((r) => ({
    imageId: r.image_id,
    method: r.method,
    classKey: r.class_key,
    paramsKey: r.params_key,
    pointing: r.pointing === 1,
    energy: r.energy,
    area: r.area,
  }));
}

/** Probabilities rounded to 6 decimals; the predicted class is their argmax. */
export function upsertPrediction(db: Db, runId: number, imageId: number, probabilities: number[]): void {
  let best = 0;
  probabilities.forEach((v, i) => {
    if (v > probabilities[best]!) best = i;
  });
  db.prepare(
    'INSERT INTO heatmap_predictions (run_id, image_id, probabilities, predicted, confidence) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, image_id) DO UPDATE SET probabilities = excluded.probabilities, predicted = excluded.predicted, confidence = excluded.confidence',
  ).run(runId, imageId, JSON.stringify(probabilities.map((v) => Math.round(v * 1e6) / 1e6)), best, probabilities[best]!);
}

export function listPredictions(db: Db, runId: number): Map<number, PredictionRow> {
  const rows = db.prepare('SELECT image_id, probabilities, predicted, confidence FROM heatmap_predictions WHERE run_id = ?').all(runId) as {
    image_id: number;
    probabilities: string;
    predicted: number;
    confidence: number;
  }[];
  return new Map(
    rows.map((r) => [
      r.image_id,
      { probabilities: JSON.parse(r.probabilities) as number[], predicted: r.predicted, confidence: r.confidence },
    ]),
  );
}

/** Forgets a run's scores and predictions (its maps are files, removed by the caller). */
export function clearRunHeatmaps(db: Db, runId: number): void {
  db.prepare('DELETE FROM heatmap_scores WHERE run_id = ?').run(runId);
  db.prepare('DELETE FROM heatmap_predictions WHERE run_id = ?').run(runId);
}
