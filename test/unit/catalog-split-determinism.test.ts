import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setLabel, setSplit, undo } from '../../src-main/services/library/edits.ts';
import type { ImportContext } from '../../src-main/services/library/import-context.ts';
import type * as ImportFile from '../../src-main/services/library/import-file.ts';
import { collectImport, IMPORT_CONCURRENCY, runImport, type ImportEntry } from '../../src-main/services/library/import.ts';
import { saveSplitSettings, SplitAssigner } from '../../src-main/services/library/splits.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import type { ImportRequest, Split, SplitSettings } from '../../src-main/shared/library-types.ts';

/**
 * An imported image's split depends on the seed, its label, its group (or content) and what the catalog held
 * before, never on the order the import's workers finish in: each file waits a random time before it is imported,
 * so two imports of the same files insert their rows in different orders.
 */
const hook = vi.hoisted(() => ({
  rng: null as (() => number) | null,
  order: [] as string[],
  /** Called before the n-th file (0-based) of an import is read. */
  before: null as ((ctx: ImportContext, n: number) => void) | null,
}));

vi.mock('../../src-main/services/library/import-file.ts', async (importOriginal) => {
  const real = await importOriginal<typeof ImportFile>();
  // Files are counted per import (one context each).
  let current: ImportContext | null = null;
  let n = 0;
  return {
    ...real,
    importFile: async (ctx: ImportContext, e: ImportEntry) => {
      if (ctx !== current) [current, n] = [ctx, 0];
      hook.before?.(ctx, n++);
      if (hook.rng) await new Promise((r) => setTimeout(r, Math.floor(hook.rng!() * 6)));
      await real.importFile(ctx, e);
      hook.order.push(e.path);
    },
  };
});

let tmp: string;
let s: Services;
let api: KensaApi;
let plain: string;
let grouped: string;
const COUNTS = { crazing: 40, inclusion: 31, patches: 25 };

/** mulberry32: a small seeded generator, so each import's delays differ but every test run is the same. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(xs: T[], r: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

let pngSeed = 0;
async function png(file: string): Promise<void> {
  const k = pngSeed++;
  const px = Buffer.alloc(8 * 8);
  for (let i = 0; i < px.length; i++) px[i] = (k * 37 + i * (1 + (k % 7))) % 256;
  px[0] = k % 256;
  px[1] = Math.floor(k / 256);
  writeFileSync(
    file,
    await sharp(px, { raw: { width: 8, height: 8, channels: 1 } })
      .png()
      .toBuffer(),
  );
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'kensa-split-det-'));
  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'res'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  plain = join(tmp, 'plain');
  for (const [label, n] of Object.entries(COUNTS)) {
    mkdirSync(join(plain, label), { recursive: true });
    for (let i = 1; i <= n; i++) await png(join(plain, label, `${label}_${i}.png`));
  }
  // 16 lots of 3 photos each (the lot is the group).
  grouped = join(tmp, 'grouped');
  mkdirSync(join(grouped, 'dent'), { recursive: true });
  for (let lot = 0; lot < 16; lot++) for (let j = 0; j < 3; j++) await png(join(grouped, 'dent', `LOT${lot}_${j}.png`));
});

afterAll(async () => {
  await s.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

const req = (path: string): ImportRequest => ({ paths: [path], labels: { from: 'folders' } });

async function freshProject(name: string, settings?: Partial<SplitSettings>): Promise<void> {
  await api.createProject(join(tmp, 'projects', name));
  if (settings) saveSplitSettings(s.projects.require().db, settings);
}

/** Imports with a random delay before each file (seeded by `delaySeed`); `order` = the order rows were inserted. */
async function importTimed(r: ImportRequest, delaySeed: number, given?: ImportEntry[]): Promise<{ order: string[] }> {
  hook.rng = rng(delaySeed);
  hook.order = [];
  try {
    await runImport(s.projects.require(), r, {}, given);
    return { order: hook.order };
  } finally {
    hook.rng = null;
  }
}

interface Row {
  path: string;
  name: string;
  label: string | null;
  group: string | null;
  split: Split;
}

function rows(): Row[] {
  return s.projects
    .require()
    .db.prepare(
      `SELECT i.original_path AS path, i.original_name AS name, t.key AS label, i.group_key AS "group", i.split AS split
         FROM images i LEFT JOIN defect_types t ON t.id = i.label_id ORDER BY i.original_path`,
    )
    .all() as Row[];
}

const splitMap = (rs: Row[]) => JSON.stringify(rs.map((r) => [r.path, r.split]));

/** content hash → split, for comparing imports of the same bytes under other paths. */
function bySha(): string {
  const rs = s.projects.require().db.prepare('SELECT sha256, split FROM images ORDER BY sha256').all() as {
    sha256: string;
    split: Split;
  }[];
  return JSON.stringify(rs.map((r) => [r.sha256, r.split]));
}

describe('import splits do not depend on timing', () => {
  let reference: Row[];
  let referenceSha: string;

  it('gives byte-identical path → split maps for the same folder imported in different orders and timings', async () => {
    expect(IMPORT_CONCURRENCY).toBeGreaterThan(1);
    await freshProject('a');
    const a = await importTimed(req(plain), 1);
    reference = rows();
    referenceSha = bySha();
    await freshProject('b');
    const walked = (await collectImport(req(plain))).entries;
    const b = await importTimed(req(plain), 2, shuffled(walked, rng(3)));
    // The rows really went in in different orders, so the splits cannot have come from the order.
    expect(b.order).not.toEqual(a.order);
    expect(b.order).toHaveLength(96);
    expect(splitMap(rows())).toBe(splitMap(reference));
  });

  it('keeps every label within one image of its target share', () => {
    for (const [label, n] of Object.entries(COUNTS)) {
      const val = reference.filter((r) => r.label === label && r.split === 'val').length;
      const train = reference.filter((r) => r.label === label && r.split === 'train').length;
      expect(val + train).toBe(n);
      expect(Math.abs(val - 0.24 * n)).toBeLessThanOrEqual(1);
    }
  });

  it('does not put every ~4th file of a numbered folder into val', () => {
    for (const label of Object.keys(COUNTS)) {
      const names = reference.filter((r) => r.label === label).map((r) => r.name);
      names.sort();
      const val = new Set(reference.filter((r) => r.label === label && r.split === 'val').map((r) => r.name));
      // What the deficit rule alone gives in the walk's (sorted) order: one in val every 4 or 5 files.
      const a = new SplitAssigner({ train: 0.76, val: 0.24, test: 0, seed: 42, groupPattern: null, testLocked: false });
      const strided = names.filter(() => a.assign(null, null) === 'val');
      expect([...val].sort()).not.toEqual(strided.sort());
      const pos = names.flatMap((n, i) => (val.has(n) ? [i] : []));
      const gaps = pos.slice(1).map((p, i) => p - pos[i]!);
      expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(2);
    }
  });

  it('keeps groups whole, the same way in both projects', async () => {
    const settings = { groupPattern: '^(LOT\\d+)_' };
    await freshProject('c', settings);
    await importTimed(req(grouped), 4);
    const c = rows();
    await freshProject('d', settings);
    await importTimed(req(grouped), 5, shuffled((await collectImport(req(grouped))).entries, rng(6)));
    expect(splitMap(rows())).toBe(splitMap(c));
    const byGroup = new Map<string, Set<Split>>();
    for (const r of c) {
      expect(r.group).toMatch(/^LOT\d+$/);
      const g = byGroup.get(r.group!) ?? new Set<Split>();
      byGroup.set(r.group!, g.add(r.split));
    }
    expect(byGroup.size).toBe(16);
    for (const g of byGroup.values()) expect(g.size).toBe(1);
    expect(c.filter((r) => r.split === 'val').length).toBeGreaterThan(0);
  });

  it('ends a cancelled import, resumed, with the splits of an uninterrupted one', async () => {
    await freshProject('e');
    const ac = new AbortController();
    hook.before = (_ctx, n) => {
      if (n === 40) ac.abort();
    };
    try {
      await expect(runImport(s.projects.require(), req(plain), { signal: ac.signal })).rejects.toMatchObject({ name: 'CancelledError' });
    } finally {
      hook.before = null;
    }
    const part = rows();
    expect(part.length).toBeGreaterThan(30);
    expect(part.length).toBeLessThan(96);
    const r = await runImport(s.projects.require(), req(plain));
    expect(r.resumed).toBe(true);
    expect(splitMap(rows())).toBe(splitMap(reference));
  });

  it('counts a label given during the import: the same content labelled so from the start gets the same split', async () => {
    await freshProject('f');
    let relabelled = false;
    hook.before = (ctx, n) => {
      if (n !== 60) return;
      const db = ctx.db;
      const id = db.prepare("SELECT id FROM images WHERE original_name = 'crazing_1.png'").pluck().get() as number;
      setLabel(db, [id], db.prepare("SELECT id FROM defect_types WHERE key = 'patches'").pluck().get() as number);
      relabelled = true;
    };
    try {
      await importTimed(req(plain), 8);
    } finally {
      hook.before = null;
    }
    expect(relabelled).toBe(true);
    const f = bySha();
    // The same files, crazing_1 in the patches folder.
    const moved = join(tmp, 'relabelled');
    cpSync(plain, moved, { recursive: true });
    renameSync(join(moved, 'crazing', 'crazing_1.png'), join(moved, 'patches', 'crazing_1.png'));
    await freshProject('g');
    await importTimed(req(moved), 9);
    expect(bySha()).toBe(f);
    expect(JSON.parse(f)).toHaveLength(96);
    // The label moved the deficit counts: the result is not the unlabelled-change one.
    expect(f).not.toBe(referenceSha);
  });

  it('never moves an image moved by hand or a test set locked during the import', async () => {
    await freshProject('h', { train: 0.7, val: 0.2, test: 0.1 });
    let moved: number[] = [];
    let lockedTest: number[] = [];
    hook.before = (ctx, n) => {
      const db = ctx.db;
      const ids = () =>
        db.prepare('SELECT id, split FROM images WHERE batch_id = ? ORDER BY id').all(ctx.batchId) as { id: number; split: Split }[];
      if (n === 20) {
        // Eight images put into val by hand: more than hash order and the deficit rule would leave there.
        const notVal = ids().filter((r) => r.split !== 'val');
        moved = notVal.slice(0, 8).map((r) => r.id);
        setSplit(db, moved, 'val');
        // Another image moved and the move undone: no hand move any more, it settles like the rest.
        setSplit(db, [notVal[8]!.id], 'val');
        undo(db);
      }
      if (n === 50) {
        saveSplitSettings(db, { testLocked: true });
        lockedTest = ids()
          .filter((r) => r.split === 'test')
          .map((r) => r.id);
      }
    };
    try {
      await importTimed(req(plain), 10);
    } finally {
      hook.before = null;
    }
    const now = s.projects.require().db.prepare('SELECT id, split FROM images').all() as { id: number; split: Split }[];
    const splitOf = new Map(now.map((r) => [r.id, r.split]));
    expect(moved).toHaveLength(8);
    for (const id of moved) expect(splitOf.get(id)).toBe('val');
    expect(lockedTest.length).toBeGreaterThan(0);
    for (const id of lockedTest) expect(splitOf.get(id)).toBe('test');
  });
});
