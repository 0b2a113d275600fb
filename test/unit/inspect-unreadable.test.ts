/**
 * Inspect goes on past a missing path and a damaged file: every unreadable file (missing, damaged, empty, an
 * unsupported format under an image name) is reported with the import's reason code and is a row of the CSV
 * (verdict UNREADABLE, never OK or NG); files that are not images at all are only listed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inspection } from '../../src-main/shared/api/inspect.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { unreadableOf } from '../../src-main/services/inspect/csv.ts';
import { collectInspectFiles } from '../../src-main/services/inspect/files.ts';
import { parseRfc4180 } from '../helpers/rfc4180.ts';
import { neuPhoto, tinyProject, type TinyProject } from '../helpers/tiny-project.ts';

let p: TinyProject;
let photos: string;
let gone: string;

beforeAll(async () => {
  p = await tinyProject('kensa-inspect-unreadable-');
  photos = join(p.tmp, 'line3');
  mkdirSync(join(photos, 'cam2'), { recursive: true });
  await neuPhoto('crazing', 60, join(photos, 'a-good.jpg'));
  await neuPhoto('scratches', 60, join(photos, 'cam2', 'b-good.png'));
  // JPEG markers around noise: passes the header check, fails in the decoder.
  const noise = Buffer.alloc(600);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 73 + 19) % 251;
  writeFileSync(join(photos, 'c-damaged.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), noise, Buffer.from([0xff, 0xd9])]));
  writeFileSync(join(photos, 'd-really-a-gif.jpg'), Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(40)]));
  writeFileSync(join(photos, 'cam2', 'e-empty.png'), '');
  writeFileSync(join(photos, 'f-noise.tif'), noise);
  writeFileSync(join(photos, 'shift-log.txt'), 'line 3, night shift');
  gone = join(p.tmp, 'line4-not-mounted');
}, 60_000);

afterAll(async () => {
  await p?.dispose();
});

async function inspect(paths: string[]): Promise<Inspection> {
  const snap = await p.api.startInspection({ paths });
  const done = await p.s.tasks.wait(snap.id);
  expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
  return p.api.getInspection((done.result as { inspectionId: string }).inspectionId);
}

describe('inspect: unreadable files are rows with a reason', () => {
  it('the file walk reports a missing path and judges each file like the import does', () => {
    const { files, skipped } = collectInspectFiles([gone, photos]);
    expect(files.map((f) => f.slice(photos.length + 1)).sort()).toEqual(['a-good.jpg', 'c-damaged.jpg', 'cam2/b-good.png']);
    const codes = Object.fromEntries(skipped.map((k) => [k.path.slice(p.tmp.length + 1), k.code]));
    expect(codes).toEqual({
      'line4-not-mounted': 'missing',
      'line3/d-really-a-gif.jpg': 'unsupported',
      'line3/cam2/e-empty.png': 'empty',
      'line3/f-noise.tif': 'corrupt',
      'line3/shift-log.txt': 'not-an-image',
    });
  });

  it('goes on past a missing path and a damaged photo; every unreadable file is a CSV row', async () => {
    // The import's verdict on the same damaged file (the decoder's message decides between damaged and truncated).
    const imported = await runImport(p.s.projects.require(), { paths: [join(photos, 'c-damaged.jpg')] });
    expect(imported.imported).toBe(0);
    const damaged = imported.skipped[0]!.reason;
    expect(['corrupt', 'truncated']).toContain(damaged);
    const ins = await inspect([gone, photos]);
    expect(ins.items.map((i) => i.name).sort()).toEqual(['a-good.jpg', 'b-good.png']);
    for (const it of ins.items) expect(['ok', 'ng']).toContain(it.verdict);
    const rows = unreadableOf(ins);
    expect(Object.fromEntries(rows.map((k) => [k.path.split('/').pop(), k.code]))).toEqual({
      'line4-not-mounted': 'missing',
      'd-really-a-gif.jpg': 'unsupported',
      'e-empty.png': 'empty',
      'f-noise.tif': 'corrupt',
      // Found damaged only by the decoder, and still given the import's code.
      'c-damaged.jpg': damaged,
    });
    for (const k of rows) expect(k.reason.length).toBeGreaterThan(5);
    expect(ins.skipped.filter((k) => k.code === 'not-an-image').map((k) => k.path)).toEqual([join(photos, 'shift-log.txt')]);

    const file = join(p.tmp, 'out', 'line3.csv');
    expect((await p.api.exportInspectionCsv(ins.id, file)).rows).toBe(7);
    const csv = parseRfc4180(await p.api.inspectionCsv(ins.id));
    const head = csv[0]!;
    const col = (name: string) => head.indexOf(name);
    expect(csv).toHaveLength(1 + 7);
    const unreadable = csv.slice(1).filter((r) => r[col('verdict')] === 'UNREADABLE');
    expect(unreadable).toHaveLength(5);
    expect(Object.fromEntries(unreadable.map((r) => [r[col('name')], r[col('reason_code')]]))).toEqual({
      'line4-not-mounted': 'missing',
      'd-really-a-gif.jpg': 'unsupported',
      'e-empty.png': 'empty',
      'f-noise.tif': 'corrupt',
      'c-damaged.jpg': damaged,
    });
    for (const r of unreadable) {
      expect(r[col('path')]).toMatch(/^\//);
      expect(r[col('predicted')]).toBe('');
      expect(r[col('reason')]!.length).toBeGreaterThan(5);
    }
    const judged = csv.slice(1).filter((r) => r[col('verdict')] !== 'UNREADABLE');
    expect(judged.map((r) => r[col('verdict')]).every((v) => v === 'OK' || v === 'NG')).toBe(true);
    expect(judged.every((r) => r[col('reason_code')] === '')).toBe(true);
    expect(csv.flat().some((c) => c.includes('shift-log'))).toBe(false);
  }, 60_000);

  it('only missing paths: a clear error naming them', async () => {
    await expect(p.api.startInspection({ paths: [gone] })).rejects.toMatchObject({ name: 'NotFoundError', message: /line4-not-mounted/ });
  });
});
