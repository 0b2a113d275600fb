/**
 * How a photo becomes an anomaly model's inputs, by the model's resize mode, and how its inputs' scores and maps
 * become the photo's (engine side):
 * - 'squash': one input, the photo stretched onto the square (every model from before the option);
 * - 'letterbox': one input, aspect kept and padded (geometry.ts); only the patches whose receptive centre lies on the
 *   photo join the bank and count for the score, and the map is cut back to the photo's shape on the main side;
 * - 'tile': one input per square window of the photo (tiles.ts), each a uniform scale, so a thin crack keeps its
 *   pixels; every tile's patches join the bank, the photo's score is its worst patch over all tiles and its map is
 *   the tiles' maps stitched back onto the photo.
 */
import type { ResizeMode } from '../../shared/resize-choice.ts';
import type { SourceSpec } from '../../services/engine/job-types.ts';
import type { Rect } from '../../services/training/data/geometry.ts';
import type { EngineSample } from '../../services/training/data/source.ts';
import { stitchTileMaps, type TileGrid } from '../../services/training/data/tiles.ts';
import { openSource } from '../data/open-source.ts';
import { anomalyMap, type AnomalyModel, type ImageScore } from './model.ts';

/** The resize mode of a saved anomaly model (absent: squash, as every model from before the option). */
export function anomalyResizeOf(params: { resize?: ResizeMode }): ResizeMode {
  return params.resize ?? 'squash';
}

/** One photo as model inputs. */
export interface PhotoInputs {
  /** size x size x 3 RGB bytes per input: one, or one per tile (grid.tiles order). */
  inputs: Uint8Array[];
  /** Letterbox: where the photo lies in each input (null: the whole input). */
  contents: (Rect | null)[];
  /** Tile: the tile grid over the photo. */
  tiles: TileGrid | null;
}

export interface PhotoInputSource {
  readonly mode: ResizeMode;
  load(i: number, size: number): Promise<PhotoInputs>;
  close(): void;
}

/**
 * The inputs of `samples` (catalog ids or files) for an anomaly model that resizes by `mode` (tiles: the grid's
 * `maxTiles`, tiles.ts; the tiles come from one decode of the photo, source.ts loadTiles).
 */
export async function openPhotoInputs(
  spec: SourceSpec,
  samples: EngineSample[],
  mode: ResizeMode,
  tiles: { maxTiles?: number } = {},
): Promise<PhotoInputSource> {
  const letterbox = mode === 'letterbox';
  const source = await openSource(spec, samples, mode, letterbox, tiles);
  return {
    mode,
    async load(i, size) {
      if (mode === 'tile') {
        const { grid, pixels } = await source.loadTiles!(i, size);
        return { inputs: pixels, contents: pixels.map(() => null), tiles: grid };
      }
      const inputs = [await source.loadPixels(i, size)];
      return { inputs, contents: [letterbox && source.contentOf ? await source.contentOf(i, size) : null], tiles: null };
    },
    close: () => source.close?.(),
  };
}

/** A photo's score: the worst patch over all its inputs, with each input's patch distances. */
export interface PhotoScore {
  raw: number;
  inputs: ImageScore[];
}

/**
 * Scores photos (each against its core type's bank, `types[i]`), every input of every photo in one call.
 */
export async function scorePhotos(
  model: AnomalyModel,
  photos: PhotoInputs[],
  types: readonly (string | null)[] = [],
): Promise<PhotoScore[]> {
  const inputs = photos.flatMap((p) => p.inputs);
  const inputTypes = photos.flatMap((p, i) => p.inputs.map(() => types[i] ?? null));
  const contents = photos.flatMap((p) => p.contents);
  const scored = await model.score(inputs, inputTypes, contents);
  let at = 0;
  return photos.map((p) => {
    const own = scored.slice(at, at + p.inputs.length);
    at += p.inputs.length;
    return { raw: own.reduce((a, s) => Math.max(a, s.raw), 0), inputs: own };
  });
}

/**
 * A photo's anomaly map (raw distances, upsampled and smoothed): squash and letterbox on the model's size x size
 * input (a letterboxed map is cut back to the photo by geometry.ts gridToOriginal on the main side, as a
 * classifier's); tiles stitched in the photo's own shape at the tiles' input scale (each tile's side = size pixels).
 */
export function photoMap(
  model: AnomalyModel,
  photo: PhotoInputs,
  score: PhotoScore,
): { width: number; height: number; data: Float32Array } {
  const size = model.params.inputSize;
  const sigma = model.params.smoothingSigma;
  const g = model.grid;
  if (!photo.tiles) return { width: size, height: size, data: anomalyMap(score.inputs[0]!.patches, g, size, size, sigma) };
  const t = photo.tiles;
  const width = Math.max(1, Math.round((t.width * size) / t.side));
  const height = Math.max(1, Math.round((t.height * size) / t.side));
  const maps = score.inputs.map((s) => anomalyMap(s.patches, g, size, size, sigma));
  return { width, height, data: stitchTileMaps(t, maps, size, size, width, height) };
}
