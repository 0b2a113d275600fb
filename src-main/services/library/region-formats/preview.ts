/**
 * Before an import: what a regions source holds for the files about to be imported ("212 boxes in 180 files match
 * imported images"), and which annotation files the import itself must leave out (they are not photos).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { ImportRegions, RegionPreview } from '../../../shared/library-types.ts';
import { ValidationError } from '../../../shared/errors.ts';
import { collectEntries } from '../import-collect.ts';
import { parseVoc } from './voc.ts';
import { loadAnnotations, withoutAnnotationFiles } from './index.ts';

const PHOTO_EXTS = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.bmp', '.dib', '.tif', '.tiff']);

/** Files with this extension under a folder (recursive). */
function filesWithExt(dir: string, ext: string): string[] {
  return collectEntries({ paths: [dir] })
    .map((e) => e.path)
    .filter((f) => extname(f).toLowerCase() === ext);
}

/** What one regions source (exactly one of the fields of `spec`) holds for the images among `paths`. */
export function previewRegions(paths: string[], spec: ImportRegions): RegionPreview {
  const format: RegionPreview['format'] | undefined = spec.labelme
    ? 'labelme'
    : spec.coco
      ? 'coco'
      : spec.vocDir
        ? 'voc'
        : spec.masksDir
          ? 'masks'
          : undefined;
  if (!format) throw new ValidationError('Choose the folder or file the regions come from.');
  const source = spec.labelme ?? spec.coco ?? spec.vocDir ?? spec.masksDir ?? '';
  if (!existsSync(source)) throw new ValidationError(`${resolve(source)} does not exist.`);
  const images = withoutAnnotationFiles(collectEntries({ paths }), spec)
    .map((e) => resolve(e.path))
    .filter((f) => PHOTO_EXTS.has(extname(f).toLowerCase()));
  if (format === 'labelme' || format === 'coco') {
    const idx = loadAnnotations(format === 'labelme' ? { labelme: source } : { coco: source }, images);
    return {
      format,
      files: idx.records,
      regions: idx.shapes,
      matchedFiles: idx.matchedRecords,
      matchedRegions: idx.matchedShapes,
      images: images.length,
      problems: idx.problems,
    };
  }
  const stems = new Set(images.map((f) => basename(f, extname(f))));
  const found = filesWithExt(source, format === 'voc' ? '.xml' : '.png');
  let regions = 0;
  let matchedFiles = 0;
  let matchedRegions = 0;
  for (const f of found) {
    let n = 1;
    if (format === 'voc') {
      try {
        n = parseVoc(readFileSync(f, 'utf8')).boxes.length;
      } catch {
        n = 0;
      }
    }
    regions += n;
    if (stems.has(basename(f, extname(f)))) {
      matchedFiles++;
      matchedRegions += n;
    }
  }
  return { format, files: found.length, regions, matchedFiles, matchedRegions, images: images.length, problems: [] };
}
