/**
 * The demo project: created once in the config folder and filled with generated motor-core photos in the background
 * (a task with progress), so the window is usable at once. A generation cut short (the app closed) resumes on the
 * next open: the import skips what is already in.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportReport } from '../../../shared/library-types.ts';
import type { EventBus } from '../../events.ts';
import { CATALOG_FILE, type Project } from '../../projects/project.ts';
import type { ProjectManager } from '../../projects/project-manager.ts';
import type { TaskManager } from '../../tasks/task-manager.ts';
import type { DemoOptions } from './populate.ts';

export interface DemoDeps {
  configDir: string;
  projects: ProjectManager;
  tasks: TaskManager;
  events: EventBus;
  /** Fills the project with the generated photos (populate.ts). */
  populate: (project: Project, opts: DemoOptions) => Promise<ImportReport>;
}

/** Where the demo project lives: one per config folder. */
export function demoProjectDir(configDir: string): string {
  return join(configDir, 'demo-project');
}

/** Opens the demo project (creating it the first time) and starts its generation when it is not complete. */
export async function openDemoProject(d: DemoDeps): Promise<Project> {
  const dir = demoProjectDir(d.configDir);
  const project = existsSync(join(dir, CATALOG_FILE))
    ? await d.projects.open(dir)
    : await d.projects.create(dir, 'Demo: motor cores', { isDemo: true });
  if (project.meta('demo_populated') !== '1') startDemoGeneration(d, project);
  return project;
}

function startDemoGeneration(d: DemoDeps, project: Project): void {
  const task = d.tasks.start(
    'demo',
    'Generating the demo project',
    async (ctx) => {
      const report = await d.populate(project, {
        signal: ctx.signal,
        onProgress: (done, total, phase) => ctx.progress(phase === 'render' ? done : total + done, total * 2, 'images'),
      });
      project.setMeta('demo_populated', '1');
      d.events.emit('project', project.info());
      return { imported: report.imported };
    },
    { what: { kind: 'demo' } },
  );
  // Closing the project stops the generation first (its import writes to the catalog being closed).
  const off = d.projects.onClose(async (closing) => {
    if (closing !== project) return;
    d.tasks.cancel(task.id);
    await d.tasks.wait(task.id);
  });
  void d.tasks.wait(task.id).finally(off);
}
