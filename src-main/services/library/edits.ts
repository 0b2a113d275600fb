/**
 * Labelling edits with a persisted undo/redo journal. Every edit runs in one transaction that
 * changes the rows and appends the journal entry; undo/redo replay an entry backwards/forwards.
 */
import type {
  CoreType,
  EditAction,
  EditResult,
  EditWhat,
  Region,
  RegionInput,
  RegionPatch,
  ReviewState,
  Split,
} from '../../shared/library-types.ts';
import { editSummaryEn } from '../../shared/edit-summary.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../shared/errors.ts';
import type { Db } from '../db/open.ts';
import { getType } from '../db/repos/defect-types.ts';
import { assertImagesExist, requireImageRow } from '../db/repos/images.ts';
import { readImageField as readField, setImageField as setField } from '../db/repos/image-fields.ts';
import {
  appendEntry,
  firstUndone,
  lastDone,
  setUndone,
  undoState,
  type FieldValue,
  type ImageField,
  type JournalChanges,
  type JournalEntry,
} from '../db/repos/journal.ts';
import {
  deleteRegionRow,
  getRegionRow,
  insertRegionRow,
  mapRegion,
  regionRowFromJson,
  regionRowOf,
  regionRowToJson,
  replaceRegionRow,
  type RegionRow,
} from '../db/repos/regions.ts';
import { validateRle } from './rle.ts';
import { getSplitSettings, groupKeyFor } from './splits.ts';

const CORE_TYPES: readonly CoreType[] = ['stator', 'rotor', 'unknown'];
const REVIEW_STATES: readonly ReviewState[] = ['unlabelled', 'labelled', 'reviewed'];
const SPLITS: readonly Split[] = ['train', 'val', 'test'];

function uniqueIds(ids: unknown): number[] {
  if (!Array.isArray(ids) || ids.some((x) => !Number.isInteger(x))) throw new ValidationError('Give the images as a list of ids.');
  return [...new Set(ids as number[])];
}

type AfterFn = (id: number, before: Map<ImageField, FieldValue>) => Partial<Record<ImageField, FieldValue>>;

function result(
  db: Db,
  entryId: number | null,
  action: EditAction | null,
  what: EditWhat | null,
  imageIds: number[],
  regionIds: number[],
  summary = what ? editSummaryEn(what) : 'Nothing changed',
): EditResult {
  return { entryId, action, summary, what, imageIds, regionIds, undo: undoState(db) };
}

/** Applies per-image field changes, journals what actually changed, in one transaction. */
function fieldEdit(db: Db, action: EditAction, what: EditWhat, idsIn: unknown, fields: ImageField[], after: AfterFn): EditResult {
  const ids = uniqueIds(idsIn);
  return db.transaction(() => {
    assertImagesExist(db, ids);
    const before = new Map<ImageField, Map<number, FieldValue>>(fields.map((f) => [f, readField(db, f, ids)]));
    const groups = new Map<string, { field: ImageField; b: FieldValue; a: FieldValue; ids: number[] }>();
    for (const id of ids) {
      const cur = new Map<ImageField, FieldValue>(fields.map((f) => [f, before.get(f)!.get(id) ?? null]));
      const next = after(id, cur);
      for (const f of fields) {
        if (!(f in next)) continue;
        const a = next[f] ?? null;
        const b = cur.get(f) ?? null;
        if (a === b) continue;
        const k = JSON.stringify([f, b, a]);
        let g = groups.get(k);
        if (!g) groups.set(k, (g = { field: f, b, a, ids: [] }));
        g.ids.push(id);
      }
    }
    if (!groups.size) return result(db, null, null, null, [], []);
    const changes: JournalChanges = { fields: [], regions: [] };
    const changed = new Set<number>();
    for (const f of fields) {
      const list: [FieldValue, FieldValue, number[]][] = [];
      for (const g of groups.values()) {
        if (g.field !== f) continue;
        setField(db, f, g.a, g.ids);
        list.push([g.b, g.a, g.ids]);
        for (const id of g.ids) changed.add(id);
      }
      if (list.length) changes.fields.push({ field: f, changes: list });
    }
    const entryId = appendEntry(db, action, what, changes);
    return result(db, entryId, action, what, [...changed], []);
  })();
}

export function setLabel(db: Db, ids: unknown, defectTypeId: number | null, opts: { markReviewed?: boolean } = {}): EditResult {
  const list = uniqueIds(ids);
  let typeName: string | null = null;
  if (defectTypeId !== null) {
    const t = getType(db, defectTypeId);
    if (!t) throw new NotFoundError(`Defect type ${defectTypeId} does not exist (deleted?).`);
    typeName = t.nameEn;
  }
  const what: EditWhat = { kind: 'label', count: list.length, typeId: defectTypeId, typeName };
  return fieldEdit(db, list.length > 1 ? 'bulkLabel' : 'label', what, list, ['label_id', 'review_state'], (_id, cur) => {
    const labelChanged = cur.get('label_id') !== defectTypeId;
    if (defectTypeId === null) return { label_id: null, review_state: 'unlabelled' };
    if (opts.markReviewed) return { label_id: defectTypeId, review_state: 'reviewed' };
    return labelChanged || cur.get('review_state') === 'unlabelled' ? { label_id: defectTypeId, review_state: 'labelled' } : {};
  });
}

export function setCoreType(db: Db, ids: unknown, coreType: CoreType): EditResult {
  if (!CORE_TYPES.includes(coreType)) throw new ValidationError(`Core type must be one of ${CORE_TYPES.join(', ')}.`);
  const list = uniqueIds(ids);
  return fieldEdit(db, 'coreType', { kind: 'coreType', count: list.length, value: coreType }, list, ['core_type'], () => ({
    core_type: coreType,
  }));
}

export function setNote(db: Db, id: number, note: string): EditResult {
  if (typeof note !== 'string') throw new ValidationError('A note must be text.');
  if (note.length > 10_000) throw new ValidationError('A note can be at most 10,000 characters.');
  return fieldEdit(db, 'note', { kind: 'note', imageId: id }, [id], ['note'], () => ({ note }));
}

export function setReviewState(db: Db, ids: unknown, state: ReviewState): EditResult {
  if (!REVIEW_STATES.includes(state)) throw new ValidationError(`Review state must be one of ${REVIEW_STATES.join(', ')}.`);
  const list = uniqueIds(ids);
  return fieldEdit(
    db,
    'reviewState',
    { kind: 'reviewState', count: list.length, value: state },
    list,
    ['review_state', 'label_id'],
    (_id, cur) => {
      if (state !== 'unlabelled' && cur.get('label_id') === null) {
        throw new ConflictError(`Label an image before marking it ${state}.`);
      }
      return { review_state: state };
    },
  );
}

export function setGroupKey(db: Db, ids: unknown, key: string | null): EditResult {
  const list = uniqueIds(ids);
  const pattern = getSplitSettings(db).groupPattern;
  const names = new Map<number, string>();
  if (key === null) for (const id of list) names.set(id, requireImageRow(db, id).original_name);
  return fieldEdit(db, 'groupKey', { kind: 'groupKey', count: list.length, value: key }, list, ['group_key', 'group_manual'], (id) =>
    key === null ? { group_key: groupKeyFor(pattern, names.get(id) ?? ''), group_manual: 0 } : { group_key: key, group_manual: 1 },
  );
}

export function setSplit(db: Db, ids: unknown, split: Split): EditResult {
  if (!SPLITS.includes(split)) throw new ValidationError(`Split must be one of ${SPLITS.join(', ')}.`);
  const list = uniqueIds(ids);
  const locked = getSplitSettings(db).testLocked;
  return fieldEdit(db, 'split', { kind: 'split', count: list.length, value: split }, list, ['split'], (_id, cur) => {
    if (locked && (split === 'test') !== (cur.get('split') === 'test')) {
      throw new ConflictError('The test set is locked: unlock it in the split settings before moving images into or out of it.');
    }
    return { split };
  });
}

// ---- regions ----

function checkRegion(db: Db, imageId: number, r: RegionInput): void {
  const img = requireImageRow(db, imageId);
  if (!getType(db, r.defectTypeId)) throw new NotFoundError(`Defect type ${r.defectTypeId} does not exist (deleted?).`);
  if (r.kind !== 'rect' && r.kind !== 'mask') throw new ValidationError("A region is a 'rect' or a 'mask'.");
  for (const k of ['x', 'y', 'w', 'h'] as const)
    if (!Number.isInteger(r[k])) throw new ValidationError(`Region ${k} must be a whole number of pixels.`);
  if (r.w <= 0 || r.h <= 0) throw new ValidationError('A region must be at least 1 pixel wide and high.');
  if (r.x < 0 || r.y < 0 || r.x + r.w > img.width || r.y + r.h > img.height) {
    throw new ValidationError(`The region ${r.x},${r.y} ${r.w}x${r.h} lies outside the ${img.width}x${img.height} image.`);
  }
  if (r.kind === 'mask') {
    if (!Array.isArray(r.rle)) throw new ValidationError('A mask region needs its run-length encoded pixels (rle).');
    validateRle(r.rle, r.w, r.h);
  }
}

function regionResult(db: Db, entryId: number, action: EditAction, what: EditWhat, rows: RegionRow[]): EditResult {
  return result(
    db,
    entryId,
    action,
    what,
    [...new Set(rows.map((r) => r.image_id))],
    rows.map((r) => r.id),
  );
}

export function addRegion(
  db: Db,
  imageId: number,
  input: RegionInput,
  source: Region['source'] = 'user',
): { region: Region; edit: EditResult } {
  return db.transaction(() => {
    checkRegion(db, imageId, input);
    const id = insertRegionRow(db, regionRowOf({ ...input, imageId, source, createdAt: new Date().toISOString() }));
    const full = getRegionRow(db, id)!;
    const what: EditWhat = { kind: 'regionAdd', imageId, regionKind: input.kind === 'mask' ? 'mask' : 'box' };
    const entryId = appendEntry(db, 'regionAdd', what, { fields: [], regions: [{ before: null, after: regionRowToJson(full) }] });
    return { region: mapRegion(full), edit: regionResult(db, entryId, 'regionAdd', what, [full]) };
  })();
}

export function updateRegion(db: Db, regionId: number, patch: RegionPatch): { region: Region; edit: EditResult } {
  return db.transaction(() => {
    const before = getRegionRow(db, regionId);
    if (!before) throw new NotFoundError(`Region ${regionId} does not exist (deleted?).`);
    const cur = mapRegion(before);
    const next: RegionInput = {
      defectTypeId: patch.defectTypeId ?? cur.defectTypeId,
      kind: patch.kind ?? cur.kind,
      x: patch.x ?? cur.x,
      y: patch.y ?? cur.y,
      w: patch.w ?? cur.w,
      h: patch.h ?? cur.h,
    };
    if (next.kind === 'mask') next.rle = patch.rle ?? cur.rle ?? [];
    checkRegion(db, before.image_id, next);
    const after: RegionRow = {
      ...regionRowOf({ ...next, imageId: before.image_id, source: before.source, createdAt: before.created_at }),
      id: before.id,
    };
    replaceRegionRow(db, after);
    const what: EditWhat = { kind: 'regionEdit', imageId: before.image_id };
    const entryId = appendEntry(db, 'regionEdit', what, {
      fields: [],
      regions: [{ before: regionRowToJson(before), after: regionRowToJson(after) }],
    });
    return { region: mapRegion(after), edit: regionResult(db, entryId, 'regionEdit', what, [after]) };
  })();
}

export function deleteRegion(db: Db, regionId: number): EditResult {
  return db.transaction(() => {
    const before = getRegionRow(db, regionId);
    if (!before) throw new NotFoundError(`Region ${regionId} does not exist (already deleted?).`);
    deleteRegionRow(db, regionId);
    const what: EditWhat = { kind: 'regionDelete', imageId: before.image_id };
    const entryId = appendEntry(db, 'regionDelete', what, { fields: [], regions: [{ before: regionRowToJson(before), after: null }] });
    return regionResult(db, entryId, 'regionDelete', what, [before]);
  })();
}

// ---- undo / redo ----

function replay(db: Db, e: JournalEntry, backwards: boolean): EditResult {
  const imageIds = new Set<number>();
  const regionIds: number[] = [];
  for (const f of e.changes.fields) {
    for (const [b, a, ids] of f.changes) {
      setField(db, f.field, backwards ? b : a, ids);
      for (const id of ids) imageIds.add(id);
    }
  }
  const regs = backwards ? [...e.changes.regions].reverse() : e.changes.regions;
  for (const r of regs) {
    const from = backwards ? r.after : r.before;
    const to = backwards ? r.before : r.after;
    const id = (to ?? from)!.id;
    if (from && !to) deleteRegionRow(db, id);
    else if (!from && to) insertRegionRow(db, regionRowFromJson(to));
    else if (to) replaceRegionRow(db, regionRowFromJson(to));
    regionIds.push(id);
    imageIds.add((to ?? from)!.image_id);
  }
  setUndone(db, e.id, backwards);
  return result(db, e.id, e.action, e.what, [...imageIds], regionIds, e.summary);
}

export function undo(db: Db): EditResult | null {
  return db.transaction(() => {
    const e = lastDone(db);
    return e ? replay(db, e, true) : null;
  })();
}

export function redo(db: Db): EditResult | null {
  return db.transaction(() => {
    const e = firstUndone(db);
    return e ? replay(db, e, false) : null;
  })();
}
