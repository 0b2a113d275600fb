/**
 * The wizard's images per class under k-fold cross-validation (views/train/data-check.ts): the locked test images
 * stay aside, each fold validates on about 1/k of the rest.
 */
import { describe, expect, it } from 'vitest';
import type { LibraryStats, DefectType } from '../../src-main/shared/library-types.ts';
import { classRows, dataWarnings, type DataFacts } from '../../src-renderer/src/views/train/data-check.ts';

type PerLabel = LibraryStats['perLabel'][number];
const label = (key: string, train: number, val: number, test: number): PerLabel => ({
  key,
  nameEn: key,
  nameJa: key,
  total: train + val + test,
  train,
  val,
  test,
  aspect: 1,
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

describe('cross-validation rows in the wizard', () => {
  it('keeps the catalog test images aside and puts about 1/k of the rest in validation', () => {
    const f: DataFacts = {
      stats: { total: 150, unlabelled: 0, perLabel: [label('ok', 70, 20, 10), label('scratch', 35, 10, 5)] } as unknown as LibraryStats,
      types: [type('ok', true), type('scratch', false)],
      splitSettings: null,
      excluded: [],
      config: { task: 'multiclass', split: { mode: 'fold', folds: 5, fold: 0, seed: 1, groupBy: 'batch' } },
    };
    const rows = classRows(f, 'en');
    expect(rows.map((r) => [r.key, r.train, r.val, r.test, r.total])).toEqual([
      ['ok', 72, 18, 10, 100],
      ['scratch', 36, 9, 5, 50],
    ]);
    // No "no validation images" warning: every fold validates, whatever the catalog's own split.
    expect(dataWarnings(f, rows).map((w) => w.kind)).not.toContain('noVal');
  });
});
