import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { join, resolve } from 'node:path';
import { encode as encodeBmp } from 'fast-bmp';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyDecodeError, endsEarly } from '../../src-main/services/library/imaging.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { loadFileRgb } from '../../src-main/services/training/data/source.ts';
import { listDatasetSamples, openStoredImage, regionMask } from '../../src-main/services/library/dataset.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import type { KensaApi } from '../../src-main/shared/api/index.ts';

const NEU = resolve(import.meta.dirname, '../../../shared/datasets/neu-det');
let tmp: string;
let s: Services;
let api: KensaApi;

async function jpeg(seed: number, w = 64, h = 48): Promise<Buffer> {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7 + seed * 31) % 251;
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** A baseline uncompressed 16-bit greyscale TIFF (sharp writes 8-bit TIFFs only). */
function tiff16(w: number, h: number, px: Uint16Array): Buffer {
  const entries: [number, number, number][] = [
    [256, 3, w],
    [257, 3, h],
    [258, 3, 16],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 0],
    [277, 3, 1],
    [278, 3, h],
    [279, 4, w * h * 2],
  ];
  const ifdOff = 8;
  const dataOff = ifdOff + 2 + entries.length * 12 + 4;
  const b = Buffer.alloc(dataOff + w * h * 2);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(ifdOff, 4);
  b.writeUInt16LE(entries.length, ifdOff);
  entries.forEach(([tag, type, value], i) => {
    const o = ifdOff + 2 + i * 12;
    b.writeUInt16LE(tag, o);
    b.writeUInt16LE(type, o + 2);
    b.writeUInt32LE(1, o + 4);
    const v = tag === 273 ? dataOff : value;
    if (type === 3) b.writeUInt16LE(v, o + 8);
    else b.writeUInt32LE(v, o + 8);
  });
  for (let i = 0; i < px.length; i++) b.writeUInt16LE(px[i]!, dataOff + i * 2);
  return b;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const t = Buffer.from(type, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([t, data])));
  return Buffer.concat([len, t, data, crc]);
}

/** The same PNG with one byte of its IDAT chunk's CRC flipped (the pixels themselves intact). */
function withBadCrc(png: Buffer): Buffer {
  const bad = Buffer.from(png);
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') {
      bad[at + 8 + len]! ^= 0xff;
      return bad;
    }
    at += 12 + len;
  }
  throw new Error('no IDAT');
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'kensa-cat-import-'));
  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'res'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
});

afterAll(async () => {
  await s.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('catalog import', () => {
  it('imports every format, skips bad files with reasons, and re-running adds nothing', async () => {
    const src = join(tmp, 'src');
    mkdirSync(join(src, 'scratches'), { recursive: true });
    mkdirSync(join(src, 'OK'), { recursive: true });
    mkdirSync(join(src, 'weird'), { recursive: true });
    for (let i = 0; i < 4; i++) writeFileSync(join(src, 'scratches', `s${i}.jpg`), await jpeg(i));
    writeFileSync(join(src, 'OK', 'good1.jpg'), await jpeg(10));
    // EXIF orientation 6 (rotate 90): stored as is, reported in its displayed (rotated) size.
    writeFileSync(
      join(src, 'OK', 'rotated.jpg'),
      await sharp(await jpeg(11, 80, 40))
        .withMetadata({ orientation: 6 })
        .jpeg()
        .toBuffer(),
    );
    // 16-bit grey PNG
    const g16 = new Uint16Array(32 * 20).map((_, i) => i * 97);
    writeFileSync(
      join(src, 'OK', 'deep.png'),
      await sharp(Buffer.from(g16.buffer), { raw: { width: 32, height: 20, channels: 1 } })
        .toColourspace('grey16')
        .png()
        .toBuffer(),
    );
    // 8-bit grey BMP and 24-bit BMP via fast-bmp
    const grey = new Uint8Array(30 * 10).map((_, i) => i % 256);
    writeFileSync(
      join(src, 'OK', 'grey.bmp'),
      encodeBmp({ width: 30, height: 10, channels: 1, components: 1, bitsPerPixel: 8, data: grey }),
    );
    const rgb = new Uint8Array(17 * 9 * 3).map((_, i) => (i * 5) % 256);
    writeFileSync(
      join(src, 'OK', 'colour.bmp'),
      encodeBmp({ width: 17, height: 9, channels: 3, components: 3, bitsPerPixel: 24, data: rgb }),
    );
    // 2-page TIFF
    const p1 = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const p2 = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#00ff00' } })
      .png()
      .toBuffer();
    writeFileSync(
      join(src, 'OK', 'pages.tif'),
      await sharp([p1, p2], { join: { animated: true } })
        .tiff()
        .toBuffer(),
    );
    // The bad ones
    const good = await jpeg(20, 200, 200);
    writeFileSync(join(src, 'weird', 'truncated.jpg'), good.subarray(0, Math.floor(good.length * 0.6)));
    writeFileSync(
      join(src, 'weird', 'corrupt.png'),
      Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]),
    );
    writeFileSync(join(src, 'weird', 'empty.jpg'), Buffer.alloc(0));
    writeFileSync(join(src, 'weird', 'notes.txt'), 'operator notes\n');
    writeFileSync(join(src, 'weird', 'anim.gif'), Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(40, 1)]));
    writeFileSync(join(src, 'weird', 'garbage.jpg'), Buffer.from('this is not a jpeg at all'));

    await api.createProject(join(tmp, 'p1'));
    const preview = await api.previewImportFolders(src);
    const types = await api.listDefectTypes();
    expect(types.map((t) => t.key)).toEqual(['ok', 'scratch', 'dent', 'chip', 'sheet_shift']);
    expect(types.find((t) => t.isOk)?.nameJa).toBe('良品');
    const byName = Object.fromEntries(preview.folders.map((f) => [f.name, f]));
    expect(byName['scratches']!.suggestion).toEqual({ defectTypeId: types[1]!.id });
    expect(byName['OK']!.match).toBe('exact');
    expect(byName['weird']!.match).toBe('none');

    const mapping = { ...Object.fromEntries(preview.folders.map((f) => [f.name, f.suggestion])), weird: { unlabelled: true as const } };
    const task = await api.startImport({ paths: [src], labels: { from: 'folders', mapping }, tiffPages: 'all' });
    const done = await s.tasks.wait(task.id);
    expect(done.state).toBe('succeeded');
    const report = done.result as Awaited<ReturnType<typeof runImport>>;
    const reasons = Object.fromEntries(report.skipped.map((k) => [k.path.split('/').pop(), k.reason]));
    expect(reasons).toEqual({
      'truncated.jpg': 'truncated',
      'corrupt.png': 'corrupt',
      'empty.jpg': 'empty',
      'notes.txt': 'not-an-image',
      'anim.gif': 'unsupported',
      'garbage.jpg': 'corrupt',
    });
    for (const k of report.skipped) expect(k.message.length).toBeGreaterThan(5);
    // The technical detail comes apart from the English sentence, for the UI to show under its own wording.
    const details = Object.fromEntries(report.skipped.map((k) => [k.path.split('/').pop(), k.detail]));
    expect(details).toMatchObject({ 'notes.txt': '.txt', 'anim.gif': '.gif', 'garbage.jpg': '.jpg', 'empty.jpg': '' });
    expect(details['corrupt.png']!.length).toBeGreaterThan(3);
    // 4 + good1 + rotated + deep + 2 bmp + 2 tiff pages
    expect(report.imported).toBe(11);
    expect(report.labelled).toMatchObject({ scratch: 4, ok: 7 });

    const page = await api.listImages({ filter: { labels: [types[0]!.id] }, sort: { by: 'name', dir: 'asc' }, limit: 50 });
    expect(page.total).toBe(7);
    const rotated = page.items.find((i) => i.name === 'rotated.jpg')!;
    expect([rotated.width, rotated.height]).toEqual([40, 80]);
    const detail = await api.getImage(rotated.id);
    expect(detail.meta.orientation).toBe(6);
    const project = s.projects.require();
    const stored = join(project.dir, detail.meta.storePath);
    expect(detail.meta.storePath).toMatch(/^images\/[0-9a-f]{2}\/[0-9a-f]{64}\.jpg$/);
    expect(readFileSync(stored).equals(readFileSync(join(src, 'OK', 'rotated.jpg')))).toBe(true); // original bytes kept
    const raw = await (await openStoredImage(project, rotated.id)).raw().toBuffer({ resolveWithObject: true });
    expect([raw.info.width, raw.info.height]).toEqual([40, 80]);
    const deep = page.items.find((i) => i.name === 'deep.png')!;
    expect((await api.getImage(deep.id)).meta.bitDepth).toBe(16);
    const pages = page.items.filter((i) => i.name === 'pages.tif');
    expect(pages.map((p) => p.page).sort()).toEqual([0, 1]);
    const bmp = page.items.find((i) => i.name === 'grey.bmp')!;
    const bmpRaw = await (await openStoredImage(project, bmp.id)).greyscale().raw().toBuffer();
    expect(bmpRaw[5]).toBe(5);

    // Media: thumbnails and browser-displayable images.
    const thumb = await s.resolveMedia('thumb', String(bmp.id));
    expect(thumb.mime).toBe('image/jpeg');
    expect(thumb.path).toContain(join('cache', 'thumbs'));
    expect((await sharp(thumb.path).metadata()).format).toBe('jpeg');
    const disp = await s.resolveMedia('image', String(deep.id));
    expect(disp.mime).toBe('image/png');
    expect((await sharp(disp.path).metadata()).depth).toBe('uchar');
    expect((await s.resolveMedia('image', String(rotated.id))).path).toBe(stored);

    // Re-running adds nothing; nothing already in is touched.
    await api.setNote(rotated.id, 'keep me');
    const again = await s.tasks.wait((await api.startImport({ paths: [src], labels: { from: 'folders', mapping }, tiffPages: 'all' })).id);
    const r2 = again.result as typeof report;
    expect(r2.imported).toBe(0);
    expect(r2.alreadyImported).toBe(11);
    expect(r2.skipped).toHaveLength(6);
    expect((await api.getImage(rotated.id)).note).toBe('keep me');
    expect((await api.getLibraryStats()).total).toBe(11);
  });

  it('tells a truncated file from a damaged one by its bytes when the decoder loses its message', async () => {
    const good = await jpeg(3, 120, 90);
    const cut = good.subarray(0, Math.floor(good.length * 0.6));
    const png = await sharp(good).png().toBuffer();
    expect(endsEarly(good, 'jpeg')).toBe(false);
    expect(endsEarly(Buffer.concat([good, Buffer.alloc(64)]), 'jpeg')).toBe(false);
    expect(endsEarly(cut, 'jpeg')).toBe(true);
    expect(endsEarly(png, 'png')).toBe(false);
    expect(endsEarly(png.subarray(0, png.length - 20), 'png')).toBe(true);
    // libvips says "Unknown error" when several decodes run at once; the bytes still say truncated.
    expect(classifyDecodeError(new Error('Unknown error'), { bytes: cut, format: 'jpeg' })).toEqual({
      reason: 'truncated',
      message: 'the decoder gave no detail',
    });
    expect(classifyDecodeError(new Error('Unknown error'), { bytes: good, format: 'jpeg' }).reason).toBe('corrupt');
    expect(classifyDecodeError(new Error('VipsJpeg: premature end of JPEG image')).reason).toBe('truncated');
  });

  it('reads 16-bit TIFFs and takes only the first page of a multi-page TIFF by default', async () => {
    await api.createProject(join(tmp, 'p4'));
    const src = join(tmp, 'tiffs');
    mkdirSync(src);
    const g16 = new Uint16Array(24 * 16).map((_, i) => i * 150);
    writeFileSync(join(src, 'deep.tif'), tiff16(24, 16, g16));
    const p1 = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const p2 = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#00ff00' } })
      .png()
      .toBuffer();
    writeFileSync(
      join(src, 'pages.tif'),
      await sharp([p1, p2], { join: { animated: true } })
        .tiff()
        .toBuffer(),
    );
    const r = await runImport(s.projects.require(), { paths: [src] });
    expect(r.imported).toBe(2);
    const items = (await api.listImages({ sort: { by: 'name', dir: 'asc' } })).items;
    const deep = await api.getImage(items[0]!.id);
    expect(deep.meta).toMatchObject({ format: 'tiff', bitDepth: 16, width: 24, height: 16, channels: 1 });
    expect((await api.getImage(items[1]!.id)).meta).toMatchObject({ format: 'tiff', pages: 2 });
    const disp = await s.resolveMedia('image', String(deep.id));
    expect(disp.mime).toBe('image/png');
    const px = await (await openStoredImage(s.projects.require(), deep.id)).greyscale().raw().toBuffer();
    expect(px.length).toBe(24 * 16);
  });

  it('resumes a cancelled import without duplicates', async () => {
    await api.createProject(join(tmp, 'p2'));
    const src = join(tmp, 'many');
    mkdirSync(src);
    for (let i = 0; i < 30; i++) writeFileSync(join(src, `img${String(i).padStart(2, '0')}.jpg`), await jpeg(100 + i));
    const project = s.projects.require();
    const ac = new AbortController();
    await expect(runImport(project, { paths: [src] }, { signal: ac.signal, progress: (d) => d >= 8 && ac.abort() })).rejects.toThrow(
      /cancelled/i,
    );
    const partial = (await api.getLibraryStats()).total;
    expect(partial).toBeGreaterThanOrEqual(8);
    expect(partial).toBeLessThan(30);
    expect((await api.listImportBatches())[0]!.state).toBe('cancelled');
    const r = await runImport(project, { paths: [src] });
    expect(r.resumed).toBe(true);
    expect(r.imported + r.alreadyImported).toBe(30);
    expect(r.duplicates).toHaveLength(0);
    expect((await api.getLibraryStats()).total).toBe(30);
    const batches = await api.listImportBatches();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.state).toBe('done');
    expect(batches[0]!.imageCount).toBe(30);
  });

  it('runs as a cancellable task with progress, and resumes after a cancel', async () => {
    await api.createProject(join(tmp, 'p5'));
    const src = join(tmp, 'tasksrc');
    mkdirSync(src);
    for (let i = 0; i < 40; i++) writeFileSync(join(src, `t${i}.jpg`), await jpeg(300 + i, 320, 240));
    let sawProgress = false;
    const off = s.events.on('task', (t) => {
      if (t.kind !== 'import' || t.state !== 'running' || t.progress.done < 4) return;
      sawProgress ||= t.progress.total === 40 && t.progress.unit === 'files';
      void api.cancelTask(t.id);
    });
    const first = await s.tasks.wait((await api.startImport({ paths: [src] })).id);
    off();
    expect(first.state).toBe('cancelled');
    expect(sawProgress).toBe(true);
    const partial = (await api.getLibraryStats()).total;
    expect(partial).toBeLessThan(40);
    const second = await s.tasks.wait((await api.startImport({ paths: [src] })).id);
    expect(second.state).toBe('succeeded');
    const r = second.result as Awaited<ReturnType<typeof runImport>>;
    expect(r.resumed).toBe(true);
    expect(r.imported).toBe(40 - partial);
    expect((await api.getLibraryStats()).total).toBe(40);
    expect((await api.getImportReport(r.batchId))?.state).toBe('done');
  });

  it('imports CSV labels and mask PNGs', async () => {
    await api.createProject(join(tmp, 'p3'));
    const src = join(tmp, 'csvsrc');
    const masks = join(tmp, 'masks');
    mkdirSync(src);
    mkdirSync(masks);
    writeFileSync(join(src, 'a.jpg'), await jpeg(200));
    writeFileSync(join(src, 'b.jpg'), await jpeg(201));
    writeFileSync(join(src, 'c.jpg'), await jpeg(202));
    writeFileSync(join(tmp, 'labels.csv'), 'path,label\ncsvsrc/a.jpg,dent\nb.jpg,"good"\nc.jpg,burr\n');
    const m = Buffer.alloc(64 * 48);
    for (let y = 10; y < 20; y++) for (let x = 5; x < 9; x++) m[y * 64 + x] = 255;
    writeFileSync(
      join(masks, 'a.png'),
      await sharp(m, { raw: { width: 64, height: 48, channels: 1 } })
        .png()
        .toBuffer(),
    );
    const r = await runImport(s.projects.require(), {
      paths: [src],
      labels: { from: 'csv', csvPath: join(tmp, 'labels.csv') },
      regions: { masksDir: masks },
    });
    expect(r.labelled).toEqual({ dent: 1, ok: 1, burr: 1 });
    expect(r.createdDefectTypes).toEqual(['burr']);
    expect(r.regionsImported).toBe(1);
    const a = (await api.listImages({ filter: { nameContains: 'a.jpg' } })).items[0]!;
    const d = await api.getImage(a.id);
    expect(d.regions[0]).toMatchObject({ kind: 'mask', x: 5, y: 10, w: 4, h: 10 });
    const mask = regionMask(s.projects.require().db, a.id, 64, 48);
    expect(mask.reduce((x, y) => x + y, 0)).toBe(40);
    expect(mask[15 * 64 + 6]).toBe(1);
    expect(
      listDatasetSamples(s.projects.require().db)
        .map((x) => x.label)
        .sort(),
    ).toEqual(['burr', 'dent', 'ok']);
  });

  it.skipIf(!existsSync(NEU))('imports NEU-DET: 1,800 files -> 1,799 images in 6 labels, one duplicate, VOC boxes', async () => {
    await api.createProject(join(tmp, 'neu'));
    const r = await runImport(s.projects.require(), {
      paths: [join(NEU, 'images')],
      labels: { from: 'folders' },
      regions: { vocDir: join(NEU, 'annotations') },
    });
    expect(r.filesSeen).toBe(1800);
    expect(r.imported).toBe(1799);
    expect(Object.keys(r.labelled)).toHaveLength(6);
    expect(r.duplicates).toHaveLength(1);
    expect(r.duplicates[0]!.path).toMatch(/patches_10[15]\.jpg$/);
    expect(r.duplicates[0]!.existingPath).toMatch(/patches_10[15]\.jpg$/);
    expect(r.regionsImported).toBeGreaterThan(4100);
    const st = await api.getLibraryStats();
    expect(st.total).toBe(1799);
    expect(st.duplicatesFound).toBe(1);
    expect(st.perLabel.filter((l) => l.total > 0)).toHaveLength(6);
    // Every NEU photo has a box, so each class's training images all have regions (what guided training can use).
    for (const l of st.perLabel.filter((x) => x.total > 0)) expect(l.trainWithRegions).toBe(l.train);
    // scratches_131 carries its own class and 'inclusion' boxes
    const sc = (await api.listImages({ filter: { nameContains: 'scratches_131.jpg' } })).items[0]!;
    const det = await api.getImage(sc.id);
    const keys = new Map((await api.listDefectTypes()).map((t) => [t.id, t.key]));
    expect(det.regions.map((g) => keys.get(g.defectTypeId)).sort()).toEqual(['inclusion', 'inclusion', 'scratch', 'scratch']);
    expect(det.regions[0]).toMatchObject({ kind: 'rect', x: 66, y: 11, w: 28, h: 145 });
  });

  it('imports a folder that links to itself, and two folders linking to each other, in bounded time with the right count', async () => {
    await api.createProject(join(tmp, 'loops'));
    const src = join(tmp, 'loopsrc');
    mkdirSync(join(src, 'scratch'), { recursive: true });
    mkdirSync(join(src, 'OK'), { recursive: true });
    writeFileSync(join(src, 'scratch', 's1.jpg'), await jpeg(400));
    writeFileSync(join(src, 'OK', 'o1.jpg'), await jpeg(401));
    symlinkSync(src, join(src, 'OK', 'self')); // a link to the top folder
    symlinkSync(join(src, 'OK'), join(src, 'scratch', 'to-ok')); // two folders linking to each other
    symlinkSync(join(src, 'scratch'), join(src, 'OK', 'to-scratch'));
    const t0 = Date.now();
    const preview = await api.previewImportFolders(src);
    expect(Object.fromEntries(preview.folders.map((f) => [f.name, f.fileCount]))).toEqual({ OK: 2, scratch: 2 });
    const task = await api.startImport({ paths: [src], labels: { from: 'folders' } });
    // The process keeps answering while the folders are walked and imported.
    expect((await api.getLibraryStats()).total).toBeGreaterThanOrEqual(0);
    const done = await s.tasks.wait(task.id);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(done.state).toBe('succeeded');
    const r = done.result as Awaited<ReturnType<typeof runImport>>;
    expect(r.filesSeen).toBe(2);
    expect(r.imported).toBe(2);
    expect(r.duplicates).toHaveLength(0);
    expect(r.labelled).toEqual({ ok: 1, scratch: 1 });
    const links = r.skipped.map((k) => [k.path.slice(src.length + 1), k.reason]).sort();
    expect(links).toEqual([
      ['OK/self', 'link-loop'],
      ['OK/to-scratch', 'link-loop'],
      ['scratch/to-ok', 'link-loop'],
    ]);
    expect(r.skipped.find((k) => k.path.endsWith('self'))!.detail).toBe(src);
  });

  it('says what happened: too large is not damaged, a GIF named .jpg is a GIF', async () => {
    await api.createProject(join(tmp, 'reasons'));
    const src = join(tmp, 'reasonsrc');
    mkdirSync(src);
    const real = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(20000, 0);
    ihdr.writeUInt32BE(20000, 4);
    ihdr[8] = 8; // 8-bit grey
    writeFileSync(
      join(src, 'huge.png'),
      Buffer.concat([
        real.subarray(0, 8),
        pngChunk('IHDR', ihdr),
        pngChunk('IDAT', Buffer.from([0x78, 0x9c, 3, 0, 0, 0, 0, 1])),
        pngChunk('IEND', Buffer.alloc(0)),
      ]),
    );
    writeFileSync(join(src, 'really-a-gif.jpg'), Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(40, 1)]));
    writeFileSync(join(src, 'webp.png'), Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 '), Buffer.alloc(20)]));
    const r = await runImport(s.projects.require(), { paths: [src] });
    const by = Object.fromEntries(r.skipped.map((k) => [k.path.split('/').pop(), k]));
    expect(by['huge.png']).toMatchObject({ reason: 'too-large' });
    expect(by['huge.png']!.message).toMatch(/too large/i);
    expect(by['really-a-gif.jpg']).toMatchObject({ reason: 'unsupported', format: 'GIF', detail: '.jpg' });
    expect(by['really-a-gif.jpg']!.message).toMatch(/^GIF is not supported \(the file is named \.jpg\)/);
    expect(by['webp.png']).toMatchObject({ reason: 'unsupported', format: 'WebP' });
  });

  it('refuses a PNG with a bad CRC at import and at predict alike (one decoding rule)', async () => {
    await api.createProject(join(tmp, 'crc'));
    const src = join(tmp, 'crcsrc');
    mkdirSync(src);
    const px = Buffer.alloc(40 * 30 * 3).map((_, i) => (i * 13) % 251);
    const good = await sharp(px, { raw: { width: 40, height: 30, channels: 3 } })
      .png()
      .toBuffer();
    writeFileSync(join(src, 'good.png'), good);
    writeFileSync(join(src, 'bad-crc.png'), withBadCrc(good));
    // The predict path (model input from a file) and the import agree on both files.
    expect((await loadFileRgb(join(src, 'good.png'), 16)).length).toBe(16 * 16 * 3);
    await expect(loadFileRgb(join(src, 'bad-crc.png'), 16)).rejects.toMatchObject({ name: 'CorruptImageError' });
    const r = await runImport(s.projects.require(), { paths: [src] });
    expect(r.imported).toBe(1);
    expect(r.skipped.map((k) => [k.path.split('/').pop(), k.reason])).toEqual([['bad-crc.png', 'corrupt']]);
    // BMP files predict through the same reader as the import.
    const grey = new Uint8Array(12 * 6).map((_, i) => i * 3);
    writeFileSync(join(src, 'g.bmp'), encodeBmp({ width: 12, height: 6, channels: 1, components: 1, bitsPerPixel: 8, data: grey }));
    expect((await loadFileRgb(join(src, 'g.bmp'), 8)).length).toBe(8 * 8 * 3);
  });

  it('puts right a stored original cut short by a power cut when the same import runs again', async () => {
    await api.createProject(join(tmp, 'torn'));
    const src = join(tmp, 'tornsrc');
    mkdirSync(src);
    const bytes = await jpeg(500);
    writeFileSync(join(src, 'a.jpg'), bytes);
    const r1 = await runImport(s.projects.require(), { paths: [src] });
    const stored = join(s.projects.require().dir, (await api.getImage(r1.imageIds[0]!)).meta.storePath);
    writeFileSync(stored, Buffer.alloc(0)); // what a power cut can leave of a file written just before it
    const r2 = await runImport(s.projects.require(), { paths: [src] });
    expect(r2.alreadyImported).toBe(1);
    expect(readFileSync(stored).equals(bytes)).toBe(true);
    expect(r2.warnings.join('\n')).toMatch(/stored copy of .*a\.jpg was missing or incomplete/);
    // A whole stored file is left as it is, without a warning.
    const r3 = await runImport(s.projects.require(), { paths: [src] });
    expect(r3.warnings).toEqual([]);
  });

  it('syncs imports once a second rather than at every image, and every other commit at once', async () => {
    await api.createProject(join(tmp, 'syncmode'));
    const db = s.projects.require().db;
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL outside imports
    const src = join(tmp, 'syncsrc');
    mkdirSync(src);
    for (let i = 0; i < 6; i++) writeFileSync(join(src, `${i}.jpg`), await jpeg(600 + i));
    const modes = new Set<number>();
    await runImport(
      s.projects.require(),
      { paths: [src] },
      { progress: () => modes.add(db.pragma('synchronous', { simple: true }) as number) },
    );
    expect([...modes]).toEqual([1]); // NORMAL while it runs
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });
});
