/**
 * Before / after comparison of two runs' localisation (plain vs guided, or before vs after adding samples): per
 * defect type, both runs' CAM pointing game and energy in region on the validation images, and how many of the
 * type's images each run got right; and the defect images both runs saw, paired for a side-by-side gallery.
 *
 * Pure (no Svelte, no API): the view fetches score tables, gallery pages and run details and hands them here.
 */
import type { GalleryItem, HeatmapScore, ScoreTable } from '../../../../src-main/shared/heatmap-types.ts';
import { decideClass } from '../../../../src-main/shared/operating-point.ts';
import type { RunDetail } from '../../../../src-main/shared/training-types.ts';

/** The aggregate row key of score tables (every defect type together). */
export const ALL_TYPES = '*';

export interface LocalisationFigures {
  /** Maps scored (defect images with regions). */
  count: number;
  pointing: number;
  energy: number;
  /** Mean region share of the image: the chance level of energy. */
  area: number;
}

/** k of n images of a type the run classified right (binary: flagged as a defect; multiclass: the right type). */
export interface Hits {
  k: number;
  n: number;
}

export interface CompareRow {
  /** Defect type key, or ALL_TYPES. */
  key: string;
  a: LocalisationFigures | null;
  b: LocalisationFigures | null;
  /** Pointing of B minus pointing of A (fraction; null when either is missing). */
  deltaPointing: number | null;
  recallA: Hits | null;
  recallB: Hits | null;
}

/** A run's CAM scores (default parameters) by defect type, ALL_TYPES included. */
export function camFigures(table: ScoreTable | null): Map<string, LocalisationFigures> {
  const out = new Map<string, LocalisationFigures>();
  for (const r of table?.rows ?? [])
    if (r.method === 'cam' && r.paramsKey === 'd' && r.count > 0)
      out.set(r.classKey, { count: r.count, pointing: r.pointingAccuracy, energy: r.meanEnergy, area: r.meanArea });
  return out;
}

/**
 * Per defect type (and ALL_TYPES), the share of a split's defect images the run classified right, at the run's own
 * decision threshold, from the per-image probabilities its evaluation kept. `typeOf` gives each image's defect type
 * (the gallery's true label: a binary run's classes are only OK / defect). Null when the evaluation kept no samples.
 */
export function typeHits(run: RunDetail, typeOf: ReadonlyMap<number, string>, split: 'val' | 'test' = 'val'): Map<string, Hits> | null {
  const e = run.evaluations.find((x) => x.split === split);
  if (!e?.samples) return null;
  const okIndex = e.okIndex ?? run.classInfo.findIndex((c) => c.isOk);
  const ok = okIndex !== null && okIndex >= 0 ? okIndex : null;
  const out = new Map<string, Hits>();
  const add = (key: string, right: boolean) => {
    const h = out.get(key) ?? { k: 0, n: 0 };
    h.n++;
    if (right) h.k++;
    out.set(key, h);
  };
  for (const s of e.samples) {
    if (s.label === ok) continue;
    const key = run.task === 'multiclass' ? run.classInfo[s.label]?.key : typeOf.get(s.id);
    if (!key) continue;
    const right = decideClass(s.probs, ok, e.threshold ?? null) === s.label;
    add(key, right);
    add(ALL_TYPES, right);
  }
  return out;
}

/**
 * The comparison table: one row per defect type either run has scores or hits for, in `order` (the catalog's
 * order; unknown keys after it, alphabetically), and the ALL_TYPES row last.
 */
export function compareRows(
  a: ReadonlyMap<string, LocalisationFigures>,
  b: ReadonlyMap<string, LocalisationFigures>,
  hitsA: ReadonlyMap<string, Hits> | null,
  hitsB: ReadonlyMap<string, Hits> | null,
  order: readonly string[],
): CompareRow[] {
  const keys = new Set<string>([...a.keys(), ...b.keys(), ...(hitsA?.keys() ?? []), ...(hitsB?.keys() ?? [])]);
  const rank = (k: string) => (k === ALL_TYPES ? Infinity : order.indexOf(k) < 0 ? order.length : order.indexOf(k));
  return [...keys]
    .sort((x, y) => rank(x) - rank(y) || x.localeCompare(y))
    .map((key) => {
      const fa = a.get(key) ?? null;
      const fb = b.get(key) ?? null;
      return {
        key,
        a: fa,
        b: fb,
        deltaPointing: fa && fb ? fb.pointing - fa.pointing : null,
        recallA: hitsA?.get(key) ?? null,
        recallB: hitsB?.get(key) ?? null,
      };
    });
}

export interface ImagePair {
  imageId: number;
  a: GalleryItem;
  b: GalleryItem;
  scoreA: HeatmapScore | null;
  scoreB: HeatmapScore | null;
  mediaA: string | null;
  mediaB: string | null;
}

/** Whether a gallery item is a defect image with regions (the only kind a map can be scored on). */
export function isScorable(item: GalleryItem, okKeys: ReadonlySet<string>): boolean {
  return item.regions.length > 0 && !okKeys.has(item.trueLabel);
}

/** The defect images with regions both runs have in the split, with each run's CAM map (when computed). */
export function pairImages(a: readonly GalleryItem[], b: readonly GalleryItem[], okKeys: ReadonlySet<string>): ImagePair[] {
  const inB = new Map(b.map((i) => [i.imageId, i]));
  const out: ImagePair[] = [];
  for (const ia of a) {
    const ib = inB.get(ia.imageId);
    if (!ib || !isScorable(ia, okKeys)) continue;
    const ma = ia.maps.find((m) => m.method === 'cam') ?? null;
    const mb = ib.maps.find((m) => m.method === 'cam') ?? null;
    out.push({
      imageId: ia.imageId,
      a: ia,
      b: ib,
      scoreA: ma?.score ?? null,
      scoreB: mb?.score ?? null,
      mediaA: ma?.mediaId ?? null,
      mediaB: mb?.mediaId ?? null,
    });
  }
  return out;
}

export type PairOrder = 'change' | 'name';

/**
 * 'change': the images where the two maps differ most first (a pointing that flips, then the energy difference), so
 * what guidance or the new samples changed is on top; pairs without both scores last. 'name': by file name.
 */
export function sortPairs(pairs: readonly ImagePair[], by: PairOrder): ImagePair[] {
  const byName = (x: ImagePair, y: ImagePair) =>
    x.a.fileName.localeCompare(y.a.fileName, undefined, { numeric: true }) || x.imageId - y.imageId;
  if (by === 'name') return [...pairs].sort(byName);
  const change = (p: ImagePair) =>
    p.scoreA && p.scoreB ? (p.scoreA.pointing !== p.scoreB.pointing ? 1 : 0) + Math.abs(p.scoreB.energy - p.scoreA.energy) : -1;
  return [...pairs].sort((x, y) => change(y) - change(x) || byName(x, y));
}

/** The images of a run's gallery that still lack their CAM map (defect images with regions only). */
export function missingMaps(items: readonly GalleryItem[], okKeys: ReadonlySet<string>): number[] {
  return items.filter((i) => isScorable(i, okKeys) && !i.maps.some((m) => m.method === 'cam')).map((i) => i.imageId);
}

/**
 * The two runs compared by default: a plain run before a run guided by regions when the selection has both (the
 * newest of each), otherwise the older run before the newer one.
 */
export function defaultPair(runs: readonly Pick<RunDetail, 'id' | 'config'>[]): [number, number] | null {
  if (runs.length < 2) return null;
  const newest = (list: readonly Pick<RunDetail, 'id'>[]) => list.reduce((x, y) => (y.id > x.id ? y : x)).id;
  const guided = runs.filter((r) => r.config.guideRegions === true);
  const plain = runs.filter((r) => r.config.guideRegions !== true);
  if (guided.length && plain.length) return [newest(plain), newest(guided)];
  const ids = runs.map((r) => r.id).sort((x, y) => x - y);
  return [ids[ids.length - 2]!, ids[ids.length - 1]!];
}
