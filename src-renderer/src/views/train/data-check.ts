/**
 * The data step's checks, pure so they are unit-tested under Node (test/unit/renderer-data-check.test.ts): the
 * labels offered, the images per class and split the run will train on, and the warnings about them.
 * TrainWizard (wizard.svelte.ts) calls these with its own state.
 */
import type { LibraryStats, DefectType, SplitSettings } from '../../../../src-main/shared/library-types.ts';
import type { TrainConfig } from '../../../../src-main/shared/training-types.ts';
// The resize default's own bound, so the warning and the default chosen from the photos never disagree.
import { ASPECT_SPREAD } from '../../../../src-main/shared/resize-choice.ts';

export interface ClassRow {
  key: string;
  name: string;
  isOk: boolean;
  train: number;
  val: number;
  test: number;
  total: number;
}

/** A label (defect type) with images, as offered in the data step's label choice. */
export interface LabelChoice {
  key: string;
  name: string;
  isOk: boolean;
  total: number;
  included: boolean;
}

export type DataWarning =
  | { kind: 'fewImages'; cls: string; count: number; split: 'train' | 'val' }
  | { kind: 'unlabelled'; count: number }
  | { kind: 'imbalance'; ratio: number; big: string; small: string }
  | { kind: 'testNotLocked'; count: number }
  | { kind: 'noTest' }
  | { kind: 'noVal' }
  | { kind: 'oneClass' }
  | { kind: 'noOk' }
  | { kind: 'aspectDiffers'; narrow: string; narrowAspect: number; wide: string; wideAspect: number };

const MIN_TRAIN = 10;
const MIN_VAL = 3;
const IMBALANCE = 5;

/** What the checks read: the catalog's counts, the labels left out, and the run's task and split. */
export interface DataFacts {
  stats: LibraryStats | null;
  types: DefectType[];
  splitSettings: SplitSettings | null;
  /** Labels the user unticked (empty: every labelled class trains). */
  excluded: string[];
  config: Pick<TrainConfig, 'task' | 'split'>;
}

type PerLabel = LibraryStats['perLabel'][number];

function labelName(p: PerLabel, lang: 'en' | 'ja'): string {
  return lang === 'ja' ? p.nameJa || p.nameEn : p.nameEn;
}

/** Labels with images, each ticked unless the user left it out. */
export function labelChoices(f: DataFacts, lang: 'en' | 'ja'): LabelChoice[] {
  const okKeys = f.types.filter((t) => t.isOk).map((t) => t.key);
  return (f.stats?.perLabel ?? [])
    .filter((p) => p.total > 0)
    .map((p) => ({
      key: p.key,
      name: labelName(p, lang),
      isOk: okKeys.includes(p.key),
      total: p.total,
      included: !f.excluded.includes(p.key),
    }));
}

/** Rows per class for the chosen task (binary: OK vs every defect type together). */
export function classRows(f: DataFacts, lang: 'en' | 'ja'): ClassRow[] {
  const s = f.stats;
  if (!s) return [];
  const okKeys = f.types.filter((t) => t.isOk).map((t) => t.key);
  const rows = s.perLabel
    .filter((p) => !f.excluded.includes(p.key))
    .map((p) => ({
      key: p.key,
      name: labelName(p, lang),
      isOk: okKeys.includes(p.key),
      train: p.train,
      val: p.val,
      test: p.test,
      total: p.total,
    }));
  const split = f.config.split;
  // A random split is drawn at start: show what it will give per class, not the catalog's own split.
  const apply = (r: ClassRow): ClassRow => {
    // Cross-validation: the locked test images stay aside; each fold validates on about 1/k of the rest.
    if (split.mode === 'fold') {
      const val = Math.round((r.total - r.test) / split.folds);
      return { ...r, val, train: r.total - r.test - val };
    }
    if (split.mode !== 'random') return r;
    const test = Math.round(r.total * split.testFraction);
    const val = Math.round(r.total * split.valFraction);
    return { ...r, test, val, train: r.total - val - test };
  };
  if (f.config.task === 'multiclass') return rows.filter((r) => r.total > 0).map(apply);
  const sum = (rs: ClassRow[], key: string, name: string, isOk: boolean): ClassRow => ({
    key,
    name,
    isOk,
    train: rs.reduce((a, r) => a + r.train, 0),
    val: rs.reduce((a, r) => a + r.val, 0),
    test: rs.reduce((a, r) => a + r.test, 0),
    total: rs.reduce((a, r) => a + r.total, 0),
  });
  return [
    apply(
      sum(
        rows.filter((r) => r.isOk),
        'ok',
        'OK',
        true,
      ),
    ),
    apply(
      sum(
        rows.filter((r) => !r.isOk),
        'defect',
        'NG',
        false,
      ),
    ),
  ];
}

export function dataWarnings(f: DataFacts, rows: ClassRow[], lang: 'en' | 'ja' = 'en'): DataWarning[] {
  const w: DataWarning[] = [];
  const s = f.stats;
  if (!s) return w;
  const nonEmpty = rows.filter((r) => r.total > 0);
  if (nonEmpty.length < 2) w.push({ kind: 'oneClass' });
  if (f.config.task === 'binary' && !rows.some((r) => r.isOk && r.total > 0)) w.push({ kind: 'noOk' });
  for (const r of nonEmpty) {
    if (r.train < MIN_TRAIN) w.push({ kind: 'fewImages', cls: r.name, count: r.train, split: 'train' });
    else if (r.val < MIN_VAL) w.push({ kind: 'fewImages', cls: r.name, count: r.val, split: 'val' });
  }
  if (s.unlabelled > 0) w.push({ kind: 'unlabelled', count: s.unlabelled });
  if (nonEmpty.length >= 2) {
    const big = nonEmpty.reduce((a, b) => (b.total > a.total ? b : a));
    const small = nonEmpty.reduce((a, b) => (b.total < a.total ? b : a));
    const ratio = big.total / Math.max(1, small.total);
    if (ratio >= IMBALANCE) w.push({ kind: 'imbalance', ratio, big: big.name, small: small.name });
  }
  const aspect = aspectSpread(f, lang);
  if (aspect) w.push(aspect);
  if (rows.reduce((a, r) => a + r.val, 0) === 0 && f.config.split.mode === 'catalog') w.push({ kind: 'noVal' });
  const test = rows.reduce((a, r) => a + r.test, 0);
  if (f.config.split.mode === 'catalog') {
    if (test === 0) w.push({ kind: 'noTest' });
    else if (f.splitSettings && !f.splitSettings.testLocked) w.push({ kind: 'testNotLocked', count: test });
  }
  return w;
}

/**
 * The two included labels whose photos differ most in mean aspect (width / height), when they differ by
 * ASPECT_SPREAD or more: squashed square, the shape alone tells the classes apart. Null otherwise.
 */
export function aspectSpread(f: DataFacts, lang: 'en' | 'ja'): Extract<DataWarning, { kind: 'aspectDiffers' }> | null {
  const s = f.stats;
  if (!s || f.config.task === 'anomaly') return null;
  const withAspect = s.perLabel.filter((p) => !f.excluded.includes(p.key) && p.total > 0 && p.aspect && p.aspect > 0);
  if (withAspect.length < 2) return null;
  const narrow = withAspect.reduce((a, b) => (b.aspect! < a.aspect! ? b : a));
  const wide = withAspect.reduce((a, b) => (b.aspect! > a.aspect! ? b : a));
  if (wide.aspect! / narrow.aspect! < ASPECT_SPREAD) return null;
  return {
    kind: 'aspectDiffers',
    narrow: labelName(narrow, lang),
    narrowAspect: narrow.aspect!,
    wide: labelName(wide, lang),
    wideAspect: wide.aspect!,
  };
}

/** Blocking problems (training cannot start): fewer than two classes with training images. */
export function blocking(rows: ClassRow[]): boolean {
  return rows.filter((r) => r.train > 0).length < 2;
}
