import { describe, expect, it } from 'vitest';
import {
  boxTileOverlap,
  keyForTile,
  originalPixelToTileMap,
  originalToTile,
  stitchTileMaps,
  tileGrid,
  tileMapPixelToOriginal,
  tileToOriginal,
} from '../../src-main/services/training/data/tiles.ts';

describe('tile grid', () => {
  it('spans the short side with one tile and overlaps evenly along the long side', () => {
    const g = tileGrid(1250, 500);
    expect(g.side).toBe(500);
    expect([g.cols, g.rows]).toEqual([3, 1]);
    expect(g.tiles.map((t) => t.x)).toEqual([0, 375, 750]);
    expect(g.tiles.at(-1)!.x + g.side).toBe(1250);
    const tall = tileGrid(300, 900);
    expect([tall.cols, tall.rows]).toEqual([1, 3]);
    expect(tall.tiles.map((t) => t.y)).toEqual([0, 300, 600]);
  });

  it('covers every pixel of the photo, with no tile reaching outside it', () => {
    for (const [w, h, side] of [
      [1250, 500, undefined],
      [640, 640, 224],
      [1001, 333, 100],
      [97, 500, 40],
    ] as const) {
      const g = tileGrid(w, h, { side, maxTiles: 400 });
      const seen = new Uint8Array(w * h);
      for (const t of g.tiles) {
        expect(t.x).toBeGreaterThanOrEqual(0);
        expect(t.y).toBeGreaterThanOrEqual(0);
        expect(t.x + t.side).toBeLessThanOrEqual(w);
        expect(t.y + t.side).toBeLessThanOrEqual(h);
        for (let y = t.y; y < t.y + t.side; y++) seen.fill(1, y * w + t.x, y * w + t.x + t.side);
      }
      expect(seen.every((v) => v === 1)).toBe(true);
    }
  });

  it('grows the side until the grid fits maxTiles, never beyond the short side', () => {
    const g = tileGrid(2000, 2000, { side: 224, maxTiles: 16 });
    expect(g.cols * g.rows).toBeLessThanOrEqual(16);
    expect(g.side).toBeGreaterThan(224);
    // 1:40 cannot be covered by 16 squares of the short side: one tile per short side is the floor.
    const thin = tileGrid(4000, 100, { maxTiles: 16 });
    expect(thin.side).toBe(100);
    expect(thin.cols).toBe(40);
  });

  it('keys tiles of different grids apart', () => {
    const a = tileGrid(900, 300);
    const b = tileGrid(900, 300, { side: 150 });
    expect(keyForTile('k', a, 0)).not.toBe(keyForTile('k', b, 0));
    expect(keyForTile('k', a, 0)).not.toBe(keyForTile('k', a, 1));
    expect(keyForTile('k', a, 0)).not.toBe('k');
  });
});

describe('tile coordinates', () => {
  it('maps a point to a tile input and back', () => {
    const g = tileGrid(1250, 500);
    const t = g.tiles[1]!;
    const p = originalToTile(t, 224, 600.25, 123.5);
    const q = tileToOriginal(t, 224, p.x, p.y);
    expect(q.x).toBeCloseTo(600.25, 9);
    expect(q.y).toBeCloseTo(123.5, 9);
  });

  it('maps a region pixel and a map pixel back to the same original pixel', () => {
    const g = tileGrid(900, 300);
    const mapW = 7;
    for (const t of g.tiles)
      for (let my = 0; my < mapW; my++)
        for (let mx = 0; mx < mapW; mx++) {
          const o = tileMapPixelToOriginal(g, t, mx, my, mapW, mapW);
          expect(originalPixelToTileMap(t, o.x, o.y, mapW, mapW)).toEqual({ x: mx, y: my });
        }
    expect(originalPixelToTileMap(g.tiles[0]!, 899, 10, 7, 7)).toBeNull();
  });

  it('measures how much of a region box a tile holds', () => {
    const g = tileGrid(900, 300);
    expect(boxTileOverlap(g.tiles[0]!, { x: 100, y: 100, w: 50, h: 50 })).toBe(1);
    expect(boxTileOverlap(g.tiles[0]!, { x: 280, y: 0, w: 40, h: 10 })).toBeCloseTo(0.5, 9);
    expect(boxTileOverlap(g.tiles[2]!, { x: 100, y: 100, w: 50, h: 50 })).toBe(0);
    expect(boxTileOverlap(g.tiles[0]!, { x: 100, y: 100, w: 0, h: 50 })).toBe(0);
  });
});

describe('stitching tile maps', () => {
  it('puts each tile map back where its tile lies and lets the larger value win where tiles overlap', () => {
    const g = tileGrid(1000, 400); // 3 tiles of 400 px at x = 0, 300, 600
    const mapW = 4;
    const maps = g.tiles.map((_, k) => new Float32Array(mapW * mapW).fill(k + 1));
    const out = stitchTileMaps(g, maps, mapW, mapW, 1000, 400);
    expect(out[200 * 1000 + 100]).toBe(1); // only tile 0
    expect(out[200 * 1000 + 350]).toBe(2); // tiles 0 and 1: the larger
    expect(out[200 * 1000 + 650]).toBe(3);
    expect(out[200 * 1000 + 999]).toBe(3);
    expect(out.every(Number.isFinite)).toBe(true);
  });

  it('keeps a hot cell over the original pixels it covers, also on a scaled output', () => {
    const g = tileGrid(900, 300);
    const mapW = 7;
    const maps = g.tiles.map(() => new Float32Array(mapW * mapW));
    const t = g.tiles[2]!;
    maps[2]![3 * mapW + 5] = 1;
    const o = tileMapPixelToOriginal(g, t, 5, 3, mapW, mapW);
    for (const scale of [1, 0.5]) {
      const outW = Math.round(900 * scale);
      const outH = Math.round(300 * scale);
      const out = stitchTileMaps(g, maps, mapW, mapW, outW, outH);
      let best = 0;
      for (let k = 1; k < out.length; k++) if (out[k]! > out[best]!) best = k;
      const bx = ((best % outW) + 0.5) / scale;
      const by = (Math.floor(best / outW) + 0.5) / scale;
      expect(Math.abs(bx - (o.x + 0.5))).toBeLessThanOrEqual(t.side / mapW / 2 + 1 / scale);
      expect(Math.abs(by - (o.y + 0.5))).toBeLessThanOrEqual(t.side / mapW / 2 + 1 / scale);
    }
  });
});
