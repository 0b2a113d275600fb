import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listDirectory, listRoots } from '../../src-main/services/files/list-directory.ts';
import { useTmp } from '../helpers/tmp.ts';

const tmp = useTmp();

function fixture(): string {
  const d = tmp();
  mkdirSync(join(d, 'Line 10'));
  mkdirSync(join(d, 'line 2'));
  mkdirSync(join(d, '.cache'));
  writeFileSync(join(d, 'b.JPG'), 'xyz');
  writeFileSync(join(d, 'a.png'), '12345');
  writeFileSync(join(d, 'notes.txt'), 'n');
  writeFileSync(join(d, '.hidden.jpg'), 'h');
  return d;
}

describe('listDirectory', () => {
  it('lists folders first in natural order, then the files that match, with size, mtime and the parent', () => {
    const d = fixture();
    const r = listDirectory(d, { kind: 'file', extensions: ['jpg', '.png'] });
    expect(r.path).toBe(d);
    expect(r.parent).toBe(join(d, '..').replace(/[\\/]$/, ''));
    expect(r.denied).toBe(false);
    expect(r.sep).toBe(sep);
    expect(r.entries.map((e) => e.name)).toEqual(['line 2', 'Line 10', 'a.png', 'b.JPG']);
    const a = r.entries.find((e) => e.name === 'a.png')!;
    expect(a).toMatchObject({ isDir: false, size: 5, path: join(d, 'a.png'), readable: true });
    expect(Date.parse(a.mtime!)).toBeGreaterThan(Date.now() - 60_000);
    // Choosing a folder lists folders only; every file with no extension filter.
    expect(listDirectory(d, { kind: 'dir' }).entries.every((e) => e.isDir)).toBe(true);
    expect(listDirectory(d, { kind: 'file' }).entries.map((e) => e.name)).toContain('notes.txt');
  });

  it('leaves hidden files out unless asked', () => {
    const d = fixture();
    expect(listDirectory(d, { kind: 'file' }).entries.some((e) => e.name.startsWith('.'))).toBe(false);
    const all = listDirectory(d, { kind: 'file', showHidden: true }).entries.map((e) => e.name);
    expect(all).toEqual(expect.arrayContaining(['.cache', '.hidden.jpg']));
  });

  it('starts at home, has roots, and names a missing folder with PathNotFoundError', () => {
    const r = listDirectory(null, { kind: 'dir' });
    expect(r.path).toBe(homedir());
    expect(r.roots[0]).toEqual({ path: homedir(), kind: 'home' });
    if (process.platform !== 'win32') expect(listDirectory('/', { kind: 'dir' }).parent).toBeNull();
    const d = tmp();
    expect(() => listDirectory(join(d, 'nope'), { kind: 'dir' })).toThrow(expect.objectContaining({ name: 'PathNotFoundError' }));
    writeFileSync(join(d, 'file.txt'), 'x');
    expect(() => listDirectory(join(d, 'file.txt'), { kind: 'dir' })).toThrow(expect.objectContaining({ name: 'PathNotFoundError' }));
  });

  it('probes drive letters on Windows', () => {
    const roots = listRoots('win32', (p) => p === 'C:\\' || p === 'E:\\');
    expect(roots.map((r) => r.path).slice(1)).toEqual(['C:\\', 'E:\\']);
    expect(roots.slice(1).every((r) => r.kind === 'drive')).toBe(true);
    expect(listRoots('linux').slice(1)).toEqual([{ path: '/', kind: 'root' }]);
  });

  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)('says an unreadable folder is denied instead of failing', () => {
    const d = tmp();
    const locked = join(d, 'locked');
    mkdirSync(locked);
    writeFileSync(join(locked, 'x.jpg'), 'x');
    chmodSync(locked, 0o000);
    try {
      expect(listDirectory(d, { kind: 'dir' }).entries).toEqual([expect.objectContaining({ name: 'locked', readable: false })]);
      const r = listDirectory(locked, { kind: 'file' });
      expect(r).toMatchObject({ denied: true, entries: [], parent: d });
    } finally {
      chmodSync(locked, 0o755);
    }
  });
});
