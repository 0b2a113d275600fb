import type { InspectSkip, Inspection, InspectionSummary } from '../../../../src-main/shared/api/inspect.ts';
import type { DefectType } from '../../../../src-main/shared/library-types.ts';
import type { RunSummary } from '../../../../src-main/shared/training-types.ts';
import { api } from '../../lib/api.ts';
import { app } from '../../state/app.svelte.ts';
import type { MessageKey } from '../../i18n/i18n.svelte.ts';

export type SortKey = 'index' | 'name' | 'predicted' | 'confidence' | 'defect' | 'verdict' | 'label';

/** The words for why a file was not inspected: the import's skip reasons, plus Inspect's own two. */
export function reasonKey(code: InspectSkip['code']): MessageKey {
  if (code === 'failed') return 'inspect.skipFailed';
  if (code === 'missing') return 'inspect.reason.missing';
  return `library.import.reason.${code}`;
}

/** The Inspect screen's state; a singleton so a running inspection survives switching screens. */
class InspectState {
  source = $state<'files' | 'catalog'>('files');
  pathsText = $state('');
  catalogSplit = $state<'all' | 'train' | 'val' | 'test'>('test');
  catalogWhich = $state<'all' | 'unlabelled' | 'labelled'>('all');
  runs = $state<RunSummary[]>([]);
  runId = $state<number | null>(null);
  /** Anomaly models: the classifier naming NG images' defect types ('auto': the server's choice). */
  typeRunId = $state<number | 'auto' | 'none'>('auto');
  /** Test-time augmentation as the user set it; null: the chosen model's own setting (`modelTta`). */
  tta = $state<boolean | null>(null);
  /** Whether the chosen model predicts with test-time augmentation by default (the Best preset trains it so). */
  modelTta = $state(false);
  /** The model `modelTta` was read for. */
  private ttaFor: number | null = null;
  active = $state<RunSummary | null>(null);
  types = $state<DefectType[]>([]);
  taskId = $state<string | null>(null);
  inspection = $state.raw<Inspection | null>(null);
  selected = $state<number[]>([]);
  detail = $state<number | null>(null);
  verdictFilter = $state<'all' | 'ok' | 'ng' | 'unreadable'>('all');
  classFilter = $state<string>('all');
  /** Only library photos whose catalog label differs from the prediction. */
  labelDiffers = $state(false);
  /** Only NG images the type classifier could not name (anomaly model with a classifier). */
  unknownType = $state(false);
  text = $state('');
  sort = $state<{ key: SortKey; dir: 1 | -1 }>({ key: 'index', dir: 1 });
  starting = $state(false);
  recent = $state<InspectionSummary[]>([]);
  private started = false;

  task = $derived(this.taskId ? (app.tasks[this.taskId] ?? null) : null);
  running = $derived(this.task ? this.task.state === 'running' || this.task.state === 'queued' : false);

  init(): void {
    if (this.started) return;
    this.started = true;
    api.subscribe('task', (t) => {
      if (t.id !== this.taskId || t.kind !== 'inspect') return;
      if ((t.state === 'succeeded' || t.state === 'cancelled') && t.result)
        void this.open((t.result as { inspectionId: string }).inspectionId);
    });
    api.subscribe('activeModel', () => void this.load());
    api.subscribe('trainingRun', () => void this.load());
    api.subscribe('project', () => {
      this.inspection = null;
      this.taskId = null;
      this.selected = [];
      this.detail = null;
      // Run numbers start again in another project: read the model's setting afresh.
      this.ttaFor = null;
    });
  }

  async load(): Promise<void> {
    await app.guard(async () => {
      const [runs, active, types, recent] = await Promise.all([
        api.listRuns(),
        api.getActiveModel(),
        api.listDefectTypes(),
        api.listInspections(),
      ]);
      this.recent = recent;
      this.runs = runs.filter((r) => r.hasModel);
      this.active = active;
      this.types = types;
      if (this.runId !== null && !this.runs.some((r) => r.id === this.runId)) this.runId = null;
      if (typeof this.typeRunId === 'number' && !this.typeClassifiers().some((r) => r.id === this.typeRunId)) this.typeRunId = 'auto';
    });
    await this.loadModelTta(this.chosenModel());
  }

  async open(id: string): Promise<void> {
    const ins = await app.guard(() => api.getInspection(id));
    if (ins) {
      this.inspection = ins;
      void api.listInspections().then((r) => (this.recent = r));
      this.selected = [];
      this.detail = null;
    }
  }

  /** Runs that can name defect types: finished classifiers with two or more defect classes (the server checks). */
  typeClassifiers(): RunSummary[] {
    return this.runs.filter((r) => r.task === 'multiclass' && r.status === 'succeeded' && r.classes.length >= 2);
  }

  /** The model an inspection would use: the one chosen, else the active one. */
  chosenModel(): RunSummary | null {
    return this.runId !== null ? (this.runs.find((r) => r.id === this.runId) ?? null) : this.active;
  }

  /** Reads the chosen model's own test-time augmentation setting; the switch goes back to it. */
  async loadModelTta(model: RunSummary | null): Promise<void> {
    // The same model again (the screen shown again): the user's choice stays.
    if ((model?.id ?? null) === this.ttaFor) return;
    this.ttaFor = model?.id ?? null;
    this.tta = null;
    this.modelTta = false;
    if (!model || model.task === 'anomaly') return;
    const detail = await app.guard(() => api.getRun(model.id));
    if (detail && this.chosenModel()?.id === model.id) this.modelTta = detail.config.tta ?? false;
  }

  paths(): string[] {
    return this.pathsText
      .split(/\r?\n/)
      .map((p) => p.trim().replace(/^"(.*)"$/, '$1'))
      .filter(Boolean);
  }

  async start(): Promise<void> {
    this.starting = true;
    await app.guard(async () => {
      let request: Parameters<typeof api.startInspection>[0];
      if (this.source === 'files') request = { paths: this.paths() };
      else {
        const ids = await api.listImageIds({
          ...(this.catalogSplit !== 'all' ? { splits: [this.catalogSplit] } : {}),
          ...(this.catalogWhich === 'unlabelled' ? { unlabelled: true, labels: [] } : {}),
          ...(this.catalogWhich === 'labelled' ? { labels: this.types.map((t) => t.id) } : {}),
        });
        request = { imageIds: ids };
      }
      if (this.runId !== null) request.runId = this.runId;
      if (this.typeRunId !== 'auto') request.typeRunId = this.typeRunId === 'none' ? null : this.typeRunId;
      // What the switch shows is what runs (anomaly models have no views to average).
      if (this.chosenModel()?.task !== 'anomaly') request.tta = this.tta ?? this.modelTta;
      const snap = await api.startInspection(request);
      app.tasks = { ...app.tasks, [snap.id]: snap };
      this.taskId = snap.id;
    });
    this.starting = false;
  }

  async cancel(): Promise<void> {
    if (this.taskId) await app.guard(() => api.cancelTask(this.taskId!));
  }

  async setThreshold(v: number | null): Promise<void> {
    if (!this.inspection) return;
    const id = this.inspection.id;
    const ins = await app.guard(() => api.setInspectionThreshold(id, v));
    if (ins) this.inspection = ins;
  }
}

export const inspectState = new InspectState();
