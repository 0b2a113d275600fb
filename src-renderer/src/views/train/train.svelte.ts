import type { CatalogStats, DefectType, SplitSettings } from '../../../../src-main/shared/catalog-types.ts';
import {
  DEFAULT_TRAIN_CONFIG,
  type BackboneId,
  type RunStatus,
  type RunSummary,
  type TrainConfig,
  type TrainingEstimate,
  type TrainingPhase,
} from '../../../../src-main/shared/training-types.ts';
import { api } from '../../lib/api.ts';
import { app } from '../../state/app.svelte.ts';
import { batchSeries, batchX, bestEpoch, epochSeries, overfitting } from '../runs/curves.ts';

export type PresetId = 'quick' | 'study' | 'continue';
export type WizardStep = 'data' | 'model' | 'training';
export type TrainMode = 'transfer' | 'finetune';

/** Blocks of a backbone: MobileNet v1 has 13 depthwise-separable blocks after conv1, v2 has 17 inverted residuals. */
export function blockCount(backbone: BackboneId): number {
  return backbone.startsWith('mobilenet_v2') ? 17 : 13;
}

export interface ClassRow {
  key: string;
  name: string;
  isOk: boolean;
  train: number;
  val: number;
  test: number;
  total: number;
}

/** A label (defect type) with images, as offered in the data step's label choice. */
export interface LabelChoice {
  key: string;
  name: string;
  isOk: boolean;
  total: number;
  included: boolean;
}

export type DataWarning =
  | { kind: 'fewImages'; cls: string; count: number; split: 'train' | 'val' }
  | { kind: 'unlabelled'; count: number }
  | { kind: 'imbalance'; ratio: number; big: string; small: string }
  | { kind: 'testNotLocked'; count: number }
  | { kind: 'noTest' }
  | { kind: 'noVal' }
  | { kind: 'oneClass' }
  | { kind: 'noOk' };

const MIN_TRAIN = 10;
const MIN_VAL = 3;
const IMBALANCE = 5;

/** The training wizard: configuration being edited, the catalog facts it needs, and the estimate. */
export class TrainWizard {
  step = $state<WizardStep>('data');
  preset = $state<PresetId | null>(null);
  config = $state<TrainConfig>(structuredClone({ ...DEFAULT_TRAIN_CONFIG, epochs: 30 }));
  mode = $state<TrainMode>('transfer');
  stats = $state<CatalogStats | null>(null);
  types = $state<DefectType[]>([]);
  splitSettings = $state<SplitSettings | null>(null);
  runs = $state<RunSummary[]>([]);
  estimate = $state<TrainingEstimate | null>(null);
  estimateError = $state<{ name: string; message: string } | null>(null);
  estimating = $state(false);
  loading = $state(false);
  starting = $state(false);
  /** Labels the user unticked in the data step (empty: every labelled class trains, the default). */
  excluded = $state<string[]>([]);
  private estimateSeq = 0;

  async load(): Promise<void> {
    this.loading = true;
    await app.guard(async () => {
      const [stats, types, split, runs] = await Promise.all([
        api.getCatalogStats(),
        api.listDefectTypes(),
        api.getSplitSettings(),
        api.listRuns(),
      ]);
      this.stats = stats;
      this.types = types;
      this.splitSettings = split;
      this.runs = runs;
    });
    this.loading = false;
  }

  /** Another project was opened: runs and counts of the old one no longer apply. */
  forgetProject(): void {
    this.config.continueFromRunId = null;
    if (this.preset === 'continue') this.preset = null;
    this.stats = null;
    this.runs = [];
    this.estimate = null;
    this.excluded = [];
  }

  /** Labels with images, each ticked unless the user left it out. */
  labelChoices(lang: 'en' | 'ja'): LabelChoice[] {
    const okKeys = this.types.filter((t) => t.isOk).map((t) => t.key);
    return (this.stats?.perLabel ?? [])
      .filter((p) => p.total > 0)
      .map((p) => ({
        key: p.key,
        name: lang === 'ja' ? p.nameJa || p.nameEn : p.nameEn,
        isOk: okKeys.includes(p.key),
        total: p.total,
        included: !this.excluded.includes(p.key),
      }));
  }

  setIncluded(key: string, included: boolean): void {
    const others = this.excluded.filter((k) => k !== key);
    this.excluded = included ? others : [...others, key];
  }

  /** Rows per class for the chosen task (binary: OK vs every defect type together). */
  classRows(lang: 'en' | 'ja'): ClassRow[] {
    const s = this.stats;
    if (!s) return [];
    const okKeys = this.types.filter((t) => t.isOk).map((t) => t.key);
    const rows = s.perLabel
      .filter((p) => !this.excluded.includes(p.key))
      .map((p) => ({
        key: p.key,
        name: lang === 'ja' ? p.nameJa || p.nameEn : p.nameEn,
        isOk: okKeys.includes(p.key),
        train: p.train,
        val: p.val,
        test: p.test,
        total: p.total,
      }));
    const split = this.config.split;
    const apply = (r: ClassRow): ClassRow => {
      if (split.mode !== 'random') return r;
      const test = Math.round(r.total * split.testFraction);
      const val = Math.round(r.total * split.valFraction);
      return { ...r, test, val, train: r.total - val - test };
    };
    if (this.config.task === 'multiclass') return rows.filter((r) => r.total > 0).map(apply);
    const sum = (rs: ClassRow[], key: string, name: string, isOk: boolean): ClassRow => ({
      key,
      name,
      isOk,
      train: rs.reduce((a, r) => a + r.train, 0),
      val: rs.reduce((a, r) => a + r.val, 0),
      test: rs.reduce((a, r) => a + r.test, 0),
      total: rs.reduce((a, r) => a + r.total, 0),
    });
    return [
      apply(
        sum(
          rows.filter((r) => r.isOk),
          'ok',
          'OK',
          true,
        ),
      ),
      apply(
        sum(
          rows.filter((r) => !r.isOk),
          'defect',
          'NG',
          false,
        ),
      ),
    ];
  }

  warnings(rows: ClassRow[]): DataWarning[] {
    const w: DataWarning[] = [];
    const s = this.stats;
    if (!s) return w;
    const nonEmpty = rows.filter((r) => r.total > 0);
    if (nonEmpty.length < 2) w.push({ kind: 'oneClass' });
    if (this.config.task === 'binary' && !rows.some((r) => r.isOk && r.total > 0)) w.push({ kind: 'noOk' });
    for (const r of nonEmpty) {
      if (r.train < MIN_TRAIN) w.push({ kind: 'fewImages', cls: r.name, count: r.train, split: 'train' });
      else if (r.val < MIN_VAL) w.push({ kind: 'fewImages', cls: r.name, count: r.val, split: 'val' });
    }
    if (s.unlabelled > 0) w.push({ kind: 'unlabelled', count: s.unlabelled });
    if (nonEmpty.length >= 2) {
      const big = nonEmpty.reduce((a, b) => (b.total > a.total ? b : a));
      const small = nonEmpty.reduce((a, b) => (b.total < a.total ? b : a));
      const ratio = big.total / Math.max(1, small.total);
      if (ratio >= IMBALANCE) w.push({ kind: 'imbalance', ratio, big: big.name, small: small.name });
    }
    if (rows.reduce((a, r) => a + r.val, 0) === 0 && this.config.split.mode === 'catalog') w.push({ kind: 'noVal' });
    const test = rows.reduce((a, r) => a + r.test, 0);
    if (this.config.split.mode === 'catalog') {
      if (test === 0) w.push({ kind: 'noTest' });
      else if (this.splitSettings && !this.splitSettings.testLocked) w.push({ kind: 'testNotLocked', count: test });
    }
    return w;
  }

  /** Blocking problems (training cannot start). */
  blocking(rows: ClassRow[]): boolean {
    return rows.filter((r) => r.train > 0).length < 2;
  }

  applyPreset(id: PresetId, from?: RunSummary): void {
    this.preset = id;
    const c = this.config;
    if (id === 'quick') {
      Object.assign(c, { inputSize: 224, epochs: 30, learningRate: 2e-4, fineTuneBlocks: 0, fineTuneEpochs: 0, patience: 8 });
      c.continueFromRunId = null;
      this.mode = 'transfer';
    } else if (id === 'study') {
      // method.md: 520x520 input; transfer learning, then fine-tuning the last 6 of 13 blocks; Adam 2e-4.
      Object.assign(c, {
        inputSize: 520,
        epochs: 100,
        learningRate: 2e-4,
        fineTuneBlocks: 6,
        fineTuneEpochs: 60,
        fineTuneLearningRate: 2e-4,
        patience: 20,
      });
      c.augmentation = { ...c.augmentation, mode: 'fixed' };
      c.continueFromRunId = null;
      this.mode = 'finetune';
    } else if (id === 'continue' && from) {
      c.continueFromRunId = from.id;
      c.backbone = from.backbone;
      c.inputSize = from.inputSize;
      c.task = from.task;
      c.epochs = 0;
      c.fineTuneBlocks = Math.max(c.fineTuneBlocks, 3);
      c.fineTuneEpochs = Math.max(c.fineTuneEpochs, 20);
      c.fineTuneLearningRate = 2e-5;
      this.mode = 'finetune';
    }
  }

  /** The configuration sent to startTraining / estimateTraining. */
  payload(): TrainConfig {
    const c = $state.snapshot(this.config) as TrainConfig;
    if (this.mode === 'transfer') {
      c.fineTuneBlocks = 0;
      c.fineTuneEpochs = 0;
    } else {
      c.fineTuneBlocks = Math.min(Math.max(1, c.fineTuneBlocks), blockCount(c.backbone));
      c.fineTuneEpochs = Math.max(1, c.fineTuneEpochs);
    }
    if (!c.name.trim()) c.name = defaultRunName(c, this.mode);
    const chosen = this.labelChoices('en').filter((l) => l.included);
    if (this.excluded.length && chosen.length) c.labels = chosen.map((l) => l.key);
    else delete c.labels;
    return c;
  }

  /** Asks the engine for a memory / time estimate of the current configuration (latest request wins). */
  async refreshEstimate(): Promise<void> {
    const seq = ++this.estimateSeq;
    this.estimating = true;
    this.estimateError = null;
    try {
      const e = await api.estimateTraining(this.payload());
      if (seq === this.estimateSeq) this.estimate = e;
    } catch (err) {
      if (seq === this.estimateSeq) {
        this.estimate = null;
        this.estimateError = { name: (err as Error).name, message: (err as Error).message };
      }
    } finally {
      if (seq === this.estimateSeq) this.estimating = false;
    }
  }

  async start(): Promise<boolean> {
    this.starting = true;
    const snap = await app.guard(() => api.startTraining(this.payload()));
    this.starting = false;
    if (!snap) return false;
    app.tasks = { ...app.tasks, [snap.id]: snap };
    // Show the new run unless another one is still training (it is then queued and followed next).
    if (!live.active) live.watch(snap.runId, snap.id);
    return true;
  }
}

function defaultRunName(c: TrainConfig, mode: TrainMode): string {
  const bb = c.backbone.replace('mobilenet_', 'MobileNet ').replace('_', ' ');
  const stamp = new Date().toLocaleString(undefined, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  return `${bb} ${c.inputSize}px ${mode === 'finetune' ? `FT${c.fineTuneBlocks}` : 'TL'} · ${stamp}`;
}

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
  bx = $state.raw<number[]>([]);
  bLoss = $state.raw<number[]>([]);
  /** Training speed from the batch events: batches per second over the last few seconds. */
  batchRate = $state<number | null>(null);
  private rateWindow: { t: number; n: number }[] = [];
  private loadingHistory = false;
  private pending: (() => void)[] = [];
  private started = false;

  best = $derived(bestEpoch(this.x, this.valLoss));
  overfit = $derived(overfitting(this.loss, this.valLoss));
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
        this.bx = b.x;
        this.bLoss = b.y as number[];
        const last = run.epochs[run.epochs.length - 1];
        if (last) {
          this.phase = last.phase;
          this.epoch = last.epoch;
          this.globalEpoch = last.globalEpoch;
        }
        this.totalEpochs = run.config.epochs + run.config.fineTuneEpochs;
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
export const wizard = new TrainWizard();
