/**
 * Engine side, tiled runs: the region boxes of the training photos (original pixels), read from the project's catalog
 * over a read-only connection. They say which tiles of a defect photo carry its label (engine/train/tiled.ts).
 *
 * The regions a photo counts are those the heatmap service scores it against: its own class's (multiclass), any
 * region of a defect photo (binary); OK photos have none.
 */
import { join } from 'node:path';
import { openCatalogReader } from '../../db/open.ts';
import { listRegions } from '../../db/repos/regions.ts';
import { CATALOG_FILE } from '../../projects/project.ts';
import type { Rect } from '../data/geometry.ts';
import type { EngineSample } from '../data/source.ts';

/** Region boxes by sample index of the chosen defect samples that have regions (file samples have none). */
export function readRegionBoxes(
  projectDir: string,
  samples: readonly EngineSample[],
  classes: readonly string[],
  okIndex: number | null,
  wanted: (s: EngineSample) => boolean,
): Map<number, Rect[]> {
  const out = new Map<number, Rect[]>();
  const db = openCatalogReader(join(projectDir, CATALOG_FILE));
  try {
    samples.forEach((s, i) => {
      if (!wanted(s) || s.label < 0 || s.label === okIndex || s.path) return;
      const key = okIndex === null ? classes[s.label] : undefined;
      const boxes = listRegions(db, s.id, key)
        .filter((r) => r.w > 0 && r.h > 0)
        .map((r) => ({ x: r.x, y: r.y, w: r.w, h: r.h }));
      if (boxes.length) out.set(i, boxes);
    });
  } finally {
    db.close();
  }
  return out;
}
