import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populateDemoProject } from '../../src-main/services/library/demo/populate.ts';
import { regionMask } from '../../src-main/services/library/dataset.ts';
import { listRegionBoxes } from '../../src-main/services/db/repos/regions.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import { createTypeFromName, PALETTE } from '../../src-main/services/library/labels.ts';
import { decodeRle, encodeRle } from '../../src-main/services/library/rle.ts';
import { blobToRle, rleToBlob } from '../../src-main/services/db/rle-blob.ts';
import { LATEST_SCHEMA_VERSION } from '../../src-main/services/db/migrations/index.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Project } from '../../src-main/services/projects/project.ts';
import { Services } from '../../src-main/services/services.ts';
import type { KensaApi } from '../../src-main/shared/api/index.ts';

let tmp: string;
let s: Services;
let api: KensaApi;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'kensa-cat-label-'));
  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'res'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  const p = await s.projects.create(join(tmp, 'demo'), 'demo', { isDemo: true });
  await populateDemoProject(s, p, { count: 15, seed: 3 });
});

afterAll(async () => {
  await s.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('RLE', () => {
  it('round-trips through runs and the varint blob', () => {
    const bits = Uint8Array.from([0, 1, 1, 1, 0, 0]);
    expect(encodeRle(bits)).toEqual([1, 3, 2]);
    expect(Array.from(decodeRle([1, 3, 2], 3, 2))).toEqual(Array.from(bits));
    expect(encodeRle(Uint8Array.from([1, 1, 0, 0, 0, 1]))).toEqual([0, 2, 3, 1]);
    expect(Array.from(decodeRle([1, 3], 3, 2))).toEqual(Array.from(bits));
    const runs = [0, 300, 5, 70000, 1];
    expect(blobToRle(rleToBlob(runs))).toEqual(runs);
    expect(() => decodeRle([5, 5], 2, 2)).toThrow(/more than/);
  });
});

describe('demo project', () => {
  it('has labelled images with core types and masks of each defect', async () => {
    const st = await api.getLibraryStats();
    expect(st.total).toBe(15);
    expect(Object.fromEntries(st.perLabel.map((l) => [l.key, l.total]))).toEqual({ ok: 5, scratch: 3, dent: 3, chip: 2, sheet_shift: 2 });
    expect(st.perCoreType.unknown).toBe(0);
    expect(st.regions).toBe(10);
    const db = s.projects.require().db;
    const img = (await api.listImages({ filter: { hasRegions: true }, limit: 1 })).items[0]!;
    expect([img.width, img.height]).toEqual([640, 640]);
    const m = regionMask(db, img.id, 640, 640);
    expect(m.reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
    const small = regionMask(db, img.id, 64, 64);
    expect(small.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(listRegionBoxes(db, img.id)).toHaveLength(1);
    expect(listTypes(db)[0]).toMatchObject({ key: 'ok', isOk: true, hotkey: '0' });
  });
});

describe('labelling with undo/redo', () => {
  it('undoes and redoes labels, bulk labels, core type, note, review state and regions, across a reload', async () => {
    const types = await api.listDefectTypes();
    const dent = types.find((t) => t.key === 'dent')!;
    const ids = (await api.listImageIds({ labels: [types[0]!.id] })).slice(0, 3);
    const before = await Promise.all(ids.map((i) => api.getImage(i)));

    const e1 = await api.setLabel(ids, dent.id);
    expect(e1.action).toBe('bulkLabel');
    // Each edit says what it did as data, for the UI to phrase in its language, besides the English sentence.
    expect(e1.what).toEqual({ kind: 'label', count: 3, typeId: dent.id, typeName: dent.nameEn });
    expect(e1.summary).toBe(`Label 3 images as ${dent.nameEn}`);
    expect(e1.imageIds.sort()).toEqual([...ids].sort());
    expect((await api.getImage(ids[0]!)).labelId).toBe(dent.id);
    const flipped = before[0]!.coreType === 'rotor' ? 'stator' : 'rotor';
    expect((await api.setCoreType([ids[0]!], flipped)).entryId).not.toBeNull();
    await api.setNote(ids[1]!, 'oil stain, not a defect');
    await api.setReviewState([ids[2]!], 'reviewed');
    const { region } = await api.addRegion(ids[0]!, { defectTypeId: dent.id, kind: 'rect', x: 10, y: 20, w: 30, h: 40 });
    await api.updateRegion(region.id, { w: 50 });
    const mask = await api.addRegion(ids[1]!, { defectTypeId: dent.id, kind: 'mask', x: 0, y: 0, w: 3, h: 2, rle: [1, 2, 1, 2] });
    await api.deleteRegion(mask.region.id);
    expect((await api.getImage(ids[0]!)).regions.find((r) => r.id === region.id)?.w).toBe(50);
    // Nothing-changes edits are not journaled.
    expect((await api.setCoreType([ids[0]!], flipped)).entryId).toBeNull();

    // Reload the project: the journal persists.
    const dir = s.projects.require().dir;
    await api.closeProject();
    await api.openProject(dir);
    const state = await api.getUndoState();
    expect(state.undoSummary).toMatch(/Delete a region/);
    expect(state.undoWhat).toEqual({ kind: 'regionDelete', imageId: ids[1] });
    expect(state.redoWhat).toBeNull();

    const undone = (await api.undo())!;
    expect(undone.action).toBe('regionDelete');
    expect(undone.what).toEqual({ kind: 'regionDelete', imageId: ids[1] });
    expect((await api.getUndoState()).redoWhat).toEqual({ kind: 'regionDelete', imageId: ids[1] });
    expect((await api.getUndoState()).undoWhat).toEqual({ kind: 'regionAdd', imageId: ids[1], regionKind: 'mask' });
    expect((await api.getImage(ids[1]!)).regions.some((r) => r.id === mask.region.id && r.rle?.join() === '1,2,1,2')).toBe(true);
    await api.undo(); // mask add
    await api.undo(); // region edit
    expect((await api.getImage(ids[0]!)).regions.find((r) => r.id === region.id)?.w).toBe(30);
    await api.undo(); // region add
    expect((await api.getImage(ids[0]!)).regions.some((r) => r.id === region.id)).toBe(false);
    await api.undo(); // review
    await api.undo(); // note
    await api.undo(); // core type
    const u = await api.undo(); // bulk label
    expect(u!.imageIds.sort()).toEqual([...ids].sort());
    const after = await Promise.all(ids.map((i) => api.getImage(i)));
    for (let k = 0; k < ids.length; k++) {
      expect(after[k]!.labelId).toBe(before[k]!.labelId);
      expect(after[k]!.reviewState).toBe(before[k]!.reviewState);
      expect(after[k]!.coreType).toBe(before[k]!.coreType);
      expect(after[k]!.note).toBe(before[k]!.note);
      expect(after[k]!.regions.length).toBe(before[k]!.regions.length);
    }
    expect(await api.undo()).toBeNull();

    const r1 = await api.redo();
    expect(r1!.action).toBe('bulkLabel');
    expect((await api.getImage(ids[2]!)).labelId).toBe(dent.id);
    await api.redo(); // core type
    expect((await api.getImage(ids[0]!)).coreType).toBe(flipped);
    // A new edit drops the redo branch.
    await api.setNote(ids[0]!, 'x');
    expect((await api.getUndoState()).canRedo).toBe(false);
    expect(await api.redo()).toBeNull();
  });

  it('undoes an entry journaled before edits carried data, keeping its English sentence', async () => {
    const db = s.projects.require().db;
    const [id] = await api.listImageIds({});
    const note = (await api.getImage(id!)).note;
    const changes = { fields: [{ field: 'note', changes: [[note, 'old-style entry', [id]]] }], regions: [] };
    db.prepare('UPDATE images SET note = ? WHERE id = ?').run('old-style entry', id);
    db.prepare("INSERT INTO edit_journal(created_at, action, summary, changes) VALUES (?, 'note', 'Edit the note of image 1', ?)").run(
      new Date().toISOString(),
      JSON.stringify(changes),
    );
    const state = await api.getUndoState();
    expect([state.undoSummary, state.undoWhat]).toEqual(['Edit the note of image 1', null]);
    const r = (await api.undo())!;
    expect([r.summary, r.what]).toEqual(['Edit the note of image 1', null]);
    expect((await api.getImage(id!)).note).toBe(note);
  });

  it('refuses region edits outside the image and review of unlabelled images', async () => {
    const id = (await api.listImageIds())[0]!;
    const t = (await api.listDefectTypes())[1]!;
    await expect(api.addRegion(id, { defectTypeId: t.id, kind: 'rect', x: 600, y: 0, w: 100, h: 10 })).rejects.toThrow(/outside/);
    await api.setLabel([id], null);
    expect((await api.getImage(id)).reviewState).toBe('unlabelled');
    await expect(api.setReviewState([id], 'reviewed')).rejects.toMatchObject({ name: 'ConflictError' });
    await api.undo();
  });
});

describe('defect types', () => {
  it('adds, renames, recolours, merges and refuses to delete a used type unless relabelled', async () => {
    const burr = await api.createDefectType({ nameEn: 'burr', nameJa: 'バリ', hotkey: '5' });
    expect(burr).toMatchObject({ key: 'burr', hotkey: '5', imageCount: 0 });
    await expect(api.createDefectType({ nameEn: 'Burr' })).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(api.createDefectType({ nameEn: 'rust', hotkey: '1' })).rejects.toThrow(/already labels/);
    const renamed = await api.updateDefectType(burr.id, { nameEn: 'burr edge', color: '#123456' });
    expect(renamed).toMatchObject({ nameEn: 'burr edge', color: '#123456', key: 'burr' });

    const chip = (await api.listDefectTypes()).find((t) => t.key === 'chip')!;
    const chipIds = await api.listImageIds({ labels: [chip.id] });
    await api.setLabel([chipIds[0]!], burr.id);
    await expect(api.deleteDefectType(burr.id)).rejects.toMatchObject({ name: 'ConflictError' });
    const del = await api.deleteDefectType(burr.id, { relabelTo: chip.id });
    expect(del.relabelled).toBe(1);
    expect((await api.getImage(chipIds[0]!)).labelId).toBe(chip.id);

    const rust = await api.createDefectType({ nameEn: 'rust' });
    await api.setLabel([chipIds[0]!], rust.id);
    const merged = await api.mergeDefectTypes(rust.id, chip.id);
    expect(merged.movedImages).toBe(1);
    expect((await api.listDefectTypes()).some((t) => t.key === 'rust')).toBe(false);
    const unused = await api.createDefectType({ nameEn: 'unused' });
    expect(await api.deleteDefectType(unused.id)).toEqual({ relabelled: 0, regionsDeleted: 0 });
  });
});

describe('grid queries', () => {
  it('filters, sorts and pages', async () => {
    const all = await api.listImages({ sort: { by: 'name', dir: 'asc' }, offset: 0, limit: 5 });
    expect(all.total).toBe(15);
    expect(all.items).toHaveLength(5);
    const names = all.items.map((i) => i.name);
    expect([...names].sort((a, b) => a.localeCompare(b))).toEqual(names);
    const byLabel = await api.listImages({ sort: { by: 'label', dir: 'asc' }, limit: 100 });
    const order = new Map((await api.listDefectTypes()).map((t) => [t.id, t.sortOrder]));
    const seq = byLabel.items.map((i) => order.get(i.labelId!) ?? 99);
    expect([...seq].sort((a, b) => a - b)).toEqual(seq);
    const stators = await api.listImages({ filter: { coreTypes: ['stator'], splits: ['train', 'val'] } });
    const ids = await api.listImageIds({ coreTypes: ['stator'] });
    expect(stators.total).toBe(ids.length);
    await expect(api.getImage(999999)).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});

describe('schema', () => {
  it('refuses a catalog from a newer version, unchanged', async () => {
    const dir = join(tmp, 'newer');
    Project.create(dir).close();
    const db = new Database(join(dir, 'kensa.sqlite'));
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => Project.open(dir)).toThrow(/newer version/);
    expect(LATEST_SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
  });
});

describe('types created from names (import folders, label files)', () => {
  it('get the next free hotkey and a colour that is not OK green', () => {
    const db = s.projects.require().db;
    const before = listTypes(db);
    const taken = new Set(before.map((t) => t.hotkey));
    const inclusion = createTypeFromName(db, { nameEn: 'inclusion' });
    const pitted = createTypeFromName(db, { nameEn: 'pitted surface' });
    const types = listTypes(db);
    const a = types.find((t) => t.id === inclusion)!;
    const b = types.find((t) => t.id === pitted)!;
    expect(a.hotkey).toMatch(/^[1-9]$/);
    expect(taken.has(a.hotkey)).toBe(false);
    expect(b.hotkey).not.toBe(a.hotkey);
    expect(taken.has(b.hotkey)).toBe(false);
    for (const c of [a.color, b.color, ...PALETTE]) expect(hueDistance(c, '#2e9e5b')).toBeGreaterThan(40);
  });
});

/** Hue distance in degrees between two #rrggbb colours. */
function hueDistance(a: string, b: string): number {
  const hue = (hex: string): number => {
    const n = parseInt(hex.slice(1), 16);
    const [r, g, bl] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => v / 255) as [number, number, number];
    const max = Math.max(r, g, bl);
    const d = max - Math.min(r, g, bl);
    if (d === 0) return 0;
    const h = max === r ? ((g - bl) / d) % 6 : max === g ? (bl - r) / d + 2 : (r - g) / d + 4;
    return (h * 60 + 360) % 360;
  };
  const d = Math.abs(hue(a) - hue(b));
  return Math.min(d, 360 - d);
}
