/** Defect type management: add, rename, recolour, merge, delete (with relabel). */
import type { DefectType, DefectTypeInput, DefectTypePatch } from '../../shared/library-types.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../shared/errors.ts';
import type { Db } from '../db/open.ts';
import {
  deleteRegionsOf,
  deleteTypeRow,
  getType,
  getTypeByKey,
  insertType,
  listTypes,
  moveImageLabels,
  moveRegionTypes,
  unlabelImagesOf,
  updateTypeRow,
} from '../db/repos/defect-types.ts';
import { clearJournal } from '../db/repos/journal.ts';
import { keyFromName, normaliseName } from './labels.ts';

const COLOR = /^#[0-9a-fA-F]{6}$/;
const HOTKEY = /^[0-9a-zA-Z]$/;

function requireType(db: Db, id: number): DefectType {
  const t = getType(db, id);
  if (!t) throw new NotFoundError(`Defect type ${id} does not exist (deleted?).`, { id });
  return t;
}

function checkUnique(db: Db, selfId: number | null, p: { nameEn?: string; nameJa?: string; hotkey?: string | null }): void {
  for (const t of listTypes(db)) {
    if (t.id === selfId) continue;
    if (p.nameEn !== undefined && normaliseName(t.nameEn) === normaliseName(p.nameEn))
      throw new ValidationError(`A defect type named "${t.nameEn}" already exists.`);
    if (p.nameJa !== undefined && p.nameJa !== '' && t.nameJa === p.nameJa)
      throw new ValidationError(`A defect type named "${t.nameJa}" already exists.`);
    if (p.hotkey && t.hotkey === p.hotkey)
      throw new ValidationError(`The key ${p.hotkey} already labels "${t.nameEn}". Choose another key or clear it there first.`);
  }
}

function checkPatch(p: DefectTypePatch): void {
  if (p.nameEn !== undefined && !p.nameEn.trim()) throw new ValidationError('A defect type needs an English name.');
  if (p.color !== undefined && !COLOR.test(p.color)) throw new ValidationError('A colour is written #rrggbb, e.g. #e5484d.');
  if (p.hotkey !== undefined && p.hotkey !== null && !HOTKEY.test(p.hotkey)) throw new ValidationError('A hotkey is one digit or letter.');
}

export function createDefectType(db: Db, input: DefectTypeInput): DefectType {
  checkPatch(input);
  return db.transaction(() => {
    const nameEn = input.nameEn.trim();
    checkUnique(db, null, { nameEn, nameJa: input.nameJa?.trim(), hotkey: input.hotkey ?? null });
    const key = input.key?.trim() || keyFromName(nameEn);
    if (!/^[\p{L}\p{N}_-]+$/u.test(key)) throw new ValidationError('A key has only letters, digits, _ and -.');
    if (getTypeByKey(db, key)) throw new ValidationError(`A defect type with the key "${key}" already exists.`);
    const palette = ['#12a594', '#d6409f', '#ab4aba', '#3e63dd', '#f76b15', '#978365'];
    const id = insertType(db, {
      key,
      nameEn,
      nameJa: input.nameJa?.trim() || nameEn,
      color: input.color ?? palette[listTypes(db).length % palette.length]!,
      hotkey: input.hotkey ?? null,
    });
    return getType(db, id)!;
  })();
}

export function updateDefectType(db: Db, id: number, patch: DefectTypePatch): DefectType {
  checkPatch(patch);
  return db.transaction(() => {
    requireType(db, id);
    const p = { ...patch, nameEn: patch.nameEn?.trim(), nameJa: patch.nameJa?.trim() };
    checkUnique(db, id, p);
    updateTypeRow(db, id, Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)));
    return getType(db, id)!;
  })();
}

/** Moves images and regions of source onto target and deletes source. Clears the undo journal (it names source). */
export function mergeDefectTypes(db: Db, sourceId: number, targetId: number): { movedImages: number; movedRegions: number } {
  if (sourceId === targetId) throw new ValidationError('Choose two different defect types to merge.');
  return db.transaction(() => {
    requireType(db, sourceId);
    requireType(db, targetId);
    const movedImages = moveImageLabels(db, sourceId, targetId);
    const movedRegions = moveRegionTypes(db, sourceId, targetId);
    deleteTypeRow(db, sourceId);
    clearJournal(db);
    return { movedImages, movedRegions };
  })();
}

/**
 * Deletes a type; refused (ConflictError) while images or regions use it unless `relabelTo` is given
 * (a type id, or null = unlabelled; the type's regions are then deleted).
 */
export function deleteDefectType(
  db: Db,
  id: number,
  opts: { relabelTo?: number | null } = {},
): { relabelled: number; regionsDeleted: number } {
  return db.transaction(() => {
    const t = requireType(db, id);
    const hasTarget = Object.prototype.hasOwnProperty.call(opts, 'relabelTo') && opts.relabelTo !== undefined;
    if ((t.imageCount > 0 || t.regionCount > 0) && !hasTarget) {
      throw new ConflictError(
        `"${t.nameEn}" is used by ${t.imageCount} image(s) and ${t.regionCount} region(s). Choose a defect type to relabel them to (or unlabelled), then delete.`,
        { id, imageCount: t.imageCount, regionCount: t.regionCount },
      );
    }
    if (opts.relabelTo === id) throw new ValidationError('Relabel to a different defect type than the one being deleted.');
    let relabelled = 0;
    let regionsDeleted = 0;
    if (opts.relabelTo !== undefined && opts.relabelTo !== null) {
      requireType(db, opts.relabelTo);
      relabelled = moveImageLabels(db, id, opts.relabelTo);
      regionsDeleted = 0;
      moveRegionTypes(db, id, opts.relabelTo);
    } else if (opts.relabelTo === null) {
      relabelled = unlabelImagesOf(db, id);
      regionsDeleted = deleteRegionsOf(db, id);
    }
    deleteTypeRow(db, id);
    clearJournal(db);
    return { relabelled, regionsDeleted };
  })();
}
