/**
 * The engine's job list. Adding one: its params / event / result types in services/engine/job-types.ts (`EngineJobs`,
 * TF-free, what the main side sees), then jobs/<name>.ts exporting `defineJob<Params, Event, Result>()('<name>', run)`
 * and its entry here; EngineClient.run('<name>', params, onEvent) is then typed end to end.
 */
import type { EngineJobKind, JobEvent, JobParams, JobResult } from '../../services/engine/job-types.ts';
import type { EngineJob } from '../job.ts';
import { estimateJob } from './estimate.ts';
import { predictJob } from './predict.ts';
import { trainJob } from './train.ts';
import { heatmapsJob } from './heatmaps.ts';
import { anomalyFitJob, anomalyScoreJob } from './anomaly.ts';

/** One job per kind, each checked against its declared wire types (a job and `EngineJobs` cannot drift apart). */
const byKind: { [K in EngineJobKind]: EngineJob<K, JobParams<K>, JobEvent<K>, JobResult<K>> } = {
  train: trainJob,
  predict: predictJob,
  estimate: estimateJob,
  heatmaps: heatmapsJob,
  'anomaly-fit': anomalyFitJob,
  'anomaly-score': anomalyScoreJob,
};

export const engineJobs = Object.values(byKind);
