import { describe, expect, it } from 'vitest';
import {
  MAX_SCALE,
  fitScale,
  fitView,
  panView,
  stepScale,
  toImagePoint,
  toScreenPoint,
  wheelScale,
  zoomPercent,
  zoomViewAt,
} from '../../src-renderer/src/views/library/viewer/viewport.ts';

const stage = { w: 800, h: 600 };

describe('viewer viewport: fit', () => {
  it('fits a square image to the shorter side with a 4 % margin and centres it', () => {
    const v = fitView(stage, { w: 200, h: 200 });
    expect(v.scale).toBeCloseTo(2.88, 10); // 600 / 200 * 0.96
    expect(v.tx).toBeCloseTo((800 - 576) / 2, 10);
    expect(v.ty).toBeCloseTo((600 - 576) / 2, 10);
  });

  it('fits a wide image to the width', () => {
    expect(fitScale(stage, { w: 1600, h: 400 })).toBeCloseTo(0.48, 10);
    const v = fitView(stage, { w: 1600, h: 400 });
    // The image's centre lands on the stage's centre.
    const c = toScreenPoint(v, 800, 200);
    expect(c.sx).toBeCloseTo(400, 10);
    expect(c.sy).toBeCloseTo(300, 10);
  });
});

describe('viewer viewport: screen ↔ image', () => {
  it('maps screen to image and back', () => {
    const v = { scale: 2.5, tx: 40, ty: -12 };
    const { ix, iy } = toImagePoint(v, 140, 88);
    expect(ix).toBeCloseTo(40, 10);
    expect(iy).toBeCloseTo(40, 10);
    const back = toScreenPoint(v, ix, iy);
    expect(back.sx).toBeCloseTo(140, 10);
    expect(back.sy).toBeCloseTo(88, 10);
  });
});

describe('viewer viewport: zoom and pan', () => {
  it('keeps the image point under the pointer still while zooming', () => {
    const v = { scale: 1, tx: 100, ty: 50 };
    const under = toImagePoint(v, 300, 200);
    const z = zoomViewAt(v, 300, 200, 4, 1);
    expect(z.scale).toBe(4);
    const p = toScreenPoint(z, under.ix, under.iy);
    expect(p.sx).toBeCloseTo(300, 10);
    expect(p.sy).toBeCloseTo(200, 10);
  });

  it('stops zooming in at 32× and out at half the fitted scale or 5 %, whichever is smaller', () => {
    const v = { scale: 1, tx: 0, ty: 0 };
    expect(zoomViewAt(v, 0, 0, 1000, 1).scale).toBe(MAX_SCALE);
    // Fitted at 2×: the floor is min(1, 0.05) = 0.05.
    expect(zoomViewAt(v, 0, 0, 0.001, 2).scale).toBe(0.05);
    // Fitted at 0.04× (a huge image): the floor is 0.02, so it can still be seen whole.
    expect(zoomViewAt(v, 0, 0, 0.001, 0.04).scale).toBeCloseTo(0.02, 12);
    expect(zoomViewAt(v, 0, 0, 0.3, 2).scale).toBe(0.3);
  });

  it('steps by 1.25 in and out, so one step in and one out come back', () => {
    expect(stepScale(2, 1)).toBe(2.5);
    expect(stepScale(2.5, -1)).toBe(2);
  });

  it('zooms by the wheel exponentially, lines (deltaMode 1) faster than pixels', () => {
    expect(wheelScale(1, -100, 0)).toBeCloseTo(Math.exp(0.15), 12);
    expect(wheelScale(1, 3, 1)).toBeCloseTo(Math.exp(-0.15), 12);
    // Two half scrolls equal one whole scroll.
    expect(wheelScale(wheelScale(1, 50, 0), 50, 0)).toBeCloseTo(wheelScale(1, 100, 0), 12);
  });

  it('pans by the drag in screen pixels, keeping the scale', () => {
    expect(panView({ scale: 3, tx: 10, ty: 20 }, -5, 7)).toEqual({ scale: 3, tx: 5, ty: 27 });
  });

  it('shows the zoom as a whole percentage', () => {
    expect(zoomPercent(2.88)).toBe(288);
    expect(zoomPercent(0.4849)).toBe(48);
  });
});
