import type { AppInfo, BackendReport, ProjectInfo, RecentProjectEntry, Settings, TaskSnapshot } from '../../../src-main/shared/types.ts';
import { api } from '../lib/api.ts';
import { i18n, languageFor } from '../i18n/i18n.svelte.ts';

export type Route = 'projects' | 'library' | 'train' | 'runs' | 'heatmaps' | 'inspect' | 'settings';
export const routes: Route[] = ['projects', 'library', 'train', 'runs', 'heatmaps', 'inspect', 'settings'];

export interface ShownError {
  id: number;
  name: string;
  message: string;
}

function routeFromHash(): Route {
  const r = location.hash.replace(/^#\/?/, '').split('/')[0] as Route;
  return routes.includes(r) ? r : 'library';
}

/** App-wide state: the open project, backend, tasks, errors and the current screen. */
class AppState {
  info = $state<AppInfo | null>(null);
  settings = $state<Settings | null>(null);
  project = $state<ProjectInfo | null>(null);
  recent = $state<RecentProjectEntry[]>([]);
  backend = $state<BackendReport | null>(null);
  backendError = $state<string | null>(null);
  tasks = $state<Record<string, TaskSnapshot>>({});
  errors = $state<ShownError[]>([]);
  notice = $state<string | null>(null);
  route = $state<Route>(routeFromHash());
  ready = $state(false);
  private nextErrorId = 1;

  async init(): Promise<void> {
    window.addEventListener('hashchange', () => (this.route = routeFromHash()));
    api.subscribe('project', (p) => {
      this.project = p;
      void this.refreshRecent();
    });
    api.subscribe('task', (t) => (this.tasks = { ...this.tasks, [t.id]: t }));
    // Image counts in the sidebar follow imports and deletions.
    api.subscribe('libraryChanged', () => void this.refreshProject());
    api.subscribe('backend', (b) => (this.backend = b));
    api.subscribe('settings', (s) => this.applySettings(s));
    await this.guard(async () => {
      const [info, settings, project, tasks] = await Promise.all([
        api.getAppInfo(),
        api.getSettings(),
        api.getCurrentProject(),
        api.listTasks(),
      ]);
      this.info = info;
      // The settings file was set aside at start: said once, as the named error with its ja/en title and hint.
      if (info.settingsWarning) this.showError(Object.assign(new Error(info.settingsWarning.message), { name: 'SettingsFileError' }));
      this.applySettings(settings);
      this.project = project;
      this.tasks = Object.fromEntries(tasks.map((t) => [t.id, t]));
      await this.refreshRecent();
    });
    this.ready = true;
    if (!this.project && this.route !== 'settings') this.go('projects');
    void this.loadBackend(false);
  }

  private applySettings(s: Settings): void {
    this.settings = s;
    i18n.set(languageFor(s.language, this.info?.systemLocale ?? navigator.language));
  }

  async loadBackend(refresh: boolean): Promise<void> {
    this.backendError = null;
    try {
      this.backend = await api.getBackendReport(refresh);
    } catch (err) {
      this.backendError = `${(err as Error).name}: ${(err as Error).message}`;
    }
  }

  private refreshTimer: ReturnType<typeof setTimeout> | null = null;

  /** Re-reads the open project's summary, at most every half second during bulk changes. */
  refreshProject(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(async () => {
      this.refreshTimer = null;
      try {
        this.project = await api.getCurrentProject();
      } catch {
        // A closed or switching project is reported by the 'project' event instead.
      }
    }, 500);
  }

  async refreshRecent(): Promise<void> {
    this.recent = await api.listRecentProjects();
  }

  go(route: Route): void {
    if (location.hash !== `#/${route}`) location.hash = `#/${route}`;
    this.route = route;
  }

  /** Runs an action; any error is shown with its name and message instead of being lost. */
  async guard<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      this.showError(err);
      return undefined;
    }
  }

  showError(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.errors = [...this.errors, { id: this.nextErrorId++, name: e.name, message: e.message }];
  }

  dismissError(id: number): void {
    this.errors = this.errors.filter((e) => e.id !== id);
  }

  flash(message: string): void {
    this.notice = message;
    setTimeout(() => {
      if (this.notice === message) this.notice = null;
    }, 4000);
  }

  runningTasks = $derived(Object.values(this.tasks).filter((t) => t.state === 'running' || t.state === 'queued' || t.state === 'paused'));
}

export const app = new AppState();
