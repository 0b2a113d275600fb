import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import { SettingsStore } from '../../src-main/services/settings/store.ts';
import { useTmp } from '../helpers/tmp.ts';

const tmp = useTmp();

describe('settings', () => {
  it('persist across instances and keep a bounded recent-projects list', () => {
    const dir = tmp();
    const s = new SettingsStore(dir);
    s.update({ language: 'ja' });
    for (let i = 0; i < 20; i++) s.rememberProject(`/p/${i}`, `P${i}`);
    const again = new SettingsStore(dir).get();
    expect(again.language).toBe('ja');
    expect(again.recentProjects).toHaveLength(12);
    expect(again.recentProjects[0]!.dir).toBe('/p/19');
    expect(again.lastProjectDir).toBe('/p/19');
  });

  it('starts from defaults when the file is damaged, and rejects invalid values', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'settings.json'), '{not json');
    const s = new SettingsStore(dir);
    expect(s.get().language).toBe('auto');
    expect(() => s.update({ heatmapOpacity: 3 })).toThrow(expect.objectContaining({ name: 'ValidationError' }));
  });

  it('refuses unknown keys and wrong types on write, storing nothing of the patch', () => {
    const dir = tmp();
    const s = new SettingsStore(dir);
    s.update({ language: 'en' });
    const before = readFileSync(join(dir, 'settings.json'), 'utf8');
    for (const bad of [
      { recentProjects: 'x' },
      { weightsDirs: [3] },
      { lastProjectDir: 42 },
      { language: 'fr' },
      { theme: 'dark' },
      { recentProjects: [{ dir: '/p' }] },
      { language: 'ja', heatmapOpacity: '0.5' },
    ]) {
      expect(() => s.update(bad)).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    }
    expect(() => s.update('language=ja')).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect(s.get().language).toBe('en');
    expect(readFileSync(join(dir, 'settings.json'), 'utf8')).toBe(before);
  });

  it('sets a file with a wrong type aside, keeps its valid keys, and every later start works', async () => {
    const dir = tmp();
    const file = join(dir, 'settings.json');
    writeFileSync(file, JSON.stringify({ language: 'ja', recentProjects: 'x', heatmapOpacity: 0.8, colour: 'red' }));
    const s = new SettingsStore(dir);
    expect(s.get()).toMatchObject({ language: 'ja', heatmapOpacity: 0.8, recentProjects: [] });
    expect(s.warning).toMatchObject({ file, keys: ['recentProjects', 'colour'] });
    expect(s.warning!.movedTo).toMatch(/settings\.json\.bad-/);
    // The bad file is kept, untouched, beside the new one.
    expect(JSON.parse(readFileSync(s.warning!.movedTo, 'utf8')).recentProjects).toBe('x');
    const again = new SettingsStore(dir);
    expect(again.warning).toBeNull();
    expect(again.get().language).toBe('ja');
    // Services start on it, the app can list recent projects, and the warning reaches the UI.
    writeFileSync(file, JSON.stringify({ recentProjects: 'x' }));
    const svc = new Services({ configDir: dir, resourcesDir: join(dir, 'res'), host: { mode: 'cli', electronVersion: null } });
    try {
      const api = createHandlers(svc);
      expect(await api.listRecentProjects()).toEqual([]);
      expect((await api.getAppInfo()).settingsWarning).toMatchObject({ keys: ['recentProjects'] });
      await expect(api.updateSettings({ recentProjects: 'x' } as never)).rejects.toMatchObject({ name: 'ValidationError' });
    } finally {
      await svc.dispose();
    }
  });

  it('sets a file that is not JSON (or not an object) aside and starts from defaults', () => {
    for (const text of ['{not json', '[1,2]', 'null']) {
      const dir = tmp();
      writeFileSync(join(dir, 'settings.json'), text);
      const s = new SettingsStore(dir);
      expect(s.get().language).toBe('auto');
      expect(s.warning).toMatchObject({ keys: [] });
      const aside = readdirSync(dir).filter((f) => f.startsWith('settings.json.bad-'));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe(text);
      expect(existsSync(join(dir, 'settings.json'))).toBe(true);
    }
  });
});
