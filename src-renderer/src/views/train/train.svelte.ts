import { pickLocalisation, type EpochLoc } from '../../components/guide-localisation.svelte';
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
import { presetConfig, type TrainPresetId } from '../../../../src-main/shared/training-presets.ts';
import { api } from '../../lib/api.ts';
import { app } from '../../state/app.svelte.ts';
import { batchSeries, batchX, bestEpoch, epochSeries } from '../runs/curves.ts';
import { overfitTrend, runName } from './panel.ts';

export type PresetId = TrainPresetId | 'continue';
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
  | { kind: 'noOk' }
  | { kind: 'aspectDiffers'; narrow: string; narrowAspect: number; wide: string; wideAspect: number };

const MIN_TRAIN = 10;
const MIN_VAL = 3;
const IMBALANCE = 5;
/** Mean photo aspects of two classes this far apart (ratio) make squashing hand the model a cue: offer letterbox. */
const ASPECT_SPREAD = 1.1;

/** The training wizard: configuration being edited, the catalog facts it needs, and the estimate. */
export class TrainWizard {
  step = $state<WizardStep>('data');
  preset = $state<PresetId | null>(null);
  config = $state<TrainConfig>(structuredClone(DEFAULT_TRAIN_CONFIG));
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

  warnings(rows: ClassRow[], lang: 'en' | 'ja' = 'en'): DataWarning[] {
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
    const aspect = this.aspectSpread(lang);
    if (aspect) w.push(aspect);
    if (rows.reduce((a, r) => a + r.val, 0) === 0 && this.config.split.mode === 'catalog') w.push({ kind: 'noVal' });
    const test = rows.reduce((a, r) => a + r.test, 0);
    if (this.config.split.mode === 'catalog') {
      if (test === 0) w.push({ kind: 'noTest' });
      else if (this.splitSettings && !this.splitSettings.testLocked) w.push({ kind: 'testNotLocked', count: test });
    }
    return w;
  }

  /**
   * The two included labels whose photos differ most in mean aspect (width / height), when they differ by
   * ASPECT_SPREAD or more: squashed square, the shape alone tells the classes apart. Null otherwise.
   */
  aspectSpread(lang: 'en' | 'ja'): Extract<DataWarning, { kind: 'aspectDiffers' }> | null {
    const s = this.stats;
    if (!s || this.config.task === 'anomaly') return null;
    const withAspect = s.perLabel.filter((p) => !this.excluded.includes(p.key) && p.total > 0 && p.aspect && p.aspect > 0);
    if (withAspect.length < 2) return null;
    const narrow = withAspect.reduce((a, b) => (b.aspect! < a.aspect! ? b : a));
    const wide = withAspect.reduce((a, b) => (b.aspect! > a.aspect! ? b : a));
    if (wide.aspect! / narrow.aspect! < ASPECT_SPREAD) return null;
    const name = (p: (typeof withAspect)[number]) => (lang === 'ja' ? p.nameJa || p.nameEn : p.nameEn);
    return { kind: 'aspectDiffers', narrow: name(narrow), narrowAspect: narrow.aspect!, wide: name(wide), wideAspect: wide.aspect! };
  }

  /** Blocking problems (training cannot start). */
  blocking(rows: ClassRow[]): boolean {
    return rows.filter((r) => r.train > 0).length < 2;
  }

  applyPreset(id: PresetId, from?: RunSummary): void {
    this.preset = id;
    const c = this.config;
    if (id === 'continue') {
      if (!from) return;
      c.continueFromRunId = from.id;
      c.backbone = from.backbone;
      c.inputSize = from.inputSize;
      c.task = from.task;
      c.epochs = 0;
      c.fineTuneBlocks = Math.max(c.fineTuneBlocks, 3);
      c.fineTuneEpochs = Math.max(c.fineTuneEpochs, 20);
      c.fineTuneLearningRate = 2e-5;
      this.mode = 'finetune';
      return;
    }
    // The presets the CLI uses too (src-main/shared/training-presets.ts), for this machine's training backend.
    const p = presetConfig(id, app.backend?.training);
    const { augmentation, ...rest } = p;
    Object.assign(c, rest);
    if (augmentation) c.augmentation = { ...c.augmentation, ...augmentation };
    this.mode = (p.fineTuneEpochs ?? 0) > 0 ? 'finetune' : 'transfer';
  }

  /**
   * Switches between transfer learning only and transfer + fine-tuning. Choosing fine-tuning fills in the study's
   * values (the last 6 blocks, the Study preset's epochs) where the configuration has none yet.
   */
  setMode(mode: TrainMode): void {
    this.mode = mode;
    if (mode !== 'finetune') return;
    const study = presetConfig('study', app.backend?.training);
    const c = this.config;
    if (c.fineTuneBlocks < 1) c.fineTuneBlocks = Math.min(study.fineTuneBlocks ?? 6, blockCount(c.backbone));
    if (c.fineTuneEpochs < 1) c.fineTuneEpochs = study.fineTuneEpochs ?? 12;
    if (c.fineTunePatience === undefined) c.fineTunePatience = study.fineTunePatience;
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
    if (!c.name.trim()) c.name = runName(c, this.mode, Date.now());
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
    // A name typed for this run is not carried into the next one (that one is named from its own settings).
    this.config.name = '';
    app.tasks = { ...app.tasks, [snap.id]: snap };
    // Show the new run unless another one is still training (it is then queued and followed next).
    if (!live.active) live.watch(snap.runId, snap.id);
    return true;
  }
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
export const wizard = new TrainWizard();
