import type { RunDetail, RunSummary } from '../../../../src-main/shared/training-types.ts';
import { api } from '../../lib/api.ts';
import { app } from '../../state/app.svelte.ts';

export type RunsPage =
  | { kind: 'list' }
  | { kind: 'report'; runId: number }
  | { kind: 'compare'; runIds: number[] }
  | { kind: 'sweep'; sweepId: string }
  | { kind: 'cv'; id: string };

/**
 * Reads the sub-route after #/runs: #/runs/12 (report), #/runs/compare/3,4 (comparison), #/runs/sweep/ID (a sweep),
 * #/runs/cv/ID (a cross-validation group).
 */
export function pageFromHash(hash: string): RunsPage {
  const parts = hash.replace(/^#\/?/, '').split('/');
  if (parts[0] !== 'runs') return { kind: 'list' };
  if (parts[1] === 'sweep' && parts[2]) return { kind: 'sweep', sweepId: decodeURIComponent(parts[2]) };
  if (parts[1] === 'cv' && parts[2]) return { kind: 'cv', id: decodeURIComponent(parts[2]) };
  if (parts[1] === 'compare') {
    const ids = (parts[2] ?? '')
      .split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
    return ids.length >= 2 ? { kind: 'compare', runIds: ids } : { kind: 'list' };
  }
  const id = Number(parts[1]);
  return Number.isInteger(id) && id > 0 ? { kind: 'report', runId: id } : { kind: 'list' };
}

export function hashFor(page: RunsPage): string {
  if (page.kind === 'report') return `#/runs/${page.runId}`;
  if (page.kind === 'compare') return `#/runs/compare/${page.runIds.join(',')}`;
  if (page.kind === 'sweep') return `#/runs/sweep/${encodeURIComponent(page.sweepId)}`;
  if (page.kind === 'cv') return `#/runs/cv/${encodeURIComponent(page.id)}`;
  return '#/runs';
}

/** The runs screen: the list, details fetched on demand (cached per status), the compare selection. */
class RunsState {
  runs = $state<RunSummary[]>([]);
  details = $state<Record<number, RunDetail>>({});
  selected = $state<number[]>([]);
  loading = $state(false);
  private started = false;

  init(): void {
    if (this.started) return;
    this.started = true;
    api.subscribe('trainingRun', (e) => {
      if (e.status === 'deleted') {
        this.runs = this.runs.filter((r) => r.id !== e.runId);
        this.selected = this.selected.filter((id) => id !== e.runId);
      } else void this.refresh(e.runId);
    });
    api.subscribe('activeModel', () => void this.load());
    api.subscribe('project', () => {
      this.runs = [];
      this.details = {};
      this.selected = [];
    });
  }

  async load(): Promise<void> {
    this.loading = true;
    const runs = await app.guard(() => api.listRuns());
    this.loading = false;
    if (!runs) return;
    this.runs = runs;
    void this.prefetchDetails();
  }

  /** Details of every run (for the N-blocks column and comparisons); runs lists are short. */
  private async prefetchDetails(): Promise<void> {
    for (const r of this.runs) {
      const d = this.details[r.id];
      if (!d || d.status !== r.status || d.finishedAt !== r.finishedAt) await this.detail(r.id, true).catch(() => undefined);
    }
  }

  private async refresh(runId: number): Promise<void> {
    const runs = await api.listRuns().catch(() => null);
    if (runs) this.runs = runs;
    if (this.details[runId]) await this.detail(runId, true).catch(() => undefined);
  }

  async detail(runId: number, force = false): Promise<RunDetail> {
    const have = this.details[runId];
    if (have && !force) return have;
    const d = await api.getRun(runId);
    this.details = { ...this.details, [runId]: d };
    return d;
  }

  toggle(id: number): void {
    this.selected = this.selected.includes(id) ? this.selected.filter((x) => x !== id) : [...this.selected, id];
  }
}

export const runsState = new RunsState();
