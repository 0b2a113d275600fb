/**
 * The ML engine as a service of its own: owns the one EngineClient of the app (the process starts with the first job,
 * a crash fails the jobs in flight and the next job starts a fresh one, dispose stops it) and answers which
 * TensorFlow backend runs. Training, sweeps, heatmaps, anomaly runs and Inspect are given this service by the
 * composition root (services.ts); none of them owns the engine. Never imports TensorFlow.
 */
import type { BackendReport } from '../../shared/types.ts';
import type { EngineJobKind, JobParams, JobResult } from './job-types.ts';
import type { EventBus } from '../events.ts';
import { probeBackendsInChild } from './probe-child.ts';
import { EngineClient, type EngineLauncher, type RunOptions } from './client.ts';

export interface EngineServiceOptions {
  events: EventBus;
  /** How the engine process starts (Electron: utilityProcess); default child_process.fork of the .ts entry. */
  launcher?: EngineLauncher | undefined;
  /** Extra environment for the engine process (tests: KENSA_ENGINE_CRASH_AT_EPOCH). */
  env?: NodeJS.ProcessEnv | undefined;
}

type Ready = Awaited<ReturnType<EngineClient['ensureStarted']>>;

export class EngineService {
  private readonly client: EngineClient;
  private readonly events: EventBus;
  private probed: Promise<BackendReport> | null = null;

  constructor(opts: EngineServiceOptions) {
    this.events = opts.events;
    this.client = new EngineClient({
      ...(opts.launcher ? { launcher: opts.launcher } : {}),
      ...(opts.env ? { env: opts.env } : {}),
    });
    this.client.onReport((r) => this.events.emit('backend', r));
  }

  /** Starts the engine if it is not running and waits for the backends it chose. */
  ensureStarted(): Promise<Ready> {
    return this.client.ensureStarted();
  }

  /** Runs one job in the engine; rejects with the job's error, CancelledError or EngineCrashedError. */
  run<K extends EngineJobKind>(kind: K, params: JobParams<K>, opts: RunOptions<K> = {}): Promise<JobResult<K>> {
    return this.client.run(kind, params, opts);
  }

  /**
   * Which TensorFlow backend runs. Once the engine has started, the backend it actually chose is the truth; before
   * that (or on refresh) a probe answers from a short-lived child process: loading native TensorFlow in the process
   * that owns the catalog would put the catalog at the mercy of a crash in it.
   */
  backendReport(refresh = false): Promise<BackendReport> {
    const live = this.client.report;
    if (live && !refresh) return Promise.resolve(live);
    if (!this.probed || refresh) {
      const probe = probeBackendsInChild().then((r) => {
        this.events.emit('backend', r);
        return r;
      });
      this.probed = probe;
      probe.catch(() => {
        if (this.probed === probe) this.probed = null;
      });
    }
    return this.probed;
  }

  /** How many engine processes were started, and how many ended while running a job (diagnostics, tests). */
  get starts(): number {
    return this.client.starts;
  }

  get crashes(): number {
    return this.client.crashes;
  }

  /**
   * Makes the engine process exit at once, as a native crash would. In-process only (tests): no transport reaches it,
   * so neither the app's window nor the browser-mode server can stop the engine this way.
   */
  crashForTest(): Promise<void> {
    return this.client.crash();
  }

  /** Stops the engine process (jobs still in flight are cancelled). */
  dispose(): Promise<void> {
    return this.client.dispose();
  }
}
