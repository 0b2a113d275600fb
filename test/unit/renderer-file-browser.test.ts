import { describe, expect, it } from 'vitest';
import type { DirectoryEntry } from '../../src-main/shared/files-types.ts';
import { entryModifiedIn, entrySizeIn } from '../../src-renderer/src/components/file-browser/entries.ts';
import { isMoveKey, moveActive, PAGE_ROWS, TypeAhead } from '../../src-renderer/src/components/file-browser/list-keys.ts';
import {
  commonPrefix,
  complete,
  crumbsOf,
  leaf,
  matchingEntries,
  parentOf,
  typedFilter,
  typedFolder,
  withSep,
} from '../../src-renderer/src/components/file-browser/paths.ts';

const entry = (name: string, over: Partial<DirectoryEntry> = {}): DirectoryEntry => ({
  name,
  path: `/data/${name}`,
  isDir: false,
  size: 0,
  mtime: null,
  readable: true,
  ...over,
});

describe('file browser paths', () => {
  it('adds the separator only when missing', () => {
    expect(withSep('/data', '/')).toBe('/data/');
    expect(withSep('/data/', '/')).toBe('/data/');
    expect(withSep('C:\\photos', '\\')).toBe('C:\\photos\\');
    expect(withSep('C:\\', '\\')).toBe('C:\\');
  });

  it('finds leaf names and parents of POSIX and Windows paths', () => {
    expect(leaf('/data/neu-det/')).toBe('neu-det');
    expect(leaf('/')).toBe('');
    expect(leaf('C:\\photos\\run 1')).toBe('run 1');
    expect(parentOf('/data/neu-det')).toBe('/data');
    expect(parentOf('/data')).toBe('/');
    expect(parentOf('/')).toBeNull();
    expect(parentOf('C:\\photos')).toBe('C:\\');
    expect(parentOf('C:\\photos\\a\\')).toBe('C:\\photos');
    expect(parentOf('C:\\')).toBeNull();
  });

  it('lists breadcrumbs from the root down, roots named by their path', () => {
    expect(crumbsOf('/data/neu-det', '/data')).toEqual([
      { name: '/', path: '/' },
      { name: 'data', path: '/data' },
      { name: 'neu-det', path: '/data/neu-det' },
    ]);
    expect(crumbsOf('C:\\photos\\a', 'C:\\photos').map((c) => c.name)).toEqual(['C:', 'photos', 'a']);
    expect(crumbsOf('/', null)).toEqual([{ name: '/', path: '/' }]);
  });

  it('filters the list by what is typed after the listed folder, ignoring case', () => {
    expect(typedFilter('/data', '/data/Cr', '/')).toBe('Cr');
    expect(typedFilter('/data', '/other/x', '/')).toBe('');
    const es = [entry('crazing'), entry('Cracks'), entry('pits')];
    expect(matchingEntries(es, 'cr').map((e) => e.name)).toEqual(['crazing', 'Cracks']);
    expect(matchingEntries(es, '')).toBe(es);
  });

  it('completes Tab to the shared start, or to the one match (a folder with its separator)', () => {
    expect(commonPrefix(['crazing', 'Cracks'])).toBe('cra');
    expect(commonPrefix([])).toBe('');
    const two = complete('/data', [entry('crazing'), entry('cracks')], '/');
    expect(two).toEqual({ typed: '/data/cra', enter: null });
    const dir = entry('crazing', { isDir: true });
    expect(complete('/data', [dir], '/')).toEqual({ typed: '/data/crazing/', enter: dir });
    expect(complete('/data/', [entry('a.csv')], '/')).toEqual({ typed: '/data/a.csv', enter: null });
  });

  it('takes the folder part of a typed path', () => {
    expect(typedFolder('/data/neu')).toBe('/data/');
    expect(typedFolder('C:\\photos\\x')).toBe('C:\\photos\\');
    expect(typedFolder('nothing')).toBeNull();
  });
});

describe('file browser list keys', () => {
  it('moves the active row by one, by a page, to the ends, and stops at the ends', () => {
    expect(isMoveKey('PageDown')).toBe(true);
    expect(isMoveKey('Enter')).toBe(false);
    expect(moveActive('ArrowDown', 3, 50)).toBe(4);
    expect(moveActive('ArrowUp', 0, 50)).toBe(0);
    expect(moveActive('PageDown', 3, 50)).toBe(3 + PAGE_ROWS);
    expect(moveActive('PageDown', 45, 50)).toBe(49);
    expect(moveActive('PageUp', 5, 50)).toBe(0);
    expect(moveActive('Home', 30, 50)).toBe(0);
    expect(moveActive('End', 3, 50)).toBe(49);
  });

  it('jumps to the first name starting with the letters typed within a second', () => {
    const es = [entry('crazing'), entry('inclusion'), entry('patches'), entry('pitted')];
    const ta = new TypeAhead();
    expect(ta.type('p', 1000, es)).toBe(2);
    expect(ta.type('I', 1500, es)).toBe(3);
    // After a pause the search starts again.
    expect(ta.type('i', 3000, es)).toBe(1);
    expect(ta.type('z', 3100, es)).toBe(-1);
  });
});

describe('file browser entries', () => {
  it('shows sizes in B, KB and MB with the language grouping; folders none', () => {
    expect(entrySizeIn('en', entry('a', { size: 512 }))).toBe('512 B');
    expect(entrySizeIn('en', entry('a', { size: 1536 }))).toBe('1.5 KB');
    expect(entrySizeIn('ja', entry('a', { size: 5 * 1024 * 1024 }))).toBe('5.0 MB');
    expect(entrySizeIn('en', entry('a', { size: 1024 * 1024 * 1024 * 2 }))).toBe('2,048.0 MB');
    expect(entrySizeIn('en', entry('d', { isDir: true, size: 4096 }))).toBe('');
  });

  it('shows the modification time in the language, nothing when unknown', () => {
    const iso = '2026-03-04T05:06:00Z';
    expect(entryModifiedIn('en', iso)).toBe(new Date(iso).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' }));
    expect(entryModifiedIn('ja', iso)).toMatch(/2026/);
    expect(entryModifiedIn('en', null)).toBe('');
  });
});
