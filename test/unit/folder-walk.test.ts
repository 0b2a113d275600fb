import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { walkFolders, walkFoldersSync, type WalkResult } from '../../src-main/services/library/folder-walk.ts';
import { useTmp } from '../helpers/tmp.ts';

const tmp = useTmp();

function rel(root: string, r: WalkResult) {
  return {
    files: r.files.map((f) => relative(root, f.path)).sort(),
    skipped: r.skipped.map((k) => ({ path: relative(root, k.path), reason: k.reason })),
  };
}

describe('folder walk', () => {
  it('walks a folder that links to itself once: the real files, and the link reported', async () => {
    const root = tmp();
    writeFileSync(join(root, 'a.jpg'), 'a');
    writeFileSync(join(root, 'b.jpg'), 'b');
    symlinkSync(root, join(root, 'loop'));
    const t0 = Date.now();
    const r = await walkFolders([root]);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(rel(root, r)).toEqual({ files: ['a.jpg', 'b.jpg'], skipped: [{ path: 'loop', reason: 'link-loop' }] });
    expect(r.skipped[0]!.detail).toBe(root);
    expect(r.limited).toBe(false);
  });

  it('follows two mutual links once each way, keeping the real folder names', async () => {
    const root = tmp();
    mkdirSync(join(root, 'x'));
    mkdirSync(join(root, 'y'));
    writeFileSync(join(root, 'x', '1.png'), '1');
    writeFileSync(join(root, 'y', '2.png'), '2');
    symlinkSync(join(root, 'y'), join(root, 'x', 'to-y'));
    symlinkSync(join(root, 'x'), join(root, 'y', 'to-x'));
    const r = await walkFolders([root]);
    expect(rel(root, r)).toEqual({
      files: ['x/1.png', 'y/2.png'],
      skipped: [
        { path: 'x/to-y', reason: 'link-loop' },
        { path: 'y/to-x', reason: 'link-loop' },
      ],
    });
    // The same answer from the synchronous driver (one traversal, two drivers).
    expect(rel(root, walkFoldersSync([root]))).toEqual(rel(root, r));
  });

  it('follows a link to a folder outside, reports a broken link, and a file seen twice once', async () => {
    const base = tmp();
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(join(outside, 'o.jpg'), 'o');
    writeFileSync(join(root, 'r.jpg'), 'r');
    symlinkSync(outside, join(root, 'ext'));
    symlinkSync(join(base, 'gone'), join(root, 'dead'));
    symlinkSync(join(root, 'r.jpg'), join(root, 'r-again.jpg'));
    const r = await walkFolders([root]);
    expect(rel(root, r)).toEqual({
      files: ['ext/o.jpg', 'r.jpg'],
      skipped: [
        { path: 'dead', reason: 'broken-link' },
        { path: 'r-again.jpg', reason: 'link-loop' },
      ],
    });
  });

  it('stops at its bounds with the place it stopped, and is cancellable', async () => {
    const root = tmp();
    for (let i = 0; i < 30; i++) writeFileSync(join(root, `f${String(i).padStart(2, '0')}.jpg`), 'x');
    let deep = root;
    for (let d = 0; d < 6; d++) mkdirSync((deep = join(deep, `d${d}`)));
    writeFileSync(join(deep, 'bottom.jpg'), 'x');
    const few = await walkFolders([root], { limits: { maxFiles: 10 } });
    expect(few.files).toHaveLength(10);
    expect(few.limited).toBe(true);
    expect(few.skipped).toEqual([{ path: root, reason: 'limit', detail: '10 files' }]);
    const shallow = await walkFolders([root], { limits: { maxDepth: 3 } });
    expect(shallow.files).toHaveLength(30);
    expect(shallow.skipped).toEqual([{ path: join(root, 'd0', 'd1', 'd2', 'd3'), reason: 'limit', detail: 'depth 3' }]);
    expect((await walkFolders([root])).files).toHaveLength(31);
    const ac = new AbortController();
    ac.abort();
    await expect(walkFolders([root], { signal: ac.signal })).rejects.toMatchObject({ name: 'CancelledError' });
  });

  it('keeps answering other work while it walks (asynchronous)', async () => {
    const root = tmp();
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(root, `d${d}`));
      for (let i = 0; i < 20; i++) writeFileSync(join(root, `d${d}`, `${i}.jpg`), 'x');
    }
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      const r = await walkFolders([root]);
      expect(r.files).toHaveLength(400);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });
});
