/**
 * Shapes read from annotation files (labelme, COCO) and how they become catalog regions: a box stays a `rect`,
 * a polygon is rasterised into a `mask` region (bounding box + RLE, see shared/library-types.ts `Region`).
 * Pure: no file system, no database.
 */
import type { RegionProblem } from '../../../shared/library-types.ts';
import { maskToRegion } from '../rle.ts';

/**
 * A box (x, y = top-left corner, pixel edges, 0-based) or a polygon area: one or more rings of vertices in
 * pixel-edge coordinates, filled together (COCO writes an object in several parts as several rings).
 */
export type AnnotationShape =
  | { label: string; kind: 'box'; x: number; y: number; w: number; h: number }
  | { label: string; kind: 'polygon'; rings: [number, number][][] };

/** The shapes one annotation record holds for one image. */
export interface AnnotatedImage {
  /** The annotation file it came from. */
  file: string;
  /** The image's file name as the annotation names it (no folders). */
  imageName: string;
  /** The image size the annotation declares, when it does. */
  width: number | null;
  height: number | null;
  shapes: AnnotationShape[];
}

/** Result of parsing one annotation file: the images it annotates and what was left out. */
export interface ParsedAnnotations {
  images: AnnotatedImage[];
  problems: RegionProblem[];
}

export type ShapeRegion =
  | { kind: 'rect'; x: number; y: number; w: number; h: number }
  | { kind: 'mask'; x: number; y: number; w: number; h: number; rle: number[] };

/** The file name part of a path written on Windows or POSIX (labelme's imagePath is often `..\\images\\a.jpg`). */
export function baseName(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1] ?? p;
}

export function problem(file: string, code: RegionProblem['code'], detail: string, message: string): RegionProblem {
  return { file, code, detail, message };
}

/** Tolerance for coordinates a tool wrote a hair outside the image (sub-pixel rounding). */
const EDGE_SLACK = 1;

function inside(x: number, y: number, width: number, height: number): boolean {
  return x >= -EDGE_SLACK && y >= -EDGE_SLACK && x <= width + EDGE_SLACK && y <= height + EDGE_SLACK;
}

/**
 * Fills a polygon into a width x height bitmap: a pixel is inside when its centre is (even-odd rule), so a
 * 10 x 5 axis-aligned rectangle covers exactly 50 pixels.
 */
export function rasterisePolygon(
  points: readonly (readonly [number, number])[],
  width: number,
  height: number,
  out = new Uint8Array(width * height),
): Uint8Array {
  const n = points.length;
  if (n < 3) return out;
  const xs: number[] = [];
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const [xi, yi] = points[i]!;
      const [xj, yj] = points[j]!;
      if (yi > cy !== yj > cy) xs.push(xi + ((cy - yi) / (yj - yi)) * (xj - xi));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Pixels whose centre x + 0.5 lies in [xs[k], xs[k+1]).
      const from = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const to = Math.min(width - 1, Math.ceil(xs[k + 1]! - 0.5) - 1);
      for (let x = from; x <= to; x++) out[y * width + x] = 1;
    }
  }
  return out;
}

/**
 * A shape as a region of an image of width x height. Shapes reaching out of the image (beyond a pixel of slack)
 * are refused with the reason, so a file annotated for another image size is noticed; empty ones give null.
 */
export function shapeToRegion(s: AnnotationShape, width: number, height: number): { region: ShapeRegion | null; outOfBounds: boolean } {
  if (s.kind === 'box') {
    if (!inside(s.x, s.y, width, height) || !inside(s.x + s.w, s.y + s.h, width, height)) return { region: null, outOfBounds: true };
    const x0 = Math.max(0, Math.round(s.x));
    const y0 = Math.max(0, Math.round(s.y));
    const x1 = Math.min(width, Math.round(s.x + s.w));
    const y1 = Math.min(height, Math.round(s.y + s.h));
    if (x1 <= x0 || y1 <= y0) return { region: null, outOfBounds: false };
    return { region: { kind: 'rect', x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, outOfBounds: false };
  }
  if (s.rings.some((ring) => ring.some(([x, y]) => !inside(x, y, width, height)))) return { region: null, outOfBounds: true };
  const bitmap = new Uint8Array(width * height);
  for (const ring of s.rings) rasterisePolygon(ring, width, height, bitmap);
  const r = maskToRegion(bitmap, width, height);
  return { region: r ? { kind: 'mask', ...r } : null, outOfBounds: false };
}

/** [x0, y0, x1, y1, ...] (COCO) to vertex pairs; null when the list is not an even run of finite numbers. */
export function flatToPoints(flat: unknown): [number, number][] | null {
  if (!Array.isArray(flat) || flat.length % 2 !== 0) return null;
  const pts: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const x = flat[i];
    const y = flat[i + 1];
    if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) return null;
    pts.push([x, y]);
  }
  return pts;
}

export function positiveOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}
