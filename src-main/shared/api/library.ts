import type {
  LibraryStats,
  CoreType,
  DefectType,
  DefectTypeInput,
  DefectTypePatch,
  EditResult,
  ImageDetail,
  ImageFilter,
  ImagePage,
  ImageQuery,
  ImportBatch,
  ImportPreview,
  ImportReport,
  ImportRequest,
  ImportRegions,
  RegionPreview,
  LabelExportRequest,
  LabelExportResult,
  Region,
  RegionInput,
  RegionPatch,
  ReviewState,
  Split,
  SplitSettings,
  SplitSummary,
  UndoState,
} from '../library-types.ts';
import type { TaskSnapshot } from '../types.ts';

/**
 * Catalog operations: defect types, the image grid, labelling with undo/redo, regions, import,
 * splits and stats. Every operation needs an open project (else NoProjectOpenError).
 * Media: thumbnails `mediaUrl('thumb', String(imageId))` (JPEG, 256 px), full images
 * `mediaUrl('image', String(imageId))` (browser-displayable: JPEG/PNG original or a PNG conversion).
 */
export interface LibraryApi {
  // -- defect types
  listDefectTypes(): Promise<DefectType[]>;
  /** ValidationError on a duplicate key/name/hotkey. */
  createDefectType(input: DefectTypeInput): Promise<DefectType>;
  /** Rename / recolour / change hotkey. */
  updateDefectType(id: number, patch: DefectTypePatch): Promise<DefectType>;
  /** Moves every image and region of `sourceId` onto `targetId`, then deletes source. Clears the undo history. */
  mergeDefectTypes(sourceId: number, targetId: number): Promise<{ movedImages: number; movedRegions: number }>;
  /**
   * Deletes a type. ConflictError while images or regions use it, unless `relabelTo` is given (another type's id,
   * or null to leave those images unlabelled; regions of the type are then deleted). Clears the undo history.
   */
  deleteDefectType(id: number, opts?: { relabelTo?: number | null }): Promise<{ relabelled: number; regionsDeleted: number }>;

  // -- grid
  /** One page for a virtualised grid (limit <= 1000). */
  listImages(query: ImageQuery): Promise<ImagePage>;
  /** Every id matching a filter, in id order (select-all). */
  listImageIds(filter?: ImageFilter): Promise<number[]>;
  /** Metadata, note, group key and regions of one image (NotFoundError if gone). */
  getImage(id: number): Promise<ImageDetail>;

  // -- labelling (each journaled for undo/redo, each one transaction)
  /** Label (null = unlabelled). Review state becomes 'labelled' ('reviewed' with markReviewed; 'unlabelled' for null). */
  setLabel(imageIds: number[], defectTypeId: number | null, opts?: { markReviewed?: boolean }): Promise<EditResult>;
  setCoreType(imageIds: number[], coreType: CoreType): Promise<EditResult>;
  setNote(imageId: number, note: string): Promise<EditResult>;
  setReviewState(imageIds: number[], state: ReviewState): Promise<EditResult>;
  /** Manual group key (null = back to the one derived from the group pattern). */
  setGroupKey(imageIds: number[], groupKey: string | null): Promise<EditResult>;
  /** Manual split move; ConflictError for moves into/out of a locked test set. */
  setSplit(imageIds: number[], split: Split): Promise<EditResult>;
  addRegion(imageId: number, region: RegionInput): Promise<{ region: Region; edit: EditResult }>;
  updateRegion(regionId: number, patch: RegionPatch): Promise<{ region: Region; edit: EditResult }>;
  deleteRegion(regionId: number): Promise<EditResult>;
  /** Reverts the latest edit (persisted journal: survives reloads). Returns null when there is nothing to undo. */
  undo(): Promise<EditResult | null>;
  redo(): Promise<EditResult | null>;
  getUndoState(): Promise<UndoState>;

  // -- import
  /** Class folders under `root` with a suggested defect-type mapping for each. */
  previewImportFolders(root: string): Promise<ImportPreview>;
  /** Starts an import task (kind 'import'); its `result` is an ImportReport. Watch `task` events for progress. */
  startImport(request: ImportRequest): Promise<TaskSnapshot>;
  /** What one regions source (VOC, masks, labelme, COCO) holds for the images among `paths`, before importing. */
  previewImportRegions(paths: string[], regions: ImportRegions): Promise<RegionPreview>;
  listImportBatches(): Promise<ImportBatch[]>;
  getImportReport(batchId: number): Promise<ImportReport | null>;

  // -- splits, stats, export
  getSplitSettings(): Promise<SplitSettings>;
  /** Validates and saves; recomputes pattern group keys. Does not move images: call resplit(). */
  setSplitSettings(patch: Partial<SplitSettings>): Promise<SplitSettings>;
  /** Stratified (by label) re-split with the fixed seed; groups kept together; locked test untouched. */
  resplit(): Promise<SplitSummary>;
  getLibraryStats(): Promise<LibraryStats>;
  exportLabels(request: LabelExportRequest): Promise<LabelExportResult>;
}

export const libraryOperations = [
  'listDefectTypes',
  'createDefectType',
  'updateDefectType',
  'mergeDefectTypes',
  'deleteDefectType',
  'listImages',
  'listImageIds',
  'getImage',
  'setLabel',
  'setCoreType',
  'setNote',
  'setReviewState',
  'setGroupKey',
  'setSplit',
  'addRegion',
  'updateRegion',
  'deleteRegion',
  'undo',
  'redo',
  'getUndoState',
  'previewImportFolders',
  'startImport',
  'previewImportRegions',
  'listImportBatches',
  'getImportReport',
  'getSplitSettings',
  'setSplitSettings',
  'resplit',
  'getLibraryStats',
  'exportLabels',
] as const satisfies readonly (keyof LibraryApi)[];

export type LibraryChangeReason = 'import' | 'labels' | 'regions' | 'defectTypes' | 'splits' | 'undo' | 'redo' | 'demo';

export interface LibraryEvents {
  /** Something in the catalog changed; `imageIds` when only those images did (absent: refetch everything). */
  libraryChanged: { reason: LibraryChangeReason; imageIds?: number[] };
}
