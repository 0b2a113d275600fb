/**
 * COCO annotations: one JSON file with `images` (id, file_name, width, height), `annotations` (image_id,
 * category_id, bbox [x, y, w, h] and/or segmentation polygons [[x0, y0, x1, y1, ...], ...]) and `categories`
 * (id, name). An annotation with polygons becomes one polygon area (its parts filled together); one with only a
 * bbox (or a crowd RLE segmentation) becomes a box.
 */
import type { RegionProblem } from '../../../shared/library-types.ts';
import { baseName, flatToPoints, positiveOrNull, problem, type AnnotatedImage, type ParsedAnnotations } from './shapes.ts';

interface CocoImage {
  id?: unknown;
  file_name?: unknown;
  width?: unknown;
  height?: unknown;
}
interface CocoAnnotation {
  image_id?: unknown;
  category_id?: unknown;
  bbox?: unknown;
  segmentation?: unknown;
}

function idOf(v: unknown): string | null {
  return typeof v === 'number' || (typeof v === 'string' && v !== '') ? String(v) : null;
}

function bbox(v: unknown): [number, number, number, number] | null {
  if (!Array.isArray(v) || v.length !== 4) return null;
  if (!v.every((n) => typeof n === 'number' && Number.isFinite(n))) return null;
  const [x, y, w, h] = v as number[];
  return w! >= 0 && h! >= 0 ? [x!, y!, w!, h!] : null;
}

/** Parses the text of a COCO file; `file` names it in problems. Images without annotations are listed too. */
export function parseCoco(text: string, file: string): ParsedAnnotations {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    return { images: [], problems: [problem(file, 'invalid-json', (err as Error).message, `Not valid JSON: ${(err as Error).message}`)] };
  }
  const d = (doc ?? {}) as { images?: unknown; annotations?: unknown; categories?: unknown };
  if (!Array.isArray(d.images) || !Array.isArray(d.annotations))
    return {
      images: [],
      problems: [problem(file, 'bad-format', 'images/annotations', 'Not a COCO file: it needs "images" and "annotations" lists.')],
    };
  const problems: RegionProblem[] = [];
  const categories = new Map<string, string>();
  for (const c of Array.isArray(d.categories) ? (d.categories as { id?: unknown; name?: unknown }[]) : []) {
    const id = idOf(c?.id);
    if (id !== null && typeof c.name === 'string' && c.name.trim()) categories.set(id, c.name.trim());
  }
  const byId = new Map<string, AnnotatedImage>();
  const images: AnnotatedImage[] = [];
  for (const im of d.images as CocoImage[]) {
    const id = idOf(im?.id);
    const name = typeof im?.file_name === 'string' ? baseName(im.file_name.trim()) : '';
    if (id === null || !name) {
      problems.push(problem(file, 'bad-format', 'images', 'An image record has no id or file_name; left out.'));
      continue;
    }
    const rec: AnnotatedImage = { file, imageName: name, width: positiveOrNull(im.width), height: positiveOrNull(im.height), shapes: [] };
    byId.set(id, rec);
    images.push(rec);
  }
  (d.annotations as CocoAnnotation[]).forEach((a, i) => {
    const n = i + 1;
    const img = byId.get(idOf(a?.image_id) ?? '');
    if (!img) {
      problems.push(
        problem(file, 'unknown-image', `image_id ${String(a?.image_id)}`, `Annotation ${n} refers to no image record; left out.`),
      );
      return;
    }
    const cat = idOf(a.category_id);
    const label = cat === null ? undefined : categories.get(cat);
    if (label === undefined) {
      problems.push(
        problem(file, 'bad-format', `category_id ${String(a.category_id)}`, `Annotation ${n} has a category that is not listed; left out.`),
      );
      return;
    }
    if (Array.isArray(a.segmentation) && a.segmentation.length > 0) {
      const rings = a.segmentation.map(flatToPoints);
      if (rings.some((r) => r === null || r.length < 3)) {
        problems.push(problem(file, 'bad-format', `${img.imageName}: ${label}`, `Annotation ${n} has a malformed polygon; left out.`));
        return;
      }
      img.shapes.push({ label, kind: 'polygon', rings: rings as [number, number][][] });
      return;
    }
    const b = bbox(a.bbox);
    if (b) {
      img.shapes.push({ label, kind: 'box', x: b[0], y: b[1], w: b[2], h: b[3] });
      return;
    }
    problems.push(
      problem(file, 'unsupported-shape', `${img.imageName}: ${label}`, `Annotation ${n} has neither a polygon nor a bbox; left out.`),
    );
  });
  return { images, problems };
}
