import type { LibraryStats, DefectType, SplitSettings } from '../../../../src-main/shared/library-types.ts';
import {
  DEFAULT_TRAIN_CONFIG,
  type BackboneId,
  type RunSummary,
  type TrainConfig,
  type TrainingEstimate,
} from '../../../../src-main/shared/training-types.ts';
import { presetConfig, presetGuidance, type TrainPresetId } from '../../../../src-main/shared/training-presets.ts';
import { api } from '../../lib/api.ts';
import { app } from '../../state/app.svelte.ts';
import {
  blocking,
  classRows,
  dataWarnings,
  labelChoices,
  type ClassRow,
  type DataFacts,
  type DataWarning,
  type LabelChoice,
} from './data-check.ts';
import { guideFacts } from './guide-facts.ts';
import { live } from './live.svelte.ts';
import { runName } from './panel.ts';

export type PresetId = TrainPresetId | 'continue';
export type WizardStep = 'data' | 'model' | 'training';
export type TrainMode = 'transfer' | 'finetune';

/** Blocks of a backbone: MobileNet v1 has 13 depthwise-separable blocks after conv1, v2 has 17 inverted residuals. */
export function blockCount(backbone: BackboneId): number {
  return backbone.startsWith('mobilenet_v2') ? 17 : 13;
}

/** The training wizard: configuration being edited, the catalog facts it needs, and the estimate. */
export class TrainWizard {
  step = $state<WizardStep>('data');
  preset = $state<PresetId | null>(null);
  config = $state<TrainConfig>(structuredClone(DEFAULT_TRAIN_CONFIG));
  mode = $state<TrainMode>('transfer');
  stats = $state<LibraryStats | null>(null);
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
  /** Cross-validation: how many times the k folds are drawn afresh (each repeat reshuffles them; 1 = plain k-fold). */
  cvRepeats = $state(1);
  private estimateSeq = 0;

  async load(): Promise<void> {
    this.loading = true;
    await app.guard(async () => {
      const [stats, types, split, runs] = await Promise.all([
        api.getLibraryStats(),
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

  /** What the data checks read (data-check.ts). */
  private facts(): DataFacts {
    return { stats: this.stats, types: this.types, splitSettings: this.splitSettings, excluded: this.excluded, config: this.config };
  }

  /** Labels with images, each ticked unless the user left it out. */
  labelChoices(lang: 'en' | 'ja'): LabelChoice[] {
    return labelChoices(this.facts(), lang);
  }

  setIncluded(key: string, included: boolean): void {
    const others = this.excluded.filter((k) => k !== key);
    this.excluded = included ? others : [...others, key];
  }

  /** Rows per class for the chosen task (binary: OK vs every defect type together). */
  classRows(lang: 'en' | 'ja'): ClassRow[] {
    return classRows(this.facts(), lang);
  }

  warnings(rows: ClassRow[], lang: 'en' | 'ja' = 'en'): DataWarning[] {
    return dataWarnings(this.facts(), rows, lang);
  }

  /** Blocking problems (training cannot start). */
  blocking(rows: ClassRow[]): boolean {
    return blocking(rows);
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
    // Study and Best train guided by the drawn regions when training defect images have them (shared rule).
    Object.assign(c, presetGuidance(id, guideFacts(this.stats, c, this.excluded).withRegions));
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
    // Guidance the engine would leave out (no regions, moving augmentation) is not stored as if it ran.
    if (c.guideRegions && guideFacts(this.stats, c, this.excluded).blocked !== null) {
      delete c.guideRegions;
      delete c.guideWeight;
    }
    // Memory-bank settings (test-time flips) belong to anomaly runs only: a classifier run refuses them.
    if (c.task !== 'anomaly') delete c.anomaly;
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

  /** Runs a cross-validation starts (k folds x repeats); null when the split is not cross-validation. */
  cvRuns(): number | null {
    const sp = this.config.split;
    return sp.mode === 'fold' ? sp.folds * this.cvRepeats : null;
  }

  /**
   * With the cross-validation split: starts k x repeats runs as one group (the locked test set stays aside) and returns its id;
   * null when it could not start (the error is shown).
   */
  async startCrossValidation(): Promise<string | null> {
    const c = this.payload();
    if (c.split.mode !== 'fold') return null;
    const { folds, seed, groupBy } = c.split;
    this.starting = true;
    const r = await app.guard(() => api.startCrossValidation(c, { folds, repeats: this.cvRepeats, seed, groupBy }));
    this.starting = false;
    if (!r) return null;
    this.config.name = '';
    return r.id;
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

export const wizard = new TrainWizard();
