import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../src-main/services/library/import.ts';
import { insertImage } from '../../src-main/services/db/repos/images.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import type { Split } from '../../src-main/shared/library-types.ts';

let tmp: string;
let s: Services;
let api: KensaApi;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'kensa-cat-split-'));
  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'res'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  await api.createProject(join(tmp, 'p'));
  const db = s.projects.require().db;
  const types = await api.listDefectTypes();
  // 500 OK + 100 of each defect; names carry a core serial SN<k> shared by 5 images each.
  const now = new Date().toISOString();
  db.transaction(() => {
    let n = 0;
    const add = (labelId: number, count: number) => {
      for (let i = 0; i < count; i++, n++) {
        insertImage(db, {
          sha256: n.toString(16).padStart(64, '0'),
          ext: 'jpg',
          format: 'jpeg',
          width: 10,
          height: 10,
          channels: 1,
          bit_depth: 8,
          orientation: 1,
          pages: 1,
          page: null,
          byte_size: 1,
          original_path: `/x/SN${Math.floor(n / 5)}_${n}.jpg`,
          original_name: `SN${Math.floor(n / 5)}_${n}.jpg`,
          batch_id: null,
          imported_at: now,
          label_id: labelId,
          core_type: 'stator',
          note: '',
          review_state: 'labelled',
          split: 'train',
          group_key: null,
        });
      }
    };
    add(types[0]!.id, 500);
    for (const t of types.slice(1)) add(t.id, 100);
  })();
});

afterAll(async () => {
  await s.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

async function splitsById(): Promise<Map<number, Split>> {
  const m = new Map<number, Split>();
  for (const sp of ['train', 'val', 'test'] as const) for (const id of await api.listImageIds({ splits: [sp] })) m.set(id, sp);
  return m;
}

describe('splits', () => {
  it('defaults to 76/24 stratified by label, deterministic by seed', async () => {
    expect(await api.getSplitSettings()).toMatchObject({ train: 0.76, val: 0.24, test: 0, testLocked: false, groupPattern: null });
    const r = await api.resplit();
    expect(r.counts).toEqual({ train: 684, val: 216, test: 0 });
    expect(r.perLabel['ok']).toEqual({ train: 380, val: 120, test: 0 });
    for (const k of ['scratch', 'dent', 'chip', 'sheet_shift']) expect(r.perLabel[k]).toEqual({ train: 76, val: 24, test: 0 });
    const a = await splitsById();
    expect((await api.resplit()).moved).toBe(0);
    await api.setSplitSettings({ seed: 7 });
    expect((await api.resplit()).moved).toBeGreaterThan(50);
    await api.setSplitSettings({ seed: 42 });
    await api.resplit();
    expect(await splitsById()).toEqual(a);
  });

  it('keeps a group in one split and never moves a locked test set', async () => {
    await expect(api.setSplitSettings({ groupPattern: 'SN\\d+' })).rejects.toThrow(/capture group/);
    await expect(api.setSplitSettings({ train: 0.5, val: 0.2, test: 0.2 })).rejects.toThrow(/add up/);
    await api.setSplitSettings({ groupPattern: '^(SN\\d+)_', train: 0.7, val: 0.2, test: 0.1 });
    const r = await api.resplit();
    expect(r.counts.test).toBeGreaterThan(70);
    expect(r.counts.test).toBeLessThan(110);
    const byId = await splitsById();
    const groups = new Map<string, Set<Split>>();
    for (const id of await api.listImageIds()) {
      const d = await api.getImage(id);
      expect(d.groupKey).toMatch(/^SN\d+$/);
      let g = groups.get(d.groupKey!);
      if (!g) groups.set(d.groupKey!, (g = new Set()));
      g.add(byId.get(id)!);
    }
    for (const g of groups.values()) expect(g.size).toBe(1);

    await api.setSplitSettings({ testLocked: true, seed: 99 });
    const testBefore = await api.listImageIds({ splits: ['test'] });
    const r2 = await api.resplit();
    expect(r2.moved).toBeGreaterThan(0);
    expect(await api.listImageIds({ splits: ['test'] })).toEqual(testBefore);
    const trainId = (await api.listImageIds({ splits: ['train'] }))[0]!;
    await expect(api.setSplit([trainId], 'test')).rejects.toMatchObject({ name: 'ConflictError' });
    await expect(api.setSplit([testBefore[0]!], 'train')).rejects.toMatchObject({ name: 'ConflictError' });
    await api.setSplit([trainId], 'val');
    expect((await api.getImage(trainId)).split).toBe('val');
    await api.undo();
    expect((await api.getImage(trainId)).split).toBe('train');
  });

  it('assigns new imports with the same ratios and keeps them with their group', async () => {
    await api.setSplitSettings({ testLocked: false, train: 0.76, val: 0.24, test: 0, groupPattern: '^(SN\\d+)_' });
    await api.resplit();
    const src = join(tmp, 'new', 'dent');
    mkdirSync(src, { recursive: true });
    for (let i = 0; i < 25; i++) {
      const px = Buffer.alloc(16 * 16 * 3, i * 9);
      writeFileSync(
        join(src, `LOT${i}_${i}.png`),
        await sharp(px, { raw: { width: 16, height: 16, channels: 3 } })
          .png()
          .toBuffer(),
      );
    }
    // One new image belongs to an existing group: it joins that group's split.
    const grouped = (await api.getImage((await api.listImageIds({ splits: ['val'] }))[0]!)).groupKey!;
    const px = Buffer.alloc(16 * 16 * 3, 250);
    writeFileSync(
      join(src, `${grouped}_extra.png`),
      await sharp(px, { raw: { width: 16, height: 16, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const r = await runImport(s.projects.require(), { paths: [join(tmp, 'new')], labels: { from: 'folders' } });
    expect(r.imported).toBe(26);
    const extra = (await api.listImages({ filter: { nameContains: '_extra' } })).items[0]!;
    expect(extra.split).toBe('val');
    const st = await api.getLibraryStats();
    const dent = st.perLabel.find((l) => l.key === 'dent')!;
    expect(dent.total).toBe(126);
    expect(Math.abs(dent.train / dent.total - 0.76)).toBeLessThan(0.03);
  });
});
