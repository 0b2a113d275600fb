/**
 * Training on tiles (resize 'tile'): the run trains and validates on one sample per tile, and a photo is judged by its
 * worst tile. Which tiles teach what:
 * - OK photos: every tile OK.
 * - Defect photos with regions: tiles that hold at least TILE_REGION_OVERLAP of a region box carry the photo's label,
 *   the others OK (without an OK class they are left out: nothing says what they show).
 * - Defect photos without regions: multiple-instance learning. The photo is a bag; each step its loss goes through the
 *   tile the current head finds worst (the gradient of a max pool over its tiles), with the photo's label.
 * Both phases run on tiles: the transfer phase on cached tile embeddings (bags resolved batch by batch), fine-tuning on
 * the prefix cache, which holds one entry per (tile, variant) (bags resolved as each epoch begins). Guidance by regions
 * and random augmentation are refused with tiles (config.ts).
 */
import { TilingUnsupportedError } from '../../shared/errors.ts';
import type { Rect } from '../../services/training/data/geometry.ts';
import type { SampleSource } from '../../services/training/data/source.ts';
import { boxTileOverlap, type TileGrid } from '../../services/training/data/tiles.ts';
import { expandTiles, photoScores, worstTile, type TiledScore, type TileSet } from '../../services/training/data/tile-set.ts';
import type { TrainerInput } from './run-state.ts';
import type { Item } from './epoch-data.ts';

/** A tile carries its photo's defect label when it holds at least this fraction of one of the photo's region boxes. */
export const TILE_REGION_OVERLAP = 0.25;

/**
 * The first epochs of a tiled run train every tile of a MIL photo at 1/n weight (mean pooling) before the worst tile
 * takes over. Max pooling alone only ever trains the tile the head already ranks first: when the defect's direction
 * starts with the wrong sign, that tile is never the defect one (synthetic strips, test/unit/tile-training.test.ts:
 * validation 0.69 with max pooling from the start, 1.0 after this warm-up).
 */
export const MIL_WARMUP_FRACTION = 0.2;

export function milWarmupEpochs(epochs: number): number {
  return Math.max(1, Math.round(epochs * MIL_WARMUP_FRACTION));
}

/** What a tiled run keeps about its photos (indices into the photo-level source the run was given). */
export interface TrainerTiles {
  set: TileSet;
  photos: { train: number[]; val: number[]; test: number[] };
  photoLabel(photo: number): number;
  photoId(photo: number): number;
  /** Training photos that learn through their worst tile (defect photos without regions). */
  mil: ReadonlySet<number>;
}

/**
 * A tile's label by the rules above. `boxes`: the photo's region boxes of its class in original pixels (empty or absent:
 * none drawn). Returns -1 for a tile left out of training; MIL photos' tiles carry the photo's label.
 */
export function tileLabel(label: number, okIndex: number | null, grid: TileGrid, tile: number, boxes: readonly Rect[] | undefined): number {
  if (label === okIndex || !boxes?.length) return label;
  const t = grid.tiles[tile]!;
  if (boxes.some((b) => boxTileOverlap(t, b) >= TILE_REGION_OVERLAP)) return label;
  return okIndex ?? -1;
}

/**
 * A photo-level trainer input turned into a tile-level one: its source has one sample per tile (tile-set.ts), its
 * splits list tiles, and `tiles` says how tiles make photos. `boxes`: region boxes by photo sample index.
 */
export async function tiledTrainerInput(inp: TrainerInput, boxes: ReadonlyMap<number, Rect[]> = new Map()): Promise<TrainerInput> {
  const c = inp.config;
  if (c.augmentation.mode === 'random')
    throw new TilingUnsupportedError('Tiles use the fixed copies or none: random augmentation is not supported with tiles.', {
      what: 'randomAugmentation',
    });
  const photo = inp.source;
  const ok = inp.okIndex;
  const photos = [...inp.splits.train, ...inp.splits.val, ...inp.splits.test];
  const set = await expandTiles(photo, photos, (i, t, grid) => tileLabel(photo.labelOf(i), ok, grid, t, boxes.get(i)));
  const tilesOf = (list: number[], keep: (j: number) => boolean = () => true) => list.flatMap((i) => set.tilesOf.get(i)!.filter(keep));
  const mil = new Set(inp.splits.train.filter((i) => photo.labelOf(i) !== ok && !boxes.get(i)?.length));
  const tiles: TrainerTiles = {
    set,
    photos: { train: [...inp.splits.train], val: [...inp.splits.val], test: [...inp.splits.test] },
    photoLabel: (i) => photo.labelOf(i),
    photoId: (i) => photo.idOf(i),
    mil,
  };
  const { regionMasks: _photoMasks, ...rest } = inp;
  return {
    ...rest,
    source: set.source,
    splits: {
      train: tilesOf(inp.splits.train, (j) => set.source.labelOf(j) >= 0),
      val: tilesOf(inp.splits.val),
      test: tilesOf(inp.splits.test),
    },
    tiles,
  };
}

/** Whether a source can be tiled (resize 'tile' sources give each photo's grid). */
export function isTilingSource(src: SampleSource): boolean {
  return !!src.gridOf && !!src.loadTiles;
}

/**
 * An epoch's items on tiles: a MIL photo trains once per variant (its first tile stands for the bag until
 * resolveBags picks its worst), every other tile as itself.
 */
export function bagItems(tiles: TrainerTiles, items: Item[]): Item[] {
  const { set, mil } = tiles;
  return items.filter((it) => !mil.has(set.owner[it.sample]!) || set.tile[it.sample] === 0);
}

/**
 * The batch's MIL items replaced by their photo's worst tile under the current head (same variant). `probsOf` scores
 * the embeddings of a list of items (n x K, row-major).
 */
export function resolveBags(
  tiles: TrainerTiles,
  part: Item[],
  probsOf: (items: Item[]) => Float32Array,
  K: number,
  okIndex: number | null,
): Item[] {
  const { set, mil } = tiles;
  return part.map((it) => {
    const photo = set.owner[it.sample]!;
    if (!mil.has(photo)) return it;
    const bag = set.tilesOf.get(photo)!.map((j) => ({ sample: j, variant: it.variant }));
    const p = probsOf(bag);
    const rows = bag.map((_, k) => p.subarray(k * K, (k + 1) * K));
    return bag[worstTile(rows, okIndex)]!;
  });
}

/** Photo-level scores of one split from its tiles' probabilities (probs[j] for tile samples[j]). */
export function splitPhotoScores(
  tiles: TrainerTiles,
  split: 'train' | 'val' | 'test',
  samples: readonly number[],
  probs: readonly ArrayLike<number>[],
  okIndex: number | null,
): TiledScore[] {
  const byTile = new Map<number, ArrayLike<number>>();
  samples.forEach((j, k) => byTile.set(j, probs[k]!));
  return photoScores(tiles.set, tiles.photos[split], byTile, tiles.photoLabel, tiles.photoId, okIndex);
}

/** Mean cross-entropy and accuracy of photo scores against their labels. */
export function photoLossAcc(scores: readonly TiledScore[]): { loss: number; acc: number } {
  if (!scores.length) return { loss: NaN, acc: NaN };
  let loss = 0;
  let correct = 0;
  for (const s of scores) {
    loss -= Math.log(Math.min(1, Math.max(1e-7, s.probs[s.label]!)));
    let best = 0;
    for (let k = 1; k < s.probs.length; k++) if (s.probs[k]! > s.probs[best]!) best = k;
    if (best === s.label) correct++;
  }
  return { loss: loss / scores.length, acc: correct / scores.length };
}
