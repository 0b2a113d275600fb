import type { DirectoryListing, ListDirectoryOptions } from '../files-types.ts';
import type { AppInfo, BackendReport, ProjectInfo, RecentProjectEntry, Settings, TaskSnapshot } from '../types.ts';

/** App-wide operations: info, settings, backends, tasks and project folders. */
export interface AppApi {
  getAppInfo(): Promise<AppInfo>;
  getSettings(): Promise<Settings>;
  updateSettings(patch: Partial<Omit<Settings, 'recentProjects' | 'lastProjectDir'>>): Promise<Settings>;
  /** Which TensorFlow backend runs and why the better ones do not; `refresh` re-probes. */
  getBackendReport(refresh?: boolean): Promise<BackendReport>;

  listTasks(): Promise<TaskSnapshot[]>;
  cancelTask(id: string): Promise<void>;
  /** Pauses a running task that supports it (training: between batches); ValidationError for others. */
  pauseTask(id: string): Promise<TaskSnapshot>;
  resumeTask(id: string): Promise<TaskSnapshot>;

  createProject(dir: string, name?: string): Promise<ProjectInfo>;
  openProject(dir: string): Promise<ProjectInfo>;
  closeProject(): Promise<void>;
  getCurrentProject(): Promise<ProjectInfo | null>;
  listRecentProjects(): Promise<RecentProjectEntry[]>;
  forgetRecentProject(dir: string): Promise<void>;
  /** Opens the demo project (created on first use) in the app's data folder. */
  openDemoProject(): Promise<ProjectInfo>;
  /** Native folder picker where the host has one; null when cancelled or unsupported (browser mode). */
  pickFolder(purpose: 'project' | 'import' | 'weights' | 'export' | 'annotations'): Promise<string | null>;
  /** Native file picker; null when cancelled or unsupported. */
  pickFiles(purpose: 'import' | 'csv' | 'model' | 'annotations'): Promise<string[] | null>;
  /**
   * The app's own folder/file browser (browser mode): the entries of `path` (null = the home folder), its parent and
   * the roots. PathNotFoundError when it does not exist or is not a folder; an unreadable folder is listed as `denied`.
   */
  listDirectory(path: string | null, options: ListDirectoryOptions): Promise<DirectoryListing>;
  /** Test hook: throws the named error from inside a service, so the UI's error path can be checked. */
  debugThrow(name: string, message: string): Promise<never>;
}

export const appOperations = [
  'getAppInfo',
  'getSettings',
  'updateSettings',
  'getBackendReport',
  'listTasks',
  'cancelTask',
  'pauseTask',
  'resumeTask',
  'createProject',
  'openProject',
  'closeProject',
  'getCurrentProject',
  'listRecentProjects',
  'forgetRecentProject',
  'openDemoProject',
  'pickFolder',
  'pickFiles',
  'listDirectory',
  'debugThrow',
] as const satisfies readonly (keyof AppApi)[];

export interface AppEvents {
  task: TaskSnapshot;
  project: ProjectInfo | null;
  settings: Settings;
  backend: BackendReport;
}
