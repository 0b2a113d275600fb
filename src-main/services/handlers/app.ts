import type { AppApi } from '../../shared/api/app.ts';
import { KensaError, ValidationError } from '../../shared/errors.ts';
import { APP_VERSION } from '../version.ts';
import type { Services } from '../services.ts';
import { openDemoProject } from '../library/demo/create.ts';
import { populateDemoProject } from '../library/demo/populate.ts';
import { listDirectory } from '../files/list-directory.ts';

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
      return s.engine.backendReport(refresh ?? false);
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
      const { configDir, projects, tasks, events } = s;
      return (await openDemoProject({ configDir, projects, tasks, events, populate: (p, o) => populateDemoProject(s, p, o) })).info();
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
