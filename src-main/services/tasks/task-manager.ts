import { randomUUID } from 'node:crypto';
import type { TaskSnapshot, TaskWhat } from '../../shared/types.ts';
import { CancelledError, ConflictError, NotFoundError, ValidationError, serializeError } from '../../shared/errors.ts';
import type { EventBus } from '../events.ts';

/** What a long job sees: cancellation and progress reporting, nothing about transports. */
export interface TaskContext {
  readonly id: string;
  readonly signal: AbortSignal;
  progress(done: number, total?: number | null, unit?: string): void;
  update(patch: Pick<TaskSnapshot, 'epoch' | 'metrics' | 'message' | 'step'>): void;
  /** Throws CancelledError once the user cancelled; call between batches / files. */
  throwIfCancelled(): void;
  /** Whether the user paused the task (only tasks that registered {@link onPauseChange} can be paused). */
  readonly paused: boolean;
  /**
   * Makes the task pausable: `fn(true)` when the user pauses it, `fn(false)` when they resume it. The task
   * itself waits (e.g. between batches); cancelling still works while paused. Returns an unsubscribe.
   */
  onPauseChange(fn: (paused: boolean) => void): () => void;
}

export interface StartOptions {
  /** Tasks sharing a queue run one after another (e.g. all training runs); others run at once. */
  queue?: string;
  /** The title as data, for the UI's language. */
  what?: TaskWhat;
}

interface Entry {
  snap: TaskSnapshot;
  controller: AbortController;
  done: Promise<TaskSnapshot>;
  lastEmit: number;
  rateWindow: { t: number; done: number }[];
  pauseListeners: Set<(paused: boolean) => void>;
}

const EMIT_INTERVAL_MS = 100;
const KEEP_FINISHED = 50;

export class TaskManager {
  private tasks = new Map<string, Entry>();
  private queues = new Map<string, Promise<unknown>>();

  private readonly events: EventBus;

  constructor(events: EventBus) {
    this.events = events;
  }

  start<T>(kind: string, title: string, run: (ctx: TaskContext) => Promise<T>, opts: StartOptions = {}): TaskSnapshot {
    const id = randomUUID();
    const controller = new AbortController();
    const snap: TaskSnapshot = {
      id,
      kind,
      title,
      ...(opts.what ? { what: opts.what } : {}),
      state: 'queued',
      progress: { done: 0, total: null, rate: null, etaSeconds: null, unit: 'items' },
      createdAt: new Date().toISOString(),
    };
    const entry: Entry = { snap, controller, done: Promise.resolve(snap), lastEmit: 0, rateWindow: [], pauseListeners: new Set() };
    this.tasks.set(id, entry);
    this.prune();

    const ctx: TaskContext = {
      id,
      signal: controller.signal,
      progress: (done, total, unit) => {
        const now = Date.now();
        entry.rateWindow.push({ t: now, done });
        while (entry.rateWindow.length > 2 && now - entry.rateWindow[0]!.t > 5000) entry.rateWindow.shift();
        const first = entry.rateWindow[0]!;
        const dt = (now - first.t) / 1000;
        const rate = dt > 0.2 ? (done - first.done) / dt : snap.progress.rate;
        const t = total === undefined ? snap.progress.total : total;
        snap.progress = {
          done,
          total: t,
          rate,
          etaSeconds: rate && rate > 0 && t !== null ? Math.max(0, (t - done) / rate) : null,
          unit: unit ?? snap.progress.unit,
        };
        this.emit(entry);
      },
      update: (patch) => {
        Object.assign(snap, patch);
        this.emit(entry);
      },
      throwIfCancelled: () => {
        if (controller.signal.aborted) throw new CancelledError('Cancelled by the user');
      },
      get paused() {
        return snap.state === 'paused';
      },
      onPauseChange: (fn) => {
        entry.pauseListeners.add(fn);
        return () => entry.pauseListeners.delete(fn);
      },
    };

    const execute = async (): Promise<TaskSnapshot> => {
      if (controller.signal.aborted) {
        this.finish(entry, 'cancelled');
        return snap;
      }
      snap.state = 'running';
      snap.startedAt = new Date().toISOString();
      this.emit(entry, true);
      try {
        const result = await run(ctx);
        if (result !== undefined) snap.result = result;
        this.finish(entry, controller.signal.aborted ? 'cancelled' : 'succeeded');
      } catch (err) {
        if (controller.signal.aborted || (err instanceof Error && err.name === 'CancelledError')) {
          this.finish(entry, 'cancelled');
        } else {
          snap.error = serializeError(err);
          this.finish(entry, 'failed');
        }
      }
      return snap;
    };

    // Announce the queued task before it can start, so listeners always see the full sequence.
    this.emit(entry, true);
    const prev = (opts.queue && this.queues.get(opts.queue)) || Promise.resolve();
    entry.done = prev.then(execute, execute);
    if (opts.queue) this.queues.set(opts.queue, entry.done);
    return structuredClone(snap);
  }

  get(id: string): TaskSnapshot {
    const e = this.tasks.get(id);
    if (!e) throw new NotFoundError(`No task ${id}`);
    return structuredClone(e.snap);
  }

  list(): TaskSnapshot[] {
    return [...this.tasks.values()].map((e) => structuredClone(e.snap));
  }

  cancel(id: string): void {
    const e = this.tasks.get(id);
    if (!e) throw new NotFoundError(`No task ${id}`);
    e.controller.abort();
    if (e.snap.state === 'queued') this.finish(e, 'cancelled');
  }

  /** Pauses a running task that supports it (it waits at its next step); ValidationError otherwise. */
  pause(id: string): TaskSnapshot {
    return this.setPaused(id, true);
  }

  /** Resumes a paused task. */
  resume(id: string): TaskSnapshot {
    return this.setPaused(id, false);
  }

  private setPaused(id: string, paused: boolean): TaskSnapshot {
    const e = this.tasks.get(id);
    if (!e) throw new NotFoundError(`No task ${id}`);
    const { snap } = e;
    if (snap.state === (paused ? 'paused' : 'running')) return structuredClone(snap);
    if (!e.pauseListeners.size) throw new ValidationError(`"${snap.title}" cannot be paused; cancel it instead.`);
    if (snap.state !== (paused ? 'running' : 'paused') || e.controller.signal.aborted)
      throw new ConflictError(
        `"${snap.title}" is ${e.controller.signal.aborted ? 'being cancelled' : snap.state}: only a running task can be paused, and only a paused one resumed.`,
      );
    snap.state = paused ? 'paused' : 'running';
    // Paused time must not drag the rate down: the rate and time left are measured afresh after resuming.
    e.rateWindow = [];
    snap.progress = { ...snap.progress, rate: paused ? null : snap.progress.rate, etaSeconds: null };
    for (const fn of e.pauseListeners) fn(paused);
    this.emit(e, true);
    return structuredClone(snap);
  }

  /** Resolves with the final snapshot (succeeded, failed or cancelled). */
  async wait(id: string): Promise<TaskSnapshot> {
    const e = this.tasks.get(id);
    if (!e) throw new NotFoundError(`No task ${id}`);
    await e.done;
    return structuredClone(e.snap);
  }

  cancelAll(): void {
    for (const e of this.tasks.values())
      if (e.snap.state === 'running' || e.snap.state === 'paused' || e.snap.state === 'queued') e.controller.abort();
  }

  private finish(entry: Entry, state: TaskSnapshot['state']): void {
    if (entry.snap.finishedAt) return;
    entry.pauseListeners.clear();
    entry.snap.state = state;
    entry.snap.finishedAt = new Date().toISOString();
    entry.snap.progress = { ...entry.snap.progress, etaSeconds: null };
    this.emit(entry, true);
  }

  private emit(entry: Entry, force = false): void {
    const now = Date.now();
    // Progress can arrive thousands of times a second; the UI needs ~10 frames a second.
    if (!force && now - entry.lastEmit < EMIT_INTERVAL_MS) return;
    entry.lastEmit = now;
    this.events.emit('task', structuredClone(entry.snap));
  }

  private prune(): void {
    const finished = [...this.tasks.values()].filter((e) => e.snap.finishedAt);
    for (const e of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.tasks.delete(e.snap.id);
  }
}
