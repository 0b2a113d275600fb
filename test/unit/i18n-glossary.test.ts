import { describe, expect, it } from 'vitest';
import { en, ja } from '../../src-renderer/src/i18n/catalogs.ts';

/**
 * One word per concept on screen (docs/GLOSSARY.md). Japanese: 良品 (OK part), 不良 (NG, the binary class),
 * 欠陥 (a defect on a part: its type 欠陥種別, its region 欠陥領域), 傷 (scratch), データ区分 (train / val / test),
 * 学習履歴 (the Runs screen).
 */
const JA_NOT: [RegExp, string][] = [
  [/キズ/, '傷'],
  [/不良種別|不良の種類|欠陥の種類/, '欠陥種別'],
  [/不良領域/, '欠陥領域'],
  [/不良外|不良上/, '欠陥の外 / 欠陥上'],
  [/データ分割|の分割(?!し)|分割です|分割を使う/, 'データ区分'],
  [/「学習結果」/, '「学習履歴」 (the screen)'],
];

describe('glossary', () => {
  it('Japanese messages use the glossary term for each concept', () => {
    for (const [key, msg] of Object.entries(ja as Record<string, string>))
      for (const [bad, good] of JA_NOT) expect(bad.test(msg), `${key}: "${msg}" — use ${good}`).toBe(false);
  });

  it('each screen has one name, in the menu and on the page', () => {
    const c = ja as Record<string, string>;
    const e = en as Record<string, string>;
    for (const screen of ['library', 'train', 'runs', 'heatmaps', 'inspect', 'settings']) {
      expect(c[`${screen}.title`], screen).toBe(c[`nav.${screen}`]);
      expect(e[`${screen}.title`], screen).toBe(e[`nav.${screen}`]);
    }
  });

  it('English never uses "OK" for a correct prediction (OK means a good part)', () => {
    const e = en as Record<string, string>;
    for (const key of ['heatmaps.correct', 'heatmaps.result.correct']) expect(e[key]).not.toMatch(/^OK$/);
  });
});
