/**
 * labelme annotations: one `.json` per image, `{ shapes: [{ label, points, shape_type }], imagePath, imageWidth,
 * imageHeight }`. Rectangles (two opposite corners) become boxes; polygons and circles (centre + a point on the rim)
 * become polygons. Lines, points and other shapes mark no area and are reported.
 */
import type { RegionProblem } from '../../../shared/library-types.ts';
import { baseName, positiveOrNull, problem, type AnnotationShape, type ParsedAnnotations } from './shapes.ts';

function points(v: unknown): [number, number][] | null {
  if (!Array.isArray(v)) return null;
  const out: [number, number][] = [];
  for (const p of v) {
    if (!Array.isArray(p) || p.length < 2) return null;
    const [x, y] = p as unknown[];
    if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) return null;
    out.push([x, y]);
  }
  return out;
}

/** A circle as a 64-gon (fine enough for defect outlines of a few hundred pixels). */
function circle(c: [number, number], rim: [number, number]): [number, number][] {
  const r = Math.hypot(rim[0] - c[0], rim[1] - c[1]);
  return Array.from({ length: 64 }, (_, i) => {
    const a = (i / 64) * 2 * Math.PI;
    return [c[0] + r * Math.cos(a), c[1] + r * Math.sin(a)] as [number, number];
  });
}

/**
 * Parses the text of one labelme file. `file` names it in problems. The image is named by `imagePath` (its file name
 * only); without one, by the JSON's own stem with the extension left open (`imageName` is then `stem.*`).
 */
export function parseLabelme(text: string, file: string): ParsedAnnotations {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    return { images: [], problems: [problem(file, 'invalid-json', (err as Error).message, `Not valid JSON: ${(err as Error).message}`)] };
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray((doc as { shapes?: unknown }).shapes))
    return { images: [], problems: [problem(file, 'bad-format', 'shapes', 'Not a labelme file: it has no "shapes" list.')] };
  const d = doc as { shapes: unknown[]; imagePath?: unknown; imageWidth?: unknown; imageHeight?: unknown };
  const problems: RegionProblem[] = [];
  const shapes: AnnotationShape[] = [];
  d.shapes.forEach((raw, i) => {
    const s = (raw ?? {}) as { label?: unknown; points?: unknown; shape_type?: unknown };
    const label = typeof s.label === 'string' ? s.label.trim() : '';
    const type = typeof s.shape_type === 'string' ? s.shape_type : 'polygon';
    const pts = points(s.points);
    if (!label || !pts) {
      problems.push(problem(file, 'bad-format', `shape ${i + 1}`, `Shape ${i + 1} has no label or no valid points; left out.`));
      return;
    }
    if (type === 'rectangle' && pts.length >= 2) {
      const [a, b] = [pts[0]!, pts[1]!];
      const x = Math.min(a[0], b[0]);
      const y = Math.min(a[1], b[1]);
      shapes.push({ label, kind: 'box', x, y, w: Math.abs(b[0] - a[0]), h: Math.abs(b[1] - a[1]) });
    } else if (type === 'polygon' && pts.length >= 3) shapes.push({ label, kind: 'polygon', rings: [pts] });
    else if (type === 'circle' && pts.length >= 2) shapes.push({ label, kind: 'polygon', rings: [circle(pts[0]!, pts[1]!)] });
    else
      problems.push(
        problem(file, 'unsupported-shape', `${label} (${type})`, `Shape ${i + 1} "${label}" is a ${type}, which marks no area; left out.`),
      );
  });
  const stem = baseName(file).replace(/\.json$/i, '');
  const imageName = typeof d.imagePath === 'string' && d.imagePath.trim() ? baseName(d.imagePath.trim()) : `${stem}.*`;
  return {
    images: [{ file, imageName, width: positiveOrNull(d.imageWidth), height: positiveOrNull(d.imageHeight), shapes }],
    problems,
  };
}
