import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IN_CHUNK } from '../../src-main/services/db/in-list.ts';
import { migrate, type Db } from '../../src-main/services/db/open.ts';
import { createBatch, markInterrupted } from '../../src-main/services/db/repos/batches.ts';
import { readLibraryStats } from '../../src-main/services/db/repos/catalog-stats.ts';
import { insertType, moveImageLabels, unlabelImagesOf } from '../../src-main/services/db/repos/defect-types.ts';
import { readImageField, setImageField } from '../../src-main/services/db/repos/image-fields.ts';
import {
  imageShas,
  imageSizes,
  listExportImages,
  listLabelledImages,
  regionCountOf,
} from '../../src-main/services/db/repos/image-lookups.ts';
import { findBySha, insertImage, type NewImage } from '../../src-main/services/db/repos/images.ts';
import { getMeta, imageCountIfAny, setMeta } from '../../src-main/services/db/repos/project-meta.ts';
import { getRegionRow, insertRegionRow, mapRegion, regionRowOf } from '../../src-main/services/db/repos/regions.ts';
import { listSplitImages, setSplits, splitCountsByLabel } from '../../src-main/services/db/repos/splits.ts';

let db: Db;

const image = (i: number, over: Partial<NewImage> = {}): NewImage => ({
  sha256: i.toString(16).padStart(64, '0'),
  ext: 'png',
  format: 'png',
  width: 10 + i,
  height: 20 + i,
  channels: 1,
  bit_depth: 8,
  orientation: 1,
  pages: 1,
  page: null,
  byte_size: 100,
  original_path: `/photos/img_${i}.png`,
  original_name: `img_${i}.png`,
  batch_id: null,
  imported_at: '2026-01-01T00:00:00.000Z',
  label_id: null,
  core_type: 'unknown',
  note: '',
  review_state: 'unlabelled',
  split: 'train',
  group_key: null,
  ...over,
});

beforeEach(() => {
  db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db);
});

afterEach(() => db.close());

describe('repositories: rows and domain objects both ways', () => {
  it('stores a mask region from its runs and reads the same runs back (a rect keeps no blob)', () => {
    const type = insertType(db, { key: 'x-scratch', nameEn: 'Scratch', nameJa: '傷', color: '#ff0000', hotkey: null });
    const id = insertImage(db, image(1, { label_id: type, review_state: 'labelled' }));
    const rle = [3, 4, 200, 1];
    const common = { imageId: id, defectTypeId: type, x: 1, y: 2, w: 9, h: 23, source: 'user' as const, createdAt: 't' };
    const mask = insertRegionRow(db, regionRowOf({ ...common, kind: 'mask', rle }));
    const rect = insertRegionRow(db, regionRowOf({ ...common, kind: 'rect', rle }));
    expect(getRegionRow(db, rect)!.rle).toBeNull();
    expect(mapRegion(getRegionRow(db, mask)!)).toEqual({
      id: mask,
      imageId: id,
      defectTypeId: type,
      kind: 'mask',
      x: 1,
      y: 2,
      w: 9,
      h: 23,
      rle,
      source: 'user',
      createdAt: 't',
    });
    expect(regionCountOf(db, id)).toBe(2);
    expect(regionCountOf(db, 999)).toBe(0);
  });

  it('finds an image by its bytes with where it came from and how it is stored', () => {
    const batch = createBatch(db, 'fp', { paths: ['/photos'] });
    const id = insertImage(db, image(7, { batch_id: batch, ext: 'jpg' }));
    expect(findBySha(db, image(7).sha256)).toEqual({ id, originalPath: '/photos/img_7.png', ext: 'jpg', batchId: batch });
    expect(findBySha(db, 'f'.repeat(64))).toBeNull();
    // An import left running is counted as it is marked interrupted.
    expect(markInterrupted(db)).toBe(1);
    expect(markInterrupted(db)).toBe(0);
  });

  it('looks up sizes, hashes and fields of more images than one IN list holds', () => {
    const n = 2 * IN_CHUNK + 11;
    const ids = db.transaction(() => Array.from({ length: n }, (_, i) => insertImage(db, image(i + 1))))();
    const sizes = imageSizes(db, [...ids, 424242]);
    expect(sizes.size).toBe(n);
    expect(sizes.get(ids[n - 1]!)).toEqual({ id: ids[n - 1], width: 10 + n, height: 20 + n, name: `img_${n}.png` });
    expect(imageShas(db, ids).get(ids[0]!)).toBe(image(1).sha256);
    db.transaction(() => setImageField(db, 'core_type', 'rotor', ids.slice(IN_CHUNK - 5)))();
    const core = readImageField(db, 'core_type', ids);
    expect([...core.values()].filter((v) => v === 'rotor')).toHaveLength(n - IN_CHUNK + 5);
    expect(core.get(ids[0]!)).toBe('unknown');
    expect(() => setImageField(db, 'sha256' as never, 'x', ids)).toThrow(/Not an editable image field/);
  });

  it('reads splits, labels, stats and export rows in the domain’s words', () => {
    const ok = insertType(db, { key: 'x-ok', nameEn: 'OK', nameJa: '良品', color: '#00ff00', hotkey: null, isOk: true });
    const bad = insertType(db, { key: 'x-dent', nameEn: 'Dent', nameJa: '打痕', color: '#ff0000', hotkey: null });
    const a = insertImage(db, image(1, { label_id: ok, review_state: 'labelled', group_key: 'SN1' }));
    const b = insertImage(db, image(2, { label_id: bad, review_state: 'labelled', split: 'val' }));
    insertImage(db, image(3));
    expect(listSplitImages(db).find((r) => r.id === a)).toEqual({ id: a, labelId: ok, groupKey: 'SN1', split: 'train' });
    setSplits(db, [{ id: a, split: 'test' }]);
    expect(splitCountsByLabel(db)).toEqual(
      expect.arrayContaining([
        { key: 'x-ok', split: 'test', n: 1 },
        { key: 'x-dent', split: 'val', n: 1 },
        { key: '(unlabelled)', split: 'train', n: 1 },
      ]),
    );
    expect(listLabelledImages(db).map((s) => [s.imageId, s.label, s.split])).toEqual([
      [a, 'x-ok', 'test'],
      [b, 'x-dent', 'val'],
    ]);
    const stats = readLibraryStats(db);
    expect(stats).toMatchObject({ total: 3, unlabelled: 1, perSplit: { train: 1, val: 1, test: 1 }, regions: 0, batches: 0 });
    expect(listExportImages(db, { labels: [bad] })).toEqual([
      expect.objectContaining({ id: b, name: 'img_2.png', label: 'x-dent', split: 'val', coreType: 'unknown', reviewState: 'labelled' }),
    ]);
    expect(moveImageLabels(db, bad, ok)).toBe(1);
    expect(unlabelImagesOf(db, ok)).toBe(2);
    expect(readLibraryStats(db).unlabelled).toBe(3);
  });

  it('keeps project facts and counts images only once the table exists', () => {
    expect(getMeta(db, 'name')).toBeNull();
    setMeta(db, 'name', 'Line 3');
    setMeta(db, 'name', 'Line 4');
    expect(getMeta(db, 'name')).toBe('Line 4');
    expect(imageCountIfAny(db)).toBe(0);
    insertImage(db, image(1));
    expect(imageCountIfAny(db)).toBe(1);
    const bare = new Database(':memory:');
    expect(imageCountIfAny(bare)).toBe(0);
    bare.close();
  });
});
