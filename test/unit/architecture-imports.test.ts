import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

/** Every .ts / .svelte file under `dir`, recursively. */
function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : sourcesUnder(p);
    return /\.(ts|svelte)$/.test(d.name) ? [p] : [];
  });
}

/** Every module specifier a file names: static imports and re-exports (type-only ones too) and dynamic imports. */
const ANY_IMPORT = /(?:^|\s)(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|^\s*import\s+'([^']+)'/gm;
/** A path into the tree given as a URL relative to the file (how entry scripts are found at run time). */
const URL_PATH = /new URL\(\s*'([^']+)'\s*,\s*import\.meta\.url\s*\)/g;

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

  it('no file outside src-main/engine/ imports from it, even as types; the main side names only its two entry scripts', () => {
    const engineDir = resolve(ROOT, 'src-main/engine') + '/';
    const files = ['src-main', 'src-renderer', 'bin']
      .flatMap((d) => sourcesUnder(resolve(ROOT, d)))
      .filter((f) => !f.startsWith(engineDir));
    expect(files.length).toBeGreaterThan(100);
    const imports: string[] = [];
    const urls: string[] = [];
    for (const file of files) {
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(ANY_IMPORT)) {
        const spec = m[1] ?? m[2] ?? m[3]!;
        if (spec.startsWith('.') && resolve(dirname(file), spec).startsWith(engineDir)) imports.push(`${relative(ROOT, file)} → ${spec}`);
      }
      for (const m of src.matchAll(URL_PATH)) {
        if (resolve(dirname(file), m[1]!).startsWith(engineDir)) urls.push(`${relative(ROOT, file)} → ${m[1]}`);
      }
    }
    expect(imports).toEqual([]);
    // The engine process's entry and the backend probe's, started as child processes (never imported).
    expect(urls.sort()).toEqual([
      'src-main/services/engine/client.ts → ../../engine/main.ts',
      'src-main/services/engine/probe-child.ts → ../../engine/backend/probe-main.ts',
    ]);
  });

  it('the engine-import check sees an import into src-main/engine/ when there is one', () => {
    const src =
      "import type { X } from '../../engine/jobs/train.ts';\nexport { y } from '../engine/a.ts';\nawait import('../engine/b.ts');";
    expect([...src.matchAll(ANY_IMPORT)].map((m) => m[1] ?? m[2] ?? m[3])).toEqual([
      '../../engine/jobs/train.ts',
      '../engine/a.ts',
      '../engine/b.ts',
    ]);
  });

  it('the check sees a runtime TensorFlow import when there is one (the engine entry point)', () => {
    const { tf } = reach(['src-main/engine/main.ts']);
    expect(tf.length).toBeGreaterThan(0);
  });
});
