/**
 * Contact sheets: method display names as column heads; in compare mode the two runs' maps side by side under the
 * run names, each map in its own run's column (an image without a map leaves its cell empty, never shifts the row).
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { GalleryItem, HeatmapMethod } from '../../src-main/shared/heatmap-types.ts';
import { planContactSheet } from '../../src-main/services/heatmaps/contact-sheet.ts';
import { contactSheet, type RgbImage } from '../../src-main/services/heatmaps/render.ts';

function item(imageId: number, maps: [HeatmapMethod, string][], predicted: string | null = 'defect'): GalleryItem {
  return {
    imageId,
    fileName: `img${imageId}.jpg`,
    split: 'val',
    trueLabel: 'scratches',
    predictedLabel: predicted,
    confidence: predicted ? 0.9 : null,
    probabilities: null,
    correct: null,
    width: 200,
    height: 200,
    regions: [],
    maps: maps.map(([method, mediaId]) => ({ method, classKey: 'defect', mediaId, score: null })),
  };
}

function solid(r: number, g: number, b: number, n = 32): RgbImage {
  const data = new Uint8Array(n * n * 3);
  for (let p = 0; p < n * n; p++) data.set([r, g, b], p * 3);
  return { width: n, height: n, data };
}

describe('contact sheet plan', () => {
  it('heads columns with the method display names, not the method keys', () => {
    const plan = planContactSheet(
      { id: 3, name: 'v1 96px' },
      [
        item(1, [
          ['cam', 'a'],
          ['smoothgrad', 'b'],
        ]),
      ],
      ['cam', 'smoothgrad'],
      {},
      null,
    );
    expect(plan.columns).toEqual(['Image', 'CAM', 'SmoothGrad']);
    expect(planContactSheet({ id: 3, name: 'x' }, [], ['gradcam', 'saliency'], {}, null).columns).toEqual([
      'Image',
      'Grad-CAM',
      'Gradient',
    ]);
    expect(plan.title).toContain('Run #3 v1 96px');
  });

  it('keeps each map in its column when an earlier one is missing', () => {
    const plan = planContactSheet({ id: 3, name: 'r' }, [item(1, [['smoothgrad', 'sg1']])], ['cam', 'smoothgrad'], {}, null);
    expect(plan.rows[0]!.cells.map((c) => c.ref?.mediaId ?? null)).toEqual([null, 'sg1']);
  });

  it('in compare mode puts both runs side by side under their names, matched by image', () => {
    const a = [item(1, [['cam', 'a1']]), item(2, [['cam', 'a2']]), item(3, [['cam', 'a3']])];
    const b = new Map([
      [2, item(2, [['cam', 'b2']], 'ok')],
      [1, item(1, [['cam', 'b1']])],
    ]);
    const plan = planContactSheet(
      { id: 3, name: 'small' },
      a,
      ['cam', 'smoothgrad'],
      { split: 'val' },
      {
        run: { id: 7, name: 'large' },
        method: 'cam',
        items: b,
      },
    );
    expect(plan.columns).toEqual(['Image', '#3 small\nCAM', '#7 large\nCAM']);
    expect(plan.rows.map((r) => r.cells.map((c) => c.ref?.mediaId ?? null))).toEqual([
      ['a1', 'b1'],
      ['a2', 'b2'],
      ['a3', null],
    ]);
    expect(plan.rows.map((r) => r.cells.map((c) => c.runId))).toEqual([
      [3, 7],
      [3, 7],
      [3, 7],
    ]);
    expect(plan.rows[1]!.caption).toContain('#3 → defect 90% · #7 → ok 90%');
    expect(plan.title).toBe('Run #3 small vs run #7 large · CAM · all labels · val');
  });
});

describe('contact sheet picture', () => {
  it('draws the tiles in their columns and leaves an empty cell where a map is missing', async () => {
    const tile = 64;
    const png = await contactSheet(
      [
        { caption: 'one', tiles: [solid(128, 128, 128), solid(255, 0, 0), solid(0, 0, 255)] },
        { caption: 'two', tiles: [solid(128, 128, 128), solid(255, 0, 0), null] },
      ],
      { tile, colormap: 'turbo', title: 'compare', columns: ['Image', '#3 small\nCAM', '#7 large\nCAM'] },
    );
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(8 + 3 * (tile + 8));
    const headH = 26 + 14 * 2;
    const at = (col: number, row: number): number[] => {
      const x = 8 + col * (tile + 8) + tile / 2;
      const y = headH + row * (tile + 18 + 8) + tile / 2;
      const o = (y * info.width + x) * info.channels;
      return [data[o]!, data[o + 1]!, data[o + 2]!];
    };
    expect(at(1, 0)).toEqual([255, 0, 0]);
    expect(at(2, 0)).toEqual([0, 0, 255]);
    expect(at(1, 1)).toEqual([255, 0, 0]);
    // The missing map: a light empty cell, not run A's map moved over nor the next row's picture.
    const empty = at(2, 1);
    expect(empty[0]).toBeGreaterThan(220);
    expect(Math.abs(empty[0]! - empty[2]!)).toBeLessThan(12);
  });
});
