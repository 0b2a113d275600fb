/** Domain types shared by main, preload, renderer, CLI and the browser bridge (types only). */
import type { SerializedError } from './errors.ts';

export type Language = 'en' | 'ja';
export type LanguageSetting = Language | 'auto';

export interface Settings {
  language: LanguageSetting;
  /** Folders searched for pretrained weights, in order, before the built-in ones. */
  weightsDirs: string[];
  recentProjects: RecentProject[];
  lastProjectDir: string | null;
  /** Heatmap colour map and overlay opacity used by galleries. */
  heatmapColormap: 'turbo' | 'jet' | 'grey';
  heatmapOpacity: number;
}

/** The settings file read at start could not be used as it was (set aside; defaults and its valid keys used). */
export interface SettingsWarning {
  /** The settings file. */
  file: string;
  /** Where the bad file was moved ('' when it could not be moved). */
  movedTo: string;
  /** Keys that were wrong or unknown (empty: the whole file was unreadable). */
  keys: string[];
  /** English sentence (CLI, logs). */
  message: string;
}

export interface RecentProject {
  dir: string;
  name: string;
  openedAt: string;
}

export interface RecentProjectEntry extends RecentProject {
  /** False when the folder has gone missing since (shown greyed with a remove button). */
  exists: boolean;
}

export interface ProjectInfo {
  dir: string;
  name: string;
  createdAt: string;
  schemaVersion: number;
  isDemo: boolean;
  imageCount: number;
}

export interface AppInfo {
  name: string;
  version: string;
  mode: 'electron' | 'browser' | 'cli';
  nodeVersion: string;
  electronVersion: string | null;
  platform: string;
  arch: string;
  /** The OS locale the app detected, used when the language setting is 'auto'. */
  systemLocale: string;
  configDir: string;
  /** Whether the host can show native file/folder pickers (Electron) or the UI must ask for a path. */
  nativeDialogs: boolean;
  /** Set when the settings file was set aside at start. */
  settingsWarning: SettingsWarning | null;
}

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

/** Why a backend is or is not usable, as a code the UI words in its own language. */
export type BackendReasonCode =
  | 'gpu-loaded'
  | 'node-loaded'
  | 'native-present'
  | 'not-installed'
  | 'no-libtensorflow'
  | 'no-cuda'
  | 'no-cudnn'
  | 'native-load-failed'
  | 'not-needed'
  | 'wasm-trains'
  | 'wasm-no-training'
  | 'wasm-present'
  | 'wasm-failed'
  | 'cpu';

export interface BackendCandidate {
  name: BackendName;
  available: boolean;
  /** Why it is or is not usable, in plain English for the CLI and logs ("CUDA runtime 11.2 not found"). */
  reason: string;
  /** The same, for the UI: a code and its values (a library's file name, the loader's message, wasm's threads). */
  code: BackendReasonCode;
  params?: Record<string, string | number>;
  version?: string;
  details?: Record<string, string | number | boolean>;
}

export interface BackendReport {
  /** Backend used for training (gradients). */
  training: BackendName;
  /** Backend used for inference, embeddings and heatmaps. */
  inference: BackendName;
  candidates: BackendCandidate[];
  checkedAt: string;
}

export type TaskState = 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';

export interface TaskProgress {
  done: number;
  total: number | null;
  /** Items per second over the recent window. */
  rate: number | null;
  etaSeconds: number | null;
  unit: string;
}

/** A serialisable picture of a long job (import, training, heatmap batch) at one moment. */
/** What a task is, as data the UI words in its own language (`title` stays, in English, for logs and the CLI). */
export type TaskWhat =
  /** files: null while the chosen folders are still being walked (the count is then the task's progress). */
  | { kind: 'import'; files: number | null }
  | { kind: 'inspect'; images: number; run: string }
  | { kind: 'heatmaps'; methods: string[]; images: number }
  | { kind: 'training'; name: string }
  | { kind: 'demo' }
  /** k-fold cross-validation: `total` runs (folds × repeats), one after another. */
  | { kind: 'crossValidation'; name: string; total: number };

/** What a running task is doing now, as data (`message` is the same in English). */
export type TaskStep =
  | { kind: 'engine-starting' }
  | { kind: 'embeddings' }
  | { kind: 'transfer' }
  | { kind: 'finetune'; blocks: number }
  | { kind: 'evaluate' }
  | { kind: 'gradient-backend'; training: string; inference: string }
  /** The chosen folders are being walked; `files` found so far. */
  | { kind: 'import-scan'; files: number }
  | { kind: 'import-done'; imported: number; duplicates: number; skipped: number }
  | { kind: 'inspect-done'; inspected: number; ng: number; imagesPerSecond: number }
  /** Cross-validation: the fold being trained (1-based), and whether a cancel asked it to stop after this one. */
  | { kind: 'cv-fold'; fold: number; folds: number; repeat: number; repeats: number; stopping: boolean };

export interface TaskSnapshot {
  id: string;
  kind: string;
  title: string;
  what?: TaskWhat;
  step?: TaskStep;
  state: TaskState;
  progress: TaskProgress;
  epoch?: { current: number; total: number };
  metrics?: Record<string, number>;
  message?: string;
  error?: SerializedError;
  /** JSON-serialisable result when succeeded (e.g. an import report or a run id). */
  result?: unknown;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}
