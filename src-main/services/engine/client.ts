/**
 * Main side of the engine: starts the engine process lazily, supervises it, runs typed jobs with
 * progress events and cancellation, and turns a crash into EngineCrashedError for the jobs it was
 * running. The next job starts a fresh engine. Never imports TensorFlow.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { BackendUnavailableError, CancelledError, EngineCrashedError, deserializeError } from '../../shared/errors.ts';
import type { BackendReport } from '../../shared/types.ts';
import type { EngineJobKind, JobEvent, JobParams, JobResult } from './job-types.ts';
import type { FromEngine, ToEngine } from './protocol.ts';

/** The part of a child process the client uses (Node ChildProcess adapter, Electron UtilityProcess). */
export interface ChildLike {
  postMessage(msg: unknown): void;
  on(event: 'message', fn: (msg: unknown) => void): void;
  on(event: 'exit', fn: (code: number | null, signal?: string | null) => void): void;
  kill(): void;
  readonly pid?: number | undefined;
}

/** Starts the engine entry script. Electron passes one built on utilityProcess.fork. */
export type EngineLauncher = (entryPath: string, opts: { env: NodeJS.ProcessEnv }) => ChildLike;

/** Path of the engine entry; overridden in the Electron build where sources are bundled. */
export const engineEntry = { path: fileURLToPath(new URL('../../engine/main.ts', import.meta.url)) };

/** Default launcher: child_process.fork of the .ts entry (Node 22 strips types). */
export const forkLauncher: EngineLauncher = (entryPath, opts) => {
  const child = fork(entryPath, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', env: opts.env });
  let stderr = '';
  // The engine's stdout (tfjs banners) must not mix into the host's output (CLI --json): kept as diagnostics.
  child.stdout?.on('data', (d: Buffer) => {
    if (process.env.KENSA_ENGINE_DEBUG) process.stderr.write(d);
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
    if (process.env.KENSA_ENGINE_DEBUG) process.stderr.write(d);
  });
  return {
    get pid() {
      return child.pid;
    },
    postMessage: (msg) => {
      if (child.connected) child.send(msg as object);
    },
    on: ((event: 'message' | 'exit', fn: (...a: unknown[]) => void) => {
      if (event === 'exit') child.on('exit', (code, signal) => fn(code, signal, stderr));
      else child.on('message', fn);
    }) as ChildLike['on'],
    kill: () => child.kill('SIGKILL'),
  };
};

/** Where pause requests for a job come from (a TaskContext fits). */
export interface PauseSource {
  readonly paused: boolean;
  onPauseChange(fn: (paused: boolean) => void): () => void;
}

export interface RunOptions<K extends EngineJobKind> {
  onEvent?: (e: JobEvent<K>) => void;
  signal?: AbortSignal;
  /** Forwards pause / resume to the job (only jobs that wait on their pause gate react). */
  pause?: PauseSource;
}

interface Pending {
  kind: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  onEvent?: ((e: never) => void) | undefined;
  cancelled: boolean;
}

interface EngineProcess {
  child: ChildLike;
  ready: Promise<{ report: BackendReport; backends: { training: string; inference: string } }>;
  exited: boolean;
}

export interface EngineClientOptions {
  launcher?: EngineLauncher;
  entryPath?: string;
  /** Extra environment for the engine (tests: KENSA_ENGINE_CRASH_AT_EPOCH). */
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

export class EngineClient {
  private proc: EngineProcess | null = null;
  private pending = new Map<string, Pending>();
  private readonly opts: EngineClientOptions;
  private lastReport: BackendReport | null = null;
  private reportListeners: ((r: BackendReport) => void)[] = [];
  /** How many times an engine process was started (for tests and diagnostics). */
  starts = 0;
  crashes = 0;

  constructor(opts: EngineClientOptions = {}) {
    this.opts = opts;
  }

  /** Backend report of the running (or last) engine; null before it first started. */
  get report(): BackendReport | null {
    return this.lastReport;
  }

  get running(): boolean {
    return !!this.proc && !this.proc.exited;
  }

  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  onReport(fn: (r: BackendReport) => void): void {
    this.reportListeners.push(fn);
  }

  /** Starts the engine if needed and waits for its backend report. */
  async ensureStarted(): Promise<{ report: BackendReport; backends: { training: string; inference: string } }> {
    if (!this.proc || this.proc.exited) this.proc = this.spawn();
    return this.proc.ready;
  }

  private spawn(): EngineProcess {
    const launcher = this.opts.launcher ?? forkLauncher;
    const env = { ...process.env, ...this.opts.env };
    // The crash hook fires once: a restarted engine must be able to run the next job.
    if (this.crashes > 0) delete env.KENSA_ENGINE_CRASH_AT_EPOCH;
    const child = launcher(this.opts.entryPath ?? engineEntry.path, { env });
    this.starts++;
    let resolveReady!: (v: { report: BackendReport; backends: { training: string; inference: string } }) => void;
    let rejectReady!: (e: Error) => void;
    const ready = new Promise<{ report: BackendReport; backends: { training: string; inference: string } }>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    ready.catch(() => undefined);
    const proc: EngineProcess = { child, ready, exited: false };
    const timer = setTimeout(() => {
      rejectReady(new BackendUnavailableError('The training engine did not start in time.'));
      child.kill();
    }, this.opts.startTimeoutMs ?? 120_000);
    child.on('message', (raw) => {
      const msg = raw as FromEngine;
      switch (msg.type) {
        case 'ready':
          clearTimeout(timer);
          this.lastReport = msg.report;
          for (const l of this.reportListeners) l(msg.report);
          resolveReady({ report: msg.report, backends: msg.backends });
          break;
        case 'fatal':
          clearTimeout(timer);
          rejectReady(deserializeError(msg.error));
          break;
        case 'event': {
          const p = this.pending.get(msg.jobId);
          p?.onEvent?.(msg.event as never);
          break;
        }
        case 'result': {
          const p = this.pending.get(msg.jobId);
          this.pending.delete(msg.jobId);
          p?.resolve(msg.result);
          break;
        }
        case 'error': {
          const p = this.pending.get(msg.jobId);
          this.pending.delete(msg.jobId);
          p?.reject(deserializeError(msg.error));
          break;
        }
        case 'log':
          if (process.env.KENSA_ENGINE_DEBUG) process.stderr.write(`[engine] ${msg.message}\n`);
          break;
      }
    });
    child.on('exit', (code, signal, ...rest: unknown[]) => {
      clearTimeout(timer);
      proc.exited = true;
      if (this.proc === proc) this.proc = null;
      const stderr = typeof rest[0] === 'string' ? rest[0].trim().split('\n').slice(-3).join(' ') : '';
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      rejectReady(new BackendUnavailableError(`The training engine stopped while starting (${how}). ${stderr}`.trim()));
      if (this.pending.size) this.crashes++;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(
          new EngineCrashedError(
            `The training engine stopped unexpectedly (${how}) while running "${p.kind}". The catalog is safe; the engine restarts with the next job. ` +
              'If it keeps happening, try a smaller input size or batch size (memory).',
            { code, signal: signal ?? null },
          ),
        );
      }
    });
    return proc;
  }

  /** Runs one job; rejects with the job's error, CancelledError, or EngineCrashedError. */
  async run<K extends EngineJobKind>(kind: K, params: JobParams<K>, opts: RunOptions<K> = {}): Promise<JobResult<K>> {
    if (opts.signal?.aborted) throw new CancelledError('Cancelled by the user');
    await this.ensureStarted();
    const proc = this.proc!;
    const jobId = randomUUID();
    return new Promise<JobResult<K>>((resolve, reject) => {
      const pending: Pending = {
        kind,
        resolve: resolve as (v: unknown) => void,
        reject,
        onEvent: opts.onEvent as ((e: never) => void) | undefined,
        cancelled: false,
      };
      this.pending.set(jobId, pending);
      const onAbort = () => {
        pending.cancelled = true;
        proc.child.postMessage({ type: 'cancel', jobId } satisfies ToEngine);
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const offPause = opts.pause?.onPauseChange((paused) =>
        proc.child.postMessage({ type: paused ? 'pause' : 'resume', jobId } satisfies ToEngine),
      );
      const cleanup = () => {
        opts.signal?.removeEventListener('abort', onAbort);
        offPause?.();
      };
      pending.resolve = (v) => {
        cleanup();
        (resolve as (v: unknown) => void)(v);
      };
      pending.reject = (e) => {
        cleanup();
        reject(e);
      };
      proc.child.postMessage({ type: 'start', jobId, kind, params } satisfies ToEngine);
      if (opts.pause?.paused) proc.child.postMessage({ type: 'pause', jobId } satisfies ToEngine);
    });
  }

  /** Test hook: makes the engine exit at once. */
  async crash(): Promise<void> {
    if (!this.proc || this.proc.exited) return;
    const exited = new Promise<void>((r) => this.proc!.child.on('exit', () => r()));
    this.proc.child.postMessage({ type: 'crash' } satisfies ToEngine);
    await exited;
  }

  /** Stops the engine (jobs in flight fail with EngineCrashedError unless they finish first). */
  async dispose(): Promise<void> {
    const p = this.proc;
    if (!p || p.exited) return;
    const exited = new Promise<void>((r) => p.child.on('exit', () => r()));
    for (const [id, pend] of this.pending) {
      this.pending.delete(id);
      pend.reject(new CancelledError('The engine was shut down'));
    }
    p.child.postMessage({ type: 'shutdown' } satisfies ToEngine);
    const t = setTimeout(() => p.child.kill(), 2000);
    await exited;
    clearTimeout(t);
  }
}
