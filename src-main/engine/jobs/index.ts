/**
 * The engine's job types. Adding one: write jobs/<name>.ts exporting `defineJob<Params, Event, Result>()('<name>', run)`
 * and add it to this list; EngineClient.run('<name>', params, onEvent) is then typed end to end.
 */
import { estimateJob } from './estimate.ts';
import { predictJob } from './predict.ts';
import { trainJob } from './train.ts';
import { heatmapsJob } from './heatmaps.ts';
import { anomalyFitJob, anomalyScoreJob } from './anomaly.ts';

export const engineJobs = [trainJob, predictJob, estimateJob, heatmapsJob, anomalyFitJob, anomalyScoreJob] as const;

type AnyJob = (typeof engineJobs)[number];
export type EngineJobKind = AnyJob['kind'];
type JobOf<K extends EngineJobKind> = Extract<AnyJob, { kind: K }>;
export type JobParams<K extends EngineJobKind> = Parameters<JobOf<K>['run']>[0];
export type JobResult<K extends EngineJobKind> = Awaited<ReturnType<JobOf<K>['run']>>;
export type JobEvent<K extends EngineJobKind> = Parameters<Parameters<JobOf<K>['run']>[1]['emit']>[0];
