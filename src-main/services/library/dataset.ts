/**
 * What the ML side reads from the catalog: labelled samples with their split, defect types, the
 * stored image as a sharp pipeline, and region masks for heatmap scoring.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sharp } from 'sharp';
import type { ImageFormat } from '../../shared/library-types.ts';
import type { Db } from '../db/open.ts';
import { listLabelledImages, type LabelledImage } from '../db/repos/image-lookups.ts';
import { requireImageRow, storeRelPath } from '../db/repos/images.ts';
import { listRegions } from '../db/repos/regions.ts';
import type { Project } from '../projects/project.ts';
import { openImageBytes } from './imaging.ts';
import { decodeRle } from './rle.ts';

/** A labelled image as training and heatmaps take it (defect type key as `label`). */
export type DatasetSample = LabelledImage;

/** Labelled images only, in id order. */
export function listDatasetSamples(db: Db): DatasetSample[] {
  return listLabelledImages(db);
}

/** A sharp pipeline of the stored image, EXIF-rotated, first page, any format (BMP/16-bit handled), ready for .resize().raw() */
export async function openStoredImage(project: Project, imageId: number): Promise<Sharp> {
  const r = requireImageRow(project.db, imageId);
  const bytes = await readFile(join(project.dir, storeRelPath(r.sha256, r.ext)));
  return openImageBytes(bytes, r.format as ImageFormat, 0);
}

/**
 * 1 where a pixel of a width x height frame lies inside any region of the image (of one defect type
 * when given). Regions are in the image's own pixel frame; for another frame size they are scaled
 * (nearest neighbour), so a mask for a 224x224 heatmap is regionMask(db, id, 224, 224).
 */
export function regionMask(db: Db, imageId: number, width: number, height: number, defectTypeKey?: string): Uint8Array {
  const img = requireImageRow(db, imageId);
  const out = new Uint8Array(width * height);
  const rows = listRegions(db, imageId, defectTypeKey);
  const sx = img.width / width;
  const sy = img.height / height;
  for (const r of rows) {
    const bits = r.kind === 'mask' && r.rle ? decodeRle(r.rle, r.w, r.h) : null;
    const ox0 = Math.max(0, Math.floor(r.x / sx));
    const oy0 = Math.max(0, Math.floor(r.y / sy));
    const ox1 = Math.min(width, Math.ceil((r.x + r.w) / sx));
    const oy1 = Math.min(height, Math.ceil((r.y + r.h) / sy));
    for (let oy = oy0; oy < oy1; oy++) {
      const iy = Math.min(r.h - 1, Math.max(0, Math.floor((oy + 0.5) * sy) - r.y));
      for (let ox = ox0; ox < ox1; ox++) {
        if (bits) {
          const ix = Math.min(r.w - 1, Math.max(0, Math.floor((ox + 0.5) * sx) - r.x));
          if (!bits[iy * r.w + ix]) continue;
        }
        out[oy * width + ox] = 1;
      }
    }
  }
  return out;
}
