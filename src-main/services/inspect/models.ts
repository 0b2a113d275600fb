/**
 * What Inspect needs of the trained models (the training service): runs, the active model, the model folder, and
 * predictions. Narrow, so the service states what it depends on and a test can give its own.
 */
import type { Inspection } from '../../shared/api/inspect.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { PredictResult, RunDetail, RunSummary } from '../../shared/training-types.ts';
import { namesTypes, TYPE_MIN_PROBABILITY } from './verdict.ts';

export interface InspectModels {
  get(runId: number): RunDetail;
  getActive(): RunSummary | null;
  list(): RunSummary[];
  /** A run's model folder (throws NotFoundError when it has none). */
  modelDir(runId?: number): { runId: number; dir: string };
  /** `opts.tta` left out: the model's own setting. */
  predict(
    target: { imageIds?: number[]; paths?: string[] },
    runId?: number,
    signal?: AbortSignal,
    opts?: { tta?: boolean },
  ): Promise<PredictResult>;
}

/**
 * The classifier that names an anomaly model's NG images' defect types: the one asked for (refused when it cannot),
 * none for null, else the active model when it can, else the newest finished run that can (null when none can).
 */
export function chooseTypeRun(t: InspectModels, asked: number | null | undefined): Inspection['typeRun'] {
  if (asked === null) return null;
  const of = (r: RunSummary) => {
    const d = t.get(r.id);
    return namesTypes(r, d.classInfo) ? { id: r.id, name: r.name, classes: d.classInfo, minProbability: TYPE_MIN_PROBABILITY } : null;
  };
  if (asked !== undefined) {
    const id = Number(asked);
    if (!Number.isInteger(id) || id <= 0) throw new ValidationError('The type classifier must be a run number.');
    const chosen = of(t.get(id));
    if (!chosen)
      throw new ValidationError(
        `Run ${id} cannot name defect types: choose a classifier (not an anomaly run) with a saved model and at least two defect types.`,
      );
    return chosen;
  }
  const active = t.getActive();
  const candidates = [
    ...(active ? [active] : []),
    ...t
      .list()
      .filter((r) => r.status === 'succeeded')
      .sort((a, b) => b.id - a.id),
  ];
  for (const r of candidates) {
    if (r.task === 'anomaly' || !r.hasModel) continue;
    const chosen = of(r);
    if (chosen) return chosen;
  }
  return null;
}
