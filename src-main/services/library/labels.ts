/** Turning folder names, CSV labels and VOC class names into defect types. */
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { DefectType, LabelTarget } from '../../shared/library-types.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { Db } from '../db/open.ts';
import { getTypeByKey, insertType, listTypes } from '../db/repos/defect-types.ts';

export function normaliseName(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_\-.]+/g, ' ')
    .trim();
}

function singular(s: string): string {
  if (s.endsWith('ches') || s.endsWith('shes') || s.endsWith('sses')) return s.slice(0, -2);
  if (s.endsWith('s') && !s.endsWith('ss')) return s.slice(0, -1);
  return s;
}

const SYNONYMS: Record<string, string> = { good: 'ok', 'no defect': 'ok', normal: 'ok', 'defect free': 'ok', pass: 'ok', ng: '' };

/** Finds the defect type a name means (key, English or Japanese name; case, separators, plurals ignored). */
export function matchDefectType(types: DefectType[], name: string): { type: DefectType; match: 'exact' | 'similar' } | null {
  const n = normaliseName(name);
  for (const t of types) if ([t.key, t.nameEn, t.nameJa].some((x) => normaliseName(x) === n)) return { type: t, match: 'exact' };
  const s = singular(SYNONYMS[n] ?? n);
  if (!s) return null;
  for (const t of types) if ([t.key, t.nameEn].some((x) => singular(normaliseName(x)) === s)) return { type: t, match: 'similar' };
  return null;
}

export function suggestTarget(types: DefectType[], name: string): { suggestion: LabelTarget; match: 'exact' | 'similar' | 'none' } {
  const m = matchDefectType(types, name);
  if (m) return { suggestion: { defectTypeId: m.type.id }, match: m.match };
  return { suggestion: { create: { nameEn: name } }, match: 'none' };
}

export function keyFromName(name: string): string {
  const k = normaliseName(name)
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
  return k || 'type';
}

/**
 * Colours for new types: saturated (visible on grey steel) and far in hue from OK's green (#2e9e5b) and from the
 * built-in defect colours (red, orange, purple, blue), so a new type is never read as "good".
 */
export const PALETTE = ['#ff2fb9', '#00d5e6', '#ffe14d', '#a0522d', '#ff7a59', '#5b5bff', '#c21e56', '#ffa8d6', '#7f7f00', '#9d00ff'];

/**
 * Keys offered to new types in order: the digits the built-in types leave free, then letters the library does not
 * already use (z/y undo and redo; f, v, r, b the viewer's fit and tools).
 */
const HOTKEYS = [...'123456789', ...'qwetuiopasdghjklxcnm'];

function freeHotkey(db: Db): string | null {
  const used = new Set(listTypes(db).map((t) => t.hotkey));
  return HOTKEYS.find((k) => !used.has(k)) ?? null;
}

/** Creates a defect type with a free key and a colour from the palette. */
export function createTypeFromName(db: Db, input: { nameEn: string; nameJa?: string; color?: string }): number {
  const nameEn = input.nameEn.trim();
  if (!nameEn) throw new ValidationError('A defect type needs a name.');
  const base = keyFromName(nameEn);
  let key = base;
  for (let i = 2; getTypeByKey(db, key); i++) key = `${base}_${i}`;
  const n = listTypes(db).length;
  return insertType(db, {
    key,
    nameEn,
    nameJa: input.nameJa?.trim() || nameEn,
    color: input.color ?? PALETTE[n % PALETTE.length]!,
    hotkey: freeHotkey(db),
  });
}

/**
 * Resolves label names to defect type ids: explicit mapping first, then a name match, then (if
 * allowed) a new type. Created types are remembered so a name creates at most one.
 */
export class LabelResolver {
  private cache = new Map<string, number | null | undefined>();
  readonly created: string[] = [];
  private readonly db: Db;
  private readonly mapping: Record<string, LabelTarget>;
  private readonly createUnknown: boolean;

  constructor(db: Db, mapping: Record<string, LabelTarget> = {}, createUnknown = true) {
    this.db = db;
    this.mapping = mapping;
    this.createUnknown = createUnknown;
  }

  /** Type id for a name; null = unlabelled; undefined = unknown and not created. Must run inside a transaction or alone. */
  resolve(name: string): number | null | undefined {
    if (this.cache.has(name)) return this.cache.get(name);
    let id: number | null | undefined;
    const target = this.mapping[name];
    const types = listTypes(this.db);
    if (target) {
      if ('unlabelled' in target) id = null;
      else if ('defectTypeId' in target) {
        if (!types.some((t) => t.id === target.defectTypeId))
          throw new ValidationError(`The folder "${name}" is mapped onto a defect type that no longer exists.`);
        id = target.defectTypeId;
      } else {
        const existing = matchDefectType(types, target.create.nameEn);
        id = existing?.match === 'exact' ? existing.type.id : createTypeFromName(this.db, target.create);
        if (!existing || existing.match !== 'exact') this.created.push(target.create.nameEn);
      }
    } else {
      const m = matchDefectType(types, name);
      if (m) id = m.type.id;
      else if (this.createUnknown) {
        id = createTypeFromName(this.db, { nameEn: name });
        this.created.push(name);
      } else id = undefined;
    }
    this.cache.set(name, id);
    return id;
  }
}

/** path,label rows of a CSV (header optional, quoted fields allowed); keys: resolved path and bare file name. */
export function readLabelsCsv(csvPath: string): { byPath: Map<string, string>; byName: Map<string, string> } {
  let text: string;
  try {
    text = readFileSync(csvPath, 'utf8');
  } catch (err) {
    throw new ValidationError(`Cannot read the label CSV ${csvPath}: ${(err as Error).message}`);
  }
  const byPath = new Map<string, string>();
  const byName = new Map<string, string>();
  const base = dirname(resolve(csvPath));
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const cells = parseCsvLine(line);
    const [p, label] = [cells[0]?.trim() ?? '', cells[1]?.trim() ?? ''];
    if (i === 0 && /^(path|file|filename|image)$/i.test(p)) return;
    if (!p || !label) return;
    byPath.set(isAbsolute(p) ? resolve(p) : resolve(base, p), label);
    byName.set(basename(p), label);
  });
  return { byPath, byName };
}

export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}
