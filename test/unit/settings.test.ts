import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
});
