import { mkdirSync } from 'node:fs';
import type { MediaKind } from '../shared/api/index.ts';
import { NotFoundError } from '../shared/errors.ts';
import type { AppInfo, BackendReport } from '../shared/types.ts';
import { EventBus } from './events.ts';
import { probeBackendsInChild } from './ml/backend/probe-child.ts';
import { ProjectManager } from './projects/project-manager.ts';
import { SettingsStore } from './settings/store.ts';
import { TaskManager } from './tasks/task-manager.ts';

/** What the process hosting the services can do beyond plain Node (Electron: native dialogs, taskbar). */
export interface HostCapabilities {
  mode: AppInfo['mode'];
  electronVersion: string | null;
  pickFolder?(purpose: string): Promise<string | null>;
  pickFiles?(purpose: string): Promise<string[] | null>;
  /** Taskbar progress (0..1), or null to clear. */
  setProgress?(fraction: number | null): void;
}

/** A file the UI may display, found by a domain module from its id (never a raw path from the client). */
export interface MediaFile {
  path: string;
  mime: string;
}
export type MediaResolver = (id: string, params: Record<string, string>) => Promise<MediaFile> | MediaFile;

export interface ServicesOptions {
  configDir: string;
  /** Where packaged resources live (resources/ in the repo, process.resourcesPath in a packaged app). */
  resourcesDir: string;
  host: HostCapabilities;
}

/**
 * The app's services, free of any `electron` import so they run under plain Node (browser mode,
 * CLI, tests) exactly as inside Electron. Domain modules hang their state off this object.
 */
export class Services {
  readonly events = new EventBus();
  readonly settings: SettingsStore;
  readonly tasks: TaskManager;
  readonly projects: ProjectManager;
  readonly configDir: string;
  readonly resourcesDir: string;
  readonly host: HostCapabilities;
  private backendReport: Promise<BackendReport> | null = null;
  private disposers: (() => void | Promise<void>)[] = [];
  private mediaResolvers = new Map<MediaKind, MediaResolver>();
  private liveBackendReport: (() => BackendReport | null) | null = null;

  constructor(opts: ServicesOptions) {
    mkdirSync(opts.configDir, { recursive: true });
    this.configDir = opts.configDir;
    this.resourcesDir = opts.resourcesDir;
    this.host = opts.host;
    this.settings = new SettingsStore(opts.configDir);
    // A settings file set aside at start is said on stderr (CLI, server, app log); the UI shows it from getAppInfo().
    if (this.settings.warning) process.stderr.write(`Kensa: ${this.settings.warning.message}\n`);
    this.tasks = new TaskManager(this.events);
    this.projects = new ProjectManager(this.settings, this.events);
    this.events.on('task', (t) => {
      if (!this.host.setProgress || t.kind !== 'training') return;
      const running = t.state === 'running' && t.progress.total;
      this.host.setProgress(running ? t.progress.done / (t.progress.total ?? 1) : null);
    });
  }

  /**
   * Which TensorFlow backend runs. Probed in a child process: loading native TensorFlow here would
   * put the catalog at the mercy of a crash in it.
   */
  getBackendReport(refresh = false): Promise<BackendReport> {
    const live = this.liveBackendReport?.();
    if (live && !refresh) return Promise.resolve(live);
    if (!this.backendReport || refresh) {
      this.backendReport = probeBackendsInChild().then((r) => {
        this.events.emit('backend', r);
        return r;
      });
      this.backendReport.catch(() => {
        this.backendReport = null;
      });
    }
    return this.backendReport;
  }

  /**
   * Once the ML engine runs, the backend it actually chose is the truth; before that (or on refresh)
   * a separate probe answers. The training service registers the engine's report here.
   */
  useLiveBackendReport(source: () => BackendReport | null): void {
    this.liveBackendReport = source;
  }

  /** Domain modules register how their media ids map to files (thumbnails, images, heatmaps). */
  registerMedia(kind: MediaKind, resolver: MediaResolver): void {
    this.mediaResolvers.set(kind, resolver);
  }

  async resolveMedia(kind: string, id: string, params: Record<string, string> = {}): Promise<MediaFile> {
    const r = this.mediaResolvers.get(kind as MediaKind);
    if (!r) throw new NotFoundError(`No media of kind ${kind}`);
    return r(id, params);
  }

  /** Registers cleanup run on shutdown (engine processes, servers). */
  onDispose(fn: () => void | Promise<void>): void {
    this.disposers.push(fn);
  }

  async dispose(): Promise<void> {
    this.tasks.cancelAll();
    for (const fn of this.disposers.reverse()) await fn();
    await this.projects.close();
  }
}
