/**
 * Catalog domain types: images, defect types, regions, imports, splits, undo journal (types only).
 *
 * Coordinates: every region is in the pixel frame of the image as displayed, i.e. after the EXIF
 * orientation is applied (`ImageMeta.width/height` are that frame's size too).
 */

export type CoreType = 'stator' | 'rotor' | 'unknown';
export type ReviewState = 'unlabelled' | 'labelled' | 'reviewed';
export type Split = 'train' | 'val' | 'test';
export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'tiff';

/** A defect class (OK is a defect type with `isOk`). `key` is stable (used in exports and by the model). */
export interface DefectType {
  id: number;
  key: string;
  nameEn: string;
  nameJa: string;
  /** CSS colour `#rrggbb`. */
  color: string;
  /** One key ('0'..'9' or a letter) that applies this label in the labelling screen; null = none. */
  hotkey: string | null;
  isOk: boolean;
  sortOrder: number;
  /** Images labelled with this type. */
  imageCount: number;
  /** Regions drawn with this type. */
  regionCount: number;
}

export interface DefectTypeInput {
  /** Stable key; derived from nameEn when omitted (lower case, `_` for spaces). */
  key?: string;
  nameEn: string;
  nameJa?: string;
  color?: string;
  hotkey?: string | null;
}

export interface DefectTypePatch {
  nameEn?: string;
  nameJa?: string;
  color?: string;
  hotkey?: string | null;
}

/** Grid filter: every given criterion must hold (AND); inside one list any value matches (OR). */
export interface ImageFilter {
  /** Defect type ids. */
  labels?: number[];
  /** Only images without a label (combined with `labels` as OR: "these labels or unlabelled"). */
  unlabelled?: boolean;
  splits?: Split[];
  coreTypes?: CoreType[];
  batchIds?: number[];
  reviewStates?: ReviewState[];
  /** Case-insensitive substring of the original file name. */
  nameContains?: string;
  /** Only images with (true) / without (false) defect regions. */
  hasRegions?: boolean;
}

export type ImageSortKey = 'importedAt' | 'name' | 'label' | 'id';

export interface ImageQuery {
  filter?: ImageFilter;
  sort?: { by: ImageSortKey; dir: 'asc' | 'desc' };
  offset?: number;
  /** At most 1000. */
  limit?: number;
}

/** One grid cell: enough to draw a thumbnail with its badges. Thumbnail URL: mediaUrl('thumb', String(id)). */
export interface ImageListItem {
  id: number;
  name: string;
  /** TIFF page (0-based) when "every page" was imported; null otherwise. */
  page: number | null;
  width: number;
  height: number;
  labelId: number | null;
  coreType: CoreType;
  reviewState: ReviewState;
  split: Split;
  regionCount: number;
  hasNote: boolean;
  importedAt: string;
}

export interface ImagePage {
  total: number;
  offset: number;
  items: ImageListItem[];
}

export interface ImageMeta {
  sha256: string;
  format: ImageFormat;
  /** Size as displayed (EXIF orientation applied). */
  width: number;
  height: number;
  channels: number;
  /** Bits per sample: 8 or 16 (1 for bi-level BMP). */
  bitDepth: number;
  /** EXIF orientation tag of the original (1 = none). */
  orientation: number;
  /** Pages in the original file (TIFF). */
  pages: number;
  byteSize: number;
  /** Store path relative to the project folder: images/<sha[0:2]>/<sha256>.<ext>. */
  storePath: string;
  originalPath: string;
  originalName: string;
  batchId: number | null;
  importedAt: string;
}

export interface ImageDetail extends ImageListItem {
  meta: ImageMeta;
  note: string;
  groupKey: string | null;
  regions: Region[];
}

/**
 * A defect region. `rect`: the box x,y,w,h (image pixels). `mask`: a freehand/brush mask given as
 * its bounding box x,y,w,h plus `rle`, a run-length encoding of the w*h box pixels in row-major order
 * (left to right, top to bottom): alternating run lengths of 0 (outside) and 1 (inside), always
 * starting with a 0-run (possibly 0), summing to w*h. Example: the 3x2 box with rows `011` and `100`
 * is [1,3,2]; with rows `110` / `001` it is [0,2,3,1]. Runs may stop early (the rest is outside). In the database the runs are stored as
 * unsigned LEB128 varints in a BLOB.
 */
export interface Region {
  id: number;
  imageId: number;
  defectTypeId: number;
  kind: 'rect' | 'mask';
  x: number;
  y: number;
  w: number;
  h: number;
  /** Only for kind 'mask'. */
  rle?: number[];
  /** Where it came from: drawn by a user, a VOC XML, a mask PNG, a labelme / COCO JSON, the demo generator. */
  source: 'user' | 'voc' | 'mask' | 'labelme' | 'coco' | 'demo';
  createdAt: string;
}

export interface RegionInput {
  defectTypeId: number;
  kind: 'rect' | 'mask';
  x: number;
  y: number;
  w: number;
  h: number;
  rle?: number[];
}

export type RegionPatch = Partial<RegionInput>;

// ---- Undo / redo -------------------------------------------------------------------------------

export type EditAction =
  'label' | 'bulkLabel' | 'coreType' | 'note' | 'reviewState' | 'groupKey' | 'split' | 'regionAdd' | 'regionEdit' | 'regionDelete';

/**
 * What an edit did, as data, so each UI language phrases it itself (the English `summary` beside it is for logs, the
 * CLI and entries journaled before this existed).
 */
export type EditWhat =
  | { kind: 'label'; count: number; typeId: number | null; typeName: string | null }
  | { kind: 'coreType'; count: number; value: string }
  | { kind: 'note'; imageId: number }
  | { kind: 'reviewState'; count: number; value: string }
  | { kind: 'groupKey'; count: number; value: string | null }
  | { kind: 'split'; count: number; value: string }
  | { kind: 'regionAdd'; imageId: number; regionKind: 'box' | 'mask' }
  | { kind: 'regionEdit' | 'regionDelete'; imageId: number };

/** What an edit, an undo or a redo changed (so the UI can refresh just those images). */
export interface EditResult {
  /** Journal entry id (null when nothing changed and nothing was journaled). */
  entryId: number | null;
  action: EditAction | null;
  /** English summary, e.g. "Label 12 images as scratch". */
  summary: string;
  /** The same as data (null when nothing changed, or for an entry journaled without it). */
  what: EditWhat | null;
  imageIds: number[];
  regionIds: number[];
  undo: UndoState;
}

export interface UndoState {
  canUndo: boolean;
  canRedo: boolean;
  /** Summary of what undo() would revert / redo() re-apply (English), and the same as data. */
  undoSummary: string | null;
  redoSummary: string | null;
  undoWhat: EditWhat | null;
  redoWhat: EditWhat | null;
}

// ---- Import ------------------------------------------------------------------------------------

/** How a folder name (or CSV/VOC label) maps onto a defect type. */
export type LabelTarget =
  | { defectTypeId: number }
  /** Create a new defect type with this name (the key is derived from it). */
  | { create: { nameEn: string; nameJa?: string; color?: string } }
  /** Import these images unlabelled. */
  | { unlabelled: true };

export interface FolderPreview {
  /** The folder name as found (a class folder directly under the import root). */
  name: string;
  fileCount: number;
  /** Suggested mapping by name (key, English or Japanese name, plural/case-insensitive). */
  suggestion: LabelTarget;
  /** How the suggestion was found: exact / similar name, or none (would create a new type). */
  match: 'exact' | 'similar' | 'none';
}

export interface ImportPreview {
  root: string;
  folders: FolderPreview[];
  /** Files directly in the root (imported unlabelled). */
  looseFiles: number;
}

export interface ImportRequest {
  /** Files and folders (folders are walked recursively). */
  paths: string[];
  labels?:
    | { from: 'none' }
    /** `<root>/<class>/**`: the first folder under each given folder is the class. Missing names: created when createUnknown. */
    | { from: 'folders'; mapping?: Record<string, LabelTarget>; createUnknown?: boolean }
    /** CSV with columns path,label (header optional; path absolute, relative to the CSV, or a bare file name). */
    | { from: 'csv'; csvPath: string; mapping?: Record<string, LabelTarget>; createUnknown?: boolean };
  /** VOC XML boxes (`<stem>.xml`, searched recursively) and/or mask PNGs (`<stem>.png`, non-zero = defect of the image's label). */
  regions?: ImportRegions;
  /** Multi-page TIFF: only the first page (default), or every page as its own image (stored as PNG). */
  tiffPages?: 'first' | 'all';
  /** Core type given to every imported image (default 'unknown'). */
  coreType?: CoreType;
}

/** Where an import's regions come from (each optional; matched to the imported images by file name). */
export interface ImportRegions {
  vocDir?: string;
  masksDir?: string;
  /** labelme: a folder of `.json` files (searched recursively) or one `.json` file; `imagePath` names the image. */
  labelme?: string;
  /** COCO: one JSON file with images, annotations (bbox and/or polygon segmentation) and categories. */
  coco?: string;
}

/** An annotation file or shape left out of an import (the UI words the code; `message` is English for the CLI). */
export interface RegionProblem {
  /** The annotation file. */
  file: string;
  code:
    | 'unreadable'
    | 'invalid-json'
    | 'bad-format'
    | 'unknown-image'
    | 'out-of-bounds'
    | 'unsupported-shape'
    | 'unknown-label'
    | 'size-mismatch';
  /** The image, shape label or technical detail concerned (any language); may be empty. */
  detail: string;
  message: string;
}

/** What a regions source holds for the images of an import (shown before the import starts). */
export interface RegionPreview {
  format: 'voc' | 'masks' | 'labelme' | 'coco';
  /** Annotation files read (COCO: image records). */
  files: number;
  /** Boxes and polygons (masks: mask files) found in them. */
  regions: number;
  /** Of these, the files and regions whose image is among the images to import. */
  matchedFiles: number;
  matchedRegions: number;
  /** Images to import (the selected files and folders). */
  images: number;
  problems: RegionProblem[];
}

/** The detail of a decoder failure that came without text (libvips says "Unknown error"); the UI words it. */
export const DECODER_NO_DETAIL = 'the decoder gave no detail';

export interface ImportSkip {
  path: string;
  reason:
    | 'empty'
    | 'unsupported'
    | 'corrupt'
    | 'truncated'
    | 'not-an-image'
    | 'unreadable'
    /** Over the decoder's pixel limit (not damaged). */
    | 'too-large'
    /** A link to a folder (or file) the import already covers: not followed (detail: its target). */
    | 'link-loop'
    /** A link to nothing (detail: its target). */
    | 'broken-link'
    /** The folder walk stopped at its bound here (detail: "500000 files" or "depth 32"). */
    | 'limit';
  /** English sentence (CLI, logs). */
  message: string;
  /** The technical part alone, in no particular language (decoder message, error code, extension); may be empty. */
  detail: string;
  /** 'unsupported' by content: the format the bytes are in ("GIF", "WebP", …), whatever the file's name says. */
  format?: string;
}

export interface ImportDuplicate {
  path: string;
  sha256: string;
  /** The catalog image with the same bytes. */
  imageId: number;
  /** 'import': same content appeared earlier in this import; 'catalog': already in the catalog before. */
  of: 'import' | 'catalog';
  /** Original path of the image it duplicates. */
  existingPath: string;
}

export interface ImportReport {
  batchId: number;
  /** True when an earlier interrupted/cancelled run of the same import was continued. */
  resumed: boolean;
  state: ImportBatchState;
  filesSeen: number;
  imported: number;
  /** Files skipped because this very file (same path and bytes) is already in: a re-run or a resumed import. */
  alreadyImported: number;
  /** Images created (a multi-page TIFF may yield several). */
  imageIds: number[];
  duplicates: ImportDuplicate[];
  skipped: ImportSkip[];
  labelled: Record<string, number>;
  createdDefectTypes: string[];
  regionsImported: number;
  /** Annotation files (labelme / COCO) or shapes that were left out, one entry each; the import went on. */
  regionProblems: RegionProblem[];
  warnings: string[];
  elapsedMs: number;
  imagesPerSecond: number;
}

export type ImportBatchState = 'running' | 'cancelled' | 'interrupted' | 'failed' | 'done';

export interface ImportBatch {
  id: number;
  createdAt: string;
  finishedAt: string | null;
  state: ImportBatchState;
  paths: string[];
  imported: number;
  duplicates: number;
  skipped: number;
  imageCount: number;
}

// ---- Splits and stats ---------------------------------------------------------------------------

export interface SplitSettings {
  /** Fractions summing to 1. Default 0.76 / 0.24 / 0 (the study's train/val, no held-out test). */
  train: number;
  val: number;
  test: number;
  seed: number;
  /** Regex on the file name with one capture group (e.g. a core serial); images sharing it stay in one split. */
  groupPattern: string | null;
  /** When locked, re-splitting neither moves images out of test nor adds any to it (new images go to train/val). */
  testLocked: boolean;
}

export interface SplitSummary {
  moved: number;
  counts: Record<Split, number>;
  /** Per label key (or '(unlabelled)'): counts per split. */
  perLabel: Record<string, Record<Split, number>>;
}

export interface LibraryStats {
  total: number;
  unlabelled: number;
  perLabel: {
    key: string;
    nameEn: string;
    nameJa: string;
    total: number;
    train: number;
    val: number;
    test: number;
    /** Mean width / height of the label's photos (null without images): the wizard warns when classes differ. */
    aspect?: number | null;
    /** Training-split images of the label with at least one region (what guided training can use). */
    trainWithRegions?: number;
  }[];
  perSplit: Record<Split, number>;
  perReviewState: Record<ReviewState, number>;
  perCoreType: Record<CoreType, number>;
  regions: number;
  batches: number;
  /** Duplicate files found over all imports (same bytes as an image already in). */
  duplicatesFound: number;
}

export interface LabelExportRequest {
  format: 'csv' | 'folders';
  /** CSV file or a folder (folders: `<out>/<label key>/<name>`, copied). */
  out: string;
  /** Only these images (default: every labelled image). */
  filter?: ImageFilter;
  /** Replace an existing CSV, or write into a folder that is not empty (default: refuse with FileExistsError). */
  overwrite?: boolean;
}

export interface LabelExportResult {
  out: string;
  written: number;
  skippedUnlabelled: number;
}
