/**
 * A tiled view of a sample source (resize 'tile'): one sample per tile of each photo, and the rule that turns tile
 * scores back into the photo's score (the worst tile decides). TF-free: the trainer, predict, heatmaps and the bench
 * share it.
 */
import type { ScoredSample } from '../train/metrics.ts';
import type { SampleSource } from './source.ts';
import { keyForTile, type TileGrid } from './tiles.ts';

export interface TileSet {
  /**
   * One sample per tile: loadPixels gives the tile as a model input, keyOf its cache key (keyForTile), idOf its photo's
   * id, labelOf the tile's label (the photo's unless a labelling rule was given; -1 = not trained on).
   */
  source: SampleSource;
  /** Per tile sample: the photo's sample index in the source it was made from, and the tile's index in its grid. */
  owner: number[];
  tile: number[];
  /** Per photo (sample index in the source it was made from): its grid and its tile samples, in grid order. */
  grids: Map<number, TileGrid>;
  tilesOf: Map<number, number[]>;
}

/** Photos whose decoded tiles are kept at once: a batch's tiles of one photo share one decode. */
const DECODED_PHOTOS = 32;

/**
 * The tiles of the given photos of a tiling source (one with gridOf and loadTiles). `labelOf` labels each tile
 * (default: its photo's label).
 */
export async function expandTiles(
  src: SampleSource,
  photos: readonly number[],
  labelOf?: (photo: number, tile: number, grid: TileGrid) => number,
): Promise<TileSet> {
  if (!src.gridOf || !src.loadTiles) throw new Error('This source does not cut photos into tiles (resize is not "tile").');
  const loadTiles = src.loadTiles.bind(src);
  const owner: number[] = [];
  const tile: number[] = [];
  const labels: number[] = [];
  const grids = new Map<number, TileGrid>();
  const tilesOf = new Map<number, number[]>();
  for (const i of photos) {
    if (grids.has(i)) continue;
    const grid = await src.gridOf(i);
    grids.set(i, grid);
    tilesOf.set(
      i,
      grid.tiles.map((t) => {
        owner.push(i);
        tile.push(t.i);
        labels.push(labelOf ? labelOf(i, t.i, grid) : src.labelOf(i));
        return owner.length - 1;
      }),
    );
  }
  // Decoded photos by (photo, size), oldest first: tiles of one photo load together in a batch.
  const decoded = new Map<string, Promise<Uint8Array[]>>();
  const tilesOfPhoto = (i: number, size: number): Promise<Uint8Array[]> => {
    const k = `${i}:${size}`;
    let p = decoded.get(k);
    if (p) {
      decoded.delete(k);
      decoded.set(k, p);
      return p;
    }
    p = loadTiles(i, size).then(({ grid, pixels }) => {
      const want = grids.get(i)!;
      // The header's size and the decoded one agree unless the file changed under the run.
      if (grid.tiles.length !== want.tiles.length)
        throw new Error(`Photo ${src.idOf(i)}: ${grid.tiles.length} tiles, expected ${want.tiles.length}`);
      return pixels;
    });
    p.catch(() => decoded.delete(k));
    decoded.set(k, p);
    while (decoded.size > DECODED_PHOTOS) decoded.delete(decoded.keys().next().value!);
    return p;
  };
  const source: SampleSource = {
    count: owner.length,
    labelOf: (j) => labels[j]!,
    idOf: (j) => src.idOf(owner[j]!),
    keyOf: (j) => keyForTile(src.keyOf(owner[j]!), grids.get(owner[j]!)!, tile[j]!),
    loadPixels: async (j, size) => (await tilesOfPhoto(owner[j]!, size))[tile[j]!]!,
  };
  return { source, owner, tile, grids, tilesOf };
}

/**
 * The worst of a photo's tiles: the one with the lowest OK probability; without an OK class, the most confident one
 * (highest top probability). Ties go to the first tile.
 */
export function worstTile(probs: readonly ArrayLike<number>[], okIndex: number | null): number {
  let best = 0;
  let bestScore = -Infinity;
  probs.forEach((p, k) => {
    let score: number;
    if (okIndex !== null) score = -p[okIndex]!;
    else {
      score = -Infinity;
      for (let c = 0; c < p.length; c++) score = Math.max(score, p[c]!);
    }
    if (score > bestScore) {
      bestScore = score;
      best = k;
    }
  });
  return best;
}

/** A photo's score from its tiles': the worst tile's probabilities, with that tile's index. */
export interface TiledScore extends ScoredSample {
  /** Index of the deciding tile in the photo's grid. */
  tile: number;
}

/**
 * Photo scores from tile scores (scored[j] for tile sample tileSamples[j] of `set`): per photo, in the order of
 * `photos`, the worst tile's probabilities, labelled with the photo's label from `photoLabel`.
 */
export function photoScores(
  set: TileSet,
  photos: readonly number[],
  scoredByTile: ReadonlyMap<number, ArrayLike<number>>,
  photoLabel: (photo: number) => number,
  photoId: (photo: number) => number,
  okIndex: number | null,
): TiledScore[] {
  return photos.map((i) => {
    const tiles = set.tilesOf.get(i)!;
    const probs = tiles.map((j) => {
      const p = scoredByTile.get(j);
      if (!p) throw new Error(`Tile ${j} of photo ${photoId(i)} was not scored`);
      return p;
    });
    const k = worstTile(probs, okIndex);
    return { id: photoId(i), label: photoLabel(i), probs: probs[k]!, tile: set.tile[tiles[k]!]! };
  });
}
