import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  boxToInput,
  fitGeometry,
  gridToOriginal,
  inputToOriginal,
  keyForResize,
  mapPixelToOriginal,
  mapToOriginal,
  originalPixelToMap,
  originalToInput,
  PAD_VALUE,
  paddingOf,
  resizeOfModel,
  type ResizeMode,
} from '../../src-main/services/training/data/geometry.ts';
import { fileSource, loadFileRgb } from '../../src-main/services/training/data/source.ts';
import { letterboxMask } from '../../src-main/services/training/guide/regions.ts';

const shapes: [string, number, number][] = [
  ['tall', 300, 1200],
  ['wide', 1600, 400],
  ['square', 500, 500],
  ['odd', 333, 517],
];
const modes: ResizeMode[] = ['squash', 'letterbox'];

describe('letterbox geometry', () => {
  it('keeps the aspect, centres the content and pads the rest', () => {
    const wide = fitGeometry(1600, 400, 224, 'letterbox');
    expect(wide.content).toEqual({ x: 0, y: 84, w: 224, h: 56 });
    expect(paddingOf(wide)).toEqual({ top: 84, bottom: 84, left: 0, right: 0 });
    const tall = fitGeometry(300, 1200, 224, 'letterbox');
    expect(tall.content).toEqual({ x: 84, y: 0, w: 56, h: 224 });
    expect(fitGeometry(500, 500, 224, 'letterbox').content).toEqual({ x: 0, y: 0, w: 224, h: 224 });
    expect(fitGeometry(1600, 400, 224, 'squash').content).toEqual({ x: 0, y: 0, w: 224, h: 224 });
    // A padding point has no original pixel; the content's corners map to the photo's corners.
    expect(inputToOriginal(wide, 100, 20)).toBeNull();
    expect(inputToOriginal(wide, 0, 84)).toEqual({ x: 0, y: 0 });
    expect(inputToOriginal(wide, 224, 140)).toEqual({ x: 1600, y: 400 });
  });

  for (const [name, w, h] of shapes)
    for (const mode of modes)
      it(`${name} ${w}x${h}, ${mode}: original -> input -> original round trips`, () => {
        const g = fitGeometry(w, h, 224, mode);
        for (const [x, y] of [
          [0, 0],
          [w, h],
          [w / 3, h / 7],
          [w - 1.5, 2.25],
        ] as const) {
          const i = originalToInput(g, x, y);
          expect(i.x).toBeGreaterThanOrEqual(g.content.x);
          expect(i.y).toBeLessThanOrEqual(g.content.y + g.content.h);
          const back = inputToOriginal(g, i.x, i.y)!;
          expect(back.x).toBeCloseTo(x, 6);
          expect(back.y).toBeCloseTo(y, 6);
        }
      });

  for (const [name, w, h] of shapes)
    for (const mode of modes)
      it(`${name} ${w}x${h}, ${mode}: a region and the map pixel over it point at the same original pixel`, () => {
        const g = fitGeometry(w, h, 224, mode);
        const grid = 28;
        // A region the size of one map cell around an original pixel: its box in the input covers the cell that maps
        // back to a pixel inside the region.
        const px = Math.floor(w * 0.7);
        const py = Math.floor(h * 0.2);
        const cell = originalPixelToMap(g, px, py, grid, grid);
        const back = mapPixelToOriginal(g, cell.x, cell.y, grid, grid)!;
        expect(back).not.toBeNull();
        const reach = { x: w / ((g.content.w * grid) / 224), y: h / ((g.content.h * grid) / 224) }; // original px per cell
        expect(Math.abs(back.x - px)).toBeLessThanOrEqual(Math.ceil(reach.x));
        expect(Math.abs(back.y - py)).toBeLessThanOrEqual(Math.ceil(reach.y));
        const box = boxToInput(g, { x: back.x - reach.x, y: back.y - reach.y, w: 2 * reach.x, h: 2 * reach.y });
        const cx = ((cell.x + 0.5) * 224) / grid;
        const cy = ((cell.y + 0.5) * 224) / grid;
        expect(cx).toBeGreaterThanOrEqual(box.x);
        expect(cx).toBeLessThanOrEqual(box.x + box.w);
        expect(cy).toBeGreaterThanOrEqual(box.y);
        expect(cy).toBeLessThanOrEqual(box.y + box.h);
        // The pixel's own map cell maps back to it exactly at the map's resolution = the input's.
        const fine = originalPixelToMap(g, px, py, 224, 224);
        const p2 = mapPixelToOriginal(g, fine.x, fine.y, 224, 224)!;
        expect(Math.abs(p2.x - px)).toBeLessThanOrEqual(Math.ceil(w / g.content.w));
        expect(Math.abs(p2.y - py)).toBeLessThanOrEqual(Math.ceil(h / g.content.h));
      });

  it('maps a letterboxed heatmap back onto the photo: the hot cell lands on the same original pixels, padding cut away', () => {
    const g = fitGeometry(1600, 400, 224, 'letterbox');
    const grid = 28;
    const map = new Float32Array(grid * grid);
    // Hot where the original pixel (1200, 300) lies; the padding rows hold values that must not reach the photo.
    const hot = originalPixelToMap(g, 1200, 300, grid, grid);
    map[hot.y * grid + hot.x] = 1;
    for (let x = 0; x < grid; x++) map[x] = 5; // first row: padding
    const out = mapToOriginal(g, map, grid, grid, 160, 40); // the photo at 1/10
    let best = 0;
    for (let i = 1; i < out.length; i++) if (out[i]! > out[best]!) best = i;
    expect(Math.abs((best % 160) * 10 - 1200)).toBeLessThanOrEqual(60);
    expect(Math.abs(Math.floor(best / 160) * 10 - 300)).toBeLessThanOrEqual(60);
    expect(Math.max(...out)).toBeLessThanOrEqual(1);
    // Squash: the same map resamples onto the whole photo (the padding row is part of it).
    expect(Math.max(...mapToOriginal(fitGeometry(1600, 400, 224, 'squash'), map, grid, grid, 160, 40))).toBeGreaterThan(1);
  });

  it('puts a letterboxed model grid back in the photo shape; squash grids come back unchanged', () => {
    const data = new Float32Array(49).fill(0);
    data[3 * 7 + 6] = 1; // right edge, middle row: inside the content of a 2:1 photo
    data[0] = 9; // top-left corner: padding of a 2:1 photo
    const back = gridToOriginal('letterbox', 400, 200, { width: 7, height: 7, data });
    expect([back.width, back.height]).toEqual([28, 14]);
    expect(Math.max(...back.data)).toBeLessThanOrEqual(1); // the padding's 9 does not bleed in
    expect(Math.max(...back.data)).toBeGreaterThan(0.9);
    let best = 0;
    for (let i = 1; i < back.data.length; i++) if (back.data[i]! > back.data[best]!) best = i;
    expect(best % 28).toBeGreaterThanOrEqual(24);
    expect(Math.abs(Math.floor(best / 28) - 7)).toBeLessThanOrEqual(1);
    const same = { width: 7, height: 7, data };
    expect(gridToOriginal('squash', 400, 200, same)).toBe(same);
  });

  it('a region mask in a letterboxed frame lies where the photo lies in the model input', () => {
    // A 4x2 frame with its right column marked.
    const mask = Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 1]);
    const lb = letterboxMask({ mask, width: 4, height: 2, tolerance: 1 });
    expect([lb.width, lb.height, lb.tolerance]).toEqual([4, 4, 1]);
    expect(Array.from(lb.mask)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
    // The marked pixel's map cell on the square frame maps back to the marked original pixel.
    const g = fitGeometry(4, 2, 4, 'letterbox');
    expect(mapPixelToOriginal(g, 3, 1, 4, 4)).toEqual({ x: 3, y: 0 });
    expect(mapPixelToOriginal(g, 3, 0, 4, 4)).toBeNull();
  });

  it('models from before letterbox read as squash; letterbox keys stay apart in the caches', () => {
    expect(resizeOfModel({ preprocessing: { resize: 'fill' } })).toBe('squash');
    expect(resizeOfModel({})).toBe('squash');
    expect(resizeOfModel({ preprocessing: { resize: 'letterbox' } })).toBe('letterbox');
    expect(keyForResize('abc', 'squash')).toBe('abc');
    expect(keyForResize('abc', 'letterbox')).not.toBe('abc');
  });
});

describe('letterboxed model input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kensa-geometry-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pads a wide photo with neutral grey above and below, the photo kept unstretched in the middle', async () => {
    const path = join(dir, 'wide.png');
    await sharp({ create: { width: 40, height: 10, channels: 3, background: { r: 255, g: 255, b: 255 } } })
      .png()
      .toFile(path);
    const lb = await loadFileRgb(path, 16, 'letterbox');
    const g = fitGeometry(40, 10, 16, 'letterbox');
    expect(g.content).toEqual({ x: 0, y: 6, w: 16, h: 4 });
    const at = (x: number, y: number) => lb[(y * 16 + x) * 3]!;
    for (const y of [0, 5, 10, 15]) expect(at(8, y)).toBe(PAD_VALUE);
    for (const y of [6, 7, 8, 9]) for (const x of [0, 8, 15]) expect(at(x, y)).toBe(255);
    // Squash fills every pixel with the photo.
    const sq = await loadFileRgb(path, 16);
    expect(sq.every((v) => v === 255)).toBe(true);
  });

  it('pads a tall grey photo left and right; a file source keeps its mode', async () => {
    const path = join(dir, 'tall.png');
    await sharp({ create: { width: 10, height: 30, channels: 3, background: { r: 0, g: 0, b: 0 } } })
      .greyscale()
      .png()
      .toFile(path);
    const src = fileSource([{ id: 1, key: 'k', label: 0, split: 'train', path }], 'letterbox');
    const px = await src.loadPixels(0, 12);
    expect(px.length).toBe(12 * 12 * 3);
    const g = fitGeometry(10, 30, 12, 'letterbox');
    expect(g.content).toEqual({ x: 4, y: 0, w: 4, h: 12 });
    const at = (x: number, y: number) => px[(y * 12 + x) * 3]!;
    for (const y of [0, 6, 11]) {
      expect(at(0, y)).toBe(PAD_VALUE);
      expect(at(11, y)).toBe(PAD_VALUE);
      expect(at(5, y)).toBe(0);
    }
    expect(src.keyOf(0)).not.toBe(fileSource([{ id: 1, key: 'k', label: 0, split: 'train', path }]).keyOf(0));
  });
});
