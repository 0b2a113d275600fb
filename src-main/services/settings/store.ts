import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RecentProject, Settings, SettingsWarning } from '../../shared/types.ts';
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

/** Why a value cannot be stored under its key, or null when it can. One entry per key: a new key needs its check. */
const CHECKS: { [K in keyof Settings]: (v: unknown) => string | null } = {
  language: (v) => (v === 'auto' || v === 'en' || v === 'ja' ? null : 'must be "auto", "en" or "ja"'),
  weightsDirs: (v) => (Array.isArray(v) && v.every((d) => typeof d === 'string' && d.length > 0) ? null : 'must be a list of folder paths'),
  recentProjects: (v) =>
    Array.isArray(v) && v.every(isRecentProject) ? null : 'must be a list of { dir, name, openedAt } entries (text each)',
  lastProjectDir: (v) => (v === null || (typeof v === 'string' && v.length > 0) ? null : 'must be a folder path or null'),
  heatmapColormap: (v) => (v === 'turbo' || v === 'jet' || v === 'grey' ? null : 'must be "turbo", "jet" or "grey"'),
  heatmapOpacity: (v) => (typeof v === 'number' && v >= 0 && v <= 1 ? null : 'must be a number between 0 and 1'),
};

function isRecentProject(v: unknown): v is RecentProject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const r = v as Record<string, unknown>;
  return typeof r['dir'] === 'string' && r['dir'].length > 0 && typeof r['name'] === 'string' && typeof r['openedAt'] === 'string';
}

const isKey = (k: string): k is keyof Settings => Object.hasOwn(CHECKS, k);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Each problem of a settings object ("language: must be …", "colour: unknown setting"). */
function problemsOf(obj: Record<string, unknown>): { key: string; problem: string }[] {
  const out: { key: string; problem: string }[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (!isKey(k)) out.push({ key: k, problem: 'is not a Kensa setting' });
    else {
      const why = CHECKS[k](v);
      if (why) out.push({ key: k, problem: why });
    }
  }
  return out;
}

/**
 * Settings persisted as JSON in the config folder; written atomically (temp file + rename). Every write is checked
 * (unknown keys and wrong types are refused with a ValidationError, nothing stored); so is the file when it is read:
 * a file that is not JSON, or holds a wrong value, is renamed aside (settings.json.bad-<time>) and Kensa starts with the
 * defaults plus the file's valid keys, with `warning` saying so (the UI and the CLI show it).
 */
export class SettingsStore {
  readonly file: string;
  /** Set when the file read at start could not be used as it was. */
  readonly warning: SettingsWarning | null;
  private value: Settings;

  constructor(configDir: string) {
    this.file = join(configDir, 'settings.json');
    const { value, warning } = this.load();
    this.value = value;
    this.warning = warning;
  }

  private load(): { value: Settings; warning: SettingsWarning | null } {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      // No file yet (first start) or not readable: defaults.
      return { value: { ...defaultSettings }, warning: null };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return this.setAside({ ...defaultSettings }, [], `not valid JSON (${(err as Error).message})`);
    }
    if (!isObject(raw)) return this.setAside({ ...defaultSettings }, [], 'not a JSON object');
    const problems = problemsOf(raw);
    const kept: Record<string, unknown> = { ...defaultSettings };
    for (const [k, v] of Object.entries(raw)) if (isKey(k) && !CHECKS[k](v)) kept[k] = v;
    const value = kept as unknown as Settings;
    if (!problems.length) return { value, warning: null };
    return this.setAside(
      value,
      problems.map((p) => p.key),
      problems.map((p) => `${p.key} ${p.problem}`).join('; '),
    );
  }

  /** Moves the bad file aside (never deleted: the user may want a value back), saves what is kept. */
  private setAside(value: Settings, keys: string[], why: string): { value: Settings; warning: SettingsWarning } {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    let movedTo = `${this.file}.bad-${stamp}`;
    for (let i = 2; existsSync(movedTo); i++) movedTo = `${this.file}.bad-${stamp}-${i}`;
    try {
      renameSync(this.file, movedTo);
    } catch {
      movedTo = '';
    }
    const warning: SettingsWarning = {
      file: this.file,
      movedTo,
      keys,
      message:
        `The settings file ${this.file} could not be used (${why}). ` +
        (movedTo ? `It was renamed to ${movedTo}; ` : '') +
        (keys.length
          ? `Kensa uses the default for ${keys.join(', ')} and keeps the other values.`
          : 'Kensa starts with the default settings.'),
    };
    this.value = value;
    try {
      this.save();
    } catch {
      // A read-only config folder: run on the values in memory.
    }
    return { value, warning };
  }

  get(): Settings {
    return structuredClone(this.value);
  }

  /** Stores `patch` (only known keys, each of its type); refuses the whole patch if any part is wrong. */
  update(patch: unknown): Settings {
    if (!isObject(patch)) throw new ValidationError('Settings must be given as an object of setting: value.');
    const problems = problemsOf(patch);
    if (problems.length) {
      throw new ValidationError(`Settings not saved: ${problems.map((p) => `${p.key} ${p.problem}`).join('; ')}.`, {
        keys: problems.map((p) => p.key),
      });
    }
    this.value = { ...this.value, ...(patch as Partial<Settings>) };
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
