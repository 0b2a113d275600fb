/**
 * labelme / COCO regions for an import: reads the annotation files once, matches their images to the files being
 * imported by file name, and turns each image's shapes into region rows when that image is inserted. Problems
 * (unreadable or invalid files, unknown images, shapes out of the image, unknown labels) are collected per file;
 * they never stop the import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import type { ImportRegions, RegionProblem } from '../../../shared/library-types.ts';
import type { ImportEntry } from '../import-collect.ts';
import { parseCoco } from './coco.ts';
import { parseLabelme } from './labelme.ts';
import { problem, shapeToRegion, type AnnotatedImage, type ShapeRegion } from './shapes.ts';

export type AnnotationFormat = 'labelme' | 'coco';

export interface AnnotationRow {
  typeId: number;
  region: ShapeRegion;
  source: AnnotationFormat;
}

/** `.json` files under a folder (recursive, hidden entries skipped), sorted; or the file itself. */
export function jsonFilesAt(path: string): string[] {
  const p = resolve(path);
  const st = statSync(p);
  if (!st.isDirectory()) return [p];
  const out: string[] = [];
  const visit = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const f = join(dir, n);
      let s;
      try {
        s = statSync(f);
      } catch {
        continue;
      }
      if (s.isDirectory()) visit(f);
      else if (s.isFile() && extname(n).toLowerCase() === '.json') out.push(f);
    }
  };
  visit(p);
  return out;
}

interface Loaded {
  rec: AnnotatedImage;
  source: AnnotationFormat;
}

export class AnnotationIndex {
  /** Problems found while reading and matching (file-level); shape-level ones are added by `rowsFor`. */
  readonly problems: RegionProblem[] = [];
  /** Annotation records read (labelme files, COCO image records) and the shapes in them. */
  records = 0;
  shapes = 0;
  /** Of these, those whose image is among the import's files. */
  matchedRecords = 0;
  matchedShapes = 0;
  private readonly byImage = new Map<string, Loaded[]>();

  /** Adds the parsed records of one file, matching each to one of `images` (resolved paths) by name. */
  add(recs: AnnotatedImage[], source: AnnotationFormat, match: (rec: AnnotatedImage) => string[]): void {
    for (const rec of recs) {
      this.records++;
      this.shapes += rec.shapes.length;
      const hits = match(rec);
      if (hits.length === 0) {
        if (rec.shapes.length)
          this.problems.push(
            problem(
              rec.file,
              'unknown-image',
              rec.imageName,
              `No image named ${rec.imageName} is among the files imported; its shapes were left out.`,
            ),
          );
        continue;
      }
      this.matchedRecords++;
      this.matchedShapes += rec.shapes.length;
      for (const h of hits) {
        const list = this.byImage.get(h) ?? [];
        list.push({ rec, source });
        this.byImage.set(h, list);
      }
    }
  }

  /**
   * Region rows for an image about to be inserted (width x height as displayed). `resolveLabel` maps a shape label
   * to a defect type id (undefined / null: no type; the shape is reported and left out).
   */
  rowsFor(imagePath: string, width: number, height: number, resolveLabel: (label: string) => number | null | undefined): AnnotationRow[] {
    const rows: AnnotationRow[] = [];
    for (const { rec, source } of this.byImage.get(resolve(imagePath)) ?? []) {
      if ((rec.width !== null && rec.width !== width) || (rec.height !== null && rec.height !== height)) {
        this.problems.push(
          problem(
            rec.file,
            'size-mismatch',
            `${rec.imageName}: ${rec.width}x${rec.height} / ${width}x${height}`,
            `${rec.imageName} is ${width}x${height} but was annotated as ${rec.width}x${rec.height}; its shapes were left out.`,
          ),
        );
        continue;
      }
      for (const s of rec.shapes) {
        const { region, outOfBounds } = shapeToRegion(s, width, height);
        if (outOfBounds) {
          this.problems.push(
            problem(
              rec.file,
              'out-of-bounds',
              `${rec.imageName}: ${s.label}`,
              `A "${s.label}" shape reaches outside ${rec.imageName} (${width}x${height}); left out.`,
            ),
          );
          continue;
        }
        if (!region) continue;
        const typeId = resolveLabel(s.label);
        if (typeId === undefined || typeId === null) {
          this.problems.push(
            problem(rec.file, 'unknown-label', s.label, `The label "${s.label}" matches no defect type; the shape was left out.`),
          );
          continue;
        }
        rows.push({ typeId, region, source });
      }
    }
    return rows;
  }
}

/** Name lookups over the files of an import: by file name and by stem, case-insensitive. */
function nameMatcher(imagePaths: readonly string[]): (rec: AnnotatedImage) => string[] {
  const byName = new Map<string, string[]>();
  const byStem = new Map<string, string[]>();
  const push = (m: Map<string, string[]>, k: string, v: string): void => {
    const l = m.get(k);
    if (l) l.push(v);
    else m.set(k, [v]);
  };
  const all = new Set<string>();
  for (const p0 of imagePaths) {
    const p = resolve(p0);
    all.add(p);
    const n = basename(p).toLowerCase();
    push(byName, n, p);
    push(byStem, n.slice(0, n.length - extname(n).length), p);
  }
  return (rec) => {
    if (rec.imageName.endsWith('.*')) return byStem.get(rec.imageName.slice(0, -2).toLowerCase()) ?? [];
    // The file next to the annotation (labelme's relative imagePath) wins over same-named files elsewhere.
    const near = resolve(dirname(rec.file), rec.imageName);
    if (all.has(near)) return [near];
    return byName.get(rec.imageName.toLowerCase()) ?? [];
  };
}

/** Reads the labelme and COCO sources of `spec` and matches them against the import's files. */
export function loadAnnotations(spec: ImportRegions, imagePaths: readonly string[]): AnnotationIndex {
  const index = new AnnotationIndex();
  const match = nameMatcher(imagePaths);
  const read = (f: string): string | null => {
    try {
      return readFileSync(f, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      index.problems.push(problem(f, 'unreadable', code, `Cannot read the annotation file: ${code}`));
      return null;
    }
  };
  if (spec.labelme) {
    let files: string[] = [];
    try {
      files = jsonFilesAt(spec.labelme);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      index.problems.push(problem(resolve(spec.labelme), 'unreadable', code, `Cannot read the labelme folder or file: ${code}`));
    }
    for (const f of files) {
      const text = read(f);
      if (text === null) continue;
      const parsed = parseLabelme(text, f);
      index.problems.push(...parsed.problems);
      index.add(parsed.images, 'labelme', match);
    }
  }
  if (spec.coco) {
    const f = resolve(spec.coco);
    const text = read(f);
    if (text !== null) {
      const parsed = parseCoco(text, f);
      index.problems.push(...parsed.problems);
      index.add(parsed.images, 'coco', match);
    }
  }
  return index;
}

function within(dir: string, f: string): boolean {
  const r = relative(resolve(dir), f);
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && !/^[a-zA-Z]:/.test(r));
}

/**
 * The entries of an import without the annotation files of its regions sources (labelme JSON beside the photos,
 * VOC XML, mask PNGs, the COCO file), so they are neither imported as images nor reported as "not an image".
 */
export function withoutAnnotationFiles(entries: ImportEntry[], spec: ImportRegions | undefined): ImportEntry[] {
  if (!spec) return entries;
  const skip = (f: string): boolean => {
    const ext = extname(f).toLowerCase();
    if (spec.labelme && ext === '.json' && within(spec.labelme, f)) return true;
    if (spec.coco && resolve(spec.coco) === f) return true;
    if (spec.vocDir && ext === '.xml' && within(spec.vocDir, f)) return true;
    if (spec.masksDir && ext === '.png' && within(spec.masksDir, f)) return true;
    return false;
  };
  return entries.filter((e) => !skip(resolve(e.path)));
}
