/**
 * Heatmaps of photos that are not in the library (Inspect given files): computed by the engine from the file's pixels
 * under the inspection's run, drawn on the photo in its own shape, cached in the project's cache folder, and served
 * only for photos of an inspection in the project's store (media id "<inspection>/<index>", never a path).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import type { Inspection } from '../../src-main/shared/api/inspect.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { mediaKeyOf, resolveProjectMedia } from '../../src-main/services/media.ts';
import { Services } from '../../src-main/services/services.ts';

const NEU = resolve(import.meta.dirname, '../../../shared/datasets/neu-det/images');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-inspect-hm-'));
let s: Services;
let api: KensaApi;

beforeAll(async () => {
  const src = join(tmp, 'src');
  for (const cls of ['crazing', 'scratches']) {
    mkdirSync(join(src, cls), { recursive: true });
    for (let i = 1; i <= 6; i++)
      await sharp(join(NEU, cls, `${cls}_${i}.jpg`))
        .resize(64, 64)
        .jpeg()
        .toFile(join(src, cls, `${cls}_${i}.jpg`));
  }
  mkdirSync(join(tmp, 'photos'));
  // A photo outside the library, not square: its map must keep its shape.
  await sharp(join(NEU, 'scratches', 'scratches_100.jpg'))
    .resize(120, 80, { fit: 'fill' })
    .jpeg()
    .toFile(join(tmp, 'photos', 'outside.jpg'));
  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'resources'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  await api.createProject(join(tmp, 'project'), 'inspect heatmaps');
  const project = s.projects.require();
  const ok = listTypes(project.db).find((t) => t.isOk)!;
  await runImport(project, {
    paths: [src],
    labels: { from: 'folders', mapping: { crazing: { defectTypeId: ok.id } }, createUnknown: true },
  });
  const snap = await api.startTraining({
    name: 'tiny',
    task: 'binary',
    inputSize: 96,
    epochs: 1,
    batchSize: 8,
    split: { mode: 'random', valFraction: 0.25, testFraction: 0, seed: 1 },
  });
  expect((await s.tasks.wait(snap.id)).state).toBe('succeeded');
}, 120_000);

afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

async function inspect(req: Parameters<KensaApi['startInspection']>[0]): Promise<Inspection> {
  const done = await s.tasks.wait((await api.startInspection(req)).id);
  expect(done.state).toBe('succeeded');
  return api.getInspection((done.result as { inspectionId: string }).inspectionId);
}

describe('heatmap of a photo outside the library', () => {
  it('is computed from the file, coloured over the photo in its own shape, and cached in the project', async () => {
    const ins = await inspect({ paths: [join(tmp, 'photos')] });
    const item = ins.items[0]!;
    expect(item.imageId).toBeNull();
    const project = s.projects.require();
    const served = await resolveProjectMedia(s, {
      projectKey: mediaKeyOf(project),
      kind: 'inspect-heatmap',
      id: item.media.id,
      params: { colormap: 'turbo', opacity: '0.5' },
    });
    expect(served.mime).toBe('image/png');
    expect(served.path.startsWith(join(project.dir, 'cache') + sep)).toBe(true);
    const { data, info } = await sharp(served.path).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([120, 80]);
    // The photo is grey: a coloured overlay makes the channels differ.
    let coloured = 0;
    for (let p = 0; p < info.width * info.height; p++) {
      const [r, g, b] = [data[p * 3]!, data[p * 3 + 1]!, data[p * 3 + 2]!];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 30) coloured++;
    }
    expect(coloured).toBeGreaterThan(info.width * info.height * 0.2);
    // Asked again (or with the map alone), the cached file is served; another look is another file.
    expect((await s.resolveMedia('inspect-heatmap', item.media.id, { colormap: 'turbo', opacity: '0.5' })).path).toBe(served.path);
    const mapOnly = await s.resolveMedia('inspect-heatmap', item.media.id, { colormap: 'turbo', mode: 'map' });
    expect(mapOnly.path).not.toBe(served.path);
  }, 60_000);

  it('is served only for photos of an inspection in the store, never for a path from the client', async () => {
    const ins = await inspect({ paths: [join(tmp, 'photos')] });
    const photo = join(tmp, 'photos', 'outside.jpg');
    await expect(s.resolveMedia('inspect-heatmap', photo)).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(s.resolveMedia('inspect-heatmap', `${ins.id}/5`)).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(s.resolveMedia('inspect-heatmap', `nosuch/0`)).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(s.resolveMedia('inspect-heatmap', `${ins.id}/0/../../etc`)).rejects.toMatchObject({ name: 'NotFoundError' });
    // Library images of an inspection have no file path: their maps are the library's own 'heatmap' media.
    const lib = await inspect({ imageIds: [1] });
    await expect(s.resolveMedia('inspect-heatmap', `${lib.id}/0`)).rejects.toMatchObject({ name: 'NotFoundError' });
  }, 60_000);
});
