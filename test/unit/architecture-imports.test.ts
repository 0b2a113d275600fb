import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The process that owns the catalog never loads TensorFlow: following the static (runtime) imports from the Electron
 * main process and the browser-mode server reaches no file that imports @tensorflow at run time. Engine-only code is
 * loaded by the engine process; the main side uses TF-free tables (backbone-table.ts, heatmaps/grid.ts,
 * model-json.ts). Type-only imports are erased before Node runs the file, so they do not count.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const RUNTIME_RELATIVE = /^\s*(?:import|export)\s+(?!type\s)[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm;
const RUNTIME_TF = /^\s*import\s+(?!type\s)[^'"]*?from\s+'@tensorflow\/|import\(\s*'@tensorflow\//m;

function reach(entries: string[]): { files: Map<string, string | null>; tf: string[] } {
  const files = new Map<string, string | null>();
  const tf: string[] = [];
  const visit = (file: string, from: string | null): void => {
    if (files.has(file)) return;
    files.set(file, from);
    const src = readFileSync(file, 'utf8');
    if (RUNTIME_TF.test(src)) tf.push(file);
    for (const m of src.matchAll(RUNTIME_RELATIVE)) {
      const next = resolve(dirname(file), m[1]!);
      if (existsSync(next)) visit(next, file);
    }
  };
  for (const e of entries) visit(resolve(ROOT, e), null);
  return { files, tf };
}

function chain(files: Map<string, string | null>, file: string): string {
  const out: string[] = [];
  for (let f: string | null | undefined = file; f; f = files.get(f)) out.unshift(relative(ROOT, f));
  return out.join(' → ');
}

describe('architecture', () => {
  it('the main process and the browser-mode server reach no TensorFlow.js through static imports', () => {
    const { files, tf } = reach(['src-main/main/index.ts', 'src-main/server/serve.ts']);
    expect(files.size).toBeGreaterThan(50);
    expect(tf.map((f) => chain(files, f))).toEqual([]);
    // Engine-only code lives in src-main/engine/; the catalog's process imports none of it at run time.
    const engineDir = resolve(ROOT, 'src-main/engine') + '/';
    const engineFiles = [...files.keys()].filter((f) => f.startsWith(engineDir));
    expect(engineFiles.map((f) => chain(files, f))).toEqual([]);
  });

  it('every runtime TensorFlow.js import in src-main lives under src-main/engine/', () => {
    const { files, tf } = reach(['src-main/engine/main.ts', 'src-main/engine/backend/probe-main.ts']);
    expect(files.size).toBeGreaterThan(40);
    const outside = tf.filter((f) => !f.startsWith(resolve(ROOT, 'src-main/engine') + '/'));
    expect(outside.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('the check sees a runtime TensorFlow import when there is one (the engine entry point)', () => {
    const { tf } = reach(['src-main/engine/main.ts']);
    expect(tf.length).toBeGreaterThan(0);
  });
});
