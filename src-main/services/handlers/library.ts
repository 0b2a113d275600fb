import type { LibraryApi, LibraryChangeReason } from '../../shared/api/library.ts';
import type { EditResult } from '../../shared/library-types.ts';
import { ValidationError } from '../../shared/errors.ts';
import { batchReport, listBatches } from '../db/repos/batches.ts';
import { listTypes } from '../db/repos/defect-types.ts';
import { getImageDetail, listIds, listImagesPage } from '../db/repos/images.ts';
import { undoState } from '../db/repos/journal.ts';
import * as types from '../library/defect-types.ts';
import * as edits from '../library/edits.ts';
import { previewFolders } from '../library/import.ts';
import { previewRegions } from '../library/region-formats/preview.ts';
import { getSplitSettings, resplit, saveSplitSettings } from '../library/splits.ts';
import { libraryStats, exportLabels } from '../library/stats.ts';
import type { Services } from '../services.ts';

function id(x: unknown, what = 'id'): number {
  if (!Number.isInteger(x)) throw new ValidationError(`${what} must be a whole number.`);
  return x as number;
}

export function libraryHandlers(s: Services): LibraryApi {
  const db = () => s.projects.require().db;
  const changed = (reason: LibraryChangeReason, imageIds?: number[]) =>
    s.events.emit('libraryChanged', imageIds ? { reason, imageIds } : { reason });
  const edited = (r: EditResult, reason: LibraryChangeReason = 'labels'): EditResult => {
    if (r.entryId !== null) changed(reason, r.imageIds);
    return r;
  };
  return {
    async listDefectTypes() {
      return listTypes(db());
    },
    async createDefectType(input) {
      const t = types.createDefectType(db(), input);
      changed('defectTypes');
      return t;
    },
    async updateDefectType(typeId, patch) {
      const t = types.updateDefectType(db(), id(typeId), patch ?? {});
      changed('defectTypes');
      return t;
    },
    async mergeDefectTypes(sourceId, targetId) {
      const r = types.mergeDefectTypes(db(), id(sourceId), id(targetId));
      changed('defectTypes');
      return r;
    },
    async deleteDefectType(typeId, opts) {
      const r = types.deleteDefectType(db(), id(typeId), opts ?? {});
      changed('defectTypes');
      return r;
    },
    async listImages(query) {
      return listImagesPage(db(), query ?? {});
    },
    async listImageIds(filter) {
      return listIds(db(), filter);
    },
    async getImage(imageId) {
      return getImageDetail(db(), id(imageId));
    },
    async setLabel(imageIds, defectTypeId, opts) {
      if (defectTypeId !== null) id(defectTypeId, 'defectTypeId');
      return edited(edits.setLabel(db(), imageIds, defectTypeId, opts ?? {}));
    },
    async setCoreType(imageIds, coreType) {
      return edited(edits.setCoreType(db(), imageIds, coreType));
    },
    async setNote(imageId, note) {
      return edited(edits.setNote(db(), id(imageId), note));
    },
    async setReviewState(imageIds, state) {
      return edited(edits.setReviewState(db(), imageIds, state));
    },
    async setGroupKey(imageIds, key) {
      if (key !== null && (typeof key !== 'string' || !key.trim()))
        throw new ValidationError('A group key is a non-empty text, or null to reset it.');
      return edited(edits.setGroupKey(db(), imageIds, key === null ? null : key.trim()), 'splits');
    },
    async setSplit(imageIds, split) {
      return edited(edits.setSplit(db(), imageIds, split), 'splits');
    },
    async addRegion(imageId, region) {
      const r = edits.addRegion(db(), id(imageId), region);
      edited(r.edit, 'regions');
      return r;
    },
    async updateRegion(regionId, patch) {
      const r = edits.updateRegion(db(), id(regionId), patch ?? {});
      edited(r.edit, 'regions');
      return r;
    },
    async deleteRegion(regionId) {
      return edited(edits.deleteRegion(db(), id(regionId)), 'regions');
    },
    async undo() {
      const r = edits.undo(db());
      if (r) changed('undo', r.imageIds);
      return r;
    },
    async redo() {
      const r = edits.redo(db());
      if (r) changed('redo', r.imageIds);
      return r;
    },
    async getUndoState() {
      return undoState(db());
    },
    async previewImportFolders(root) {
      if (!root?.trim()) throw new ValidationError('Choose a folder to preview.');
      return previewFolders(db(), root);
    },
    async startImport(request) {
      return s.library.startImport(request);
    },
    async previewImportRegions(paths, regions) {
      if (!Array.isArray(paths) || paths.length === 0) throw new ValidationError('Choose the files or folders to import first.');
      return previewRegions(paths, regions ?? {});
    },
    async listImportBatches() {
      return listBatches(db());
    },
    async getImportReport(batchId) {
      return batchReport(db(), id(batchId));
    },
    async getSplitSettings() {
      return getSplitSettings(db());
    },
    async setSplitSettings(patch) {
      const r = saveSplitSettings(db(), patch ?? {});
      changed('splits');
      return r;
    },
    async resplit() {
      const r = resplit(db());
      changed('splits');
      return r;
    },
    async getLibraryStats() {
      return libraryStats(db());
    },
    async exportLabels(request) {
      return exportLabels(db(), s.projects.require().dir, request);
    },
  };
}
