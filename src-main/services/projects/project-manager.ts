import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NoProjectOpenError } from '../../shared/errors.ts';
import type { ProjectInfo, RecentProjectEntry } from '../../shared/types.ts';
import type { EventBus } from '../events.ts';
import type { SettingsStore } from '../settings/store.ts';
import { CATALOG_FILE, Project } from './project.ts';

/** Listeners run after a project opens or before it closes (caches, engine, watchers). */
export type ProjectListener = (project: Project) => void | Promise<void>;

/** Holds the one open project of this app instance and the recent list. */
export class ProjectManager {
  private current: Project | null = null;
  private openListeners: ProjectListener[] = [];
  private closeListeners: ProjectListener[] = [];

  private readonly settings: SettingsStore;
  private readonly events: EventBus;

  constructor(settings: SettingsStore, events: EventBus) {
    this.settings = settings;
    this.events = events;
  }

  onOpen(l: ProjectListener): void {
    this.openListeners.push(l);
  }

  /** Returns a function that removes the listener. */
  onClose(l: ProjectListener): () => void {
    this.closeListeners.push(l);
    return () => {
      this.closeListeners = this.closeListeners.filter((x) => x !== l);
    };
  }

  get project(): Project | null {
    return this.current?.isOpen ? this.current : null;
  }

  /** The open project, or a NoProjectOpenError the UI turns into "open or create a project". */
  require(): Project {
    const p = this.project;
    if (!p) throw new NoProjectOpenError('No project is open. Create or open a project first.');
    return p;
  }

  async create(dir: string, name?: string, opts: { isDemo?: boolean } = {}): Promise<Project> {
    // Create first: if it fails, the project that was open stays open.
    const project = Project.create(dir, name, opts);
    await this.switchTo(project);
    return project;
  }

  async open(dir: string): Promise<Project> {
    if (this.project && this.project.dir === join(dir)) return this.project;
    const project = Project.open(dir);
    await this.switchTo(project);
    return project;
  }

  async close(): Promise<void> {
    const p = this.current;
    if (!p) return;
    for (const l of this.closeListeners) await l(p);
    p.close();
    this.current = null;
    this.events.emit('project', null);
  }

  info(): ProjectInfo | null {
    return this.project?.info() ?? null;
  }

  recent(): RecentProjectEntry[] {
    return this.settings.get().recentProjects.map((r) => ({ ...r, exists: existsSync(join(r.dir, CATALOG_FILE)) }));
  }

  /**
   * Makes `project` (already opened and checked) the current one. If its open listeners fail, it is closed again and
   * the project that was open before is reopened, so a failed open never leaves a half-open project (locked, current)
   * in place of a working one.
   */
  private async switchTo(project: Project): Promise<void> {
    const previous = this.current?.isOpen ? this.current.dir : null;
    try {
      await this.close();
    } catch (err) {
      project.close();
      throw err;
    }
    this.current = project;
    try {
      const info = project.info();
      for (const l of this.openListeners) await l(project);
      this.settings.rememberProject(project.dir, info.name);
    } catch (err) {
      try {
        await this.close();
      } catch {
        project.close();
        this.current = null;
      }
      if (previous) await this.reopen(previous);
      throw err;
    }
    this.events.emit('project', project.info());
  }

  /** Best effort: the previous project again after a failed switch (it was fine a moment ago). */
  private async reopen(dir: string): Promise<void> {
    let p: Project;
    try {
      p = Project.open(dir);
    } catch {
      this.events.emit('project', null);
      return;
    }
    this.current = p;
    try {
      for (const l of this.openListeners) await l(p);
      this.events.emit('project', p.info());
    } catch {
      p.close();
      this.current = null;
      this.events.emit('project', null);
    }
  }
}
