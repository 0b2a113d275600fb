import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { withLegend } from '../../src-main/services/heatmaps/render.ts';

describe('heatmap PNG with legend', () => {
  it('puts a map narrower than the legend on a wider sheet instead of failing (64 px photos export)', async () => {
    const w = 64;
    const h = 48;
    const data = new Uint8Array(w * h * 3).fill(200);
    const png = await withLegend({ width: w, height: h, data }, 'jet', 'CAM');
    const meta = await sharp(png).metadata();
    expect(meta.width).toBeGreaterThanOrEqual(120);
    expect(meta.height).toBeGreaterThan(h);
    // The map is centred: its grey pixels stand in the middle of the first row, white at the sheet's edges.
    const { data: px, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number) => px[x * info.channels]!;
    expect(at(Math.floor(info.width / 2))).toBe(200);
    expect(at(0)).toBe(255);
  });

  it('keeps a wide map at its own width', async () => {
    const data = new Uint8Array(300 * 200 * 3).fill(90);
    const meta = await sharp(await withLegend({ width: 300, height: 200, data }, 'jet', 'CAM')).metadata();
    expect(meta.width).toBe(300);
  });
});
