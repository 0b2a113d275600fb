/**
 * Engine side: turns the plain sample list the main side sent into a SampleSource. Catalog images are
 * decoded by the catalog's own openStoredImage over a READ-ONLY connection to the project database
 * (the engine never writes the catalog; a crash cannot damage it).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CorruptImageError } from '../../shared/errors.ts';
import { openStoredImage } from '../../services/library/dataset.ts';
import { Project, projectPaths, CATALOG_FILE } from '../../services/projects/project.ts';
import {
  contentMemo,
  fileSource,
  gridMemo,
  sharpToRgb,
  sharpToTiles,
  type EngineSample,
  type SampleSource,
  type TileOptions,
} from '../../services/training/data/source.ts';
import { keyForPadMask, type ResizeMode } from '../../services/training/data/geometry.ts';
import type { SourceSpec } from '../../services/engine/job-types.ts';

export type { SourceSpec };

/** A Project over a read-only connection (no lock: the app holds it). Writes through it fail. */
function readOnlyProject(dir: string): Project {
  const db = new Database(join(dir, CATALOG_FILE), { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const p = Object.create(Project.prototype) as Project;
  Object.assign(p, { db, paths: projectPaths(dir), releaseLock: () => undefined });
  return p;
}

/**
 * `resize`: how photos become the square model input (the run's or the model's setting; default squash). `padMask`
 * (letterbox only): the source says where each photo lies, so pooling and maps leave the padding out. `tiles` (tile
 * only): the grid's parameters; the source gives each photo's grid and tiles (gridOf, loadTiles).
 */
export async function openSource(
  spec: SourceSpec,
  samples: EngineSample[],
  resize: ResizeMode = 'squash',
  padMask = false,
  tiles: TileOptions = {},
): Promise<SampleSource> {
  if (spec.kind === 'files' || samples.every((s) => s.path)) return fileSource(samples, resize, padMask, tiles);
  const project = readOnlyProject(spec.projectDir);
  const files = fileSource(samples, resize, padMask, tiles);
  const failed = (err: unknown, id: number): Error => {
    if ((err as Error).name === 'CorruptImageError') return err as Error;
    return new CorruptImageError(`Cannot read image ${id} of the catalog: ${(err as Error).message}`, { imageId: id });
  };
  const src: SampleSource = {
    count: samples.length,
    labelOf: (i) => samples[i]!.label,
    idOf: (i) => samples[i]!.id,
    keyOf: (i) => keyForPadMask(samples[i]!.key, resize, padMask),
    async loadPixels(i, size) {
      const s = samples[i]!;
      if (s.path) return files.loadPixels(i, size);
      try {
        return await sharpToRgb(await openStoredImage(project, s.id), size, { autoOrient: false, resize });
      } catch (err) {
        if ((err as Error).name === 'CorruptImageError') throw err;
        throw new CorruptImageError(`Cannot read image ${s.id} of the catalog: ${(err as Error).message}`, { imageId: s.id });
      }
    },
    close: () => project.db.close(),
  };
  if (resize === 'letterbox' && padMask) {
    const stored = contentMemo((i) => openStoredImage(project, samples[i]!.id));
    src.contentOf = (i, size) => (samples[i]!.path ? files.contentOf!(i, size) : stored(i, size));
  }
  if (resize === 'tile') {
    const grids = gridMemo((i) => openStoredImage(project, samples[i]!.id), tiles);
    src.gridOf = (i) => (samples[i]!.path ? files.gridOf!(i) : grids(i));
    src.loadTiles = async (i, size) => {
      const s = samples[i]!;
      if (s.path) return files.loadTiles!(i, size);
      try {
        return await sharpToTiles(await openStoredImage(project, s.id), size, { autoOrient: false, tiles });
      } catch (err) {
        throw failed(err, s.id);
      }
    };
  }
  return src;
}
