import { describe, expect, it } from 'vitest';
import type { FolderPreview } from '../../src-main/shared/library-types.ts';
import {
  appendPaths,
  decodeTarget,
  encodeTarget,
  etaParts,
  importRequest,
  initialMapping,
  mergeFolderPreviews,
  parsePaths,
  regionMatchKey,
  regionSource,
  type ImportChoices,
} from '../../src-renderer/src/views/library/import/import-request.ts';

const folder = (name: string, fileCount: number, suggestion: FolderPreview['suggestion']): FolderPreview => ({
  name,
  fileCount,
  suggestion,
  match: 'exact',
});

describe('import form: sources', () => {
  it('reads one path a line, dropping blanks and the quotes of "Copy as path"', () => {
    expect(parsePaths('  /data/a \r\n\n"C:\\photos\\b"\n   \n/data/c')).toEqual(['/data/a', 'C:\\photos\\b', '/data/c']);
    expect(parsePaths('')).toEqual([]);
  });

  it('appends only paths not listed yet', () => {
    expect(appendPaths(['/a', '/b'], ['/b', '/c'])).toBe('/a\n/b\n/c');
    expect(appendPaths(['/a'], ['/a'])).toBeNull();
  });
});

describe('import form: folder labels', () => {
  it('round-trips label targets through the mapping select', () => {
    expect(encodeTarget({ defectTypeId: 7 })).toBe('t:7');
    expect(encodeTarget({ create: { nameEn: 'rust' } })).toBe('new');
    expect(encodeTarget({ unlabelled: true })).toBe('none');
    expect(decodeTarget('scratches', 't:7')).toEqual({ defectTypeId: 7 });
    expect(decodeTarget('scratches', 'new')).toEqual({ create: { nameEn: 'scratches' } });
    expect(decodeTarget('scratches', 'none')).toEqual({ unlabelled: true });
  });

  it('merges class folders of several sources by name, adding their files', () => {
    const m = mergeFolderPreviews([
      { folders: [folder('crazing', 10, { defectTypeId: 1 }), folder('rust', 2, { create: { nameEn: 'rust' } })], looseFiles: 3 },
      { folders: [folder('crazing', 5, { unlabelled: true })], looseFiles: 1 },
    ]);
    expect(m.looseFiles).toBe(4);
    expect(m.folders.map((f) => [f.name, f.fileCount])).toEqual([
      ['crazing', 15],
      ['rust', 2],
    ]);
    // The first source's suggestion stays.
    expect(m.folders[0]!.suggestion).toEqual({ defectTypeId: 1 });
  });

  it('keeps what the user chose for a folder when previewing again, suggests for new folders', () => {
    const folders = [folder('crazing', 1, { defectTypeId: 1 }), folder('pits', 1, { create: { nameEn: 'pits' } })];
    expect(initialMapping(folders, { crazing: 'none', gone: 't:3' })).toEqual({ crazing: 'none', pits: 'new' });
  });
});

describe('import form: regions', () => {
  it('names the region source per format, only once a path is given', () => {
    expect(regionSource('none', '/x')).toBeNull();
    expect(regionSource('voc', '  ')).toBeNull();
    expect(regionSource('voc', ' "/ann" ')).toEqual({ vocDir: '/ann' });
    expect(regionSource('masks', '/m')).toEqual({ masksDir: '/m' });
    expect(regionSource('labelme', '/l.json')).toEqual({ labelme: '/l.json' });
    expect(regionSource('coco', '/c.json')).toEqual({ coco: '/c.json' });
  });

  it('words the preview per format, labelme with the generic sentence', () => {
    expect(regionMatchKey('voc')).toBe('library.import.regionsMatch.voc');
    expect(regionMatchKey('masks')).toBe('library.import.regionsMatch.masks');
    expect(regionMatchKey('coco')).toBe('library.import.regionsMatch.coco');
    expect(regionMatchKey('labelme')).toBe('library.import.regionsMatch');
  });
});

describe('import form: the request', () => {
  const base: ImportChoices = {
    paths: ['/data'],
    labelsFrom: 'none',
    mapping: {},
    csvPath: '',
    regions: null,
    tiffPages: 'first',
    coreType: 'unknown',
  };

  it('sends no labels and no regions by default', () => {
    expect(importRequest(base)).toEqual({ paths: ['/data'], tiffPages: 'first', coreType: 'unknown', labels: { from: 'none' } });
  });

  it('sends the folder mapping as targets, creating unknown names', () => {
    const r = importRequest({ ...base, labelsFrom: 'folders', mapping: { crazing: 't:2', pits: 'new', misc: 'none' } });
    expect(r.labels).toEqual({
      from: 'folders',
      mapping: { crazing: { defectTypeId: 2 }, pits: { create: { nameEn: 'pits' } }, misc: { unlabelled: true } },
      createUnknown: true,
    });
  });

  it('sends a trimmed CSV path, the region source and the TIFF and core choices', () => {
    const r = importRequest({
      ...base,
      labelsFrom: 'csv',
      csvPath: ' /l.csv ',
      regions: { vocDir: '/ann' },
      tiffPages: 'all',
      coreType: 'rotor',
    });
    expect(r).toEqual({
      paths: ['/data'],
      tiffPages: 'all',
      coreType: 'rotor',
      labels: { from: 'csv', csvPath: '/l.csv', createUnknown: true },
      regions: { vocDir: '/ann' },
    });
  });
});

describe('import progress: time left', () => {
  it('splits seconds into minutes and seconds, unknown as null', () => {
    expect(etaParts(125.4)).toEqual({ m: 2, s: 5 });
    expect(etaParts(42)).toEqual({ m: 0, s: 42 });
    expect(etaParts(null)).toBeNull();
    expect(etaParts(undefined)).toBeNull();
    expect(etaParts(Infinity)).toBeNull();
  });
});
