/**
 * Engine side: the defect region masks of the images a run trains and validates on, read from the project's
 * catalog over a read-only connection (the engine never writes the catalog).
 *
 * The mask an image is scored against is the one the heatmap service uses: the regions of the image's own class
 * (multiclass: regions of that defect type; binary: any region of a defect image; OK images: none).
 */
import { join } from 'node:path';
import { regionMask } from '../../library/dataset.ts';
import { openCatalogReader } from '../../db/open.ts';
import { regionCountOf } from '../../db/repos/image-lookups.ts';
import { getImageRow } from '../../db/repos/images.ts';
import { CATALOG_FILE } from '../../projects/project.ts';
import type { EngineSample } from '../data/source.ts';
import { fitGeometry, type ResizeMode } from '../data/geometry.ts';
import { POINTING_TOLERANCE_PX } from './localisation.ts';

/** A region mask in a frame of width x height pixels (the image's own, scaled down when large). */
export interface RegionMask {
  mask: Uint8Array;
  width: number;
  height: number;
  /** Pointing tolerance in this frame's pixels (4 image pixels, scaled with the frame). */
  tolerance: number;
}

/** Longest side of the frame a mask is drawn in (larger photos are scored on a scaled-down frame). */
const MAX_FRAME = 256;

/**
 * Region masks of the chosen samples (by sample index); samples without regions of their class are left out.
 * @param classes class keys by class index; `okIndex` the OK class of a binary task (null for multiclass)
 */
export function readRegionMasks(
  projectDir: string,
  samples: EngineSample[],
  classes: string[],
  okIndex: number | null,
  wanted: (s: EngineSample) => boolean,
  resize: ResizeMode = 'squash',
): Map<number, RegionMask> {
  const out = new Map<number, RegionMask>();
  const db = openCatalogReader(join(projectDir, CATALOG_FILE));
  try {
    samples.forEach((s, i) => {
      if (!wanted(s) || s.label < 0 || s.label === okIndex || s.path) return;
      if (!regionCountOf(db, s.id)) return;
      const row = getImageRow(db, s.id);
      if (!row) return;
      const scale = Math.min(1, MAX_FRAME / Math.max(row.width, row.height));
      const width = Math.max(1, Math.round(row.width * scale));
      const height = Math.max(1, Math.round(row.height * scale));
      const key = okIndex === null ? classes[s.label] : undefined;
      const mask = regionMask(db, s.id, width, height, key);
      if (!mask.some((v) => v === 1)) return;
      const m = { mask, width, height, tolerance: POINTING_TOLERANCE_PX * scale };
      out.set(i, resize === 'letterbox' ? letterboxMask(m) : m);
    });
  } finally {
    db.close();
  }
  return out;
}

/**
 * A mask in the frame of a letterboxed input: the photo's frame placed in a square of its long side as the model
 * input places it (geometry.ts), the padding outside every region. Maps on the model grid then scale onto it as a
 * square, exactly as they scale onto a squashed photo's frame.
 */
export function letterboxMask(m: RegionMask): RegionMask {
  const side = Math.max(m.width, m.height);
  const c = fitGeometry(m.width, m.height, side, 'letterbox').content;
  const mask = new Uint8Array(side * side);
  for (let y = 0; y < m.height; y++) mask.set(m.mask.subarray(y * m.width, (y + 1) * m.width), (c.y + y) * side + c.x);
  return { mask, width: side, height: side, tolerance: m.tolerance };
}
