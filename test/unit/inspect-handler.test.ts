/**
 * Inspect over the real training engine: a tiny binary model (NEU crazing as OK, scratches as defect,
 * 96 px, 2 epochs), a folder of new photos with a sub-folder and a non-image file, the CSV, the threshold,
 * and adding photos to the catalog with a label.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import type { Inspection } from '../../src-main/shared/api/inspect.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import { main } from '../../src-main/cli/index.ts';

const NEU = resolve(import.meta.dirname, '../../../shared/datasets/neu-det/images');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-inspect-'));
let s: Services;
let api: KensaApi;
let runId = 0;

/** Real NEU photos, shrunk with sharp. */
async function writeSmall(from: string, to: string, size = 64): Promise<void> {
  await sharp(from).resize(size, size).jpeg({ quality: 90 }).toFile(to);
}

beforeAll(async () => {
  const src = join(tmp, 'src');
  for (const cls of ['crazing', 'scratches']) {
    mkdirSync(join(src, cls), { recursive: true });
    for (let i = 1; i <= 8; i++) await writeSmall(join(NEU, cls, `${cls}_${i}.jpg`), join(src, cls, `${cls}_${i}.jpg`));
  }
  const photos = join(tmp, 'photos');
  mkdirSync(join(photos, 'later'), { recursive: true });
  await writeSmall(join(NEU, 'scratches', 'scratches_100.jpg'), join(photos, 'a-scratch.jpg'));
  await writeSmall(join(NEU, 'crazing', 'crazing_100.jpg'), join(photos, 'b-crazing.jpg'));
  await sharp(join(NEU, 'scratches', 'scratches_101.jpg'))
    .resize(64, 64)
    .png()
    .toFile(join(photos, 'later', 'c-scratch.png'));
  writeFileSync(join(photos, 'notes.txt'), 'not an image');

  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'resources'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  await api.createProject(join(tmp, 'project'), 'inspect test');
  const project = s.projects.require();
  const ok = listTypes(project.db).find((t) => t.isOk)!;
  const rep = await runImport(project, {
    paths: [src],
    labels: { from: 'folders', mapping: { crazing: { defectTypeId: ok.id } }, createUnknown: true },
  });
  expect(rep.imported).toBe(16);
  const snap = await api.startTraining({
    name: 'tiny',
    task: 'binary',
    inputSize: 96,
    epochs: 2,
    batchSize: 8,
    split: { mode: 'random', valFraction: 0.25, testFraction: 0, seed: 1 },
  });
  runId = snap.runId;
  const done = await s.tasks.wait(snap.id);
  expect(done.state).toBe('succeeded');
}, 120_000);

afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

async function inspect(req: Parameters<KensaApi['startInspection']>[0]): Promise<Inspection> {
  const snap = await api.startInspection(req);
  expect(snap.kind).toBe('inspect');
  const done = await s.tasks.wait(snap.id);
  expect(done.state).toBe('succeeded');
  expect(done.progress).toMatchObject({ done: done.progress.total, unit: 'images' });
  return api.getInspection((done.result as { inspectionId: string }).inspectionId);
}

describe('inspect', () => {
  it('classifies a folder of new photos with the active model, like predict does, and exports a matching CSV', async () => {
    const ins = await inspect({ paths: [join(tmp, 'photos')] });
    expect(ins.runId).toBe(runId);
    expect(ins.items.map((i) => i.name)).toEqual(['a-scratch.jpg', 'b-crazing.jpg', 'c-scratch.png']);
    expect(ins.skipped.map((k) => k.path)).toEqual([join(tmp, 'photos', 'notes.txt')]);
    expect(ins.skipped[0]!.code).toBe('not-an-image');
    expect(ins.imagesPerSecond).toBeGreaterThan(0);
    const direct = await api.predict({ paths: ins.items.map((i) => i.path!) });
    ins.items.forEach((it, k) => {
      const p = direct.predictions[k]!;
      expect(it.probabilities).toEqual(p.probabilities);
      expect(it.predictedKey).toBe(p.predictedKey);
      expect(it.verdict).toBe(p.predictedKey === 'ok' ? 'ok' : 'ng');
      expect(it.media.kind).toBe('file');
    });
    // Thumbnails of photos by path come through media kind 'file'.
    const thumb = await s.resolveMedia('file', ins.items[2]!.media.id);
    expect(thumb.mime).toBe('image/jpeg');

    const file = join(tmp, 'out', 'result.csv');
    const r = await api.exportInspectionCsv(ins.id, file);
    expect(r.rows).toBe(3);
    const lines = readFileSync(file, 'utf8')
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]!.split(',').slice(1, 2)).toEqual(['a-scratch.jpg']);
    expect(lines[1]).toContain(ins.items[0]!.verdict.toUpperCase());
    expect(await api.inspectionCsv(ins.id)).toBe(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));

    const all = await api.setInspectionThreshold(ins.id, 0.0);
    expect(all.items.every((i) => i.verdict === 'ng')).toBe(true);
    expect((await api.listInspections())[0]).toMatchObject({ id: ins.id, count: 3 });
  });

  it('inspects catalog images and adds new photos to the catalog with a label', async () => {
    const ids = (await api.listImageIds()).slice(0, 4);
    const cat = await inspect({ imageIds: ids });
    expect(cat.items.map((i) => i.imageId)).toEqual(ids);
    expect(cat.items.every((i) => i.labelKey !== null)).toBe(true);

    const ins = await inspect({ paths: [join(tmp, 'photos', 'a-scratch.jpg'), join(tmp, 'photos', 'later')] });
    const scratch = (await api.listDefectTypes()).find((t) => t.key === 'scratch')!;
    const before = (await api.getLibraryStats()).total;
    const res = await api.addInspectedToLibrary(ins.id, [0, 1], scratch.id);
    expect(res).toMatchObject({ imported: 2, duplicates: 0, labelled: 2 });
    expect((await api.getLibraryStats()).total).toBe(before + 2);
    const after = await api.getInspection(ins.id);
    expect(after.items.map((i) => i.labelKey)).toEqual(['scratch', 'scratch']);
    expect(after.items.every((i) => i.imageId !== null)).toBe(true);
    await expect(api.startInspection({ paths: [join(tmp, 'photos', 'notes.txt')] })).rejects.toThrow(/no images/);
  });

  it('kensa inspect <project> <paths...> --csv prints verdicts and writes the CSV', async () => {
    await s.projects.close(); // the CLI opens the project itself (one Kensa per project)
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const home = process.env.KENSA_HOME;
    process.env.KENSA_HOME = join(tmp, 'cli-config');
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main([
        'inspect',
        join(tmp, 'project'),
        join(tmp, 'photos', 'b-crazing.jpg'),
        '--run',
        String(runId),
        '--csv',
        join(tmp, 'cli.csv'),
      ]);
    } finally {
      process.stdout.write = write;
      if (home === undefined) delete process.env.KENSA_HOME;
      else process.env.KENSA_HOME = home;
    }
    expect(code, out.join('')).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/b-crazing\.jpg\s+(OK|NG)/);
    expect(text).toContain('1 images');
    const csv = readFileSync(join(tmp, 'cli.csv'), 'utf8')
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain('b-crazing.jpg');
  }, 60_000);
});
