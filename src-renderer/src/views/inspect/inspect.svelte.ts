import type { Inspection, InspectionSummary } from '../../../../src-main/shared/api/inspect.ts';
import type { DefectType } from '../../../../src-main/shared/catalog-types.ts';
import type { RunSummary } from '../../../../src-main/shared/training-types.ts';
import { api } from '../../lib/api.ts';
import { app } from '../../state/app.svelte.ts';

export type SortKey = 'index' | 'name' | 'predicted' | 'confidence' | 'defect' | 'verdict' | 'label';

/** The Inspect screen's state; a singleton so a running inspection survives switching screens. */
class InspectState {
  source = $state<'files' | 'catalog'>('files');
  pathsText = $state('');
  catalogSplit = $state<'all' | 'train' | 'val' | 'test'>('test');
  catalogWhich = $state<'all' | 'unlabelled' | 'labelled'>('all');
  runs = $state<RunSummary[]>([]);
  runId = $state<number | null>(null);
  active = $state<RunSummary | null>(null);
  types = $state<DefectType[]>([]);
  taskId = $state<string | null>(null);
  inspection = $state.raw<Inspection | null>(null);
  selected = $state<number[]>([]);
  detail = $state<number | null>(null);
  verdictFilter = $state<'all' | 'ok' | 'ng'>('all');
  classFilter = $state<string>('all');
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
    });
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
