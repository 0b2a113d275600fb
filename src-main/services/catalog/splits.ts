/**
 * Train / val / test splits: stratified by label, deterministic by seed, groups (a capture group of a
 * regex on the file name, e.g. a core serial, or a manual key) kept in one split, test set lockable.
 */
import { createHash } from 'node:crypto';
import type { Split, SplitSettings, SplitSummary } from '../../shared/catalog-types.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { Db } from '../db/open.ts';

export const DEFAULT_SPLIT_SETTINGS: SplitSettings = { train: 0.76, val: 0.24, test: 0, seed: 42, groupPattern: null, testLocked: false };
const META_KEY = 'split_settings';
const SPLITS: Split[] = ['train', 'val', 'test'];

export function getSplitSettings(db: Db): SplitSettings {
  const r = db.prepare('SELECT value FROM project_meta WHERE key = ?').pluck().get(META_KEY) as string | undefined;
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
    db.prepare('INSERT INTO project_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
      META_KEY,
      JSON.stringify(next),
    );
    if (next.groupPattern !== cur.groupPattern) {
      const upd = db.prepare('UPDATE images SET group_key = ? WHERE id = ?');
      for (const r of db.prepare('SELECT id, original_name FROM images WHERE group_manual = 0').all() as {
        id: number;
        original_name: string;
      }[]) {
        upd.run(groupKeyFor(re, r.original_name), r.id);
      }
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
  for (const r of db.prepare('SELECT label_id, group_key, split, COUNT(*) AS n FROM images GROUP BY label_id, group_key, split').all() as {
    label_id: number | null;
    group_key: string | null;
    split: Split;
    n: number;
  }[]) {
    a.seed(r.label_id, r.group_key, r.split, r.n);
  }
  return a;
}

/**
 * Re-splits the whole catalog: units (groups, or single images) in a seeded pseudo-random order,
 * stratified by their majority label. A locked test set keeps its images (and pulls in the rest
 * of a group that has one there); no other image enters it.
 */
export function resplit(db: Db): SplitSummary {
  const settings = getSplitSettings(db);
  const rows = db.prepare('SELECT id, label_id, group_key, split FROM images').all() as {
    id: number;
    label_id: number | null;
    group_key: string | null;
    split: Split;
  }[];
  const a = new SplitAssigner(settings);
  const units = new Map<string, typeof rows>();
  const lockedGroups = new Set<string>();
  for (const r of rows) {
    if (settings.testLocked && r.split === 'test' && r.group_key !== null) lockedGroups.add(r.group_key);
  }
  const assigned = new Map<number, Split>();
  for (const r of rows) {
    if (settings.testLocked && (r.split === 'test' || (r.group_key !== null && lockedGroups.has(r.group_key)))) {
      assigned.set(r.id, 'test');
      a.seed(r.label_id, r.group_key, 'test');
      continue;
    }
    const key = r.group_key !== null ? `g:${r.group_key}` : `i:${r.id}`;
    let u = units.get(key);
    if (!u) units.set(key, (u = []));
    u.push(r);
  }
  const ordered = [...units.entries()]
    .map(([key, members]) => ({ key, members, h: hash32(`${settings.seed}:${key}`) }))
    .sort((x, y) => x.h - y.h || (x.key < y.key ? -1 : 1));
  for (const u of ordered) {
    const votes = new Map<number | null, number>();
    for (const m of u.members) votes.set(m.label_id, (votes.get(m.label_id) ?? 0) + 1);
    const label = [...votes.entries()].sort((x, y) => y[1] - x[1] || String(x[0]).localeCompare(String(y[0])))[0]![0];
    const split = a.assign(label, null, u.members.length);
    for (const m of u.members) assigned.set(m.id, split);
  }
  let moved = 0;
  db.transaction(() => {
    const upd = db.prepare('UPDATE images SET split = ? WHERE id = ?');
    for (const r of rows) {
      const s = assigned.get(r.id)!;
      if (s !== r.split) {
        upd.run(s, r.id);
        moved++;
      }
    }
  })();
  return { moved, ...splitCounts(db) };
}

export function splitCounts(db: Db): Omit<SplitSummary, 'moved'> {
  const counts: Record<Split, number> = { train: 0, val: 0, test: 0 };
  const perLabel: Record<string, Record<Split, number>> = {};
  for (const r of db
    .prepare(
      "SELECT COALESCE(t.key, '(unlabelled)') AS k, i.split, COUNT(*) AS n FROM images i LEFT JOIN defect_types t ON t.id = i.label_id GROUP BY k, i.split",
    )
    .all() as { k: string; split: Split; n: number }[]) {
    counts[r.split] += r.n;
    (perLabel[r.k] ??= { train: 0, val: 0, test: 0 })[r.split] += r.n;
  }
  return { counts, perLabel };
}
