import { describe, expect, it } from 'vitest';
import type { LibraryStats, DefectType } from '../../src-main/shared/library-types.ts';
import { ASPECT_SPREAD, chooseResize } from '../../src-main/shared/resize-choice.ts';
import {
  aspectSpread,
  blocking,
  classRows,
  dataWarnings,
  labelChoices,
  type DataFacts,
} from '../../src-renderer/src/views/train/data-check.ts';

type PerLabel = LibraryStats['perLabel'][number];
const label = (key: string, train: number, val: number, test: number, aspect: number | null = 1, nameJa = ''): PerLabel => ({
  key,
  nameEn: key.toUpperCase(),
  nameJa,
  total: train + val + test,
  train,
  val,
  test,
  aspect,
});
const type = (key: string, isOk: boolean): DefectType => ({
  id: 0,
  key,
  nameEn: key,
  nameJa: key,
  color: '#000',
  hotkey: null,
  isOk,
  sortOrder: 0,
  imageCount: 0,
  regionCount: 0,
});
const stats = (perLabel: PerLabel[], unlabelled = 0): LibraryStats =>
  ({ total: perLabel.reduce((a, p) => a + p.total, 0) + unlabelled, unlabelled, perLabel }) as LibraryStats;

const facts = (over: Partial<DataFacts> = {}): DataFacts => ({
  stats: stats([label('ok', 60, 20, 10, 1, '良品'), label('scratch', 30, 10, 5, 1, 'キズ'), label('dent', 12, 4, 0)]),
  types: [type('ok', true), type('scratch', false), type('dent', false)],
  splitSettings: { train: 0.76, val: 0.24, test: 0, seed: 1, groupPattern: null, testLocked: true } as DataFacts['splitSettings'],
  excluded: [],
  config: { task: 'multiclass', split: { mode: 'catalog' } },
  ...over,
});

describe('the training wizard data checks (views/train/data-check.ts)', () => {
  it('offers every label with images, in the UI language, ticked unless left out', () => {
    const f = facts({ excluded: ['dent'] });
    expect(labelChoices(f, 'ja').map((l) => [l.key, l.name, l.isOk, l.total, l.included])).toEqual([
      ['ok', '良品', true, 90, true],
      ['scratch', 'キズ', false, 45, true],
      // No Japanese name: the English one.
      ['dent', 'DENT', false, 16, false],
    ]);
  });

  it('counts a binary run as OK against every defect type together, leaving out unticked labels', () => {
    const rows = classRows(facts({ config: { task: 'binary', split: { mode: 'catalog' } }, excluded: ['dent'] }), 'en');
    expect(rows).toEqual([
      { key: 'ok', name: 'OK', isOk: true, train: 60, val: 20, test: 10, total: 90 },
      { key: 'defect', name: 'NG', isOk: false, train: 30, val: 10, test: 5, total: 45 },
    ]);
  });

  it('shows what a random split will give per class instead of the catalog split', () => {
    const rows = classRows(
      facts({ config: { task: 'multiclass', split: { mode: 'random', valFraction: 0.2, testFraction: 0.1, seed: 1 } } }),
      'en',
    );
    expect(rows.map((r) => [r.key, r.train, r.val, r.test])).toEqual([
      ['ok', 63, 18, 9],
      ['scratch', 31, 9, 5],
      ['dent', 11, 3, 2],
    ]);
  });

  it('warns about few images, no test split, an unlocked test split and imbalance', () => {
    const f = facts({ stats: stats([label('ok', 80, 20, 0), label('scratch', 8, 2, 0)], 3) });
    const kinds = dataWarnings(f, classRows(f, 'en')).map((w) => w.kind);
    expect(kinds).toEqual(['fewImages', 'unlabelled', 'imbalance', 'noTest']);
    const unlocked = facts({ splitSettings: { ...facts().splitSettings!, testLocked: false } });
    expect(dataWarnings(unlocked, classRows(unlocked, 'en'))).toContainEqual({ kind: 'testNotLocked', count: 15 });
    // A binary run without OK images cannot learn what OK looks like.
    const noOk = facts({ config: { task: 'binary', split: { mode: 'catalog' } }, excluded: ['ok'] });
    expect(dataWarnings(noOk, classRows(noOk, 'en')).map((w) => w.kind)).toContain('noOk');
  });

  it('points out photo shapes that tell classes apart, but not for anomaly runs', () => {
    const f = facts({
      stats: stats([label('ok', 60, 20, 10, 1.0), label('scratch', 30, 10, 5, 1.5, 'キズ'), label('dent', 12, 4, 0, 1.05)]),
    });
    expect(aspectSpread(f, 'ja')).toEqual({ kind: 'aspectDiffers', narrow: 'OK', narrowAspect: 1, wide: 'キズ', wideAspect: 1.5 });
    expect(aspectSpread({ ...f, excluded: ['scratch'] }, 'en')).toBeNull();
    expect(aspectSpread({ ...f, config: { task: 'anomaly', split: { mode: 'catalog' } } }, 'en')).toBeNull();
  });

  it('warns about photo shapes exactly where the resize rule sees the classes differ', () => {
    for (const wide of [1, ASPECT_SPREAD - 0.001, ASPECT_SPREAD, ASPECT_SPREAD + 0.001, 1.5]) {
      const f = facts({ stats: stats([label('ok', 60, 20, 10, 1.0), label('scratch', 30, 10, 5, wide)]) });
      const warned = aspectSpread(f, 'en') !== null;
      const choice = chooseResize([
        { key: 'ok', total: 90, aspect: 1 },
        { key: 'scratch', total: 45, aspect: wide },
      ]);
      expect(warned, String(wide)).toBe(choice.reason.kind === 'aspectDiffers');
      expect(warned, String(wide)).toBe(wide >= ASPECT_SPREAD);
    }
  });

  it('blocks the start until two classes have training images', () => {
    const f = facts();
    expect(blocking(classRows(f, 'en'))).toBe(false);
    expect(blocking(classRows({ ...f, excluded: ['scratch', 'dent'] }, 'en'))).toBe(true);
    expect(classRows({ ...f, stats: null }, 'en')).toEqual([]);
  });
});
