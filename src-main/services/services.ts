import { mkdirSync } from 'node:fs';
import type { AppInfo } from '../shared/types.ts';
import { LibraryService } from './library/service.ts';
import type { EngineLauncher } from './engine/client.ts';
import { EngineService } from './engine/engine-service.ts';
import { EventBus } from './events.ts';
import { HeatmapService } from './heatmaps/service.ts';
import { InspectService } from './inspect/service.ts';
import { MediaRegistry, type MediaFile } from './media-registry.ts';
import { SweepService } from './training/sweep-service.ts';
import { CrossValidationService } from './training/cross-validation.ts';
import { TrainingService } from './training/training-service.ts';
import { ProjectManager } from './projects/project-manager.ts';
import { SettingsStore } from './settings/store.ts';
import { TaskManager } from './tasks/task-manager.ts';

export type { MediaFile, MediaResolver } from './media-registry.ts';

/** What the process hosting the services can do beyond plain Node (Electron: native dialogs, taskbar). */
export interface HostCapabilities {
  mode: AppInfo['mode'];
  electronVersion: string | null;
  pickFolder?(purpose: string): Promise<string | null>;
  pickFiles?(purpose: string): Promise<string[] | null>;
  /** Taskbar progress (0..1), or null to clear. */
  setProgress?(fraction: number | null): void;
}

export interface ServicesOptions {
  configDir: string;
  /** Where packaged resources live (resources/ in the repo, process.resourcesPath in a packaged app). */
  resourcesDir: string;
  host: HostCapabilities;
  /** How the ML engine process starts: Electron main passes one on utilityProcess; default child_process.fork. */
  engineLauncher?: EngineLauncher;
  /** Extra environment for the engine process (tests: KENSA_ENGINE_CRASH_AT_EPOCH). */
  engineEnv?: NodeJS.ProcessEnv;
}

/**
 * The app's services, free of any `electron` import so they run under plain Node (browser mode, CLI, tests) exactly
 * as inside Electron. The constructor is the composition root: it builds every domain service once, in dependency
 * order, each given what it depends on; the fields below are the domains that exist.
 */
export class Services {
  readonly configDir: string;
  readonly resourcesDir: string;
  readonly host: HostCapabilities;
  readonly events = new EventBus();
  readonly settings: SettingsStore;
  readonly tasks: TaskManager;
  readonly projects: ProjectManager;
  readonly media = new MediaRegistry();
  readonly engine: EngineService;
  readonly library: LibraryService;
  readonly training: TrainingService;
  readonly sweep: SweepService;
  readonly crossValidation: CrossValidationService;
  readonly heatmaps: HeatmapService;
  readonly inspect: InspectService;

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

    // ---- composition root: who depends on whom is what each constructor is given.
    const { events, settings, tasks, projects, media } = this;
    this.engine = new EngineService({ events, launcher: opts.engineLauncher, env: opts.engineEnv });
    const engine = this.engine;
    this.library = new LibraryService({ projects, tasks, events, media });
    this.training = new TrainingService({ settings, resourcesDir: opts.resourcesDir, projects, tasks, events, engine });
    const training = this.training;
    this.sweep = new SweepService({ training });
    this.crossValidation = new CrossValidationService({ training, tasks, projects });
    this.heatmaps = new HeatmapService({ projects, tasks, events, media, engine, training });
    this.inspect = new InspectService({ projects, tasks, events, media, engine, models: training });
  }

  /** The file behind a media id (domain services register their kinds in `media` when the root builds them). */
  resolveMedia(kind: string, id: string, params: Record<string, string> = {}): Promise<MediaFile> {
    return this.media.resolve(kind, id, params);
  }

  async dispose(): Promise<void> {
    this.tasks.cancelAll();
    await this.engine.dispose();
    await this.projects.close();
  }
}
