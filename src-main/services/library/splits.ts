/**
 * Train / val / test splits: stratified by label, deterministic by seed, groups (a capture group of a
 * regex on the file name, e.g. a core serial, or a manual key) kept in one split, test set lockable.
 */
import { createHash } from 'node:crypto';
import type { Split, SplitSettings, SplitSummary } from '../../shared/library-types.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { Db } from '../db/open.ts';
import { getMeta, setMeta } from '../db/repos/project-meta.ts';
import {
  handSplitIds,
  listHashedSplitImages,
  patternGroupedImages,
  setGroupKeys,
  setSplits,
  splitCells,
  splitCellsOutsideBatch,
  splitCountsByLabel,
  type HashedSplitImage,
} from '../db/repos/splits.ts';

export const DEFAULT_SPLIT_SETTINGS: SplitSettings = { train: 0.76, val: 0.24, test: 0, seed: 42, groupPattern: null, testLocked: false };
const META_KEY = 'split_settings';
const SPLITS: Split[] = ['train', 'val', 'test'];

export function getSplitSettings(db: Db): SplitSettings {
  const r = getMeta(db, META_KEY);
  return r ? { ...DEFAULT_SPLIT_SETTINGS, ...(JSON.parse(r) as Partial<SplitSettings>) } : { ...DEFAULT_SPLIT_SETTINGS };
}

export function compilePattern(pattern: string | null): RegExp | null {
  if (pattern === null || pattern === '') return null;
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (err) {
    throw new ValidationError(`The group pattern is not a valid regular expression: ${(err as Error).message}`);
  }
  const groups = new RegExp(`${pattern}|`).exec('')!.length - 1;
  if (groups < 1) throw new ValidationError('The group pattern needs one capture group in parentheses, e.g. ^(SN\\d+)_ for a core serial.');
  return re;
}

export function groupKeyFor(pattern: string | RegExp | null, name: string): string | null {
  const re = typeof pattern === 'string' ? compilePattern(pattern) : pattern;
  if (!re) return null;
  const m = re.exec(name);
  return m?.[1] ?? null;
}

/** Validates and stores the settings; a changed pattern recomputes the (non-manual) group keys. */
export function saveSplitSettings(db: Db, patch: Partial<SplitSettings>): SplitSettings {
  const cur = getSplitSettings(db);
  const next: SplitSettings = { ...cur, ...patch };
  for (const k of ['train', 'val', 'test'] as const) {
    if (typeof next[k] !== 'number' || !(next[k] >= 0 && next[k] <= 1))
      throw new ValidationError(`The ${k} share must be between 0 and 1.`);
  }
  const sum = next.train + next.val + next.test;
  if (Math.abs(sum - 1) > 1e-6)
    throw new ValidationError(`The train, val and test shares must add up to 100 % (they add up to ${Math.round(sum * 1000) / 10} %).`);
  if (next.train + next.val <= 0) throw new ValidationError('Train and val cannot both be 0 %.');
  if (!Number.isInteger(next.seed)) throw new ValidationError('The seed must be a whole number.');
  const re = compilePattern(next.groupPattern);
  db.transaction(() => {
    setMeta(db, META_KEY, JSON.stringify(next));
    if (next.groupPattern !== cur.groupPattern) {
      setGroupKeys(
        db,
        patternGroupedImages(db).map((r) => ({ id: r.id, groupKey: groupKeyFor(re, r.name) })),
      );
    }
  })();
  return next;
}

function hash32(s: string): number {
  return createHash('sha1').update(s).digest().readUInt32BE(0);
}

/**
 * Picks splits with the largest deficit against the target shares, per stratum (label). Counts can
 * be seeded with images that keep their split.
 */
export class SplitAssigner {
  private counts = new Map<string, Record<Split, number>>();
  private groups = new Map<string, Split>();
  private shares: Record<Split, number>;

  constructor(settings: SplitSettings) {
    const s = settings;
    if (s.testLocked) {
      const tv = s.train + s.val;
      this.shares = { train: s.train / tv, val: s.val / tv, test: 0 };
    } else this.shares = { train: s.train, val: s.val, test: s.test };
  }

  /** Counts an image that keeps its split (and pins its group there). */
  seed(label: number | null, groupKey: string | null, split: Split, n = 1): void {
    this.bucket(label)[split] += n;
    if (groupKey !== null && !this.groups.has(groupKey)) this.groups.set(groupKey, split);
  }

  groupSplit(groupKey: string | null): Split | undefined {
    return groupKey === null ? undefined : this.groups.get(groupKey);
  }

  assign(label: number | null, groupKey: string | null, n = 1): Split {
    const pinned = this.groupSplit(groupKey);
    const b = this.bucket(label);
    let split: Split;
    if (pinned) split = pinned;
    else {
      const total = b.train + b.val + b.test + n;
      let best: Split = 'train';
      let bestDeficit = -Infinity;
      for (const s of SPLITS) {
        if (this.shares[s] <= 0) continue;
        const deficit = this.shares[s] * total - b[s];
        if (deficit > bestDeficit + 1e-9) {
          best = s;
          bestDeficit = deficit;
        }
      }
      split = best;
      if (groupKey !== null) this.groups.set(groupKey, split);
    }
    b[split] += n;
    return split;
  }

  private bucket(label: number | null): Record<Split, number> {
    const k = String(label);
    let b = this.counts.get(k);
    if (!b) this.counts.set(k, (b = { train: 0, val: 0, test: 0 }));
    return b;
  }
}

/** An assigner primed with every image already in the catalog (for new imports). */
export function assignerForNewImages(db: Db): SplitAssigner {
  const a = new SplitAssigner(getSplitSettings(db));
  for (const r of splitCells(db)) a.seed(r.labelId, r.groupKey, r.split, r.n);
  return a;
}

/**
 * Assigns units (a group's images together, else one image) in a seeded pseudo-random order: hash32(seed:key), the
 * key being the group key or the content hash, so neither file names, insertion order nor ids (which follow the
 * order an import's workers finish in) decide anything. Each unit counts for its majority label. `pinGroups` lets a
 * group already seeded into the assigner (images that keep their split) pull its new images into that split.
 */
function assignInHashOrder(a: SplitAssigner, rows: HashedSplitImage[], seed: number, pinGroups: boolean): Map<number, Split> {
  const units = new Map<string, HashedSplitImage[]>();
  for (const r of rows) {
    const key = r.groupKey !== null ? `g:${r.groupKey}` : `i:${r.sha256}`;
    let u = units.get(key);
    if (!u) units.set(key, (u = []));
    u.push(r);
  }
  const ordered = [...units.entries()]
    .map(([key, members]) => ({ key, members, h: hash32(`${seed}:${key}`) }))
    .sort((x, y) => x.h - y.h || (x.key < y.key ? -1 : 1));
  const assigned = new Map<number, Split>();
  for (const u of ordered) {
    // A tie goes to the label met first in content-hash order (label ids follow the order types were created in).
    const votes = new Map<number | null, number>();
    for (const m of [...u.members].sort((x, y) => (x.sha256 < y.sha256 ? -1 : 1))) votes.set(m.labelId, (votes.get(m.labelId) ?? 0) + 1);
    const label = [...votes.entries()].sort((x, y) => y[1] - x[1])[0]![0];
    const split = a.assign(label, pinGroups ? u.members[0]!.groupKey : null, u.members.length);
    for (const m of u.members) assigned.set(m.id, split);
  }
  return assigned;
}

function changesOf(rows: HashedSplitImage[], assigned: Map<number, Split>): { id: number; split: Split }[] {
  return rows.flatMap((r) => {
    const split = assigned.get(r.id);
    return split !== undefined && split !== r.split ? [{ id: r.id, split }] : [];
  });
}

/**
 * Re-splits the whole catalog: units (groups, or single images) in a seeded pseudo-random order,
 * stratified by their majority label. A locked test set keeps its images (and pulls in the rest
 * of a group that has one there); no other image enters it.
 */
export function resplit(db: Db): SplitSummary {
  const settings = getSplitSettings(db);
  const rows = listHashedSplitImages(db);
  const a = new SplitAssigner(settings);
  const lockedGroups = new Set<string>();
  for (const r of rows) {
    if (settings.testLocked && r.split === 'test' && r.groupKey !== null) lockedGroups.add(r.groupKey);
  }
  const assigned = new Map<number, Split>();
  const free: HashedSplitImage[] = [];
  for (const r of rows) {
    if (settings.testLocked && (r.split === 'test' || (r.groupKey !== null && lockedGroups.has(r.groupKey)))) {
      assigned.set(r.id, 'test');
      a.seed(r.labelId, r.groupKey, 'test');
    } else free.push(r);
  }
  for (const [id, split] of assignInHashOrder(a, free, settings.seed, false)) assigned.set(id, split);
  const changes = changesOf(rows, assigned);
  db.transaction(() => setSplits(db, changes))();
  return { moved: changes.length, ...splitCounts(db) };
}

/**
 * Settles one import batch's splits once its workers stop (done, cancelled, failed) and when an interrupted batch
 * resumes. While importing, each image gets a provisional split as its row is inserted, i.e. in the order the
 * workers finish, which varies run to run; here the batch's images are assigned again in hash order by the same
 * deficit rule, primed with every image outside the batch, so the same files into the same catalog always end in
 * the same splits. What keeps its split: images outside the batch, the batch's images the user moved by hand
 * meanwhile, and a locked test set. Labels and group keys are read as they are now (a label given during the
 * import counts). One transaction; returns how many images moved.
 */
export function settleBatchSplits(db: Db, batchId: number): number {
  return db.transaction(() => {
    const settings = getSplitSettings(db);
    const rows = listHashedSplitImages(db, batchId);
    if (rows.length === 0) return 0;
    const byHand = handSplitIds(db, batchId);
    const keeps = (r: HashedSplitImage) => byHand.has(r.id) || (settings.testLocked && r.split === 'test');
    const a = new SplitAssigner(settings);
    // A group's first seeded split pins it; with a locked test set, test pins first (as in resplit).
    const kept = [
      ...splitCellsOutsideBatch(db, batchId),
      ...rows.filter(keeps).map((r) => ({ labelId: r.labelId, groupKey: r.groupKey, split: r.split, n: 1 })),
    ];
    if (settings.testLocked) kept.sort((x, y) => Number(y.split === 'test') - Number(x.split === 'test'));
    for (const c of kept) a.seed(c.labelId, c.groupKey, c.split, c.n);
    const free = rows.filter((r) => !keeps(r));
    const changes = changesOf(rows, assignInHashOrder(a, free, settings.seed, true));
    setSplits(db, changes);
    return changes.length;
  })();
}

export function splitCounts(db: Db): Omit<SplitSummary, 'moved'> {
  const counts: Record<Split, number> = { train: 0, val: 0, test: 0 };
  const perLabel: Record<string, Record<Split, number>> = {};
  for (const r of splitCountsByLabel(db)) {
    counts[r.split] += r.n;
    (perLabel[r.key] ??= { train: 0, val: 0, test: 0 })[r.split] += r.n;
  }
  return { counts, perLabel };
}
