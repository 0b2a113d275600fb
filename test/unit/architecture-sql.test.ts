import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * SQL lives in the db layer: outside src-main/services/db/ no file prepares a statement or executes SQL on a
 * better-sqlite3 database; they call repository functions (services/db/repos/*, lists of ids through
 * db/in-list.ts). The receiver is told by its type, not its name, so `project.db.prepare(…)` is caught and a
 * regular expression's `.exec(…)` is not.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const DB_LAYER = resolve(ROOT, 'src-main/services/db') + '/';
const SQL_METHODS = new Set(['prepare', 'exec']);

function tsUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : tsUnder(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Whether a type is better-sqlite3's Database (declared in its type package). */
function isSqliteDatabase(type: ts.Type): boolean {
  const decl = (type.getSymbol() ?? type.aliasSymbol)?.declarations?.[0];
  return !!decl && /[\\/]better-sqlite3[\\/]/.test(decl.getSourceFile().fileName) && /Database/.test(type.getSymbol()?.name ?? '');
}

/** Every `<database>.prepare` / `<database>.exec` in the files, as `file:line method`. */
function sqlCalls(files: string[]): string[] {
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const found: string[] = [];
  for (const file of files) {
    const sf = program.getSourceFile(file);
    if (!sf) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node) && SQL_METHODS.has(node.name.text)) {
        const type = checker.getTypeAtLocation(node.expression);
        if (isSqliteDatabase(type) || type.getBaseTypes?.()?.some(isSqliteDatabase)) {
          const line = sf.getLineAndCharacterOfPosition(node.name.getStart(sf)).line + 1;
          found.push(`${relative(ROOT, file)}:${line} .${node.name.text}(`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

describe('architecture: SQL only in the db layer', () => {
  it('no file under src-main outside services/db/ prepares or executes SQL on a database', () => {
    // Only files that name the methods at all are type-checked (the rest cannot call them; keeps the check quick).
    const files = tsUnder(resolve(ROOT, 'src-main')).filter((f) => /\.\s*(prepare|exec)\b/.test(readFileSync(f, 'utf8')));
    const calls = sqlCalls(files);
    // The detector sees the repositories' own statements (so an empty list below means something) …
    expect(calls.some((c) => c.startsWith('src-main/services/db/repos/images.ts:'))).toBe(true);
    expect(calls.some((c) => c.startsWith('src-main/services/db/in-list.ts:'))).toBe(true);
    // … and not a regular expression's exec (media-url.ts parses with one).
    expect(calls.some((c) => c.startsWith('src-main/shared/'))).toBe(false);
    const outside = calls.filter((c) => !resolve(ROOT, c.split(':')[0]!).startsWith(DB_LAYER));
    expect(outside, 'move these statements into src-main/services/db/repos/ (plain functions taking Db)').toEqual([]);
  }, 60_000);
});
