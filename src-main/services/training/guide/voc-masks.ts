/**
 * Region masks from PASCAL VOC files beside image files (NEU-DET's annotations/<class>/<name>.xml), for file
 * sources (tests, bench, acceptance runs before the catalog). The same rules as the catalog import (1-based
 * inclusive corners, boxes typed by their own name) and as regions.ts (only boxes of the image's class).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { parseVoc, vocToRect } from '../../library/region-formats/voc.ts';
import type { EngineSample } from '../data/source.ts';
import { POINTING_TOLERANCE_PX } from './localisation.ts';
import type { RegionMask } from './regions.ts';

/** NEU-DET layout: images/<class>/<n>.jpg → annotations/<class>/<n>.xml. */
export function neuAnnotationOf(imagePath: string): string {
  const cls = basename(dirname(imagePath));
  const root = dirname(dirname(dirname(imagePath)));
  return join(root, 'annotations', cls, `${basename(imagePath, extname(imagePath))}.xml`);
}

/** The box mask of one VOC file for boxes named `cls`, in the annotation's own frame; null without such boxes. */
export function vocMask(
  xml: string,
  cls: string,
  fallback: { width: number; height: number } = { width: 200, height: 200 },
): RegionMask | null {
  const v = parseVoc(xml);
  const width = v.width ?? fallback.width;
  const height = v.height ?? fallback.height;
  const mask = new Uint8Array(width * height);
  let any = false;
  for (const b of v.boxes) {
    if (b.name !== cls) continue;
    const r = vocToRect(b, width, height);
    if (!r) continue;
    any = true;
    for (let y = r.y; y < r.y + r.h; y++) mask.fill(1, y * width + r.x, y * width + r.x + r.w);
  }
  return any ? { mask, width, height, tolerance: POINTING_TOLERANCE_PX } : null;
}

/** Masks of the chosen file samples (by sample index) whose VOC file has boxes of their class. */
export function vocRegionMasks(
  samples: EngineSample[],
  classes: string[],
  wanted: (s: EngineSample, i: number) => boolean,
  annotationOf: (imagePath: string) => string = neuAnnotationOf,
): Map<number, RegionMask> {
  const out = new Map<number, RegionMask>();
  samples.forEach((s, i) => {
    if (!s.path || s.label < 0 || !wanted(s, i)) return;
    const xml = annotationOf(s.path);
    if (!existsSync(xml)) return;
    const m = vocMask(readFileSync(xml, 'utf8'), classes[s.label]!);
    if (m) out.set(i, m);
  });
  return out;
}
