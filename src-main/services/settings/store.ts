import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Settings } from '../../shared/types.ts';
import { ValidationError } from '../../shared/errors.ts';

export const defaultSettings: Settings = {
  language: 'auto',
  weightsDirs: [],
  recentProjects: [],
  lastProjectDir: null,
  heatmapColormap: 'turbo',
  heatmapOpacity: 0.5,
};

const MAX_RECENT = 12;

/** Settings persisted as JSON in the config folder; written atomically (temp file + rename). */
export class SettingsStore {
  readonly file: string;
  private value: Settings;

  constructor(configDir: string) {
    this.file = join(configDir, 'settings.json');
    this.value = this.load();
  }

  private load(): Settings {
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<Settings>;
      return { ...defaultSettings, ...raw };
    } catch {
      // Missing or unreadable settings must never stop the app: start from defaults.
      return { ...defaultSettings };
    }
  }

  get(): Settings {
    return structuredClone(this.value);
  }

  update(patch: Partial<Settings>): Settings {
    const next = { ...this.value, ...patch };
    if (!['auto', 'en', 'ja'].includes(next.language)) throw new ValidationError(`Unknown language: ${next.language}`);
    if (!['turbo', 'jet', 'grey'].includes(next.heatmapColormap)) throw new ValidationError(`Unknown colour map: ${next.heatmapColormap}`);
    if (!(next.heatmapOpacity >= 0 && next.heatmapOpacity <= 1)) throw new ValidationError('Opacity must be between 0 and 1');
    this.value = next;
    this.save();
    return this.get();
  }

  rememberProject(dir: string, name: string): void {
    const recent = [{ dir, name, openedAt: new Date().toISOString() }, ...this.value.recentProjects.filter((r) => r.dir !== dir)];
    this.update({ recentProjects: recent.slice(0, MAX_RECENT), lastProjectDir: dir });
  }

  forgetProject(dir: string): void {
    this.update({
      recentProjects: this.value.recentProjects.filter((r) => r.dir !== dir),
      lastProjectDir: this.value.lastProjectDir === dir ? null : this.value.lastProjectDir,
    });
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.value, null, 2));
    renameSync(tmp, this.file);
  }
}
