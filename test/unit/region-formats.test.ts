import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../src-main/services/library/import.ts';
import { parseCoco } from '../../src-main/services/library/region-formats/coco.ts';
import { loadAnnotations, withoutAnnotationFiles } from '../../src-main/services/library/region-formats/index.ts';
import { parseLabelme } from '../../src-main/services/library/region-formats/labelme.ts';
import { previewRegions } from '../../src-main/services/library/region-formats/preview.ts';
import { rasterisePolygon, shapeToRegion } from '../../src-main/services/library/region-formats/shapes.ts';
import { decodeRle } from '../../src-main/services/library/rle.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((x, y) => x + y, 0);

describe('polygon rasterisation', () => {
  it('fills pixels whose centre is inside: a 10x5 rectangle is 50 pixels, a right triangle half its box', () => {
    const rect = rasterisePolygon(
      [
        [2, 3],
        [12, 3],
        [12, 8],
        [2, 8],
      ],
      20,
      20,
    );
    expect(sum(rect)).toBe(50);
    expect(rect[3 * 20 + 2]).toBe(1);
    expect(rect[3 * 20 + 12]).toBe(0);
    expect(rect[8 * 20 + 2]).toBe(0);
    // Triangle (0,0)-(10,0)-(0,10): in row y the centres x + 0.5 < 9.5 - y are inside, 9 - y pixels: 9 + 8 + ... + 1 = 45.
    const tri = rasterisePolygon(
      [
        [0, 0],
        [10, 0],
        [0, 10],
      ],
      10,
      10,
    );
    expect(sum(tri)).toBe(45);
    expect(tri[0]).toBe(1);
    expect(tri[9 * 10 + 9]).toBe(0);
  });

  it('turns a polygon into a mask region whose RLE decodes to the same pixels, and refuses shapes outside the image', () => {
    const { region } = shapeToRegion(
      {
        label: 'scratch',
        kind: 'polygon',
        rings: [
          [
            [4, 4],
            [8, 4],
            [8, 10],
            [4, 10],
          ],
        ],
      },
      16,
      16,
    );
    expect(region).toMatchObject({ kind: 'mask', x: 4, y: 4, w: 4, h: 6 });
    if (region?.kind !== 'mask') throw new Error('expected a mask');
    expect(sum(decodeRle(region.rle, region.w, region.h))).toBe(24);
    expect(shapeToRegion({ label: 'x', kind: 'box', x: 10, y: 10, w: 20, h: 3 }, 16, 16)).toEqual({ region: null, outOfBounds: true });
    // Sub-pixel overshoot (tools write 16.4 for the right edge) is clamped, not refused.
    expect(shapeToRegion({ label: 'x', kind: 'box', x: 10, y: 10, w: 6.4, h: 3 }, 16, 16).region).toEqual({
      kind: 'rect',
      x: 10,
      y: 10,
      w: 6,
      h: 3,
    });
  });
});

describe('labelme', () => {
  it('reads rectangles (either corner order) and polygons, names the image by imagePath, reports lines', () => {
    const text = JSON.stringify({
      version: '5.2.1',
      imagePath: '..\\images\\core_01.jpg',
      imageWidth: 64,
      imageHeight: 48,
      shapes: [
        {
          label: 'scratch',
          shape_type: 'rectangle',
          points: [
            [30, 20],
            [10, 5],
          ],
        },
        {
          label: 'dent',
          shape_type: 'polygon',
          points: [
            [1, 1],
            [5, 1],
            [5, 4],
          ],
        },
        {
          label: 'crack',
          shape_type: 'line',
          points: [
            [0, 0],
            [3, 3],
          ],
        },
      ],
    });
    const r = parseLabelme(text, '/data/ann/core_01.json');
    expect(r.images).toHaveLength(1);
    const img = r.images[0]!;
    expect(img).toMatchObject({ imageName: 'core_01.jpg', width: 64, height: 48 });
    expect(img.shapes[0]).toEqual({ label: 'scratch', kind: 'box', x: 10, y: 5, w: 20, h: 15 });
    expect(img.shapes[1]).toMatchObject({ label: 'dent', kind: 'polygon' });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'unsupported-shape', file: '/data/ann/core_01.json' })]);
  });

  it('reports invalid JSON and files that are not labelme, without throwing', () => {
    expect(parseLabelme('{"shapes": [', 'a.json').problems[0]?.code).toBe('invalid-json');
    expect(parseLabelme('{"images": []}', 'b.json').problems[0]?.code).toBe('bad-format');
    // Without imagePath the JSON's own stem names the image, any extension.
    expect(parseLabelme('{"shapes": []}', '/x/core_7.json').images[0]?.imageName).toBe('core_7.*');
  });
});

describe('COCO', () => {
  const coco = {
    images: [
      { id: 1, file_name: 'train/a.jpg', width: 64, height: 48 },
      { id: 2, file_name: 'b.jpg', width: 64, height: 48 },
    ],
    categories: [
      { id: 3, name: 'Scratches' },
      { id: 7, name: 'dent' },
    ],
    annotations: [
      { id: 1, image_id: 1, category_id: 3, bbox: [10, 5, 20, 15], iscrowd: 0 },
      {
        id: 2,
        image_id: 1,
        category_id: 7,
        bbox: [0, 0, 8, 8],
        segmentation: [
          [0, 0, 8, 0, 8, 8, 0, 8],
          [20, 20, 24, 20, 24, 24],
        ],
      },
      { id: 3, image_id: 9, category_id: 3, bbox: [0, 0, 1, 1] },
      { id: 4, image_id: 2, category_id: 99, bbox: [0, 0, 1, 1] },
    ],
  };

  it('reads bboxes as boxes and polygon segmentations (several parts) as one polygon area, with category names', () => {
    const r = parseCoco(JSON.stringify(coco), '/d/instances.json');
    const a = r.images.find((i) => i.imageName === 'a.jpg')!;
    expect(a.shapes).toHaveLength(2);
    expect(a.shapes[0]).toEqual({ label: 'Scratches', kind: 'box', x: 10, y: 5, w: 20, h: 15 });
    expect(a.shapes[1]).toMatchObject({ label: 'dent', kind: 'polygon' });
    if (a.shapes[1]?.kind !== 'polygon') throw new Error('expected a polygon');
    expect(a.shapes[1].rings).toHaveLength(2);
    expect(r.problems.map((p) => p.code).sort()).toEqual(['bad-format', 'unknown-image']);
    expect(parseCoco('not json', 'x.json').problems[0]?.code).toBe('invalid-json');
  });

  it('matches records to the imported files by name and maps labels to defect types', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kensa-coco-'));
    try {
      const file = join(dir, 'instances.json');
      writeFileSync(file, JSON.stringify(coco));
      const idx = loadAnnotations({ coco: file }, [join(dir, 'imgs', 'a.jpg'), join(dir, 'imgs', 'c.jpg')]);
      expect(idx.matchedRecords).toBe(1);
      // b.jpg is annotated (one shape, with an unknown category so none) but not imported: no shapes, no problem.
      const types: Record<string, number> = { scratches: 11, dent: 12 };
      const rows = idx.rowsFor(join(dir, 'imgs', 'a.jpg'), 64, 48, (l) => types[l.toLowerCase()]);
      expect(rows.map((r) => [r.typeId, r.region.kind, r.source])).toEqual([
        [11, 'rect', 'coco'],
        [12, 'mask', 'coco'],
      ]);
      const mask = rows[1]!.region;
      if (mask.kind !== 'mask') throw new Error('expected a mask');
      // The 8x8 square (64 px) and the triangle (20,20)-(24,20)-(24,24) filled together: its rows hold 4, 3, 2, 1
      // pixels (a centre on the diagonal counts as inside).
      expect(sum(decodeRle(mask.rle, mask.w, mask.h))).toBe(64 + 10);
      // Same image annotated for a different size: left out, reported.
      expect(idx.rowsFor(join(dir, 'imgs', 'a.jpg'), 32, 48, () => 1)).toEqual([]);
      expect(idx.problems.map((p) => p.code)).toContain('size-mismatch');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('import with labelme and COCO regions', () => {
  let tmp: string;
  let s: Services;
  let api: KensaApi;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kensa-regions-'));
    s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'res'), host: { mode: 'cli', electronVersion: null } });
    api = createHandlers(s);
  });
  afterAll(async () => {
    await s.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('imports boxes and polygons beside the photos, reports bad files per file and does not import the JSON', async () => {
    await api.createProject(join(tmp, 'p'));
    const src = join(tmp, 'photos');
    mkdirSync(join(src, 'scratch'), { recursive: true });
    const jpg = (seed: number) =>
      sharp(Buffer.alloc(40 * 30 * 3, seed), { raw: { width: 40, height: 30, channels: 3 } })
        .jpeg()
        .toBuffer();
    writeFileSync(join(src, 'scratch', 'a.jpg'), await jpg(10));
    writeFileSync(join(src, 'scratch', 'b.jpg'), await jpg(90));
    writeFileSync(
      join(src, 'scratch', 'a.json'),
      JSON.stringify({
        imagePath: 'a.jpg',
        imageWidth: 40,
        imageHeight: 30,
        shapes: [
          {
            label: 'scratches',
            shape_type: 'rectangle',
            points: [
              [2, 2],
              [12, 7],
            ],
          },
          {
            label: 'Dent',
            shape_type: 'polygon',
            points: [
              [20, 10],
              [30, 10],
              [30, 20],
              [20, 20],
            ],
          },
          {
            label: 'scratch',
            shape_type: 'rectangle',
            points: [
              [30, 25],
              [45, 29],
            ],
          },
        ],
      }),
    );
    writeFileSync(join(src, 'scratch', 'b.json'), '{ not json');
    writeFileSync(
      join(src, 'scratch', 'zz.json'),
      JSON.stringify({
        imagePath: 'zz.jpg',
        shapes: [
          {
            label: 'dent',
            points: [
              [0, 0],
              [1, 0],
              [1, 1],
            ],
          },
        ],
      }),
    );

    const preview = previewRegions([src], { labelme: src });
    expect(preview).toMatchObject({ format: 'labelme', files: 2, regions: 4, matchedFiles: 1, matchedRegions: 3, images: 2 });
    expect(preview.problems.map((p) => p.code).sort()).toEqual(['invalid-json', 'unknown-image']);

    const r = await runImport(s.projects.require(), { paths: [src], labels: { from: 'folders' }, regions: { labelme: src } });
    expect(r.imported).toBe(2);
    expect(r.skipped).toEqual([]);
    expect(r.regionsImported).toBe(2);
    expect(r.regionProblems.map((p) => [p.code, p.file.split(/[\\/]/).pop()]).sort()).toEqual([
      ['invalid-json', 'b.json'],
      ['out-of-bounds', 'a.json'],
      ['unknown-image', 'zz.json'],
    ]);
    const a = (await api.listImages({ filter: { nameContains: 'a.jpg' } })).items[0]!;
    const d = await api.getImage(a.id);
    const keys = new Map((await api.listDefectTypes()).map((t) => [t.id, t.key]));
    expect(d.regions.map((g) => [keys.get(g.defectTypeId), g.kind, g.source, g.x, g.y, g.w, g.h])).toEqual([
      ['scratch', 'rect', 'labelme', 2, 2, 10, 5],
      ['dent', 'mask', 'labelme', 20, 10, 10, 10],
    ]);
  });

  it('leaves the annotation files of every source out of the files to import', () => {
    const e = (p: string) => ({ path: p, labelName: null });
    const kept = withoutAnnotationFiles(
      [e('/d/a.jpg'), e('/d/a.json'), e('/d/voc/a.xml'), e('/d/coco.json'), e('/d/m/a.png'), e('/d/a.png')],
      { labelme: '/d', vocDir: '/d/voc', masksDir: '/d/m', coco: '/d/coco.json' },
    ).map((x) => x.path);
    expect(kept).toEqual(['/d/a.jpg', '/d/a.png']);
  });
});
