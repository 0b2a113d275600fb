import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AppApi } from '../../shared/api/app.ts';
import { KensaError, ValidationError } from '../../shared/errors.ts';
import { APP_VERSION } from '../version.ts';
import type { Services } from '../services.ts';
import { CATALOG_FILE, type Project } from '../projects/project.ts';
import { populateDemoProject } from '../catalog/demo/populate.ts';
import { listDirectory } from '../files/list-directory.ts';

export function demoProjectDir(s: Services): string {
  return join(s.configDir, 'demo-project');
}

function startDemoGeneration(s: Services, project: Project): void {
  const task = s.tasks.start(
    'demo',
    'Generating the demo project',
    async (ctx) => {
      const report = await populateDemoProject(s, project, {
        signal: ctx.signal,
        onProgress: (done, total, phase) => ctx.progress(phase === 'render' ? done : total + done, total * 2, 'images'),
      });
      project.setMeta('demo_populated', '1');
      s.events.emit('project', project.info());
      return { imported: report.imported };
    },
    { what: { kind: 'demo' } },
  );
  const off = s.projects.onClose(async (closing) => {
    if (closing !== project) return;
    s.tasks.cancel(task.id);
    await s.tasks.wait(task.id);
  });
  void s.tasks.wait(task.id).finally(off);
}

export function appHandlers(s: Services): AppApi {
  return {
    async getAppInfo() {
      return {
        name: 'Kensa',
        version: APP_VERSION,
        mode: s.host.mode,
        nodeVersion: process.versions.node,
        electronVersion: s.host.electronVersion,
        platform: process.platform,
        arch: process.arch,
        systemLocale: Intl.DateTimeFormat().resolvedOptions().locale,
        configDir: s.configDir,
        nativeDialogs: Boolean(s.host.pickFolder),
        settingsWarning: s.settings.warning,
      };
    },
    async getSettings() {
      return s.settings.get();
    },
    async updateSettings(patch) {
      const next = s.settings.update(patch);
      s.events.emit('settings', next);
      return next;
    },
    getBackendReport(refresh) {
      return s.getBackendReport(refresh ?? false);
    },
    async listTasks() {
      return s.tasks.list();
    },
    async cancelTask(id) {
      s.tasks.cancel(id);
    },
    async pauseTask(id) {
      return s.tasks.pause(id);
    },
    async resumeTask(id) {
      return s.tasks.resume(id);
    },
    async createProject(dir, name) {
      if (!dir?.trim()) throw new ValidationError('Choose a folder for the new project.');
      return (await s.projects.create(dir, name)).info();
    },
    async openProject(dir) {
      if (!dir?.trim()) throw new ValidationError('Choose a project folder to open.');
      return (await s.projects.open(dir)).info();
    },
    async closeProject() {
      await s.projects.close();
    },
    async getCurrentProject() {
      return s.projects.info();
    },
    async listRecentProjects() {
      return s.projects.recent();
    },
    async forgetRecentProject(dir) {
      s.settings.forgetProject(dir);
    },
    async openDemoProject() {
      const dir = demoProjectDir(s);
      const project = existsSync(join(dir, CATALOG_FILE))
        ? await s.projects.open(dir)
        : await s.projects.create(dir, 'Demo: motor cores', { isDemo: true });
      // Generated in the background with progress, so the window is usable at once; an
      // interrupted generation resumes on the next open (the import skips what is already in).
      if (project.meta('demo_populated') !== '1') startDemoGeneration(s, project);
      return project.info();
    },
    async pickFolder(purpose) {
      return s.host.pickFolder ? s.host.pickFolder(purpose) : null;
    },
    async pickFiles(purpose) {
      return s.host.pickFiles ? s.host.pickFiles(purpose) : null;
    },
    async listDirectory(path, options) {
      return listDirectory(path, options);
    },
    async debugThrow(name, message) {
      const err = new KensaError(message);
      err.name = name;
      throw err;
    },
  };
}
