import { describe, expect, it } from 'vitest';
import { maskPixels, rasterStroke, resampleMask } from '../../src-renderer/src/views/library/mask.ts';

describe('brush masks', () => {
  it('rasterises a one-point stroke as a disc of the brush radius, clipped to its box', () => {
    const m = rasterStroke([{ x: 10, y: 10 }], 3, 100, 100)!;
    expect(m).toMatchObject({ x: 7, y: 7, w: 6, h: 6 });
    const set = m.bitmap.reduce((a, v) => a + v, 0);
    // Pixel centres within radius 3 of (10, 10): 32 of the 36 in the box (the corners stay out).
    expect(set).toBe(32);
    expect(m.bitmap[0]).toBe(0);
    expect(m.bitmap[2 * 6 + 2]).toBe(1);
  });

  it('fills a stroke along its segments without gaps', () => {
    const m = rasterStroke(
      [
        { x: 5, y: 5 },
        { x: 45, y: 5 },
      ],
      2,
      100,
      100,
    )!;
    // The row through the stroke's centre is set from one end to the other.
    const row = Math.floor(5 - m.y);
    for (let x = 5; x < 45; x++) expect(m.bitmap[row * m.w + (x - m.x)]).toBe(1);
  });

  it('clips a stroke to the image and returns null when none of it is inside', () => {
    const m = rasterStroke([{ x: 1, y: 1 }], 4, 50, 50)!;
    expect(m.x).toBe(0);
    expect(m.y).toBe(0);
    expect(rasterStroke([{ x: -20, y: -20 }], 4, 50, 50)).toBeNull();
    expect(rasterStroke([], 4, 50, 50)).toBeNull();
  });

  it('resamples a mask by nearest neighbour', () => {
    // 2×2 with the top-left pixel set, to 4×4: the top-left quarter is set.
    const out = resampleMask(new Uint8Array([1, 0, 0, 0]), 2, 2, 4, 4);
    expect([...out]).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // And back down.
    expect([...resampleMask(out, 4, 4, 2, 2)]).toEqual([1, 0, 0, 0]);
  });

  it('paints the contour opaque and the inside see-through in the type colour', () => {
    // A 3×3 block set inside a 5×5 mask: the centre is inside, the ring is contour.
    const bm = new Uint8Array(25);
    for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) bm[y * 5 + x] = 1;
    const px = maskPixels(bm, 5, 5, '#ff8000', 0.5);
    const at = (x: number, y: number) => [...px.slice((y * 5 + x) * 4, (y * 5 + x) * 4 + 4)];
    expect(at(2, 2)).toEqual([255, 128, 0, 128]);
    expect(at(1, 1)).toEqual([255, 128, 0, 255]);
    expect(at(3, 2)).toEqual([255, 128, 0, 255]);
    expect(at(0, 0)).toEqual([0, 0, 0, 0]);
  });
});
