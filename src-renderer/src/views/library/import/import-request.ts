/**
 * The import form's text and choices turned into the server's ImportRequest, as pure functions: paths typed or
 * pasted one per line, the folder → label mapping as <select> values, the region source, the previews merged.
 */
import type {
  CoreType,
  FolderPreview,
  ImportRegions,
  ImportRequest,
  LabelTarget,
  RegionPreview,
} from '../../../../../src-main/shared/library-types.ts';

export type LabelsFrom = 'none' | 'folders' | 'csv';
export type RegionFormat = 'none' | 'voc' | 'masks' | 'labelme' | 'coco';

/** A path as pasted from Explorer ("Copy as path" wraps it in double quotes), trimmed. */
export function cleanPath(s: string): string {
  return s.trim().replace(/^"(.*)"$/, '$1');
}

/** The non-empty lines of the sources field, each cleaned. */
export function parsePaths(text: string): string[] {
  return text.split(/\r?\n/).map(cleanPath).filter(Boolean);
}

/** The sources field with `add` appended, skipping paths already listed; null when nothing is new. */
export function appendPaths(paths: readonly string[], add: readonly string[]): string | null {
  const have = new Set(paths);
  const fresh = add.filter((p) => !have.has(p));
  return fresh.length ? [...paths, ...fresh].join('\n') : null;
}

/** A label target as the value of the mapping <select>: `t:<id>`, `new` or `none`. */
export function encodeTarget(tg: LabelTarget): string {
  if ('defectTypeId' in tg) return `t:${tg.defectTypeId}`;
  if ('create' in tg) return 'new';
  return 'none';
}

/** The label target a mapping <select> value stands for; `new` creates a type named after the folder. */
export function decodeTarget(folder: string, v: string): LabelTarget {
  if (v.startsWith('t:')) return { defectTypeId: Number(v.slice(2)) };
  if (v === 'new') return { create: { nameEn: folder } };
  return { unlabelled: true };
}

/** Where the regions come from, or null when none is chosen or no path is given yet. */
export function regionSource(format: RegionFormat, path: string): ImportRegions | null {
  const p = cleanPath(path);
  if (format === 'none' || !p) return null;
  if (format === 'voc') return { vocDir: p };
  if (format === 'masks') return { masksDir: p };
  if (format === 'labelme') return { labelme: p };
  return { coco: p };
}

/**
 * Class folders found under several sources as one list: folders of the same name are one class, their files
 * added up (the first source's suggestion stays).
 */
export function mergeFolderPreviews(previews: readonly { folders: FolderPreview[]; looseFiles: number }[]): {
  folders: FolderPreview[];
  looseFiles: number;
} {
  const merged = new Map<string, FolderPreview>();
  let loose = 0;
  for (const r of previews) {
    loose += r.looseFiles;
    for (const f of r.folders) {
      const m = merged.get(f.name);
      merged.set(f.name, m ? { ...m, fileCount: m.fileCount + f.fileCount } : f);
    }
  }
  return { folders: [...merged.values()], looseFiles: loose };
}

/** The mapping for newly previewed folders: what the user already chose for a folder stays, else the suggestion. */
export function initialMapping(folders: readonly FolderPreview[], previous: Record<string, string>): Record<string, string> {
  const next: Record<string, string> = {};
  for (const f of folders) next[f.name] = previous[f.name] ?? encodeTarget(f.suggestion);
  return next;
}

export interface ImportChoices {
  paths: string[];
  labelsFrom: LabelsFrom;
  mapping: Record<string, string>;
  csvPath: string;
  regions: ImportRegions | null;
  tiffPages: 'first' | 'all';
  coreType: CoreType;
}

/** The request the Import button sends. Unknown label names become new types (createUnknown). */
export function importRequest(c: ImportChoices): ImportRequest {
  const req: ImportRequest = { paths: c.paths, tiffPages: c.tiffPages, coreType: c.coreType };
  if (c.labelsFrom === 'folders') {
    const m: Record<string, LabelTarget> = {};
    for (const [name, v] of Object.entries(c.mapping)) m[name] = decodeTarget(name, v);
    req.labels = { from: 'folders', mapping: m, createUnknown: true };
  } else if (c.labelsFrom === 'csv') req.labels = { from: 'csv', csvPath: c.csvPath.trim(), createUnknown: true };
  else req.labels = { from: 'none' };
  if (c.regions) req.regions = c.regions;
  return req;
}

/** The i18n key of the region preview's headline, per format (labelme uses the generic wording). */
export function regionMatchKey(
  format: RegionPreview['format'],
):
  | 'library.import.regionsMatch.voc'
  | 'library.import.regionsMatch.masks'
  | 'library.import.regionsMatch.coco'
  | 'library.import.regionsMatch' {
  if (format === 'voc') return 'library.import.regionsMatch.voc';
  if (format === 'masks') return 'library.import.regionsMatch.masks';
  if (format === 'coco') return 'library.import.regionsMatch.coco';
  return 'library.import.regionsMatch';
}

/** Seconds left as whole minutes and seconds; null when unknown. */
export function etaParts(s: number | null | undefined): { m: number; s: number } | null {
  if (s == null || !Number.isFinite(s)) return null;
  return { m: Math.floor(s / 60), s: Math.round(s % 60) };
}
