/**
 * The messages between the main side (EngineClient) and the engine process (src-main/engine/main.ts): one
 * discriminated union per direction. Job parameter / result / event types come from the TF-free job-types.ts,
 * which the engine's job table is checked against.
 */
import type { SerializedError } from '../../shared/errors.ts';
import type { BackendReport } from '../../shared/types.ts';
import type { EngineJobKind, JobEvent, JobParams, JobResult } from './job-types.ts';

/** Main → engine. */
export type ToEngine =
  | { type: 'start'; jobId: string; kind: EngineJobKind; params: unknown }
  | { type: 'cancel'; jobId: string }
  /** Pause / resume a job that supports it (training waits between batches). */
  | { type: 'pause'; jobId: string }
  | { type: 'resume'; jobId: string }
  /** Test hook: the engine exits at once with code 70. */
  | { type: 'crash' }
  | { type: 'shutdown' };

/** Engine → main. */
export type FromEngine =
  /** Sent once after start-up: which backends it chose and why. */
  | { type: 'ready'; pid: number; report: BackendReport; backends: { training: string; inference: string } }
  | { type: 'event'; jobId: string; event: unknown }
  | { type: 'result'; jobId: string; result: unknown }
  | { type: 'error'; jobId: string; error: SerializedError }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** Start-up failed (no backend could start); the engine exits after sending it. */
  | { type: 'fatal'; error: SerializedError };

/** Typed views of a start message / its replies for one job kind. */
export interface TypedStart<K extends EngineJobKind> {
  type: 'start';
  jobId: string;
  kind: K;
  params: JobParams<K>;
}
export interface TypedEvent<K extends EngineJobKind> {
  type: 'event';
  jobId: string;
  event: JobEvent<K>;
}
export interface TypedResult<K extends EngineJobKind> {
  type: 'result';
  jobId: string;
  result: JobResult<K>;
}
