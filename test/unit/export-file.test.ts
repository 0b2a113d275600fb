/**
 * Export files are never written over an existing one unless asked, and never half: a write that fails midway
 * (a full disk, simulated by failing node:fs writeSync after the first chunk) leaves the old file as it was and no
 * temp file behind.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as NodeFs from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';

const fault = vi.hoisted(() => ({ failAfterBytes: -1, written: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof NodeFs>();
  const writeSync = ((fd: number, buf: Uint8Array, offset?: number, length?: number) => {
    if (fault.failAfterBytes >= 0 && fault.written >= fault.failAfterBytes)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const n = Math.min(length ?? buf.byteLength, 4096);
    fault.written += n;
    return fs.writeSync(fd, buf, offset ?? 0, n);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const { checkTarget, checkTargetFolder, copyFileAtomic, writeFileAtomic } = await import('../../src-main/services/export-file.ts');

const tmp = mkdtempSync(join(tmpdir(), 'kensa-export-file-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('creates folders, refuses an existing file with FileExistsError, and replaces it only with overwrite', () => {
    const f = join(tmp, 'a', 'b', 'out.csv');
    writeFileAtomic(f, 'first');
    expect(readFileSync(f, 'utf8')).toBe('first');
    let err: unknown;
    try {
      writeFileAtomic(f, 'second');
    } catch (e) {
      err = e;
    }
    expect((err as Error).name).toBe('FileExistsError');
    expect((err as { detail?: unknown }).detail).toEqual({ path: f });
    expect(readFileSync(f, 'utf8')).toBe('first');
    writeFileAtomic(f, 'second', { overwrite: true });
    expect(readFileSync(f, 'utf8')).toBe('second');
    expect(readdirSync(join(tmp, 'a', 'b'))).toEqual(['out.csv']);
  });

  it('a write that fails midway leaves the old file untouched and no temp file', () => {
    const dir = join(tmp, 'crash');
    mkdirSync(dir);
    const f = join(dir, 'sheet.png');
    writeFileSync(f, 'the good file');
    fault.written = 0;
    fault.failAfterBytes = 4096;
    try {
      expect(() => writeFileAtomic(f, new Uint8Array(1 << 20).fill(7), { overwrite: true })).toThrow(/ENOSPC/);
    } finally {
      fault.failAfterBytes = -1;
    }
    expect(fault.written).toBe(4096);
    expect(readFileSync(f, 'utf8')).toBe('the good file');
    expect(readdirSync(dir)).toEqual(['sheet.png']);
    // And a new file that fails is not left half-written either.
    fault.written = 0;
    fault.failAfterBytes = 0;
    try {
      expect(() => writeFileAtomic(join(dir, 'new.png'), 'x'.repeat(10_000))).toThrow(/ENOSPC/);
    } finally {
      fault.failAfterBytes = -1;
    }
    expect(readdirSync(dir)).toEqual(['sheet.png']);
  });

  it('copies atomically too, and refuses a folder as a file target', () => {
    const src = join(tmp, 'src.bin');
    writeFileSync(src, 'model bytes');
    const dst = join(tmp, 'copy', 'weights.bin');
    copyFileAtomic(src, dst);
    expect(() => copyFileAtomic(src, dst)).toThrow(/already exists/);
    copyFileAtomic(src, dst, { overwrite: true });
    expect(readFileSync(dst, 'utf8')).toBe('model bytes');
    expect(() => checkTarget(join(tmp, 'copy'), true)).toThrow(/is a folder/);
  });

  it('a folder target is refused when it holds anything, unless overwrite', () => {
    const d = join(tmp, 'folder');
    expect(() => checkTargetFolder(d, false)).not.toThrow();
    mkdirSync(d);
    expect(() => checkTargetFolder(d, false)).not.toThrow();
    writeFileSync(join(d, 'x.jpg'), '');
    expect(() => checkTargetFolder(d, false)).toThrow(/not empty/);
    expect(() => checkTargetFolder(d, true)).not.toThrow();
  });
});
