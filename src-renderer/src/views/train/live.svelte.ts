import { pickLocalisation, type EpochLoc } from '../../components/guide-localisation.svelte';
import type { RunStatus, TrainingPhase } from '../../../../src-main/shared/training-types.ts';
import { api } from '../../lib/api.ts';
import { app } from '../../state/app.svelte.ts';
import { batchSeries, batchX, bestEpoch, epochSeries } from '../runs/curves.ts';
import { overfitTrend } from './panel.ts';

/**
 * The run being watched live. A module-level singleton: it keeps listening while the user works in
 * other screens, so coming back shows the curves up to now without reloading.
 */
class LiveTraining {
  runId = $state<number | null>(null);
  taskId = $state<string | null>(null);
  name = $state('');
  status = $state<RunStatus | null>(null);
  phase = $state<TrainingPhase>('transfer');
  epoch = $state(0);
  globalEpoch = $state(0);
  totalEpochs = $state(0);
  batch = $state(0);
  batches = $state(0);
  batchSize = $state(0);
  /** Per-epoch series (raw: replaced, never mutated deeply). */
  x = $state.raw<number[]>([]);
  loss = $state.raw<number[]>([]);
  valLoss = $state.raw<(number | null)[]>([]);
  acc = $state.raw<number[]>([]);
  valAcc = $state.raw<(number | null)[]>([]);
  /** Phase of each epoch in `x` (where phase 2 starts on the curves), and its number within the phase. */
  phases = $state.raw<TrainingPhase[]>([]);
  private phaseEpochs: number[] = [];
  /** Phase 1 epochs the run is configured with. */
  transferEpochs = $state(0);
  /** Per-epoch CAM localisation on validation images with regions (null: none measured). */
  loc = $state.raw<(EpochLoc | null)[]>([]);
  bx = $state.raw<number[]>([]);
  bLoss = $state.raw<number[]>([]);
  /** Training speed from the batch events: batches per second over the last few seconds. */
  batchRate = $state<number | null>(null);
  private rateWindow: { t: number; n: number }[] = [];
  private loadingHistory = false;
  private pending: (() => void)[] = [];
  private started = false;

  best = $derived(bestEpoch(this.x, this.valLoss));
  overfit = $derived(overfitTrend(this.loss, this.valLoss));
  task = $derived(this.taskId ? (app.tasks[this.taskId] ?? null) : null);
  active = $derived(this.task ? ['running', 'paused', 'queued'].includes(this.task.state) : false);
  paused = $derived(this.task?.state === 'paused');

  /** Subscribes once (idempotent). */
  init(): void {
    if (this.started) return;
    this.started = true;
    api.subscribe('trainingEpoch', (e) => {
      if (!this.follow(e.runId, e.taskId)) return;
      const apply = (): void => {
        if (this.x.length && this.x[this.x.length - 1]! >= e.globalEpoch) return;
        this.phase = e.phase;
        this.epoch = e.epoch;
        this.globalEpoch = e.globalEpoch;
        this.totalEpochs = e.totalEpochs;
        this.x = [...this.x, e.globalEpoch];
        this.loss = [...this.loss, e.metrics.loss];
        this.valLoss = [...this.valLoss, e.metrics.valLoss];
        this.acc = [...this.acc, e.metrics.accuracy];
        this.valAcc = [...this.valAcc, e.metrics.valAccuracy];
        this.phases = [...this.phases, e.phase];
        this.phaseEpochs = [...this.phaseEpochs, e.epoch];
        void this.refillBatches(e.runId);
        this.loc = [...this.loc, pickLocalisation(e.metrics)];
      };
      if (this.loadingHistory) this.pending.push(apply);
      else apply();
    });
    api.subscribe('trainingBatch', (b) => {
      if (!this.follow(b.runId, b.taskId)) return;
      const apply = (): void => {
        const g = this.globalEpoch + (b.epoch !== this.epoch || b.phase !== this.phase ? 1 : 0);
        const x = batchX(Math.max(1, g), b.batch, b.batches);
        if (this.bx.length && this.bx[this.bx.length - 1]! >= x) return;
        this.batch = b.batch;
        this.batches = b.batches;
        this.measure(g * b.batches + b.batch);
        this.bx = [...this.bx, x];
        this.bLoss = [...this.bLoss, b.loss];
      };
      if (this.loadingHistory) this.pending.push(apply);
      else apply();
    });
    api.subscribe('trainingRun', (r) => {
      if (r.runId === this.runId && r.status !== 'deleted') this.status = r.status;
    });
    api.subscribe('project', () => this.clear());
  }

  /** Whether an event of this run should be shown: the watched run, or a new one once the watched one ended. */
  private follow(runId: number, taskId: string): boolean {
    if (runId === this.runId) return true;
    if (this.runId !== null && this.active) return false;
    this.watch(runId, taskId);
    return true;
  }

  /**
   * Batch events are thinned out on their way here (fast head-only epochs send a few); once an epoch is stored,
   * its every batch loss is read back, so the live line matches the report's instead of skipping across epochs.
   */
  private async refillBatches(runId: number): Promise<void> {
    try {
      const records = await api.getRunBatchLosses(runId);
      if (this.runId !== runId) return;
      const epochs = this.x.map((g, i) => ({ phase: this.phases[i]!, epoch: this.phaseEpochs[i]!, globalEpoch: g }));
      const stored = batchSeries(records, epochs);
      const last = stored.x[stored.x.length - 1] ?? -Infinity;
      const from = this.bx.findIndex((v) => v > last);
      const tail = from < 0 ? 0 : this.bx.length - from;
      this.bx = [...stored.x, ...this.bx.slice(this.bx.length - tail)];
      this.bLoss = [...(stored.y as number[]), ...this.bLoss.slice(this.bLoss.length - tail)];
    } catch {
      // The live line keeps the batches it has; the report reads them all.
    }
  }

  private measure(n: number): void {
    const now = performance.now();
    this.rateWindow.push({ t: now, n });
    while (this.rateWindow.length > 2 && now - this.rateWindow[0]!.t > 5000) this.rateWindow.shift();
    const first = this.rateWindow[0]!;
    const dt = (now - first.t) / 1000;
    if (dt > 0.3 && n > first.n) this.batchRate = (n - first.n) / dt;
  }

  clear(): void {
    this.runId = null;
    this.taskId = null;
    this.name = '';
    this.status = null;
    this.reset();
  }

  private reset(): void {
    this.x = [];
    this.loss = [];
    this.valLoss = [];
    this.acc = [];
    this.valAcc = [];
    this.phases = [];
    this.phaseEpochs = [];
    this.loc = [];
    this.bx = [];
    this.bLoss = [];
    this.epoch = 0;
    this.globalEpoch = 0;
    this.batch = 0;
    this.batches = 0;
    this.batchRate = null;
    this.rateWindow = [];
  }

  /** Shows a run: its curves so far from the catalog, then live events. */
  watch(runId: number, taskId: string | null): void {
    if (this.runId === runId) {
      if (taskId) this.taskId = taskId;
      return;
    }
    this.runId = runId;
    this.taskId = taskId;
    // Nothing of the previous run (its name, phase, length) is shown for this one.
    this.name = '';
    this.status = null;
    this.phase = 'transfer';
    this.totalEpochs = 0;
    this.transferEpochs = 0;
    this.reset();
    this.loadingHistory = true;
    this.pending = [];
    void (async () => {
      try {
        const [run, batches] = await Promise.all([api.getRun(runId), api.getRunBatchLosses(runId)]);
        if (this.runId !== runId) return;
        this.name = run.name;
        this.status = run.status;
        if (!this.taskId && run.taskId) this.taskId = run.taskId;
        const s = epochSeries(run.epochs);
        const b = batchSeries(batches, run.epochs);
        this.x = s.x;
        this.loss = s.loss;
        this.valLoss = s.valLoss;
        this.acc = s.acc;
        this.valAcc = s.valAcc;
        this.phases = run.epochs.map((e) => e.phase);
        this.phaseEpochs = run.epochs.map((e) => e.epoch);
        this.loc = run.epochs.map(pickLocalisation);
        this.bx = b.x;
        this.bLoss = b.y as number[];
        const last = run.epochs[run.epochs.length - 1];
        if (last) {
          this.phase = last.phase;
          this.epoch = last.epoch;
          this.globalEpoch = last.globalEpoch;
        }
        this.totalEpochs = run.config.epochs + run.config.fineTuneEpochs;
        this.transferEpochs = run.config.epochs;
        this.batchSize = run.config.batchSize;
      } catch (err) {
        app.showError(err);
      } finally {
        if (this.runId === runId) {
          this.loadingHistory = false;
          for (const f of this.pending.splice(0)) f();
        }
      }
    })();
  }

  async pause(): Promise<void> {
    if (this.taskId) await app.guard(() => api.pauseTask(this.taskId!));
  }

  async resume(): Promise<void> {
    // Speed and time left are measured afresh: the pause must not count as slow training.
    this.rateWindow = [];
    this.batchRate = null;
    if (this.taskId) await app.guard(() => api.resumeTask(this.taskId!));
  }

  async cancel(): Promise<void> {
    if (this.taskId) await app.guard(() => api.cancelTask(this.taskId!));
  }
}

export const live = new LiveTraining();
