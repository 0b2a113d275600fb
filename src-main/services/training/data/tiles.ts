/**
 * How a large or elongated photo becomes several model inputs, and back (no TensorFlow here: the classifier, the
 * anomaly model, the heatmap scorer and Inspect share it).
 *
 * A tile is a square window of the photo in original pixels; the model sees it squashed onto its square input, which
 * for a square window is a uniform scale: nothing is stretched, so a thin crack keeps its shape. By default one tile
 * spans the photo's short side and the windows overlap evenly along the long one (a 500 x 1,250 commutator photo gives
 * three 500 px tiles), so every pixel is seen at the scale the short side alone would give. A smaller `side` (for
 * example the model's input size) looks at a large photo closer, at the cost of more tiles.
 *
 * Coordinates are continuous pixel coordinates, as in geometry.ts: pixel (i, j) covers [i, i+1) x [j, j+1).
 */
import { bilinearAt, fitGeometry, type Geometry, type Rect } from './geometry.ts';

export interface Tile {
  /** Index in the grid (row-major). */
  i: number;
  col: number;
  row: number;
  /** The window in original pixels: [x, x + side) x [y, y + side). */
  x: number;
  y: number;
  side: number;
}

export interface TileGrid {
  /** The photo's size. */
  width: number;
  height: number;
  /** Every tile's side in original pixels. */
  side: number;
  cols: number;
  rows: number;
  tiles: Tile[];
}

/** Subdividing a photo stops at this many tiles unless asked otherwise: the work per photo grows with the count. */
export const DEFAULT_MAX_TILES = 16;

/** Window offsets along one axis of length `len`: n windows of `side`, the first at 0, the last flush with the end. */
function offsets(len: number, side: number, n: number): number[] {
  if (n <= 1) return [Math.floor((len - side) / 2)];
  return Array.from({ length: n }, (_, k) => Math.round((k * (len - side)) / (n - 1)));
}

/**
 * The tile grid of a width x height photo. `side` (default: the short side) is clamped to the short side: a tile
 * never reaches outside the photo. When the grid would exceed `maxTiles`, the side grows until it fits; one tile across
 * the short side is the coarsest grid there is, so a photo more elongated than maxTiles : 1 keeps one tile per short side.
 */
export function tileGrid(width: number, height: number, opts: { side?: number; maxTiles?: number } = {}): TileGrid {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0))
    throw new RangeError(`Bad photo size ${width}x${height}`);
  const short = Math.min(width, height);
  const maxTiles = Math.max(1, Math.floor(opts.maxTiles ?? DEFAULT_MAX_TILES));
  let side = Math.max(1, Math.min(short, Math.round(opts.side ?? short)));
  const count = (s: number) => Math.ceil(width / s) * Math.ceil(height / s);
  while (side < short && count(side) > maxTiles) side = Math.min(short, Math.ceil(side * 1.1));
  const cols = Math.ceil(width / side);
  const rows = Math.ceil(height / side);
  const xs = offsets(width, side, cols);
  const ys = offsets(height, side, rows);
  const tiles: Tile[] = [];
  for (let row = 0; row < rows; row++)
    for (let col = 0; col < cols; col++) tiles.push({ i: row * cols + col, col, row, x: xs[col]!, y: ys[row]!, side });
  return { width, height, side, cols, rows, tiles };
}

/** The square geometry of one tile's window as a model input (a uniform scale: square onto square). */
export function tileGeometry(t: Tile, size: number): Geometry {
  return fitGeometry(t.side, t.side, size, 'squash');
}

/** An original point in the input coordinates of tile t (may lie outside [0, size) when the point is outside the tile). */
export function originalToTile(t: Tile, size: number, x: number, y: number): { x: number; y: number } {
  return { x: ((x - t.x) * size) / t.side, y: ((y - t.y) * size) / t.side };
}

/** A point of tile t's input in original coordinates. */
export function tileToOriginal(t: Tile, size: number, x: number, y: number): { x: number; y: number } {
  return { x: t.x + (x * t.side) / size, y: t.y + (y * t.side) / size };
}

/** Whether the original point lies in tile t's window. */
export function tileContains(t: Tile, x: number, y: number): boolean {
  return x >= t.x && y >= t.y && x < t.x + t.side && y < t.y + t.side;
}

/** The fraction of the box's area that lies inside tile t's window (0 for an empty box). */
export function boxTileOverlap(t: Tile, box: Rect): number {
  const area = box.w * box.h;
  if (!(area > 0)) return 0;
  const w = Math.min(box.x + box.w, t.x + t.side) - Math.max(box.x, t.x);
  const h = Math.min(box.y + box.h, t.y + t.side) - Math.max(box.y, t.y);
  return w > 0 && h > 0 ? (w * h) / area : 0;
}

/** The original pixel (whole indices) under the centre of map cell (mx, my) of tile t's mapW x mapH map. */
export function tileMapPixelToOriginal(
  grid: TileGrid,
  t: Tile,
  mx: number,
  my: number,
  mapW: number,
  mapH: number,
): { x: number; y: number } {
  const x = t.x + ((mx + 0.5) * t.side) / mapW;
  const y = t.y + ((my + 0.5) * t.side) / mapH;
  return { x: Math.min(grid.width - 1, Math.floor(x)), y: Math.min(grid.height - 1, Math.floor(y)) };
}

/** The cell of tile t's mapW x mapH map that covers the centre of original pixel (px, py); null outside the tile. */
export function originalPixelToTileMap(t: Tile, px: number, py: number, mapW: number, mapH: number): { x: number; y: number } | null {
  const x = px + 0.5;
  const y = py + 0.5;
  if (!tileContains(t, x, y)) return null;
  return {
    x: Math.min(mapW - 1, Math.max(0, Math.floor(((x - t.x) * mapW) / t.side))),
    y: Math.min(mapH - 1, Math.max(0, Math.floor(((y - t.y) * mapH) / t.side))),
  };
}

/**
 * Per-tile maps (each mapW x mapH, row-major, on its tile's input grid; maps[k] belongs to grid.tiles[k]) stitched
 * onto the photo at outW x outH (the photo's size or a scaled copy). Within a tile the map is sampled bilinearly
 * between cell centres; where tiles overlap the larger value wins, as the image's score is its worst tile.
 */
export function stitchTileMaps(
  grid: TileGrid,
  maps: readonly ArrayLike<number>[],
  mapW: number,
  mapH: number,
  outW: number,
  outH: number,
): Float32Array {
  if (maps.length !== grid.tiles.length) throw new RangeError(`${maps.length} maps for ${grid.tiles.length} tiles`);
  const out = new Float32Array(outW * outH).fill(Number.NEGATIVE_INFINITY);
  const sample = (map: ArrayLike<number>, fx: number, fy: number): number =>
    bilinearAt(map, mapW, mapH, Math.min(mapW - 1, Math.max(0, fx)), Math.min(mapH - 1, Math.max(0, fy)));
  grid.tiles.forEach((t, k) => {
    const map = maps[k]!;
    if (map.length !== mapW * mapH) throw new RangeError(`Tile ${k}: map of ${map.length} values, expected ${mapW * mapH}`);
    // Output pixels whose centre falls in this tile's window.
    const ox0 = Math.max(0, Math.ceil((t.x * outW) / grid.width - 0.5));
    const ox1 = Math.min(outW - 1, Math.ceil(((t.x + t.side) * outW) / grid.width - 0.5) - 1);
    const oy0 = Math.max(0, Math.ceil((t.y * outH) / grid.height - 0.5));
    const oy1 = Math.min(outH - 1, Math.ceil(((t.y + t.side) * outH) / grid.height - 0.5) - 1);
    for (let oy = oy0; oy <= oy1; oy++) {
      const y = ((oy + 0.5) * grid.height) / outH;
      const fy = ((y - t.y) * mapH) / t.side - 0.5;
      for (let ox = ox0; ox <= ox1; ox++) {
        const x = ((ox + 0.5) * grid.width) / outW;
        const v = sample(map, ((x - t.x) * mapW) / t.side - 0.5, fy);
        const o = oy * outW + ox;
        if (v > out[o]!) out[o] = v;
      }
    }
  });
  return out;
}

/** The cache key of one tile's input: tiles of different grids never share an entry, nor with squashed inputs. */
export function keyForTile(key: string, grid: TileGrid, i: number): string {
  return `${key}-t${grid.side}.${grid.cols}x${grid.rows}-${i}`;
}
