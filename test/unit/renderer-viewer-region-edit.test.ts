import { describe, expect, it } from 'vitest';
import type { Region } from '../../src-main/shared/library-types.ts';
import { decodeRle, encodeRle } from '../../src-renderer/src/views/library/mask.ts';
import {
  boxPatch,
  handlePoints,
  hitHandle,
  hitRegion,
  hoverCursor,
  movedBox,
  normaliseBox,
  resizedBox,
  sameBox,
  tooSmallToKeep,
} from '../../src-renderer/src/views/library/viewer/region-edit.ts';

const region = (id: number, x: number, y: number, w: number, h: number, over: Partial<Region> = {}): Region => ({
  id,
  imageId: 1,
  defectTypeId: 1,
  kind: 'rect',
  x,
  y,
  w,
  h,
  source: 'user',
  createdAt: '2026-01-01T00:00:00Z',
  ...over,
});

describe('viewer region edits: hits', () => {
  it('picks the smallest region containing the point, edges included', () => {
    const big = region(1, 0, 0, 100, 100);
    const small = region(2, 40, 40, 10, 10);
    expect(hitRegion([big, small], 45, 45)?.id).toBe(2);
    expect(hitRegion([small, big], 45, 45)?.id).toBe(2);
    expect(hitRegion([big, small], 5, 5)?.id).toBe(1);
    expect(hitRegion([big, small], 100, 100)?.id).toBe(1);
    expect(hitRegion([big, small], 100.5, 50)).toBeNull();
  });

  it('places the eight handles on corners and edge midpoints', () => {
    const pts = handlePoints({ x: 10, y: 20, w: 40, h: 60 });
    expect(pts.map(([h]) => h)).toEqual(['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w']);
    expect(pts.find(([h]) => h === 'se')).toEqual(['se', 50, 80]);
    expect(pts.find(([h]) => h === 'w')).toEqual(['w', 10, 50]);
  });

  it('grabs a handle within 7 screen pixels at the current zoom, not further', () => {
    const box = { x: 10, y: 10, w: 20, h: 20 };
    const v = { scale: 4, tx: 100, ty: 0 };
    // The se corner (30, 30) is on screen at (220, 120).
    expect(hitHandle(box, v, 226, 113)).toBe('se');
    expect(hitHandle(box, v, 228, 120)).toBeNull();
    // The n handle (20, 10) is at (180, 40).
    expect(hitHandle(box, v, 180, 40)).toBe('n');
    expect(hitHandle(undefined, v, 180, 40)).toBeNull();
  });

  it('words the hover cursor for a handle, a region and empty ground', () => {
    expect(hoverCursor('ne', true)).toBe('ne-resize');
    expect(hoverCursor(null, true)).toBe('move');
    expect(hoverCursor(null, false)).toBe('grab');
  });
});

describe('viewer region edits: boxes', () => {
  it('normalises a box dragged up-left into whole pixels inside the image', () => {
    expect(normaliseBox({ x: 50.4, y: 60.6, w: -20.2, h: -50 }, 200, 200)).toEqual({ x: 30, y: 11, w: 20, h: 50 });
    expect(normaliseBox({ x: 190, y: 190, w: 30, h: 30 }, 200, 200)).toEqual({ x: 190, y: 190, w: 10, h: 10 });
    expect(normaliseBox({ x: 5, y: 5, w: 0.2, h: 0 }, 200, 200)).toEqual({ x: 5, y: 5, w: 1, h: 1 });
  });

  it('moves a box by whole pixels and stops it at the image border', () => {
    const o = { x: 10, y: 10, w: 30, h: 20 };
    expect(movedBox(o, 5.4, -2.6, 200, 100)).toEqual({ x: 15, y: 7, w: 30, h: 20 });
    expect(movedBox(o, -50, 500, 200, 100)).toEqual({ x: 0, y: 80, w: 30, h: 20 });
  });

  it('resizes from the handle dragged and flips when dragged past the other side', () => {
    const o = { x: 50, y: 50, w: 20, h: 20 };
    expect(resizedBox(o, 'se', 10, 5, 200, 200)).toEqual({ x: 50, y: 50, w: 30, h: 25 });
    expect(resizedBox(o, 'nw', -10, -5, 200, 200)).toEqual({ x: 40, y: 45, w: 30, h: 25 });
    // Only the side the edge handle names moves.
    expect(resizedBox(o, 'e', 10, 99, 200, 200)).toEqual({ x: 50, y: 50, w: 30, h: 20 });
    expect(resizedBox(o, 'n', 99, -10, 200, 200)).toEqual({ x: 50, y: 40, w: 20, h: 30 });
    // Dragging the w handle 30 px right passes the e side: the box flips to x 70..80.
    expect(resizedBox(o, 'w', 30, 0, 200, 200)).toEqual({ x: 70, y: 50, w: 10, h: 20 });
    expect(resizedBox(o, 'se', 500, 500, 200, 200)).toEqual({ x: 50, y: 50, w: 150, h: 150 });
  });

  it('compares boxes and drops boxes too small on screen to be meant', () => {
    expect(sameBox({ x: 1, y: 2, w: 3, h: 4 }, region(9, 1, 2, 3, 4))).toBe(true);
    expect(sameBox({ x: 1, y: 2, w: 3, h: 4 }, { x: 1, y: 2, w: 3, h: 5 })).toBe(false);
    expect(tooSmallToKeep({ x: 0, y: 0, w: 2, h: 50 }, 1)).toBe(true);
    expect(tooSmallToKeep({ x: 0, y: 0, w: 2, h: 50 }, 2)).toBe(false);
  });
});

describe('viewer region edits: the stored patch', () => {
  it('stores a moved rectangle as its new box only', () => {
    expect(boxPatch(region(1, 0, 0, 10, 10), { x: 5, y: 6, w: 10, h: 10 })).toEqual({ x: 5, y: 6, w: 10, h: 10 });
  });

  it('keeps a moved mask as it is and resamples a resized one to the new box', () => {
    // A 2×2 mask with the left column set.
    const rle = encodeRle(new Uint8Array([1, 0, 1, 0]));
    const mask = region(1, 0, 0, 2, 2, { kind: 'mask', rle });
    expect(boxPatch(mask, { x: 3, y: 3, w: 2, h: 2 }).rle).toBeUndefined();
    const p = boxPatch(mask, { x: 0, y: 0, w: 4, h: 2 });
    expect(p).toMatchObject({ x: 0, y: 0, w: 4, h: 2 });
    // Stretched to 4 wide: the left half is set on both rows.
    expect([...decodeRle(p.rle!, 4, 2)]).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
  });
});
