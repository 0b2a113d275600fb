/**
 * What an engine job is. A job type is one file under jobs/ exporting `defineJob({...})`, listed in
 * jobs/index.ts; its params, events and result are plain (structured-clone-able) data, declared TF-free in
 * services/engine/job-types.ts for the main side.
 */
import type { BackendReport } from '../shared/types.ts';
import type { PauseGate } from './train/pause-gate.ts';

export interface EngineContext {
  /** Aborted when the main side cancels the job. */
  readonly signal: AbortSignal;
  throwIfCancelled(): void;
  /** Flipped by pause / resume messages; jobs that support pausing wait on it between steps. */
  readonly pause: PauseGate;
  /** Sends a progress event to the main side. */
  emit(event: unknown): void;
  /** tfjs backend names chosen at start-up (e.g. training 'cpu', inference 'wasm'). */
  readonly backends: { training: string; inference: string };
  readonly report: BackendReport;
  log(message: string): void;
}

export interface EngineJob<K extends string, P, E, R> {
  kind: K;
  run(params: P, ctx: EngineContext & { emit(event: E): void }): Promise<R>;
}

/** Declares a job with its types; `defineJob<Params, Event, Result>()('kind', run)` keeps the kind literal. */
export function defineJob<P, E, R>() {
  return <K extends string>(kind: K, run: EngineJob<K, P, E, R>['run']): EngineJob<K, P, E, R> => ({ kind, run });
}
