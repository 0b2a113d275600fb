/**
 * Inspect operations: run a trained model (the project's active one by default) over catalog images or
 * folders of new photos as a cancellable task, read the results, export them as CSV and add photos to
 * the catalog with a label.
 */
import type { ImportSkip } from '../library-types.ts';
import type { ClassInfo, TrainingTaskKind } from '../training-types.ts';
import type { TaskSnapshot } from '../types.ts';

export interface InspectRequest {
  /** Catalog images by id. */
  imageIds?: number[];
  /** Image files and folders (folders are walked recursively for JPEG, PNG, BMP and TIFF files). */
  paths?: string[];
  /** Run whose model classifies (default: the project's active model). */
  runId?: number;
  /** Decision threshold on P(defect) (default: the model's own; binary models, or multiclass with an OK class). */
  threshold?: number;
  /**
   * Anomaly models only: the classifier that names the defect type of NG images (a run with at least two defect
   * classes). Default: the active model when it is such a classifier, else the newest one; null: none.
   */
  typeRunId?: number | null;
  /**
   * Test-time augmentation: each image's prediction is the mean over the x3 views (original, rotated 180°, rotated
   * and mirrored), about three times slower. Left out: the model's own setting (on for models trained with it, as the
   * Best preset does). Classifiers only: an anomaly model is refused with it on.
   */
  tta?: boolean;
}

/**
 * The defect type the classifier gives an NG image of an anomaly model: its most likely defect class, and whether it
 * is sure enough (that class's probability at least `Inspection.typeRun.minProbability`); unsure = "unknown type".
 */
export interface InspectDefectType {
  /** The classifier's most likely defect class (also when unsure). */
  key: string;
  probability: number;
  /** False: "unknown type" (the classifier is unsure, or thinks the image is OK: a defect it never saw). */
  known: boolean;
}

export type InspectVerdict = 'ok' | 'ng';

export interface InspectItem {
  /** Position in the inspection (stable id within it). */
  index: number;
  /** Catalog image id (catalog images, or photos added to the catalog since). */
  imageId: number | null;
  /** File path for photos given by path; null for catalog images. */
  path: string | null;
  /** File name shown in the table. */
  name: string;
  /** Thumbnail: `mediaUrl(media.kind, media.id)` ('thumb' for catalog images, 'file' for photos by path). */
  media: { kind: 'thumb' | 'file'; id: string };
  /** Catalog label key when the image is in the catalog and labelled. */
  labelKey: string | null;
  predicted: number;
  predictedKey: string;
  /** Probability of the predicted class. */
  confidence: number;
  probabilities: number[];
  /** P(defect) = 1 - P(OK) when the model has an OK class; else null. */
  defectScore: number | null;
  verdict: InspectVerdict;
  /** Anomaly model with a type classifier: the classifier's probabilities (its classes: `Inspection.typeRun`). */
  typeProbabilities?: number[];
  /** Anomaly model with a type classifier, NG images only: the defect type; null otherwise. */
  defectType?: InspectDefectType | null;
}

export interface InspectSkip {
  path: string;
  /**
   * Why, as a code the UI words: an import skip reason, 'missing' (no such file or folder) or 'failed' (the engine
   * could not predict it for another reason).
   */
  code: ImportSkip['reason'] | 'missing' | 'failed';
  /** English sentence or technical detail (CLI, logs; shown under the UI's own wording). */
  reason: string;
}

export interface Inspection {
  id: string;
  runId: number;
  runName: string;
  task: TrainingTaskKind;
  classes: ClassInfo[];
  /** Threshold the verdicts use (null: multiclass model without OK class, verdict = predicted class is OK). */
  threshold: number | null;
  /** The model's own threshold (for "reset"). */
  modelThreshold: number | null;
  /**
   * Whether the predictions used test-time augmentation (false for anomaly models). Every inspection the service
   * makes records it; the CSV has its `tta` column when it is recorded.
   */
  tta?: boolean;
  items: InspectItem[];
  /**
   * Files not inspected. Unreadable ones (every code but 'not-an-image': missing, damaged, unsupported…) are rows of
   * the results and of the CSV after the images; files that are not images at all are only listed.
   */
  skipped: InspectSkip[];
  createdAt: string;
  elapsedMs: number;
  imagesPerSecond: number;
  /** True when the task was cancelled: items hold what was done. */
  partial: boolean;
  /** Anomaly model only: the classifier naming NG images' defect type (null: none), and its "sure" level. */
  typeRun?: { id: number; name: string; classes: ClassInfo[]; minProbability: number } | null;
}

export interface InspectionSummary {
  id: string;
  runId: number;
  runName: string;
  count: number;
  ng: number;
  createdAt: string;
}

export interface AddToLibraryResult {
  imported: number;
  duplicates: number;
  labelled: number;
  imageIds: number[];
  skipped: InspectSkip[];
}

export interface InspectApi {
  /**
   * Starts an inspection task (kind 'inspect', cancellable; progress in images with images/s). Its `result`
   * is `{ inspectionId }`; a cancelled task keeps the images done so far (`partial`).
   */
  startInspection(request: InspectRequest): Promise<TaskSnapshot>;
  getInspection(id: string): Promise<Inspection>;
  /** Inspections of the open project since the app started (newest first). */
  listInspections(): Promise<InspectionSummary[]>;
  /** Re-applies a decision threshold to the verdicts (no new inference). */
  setInspectionThreshold(id: string, threshold: number | null): Promise<Inspection>;
  /** The results as CSV text (UTF-8, header row; for a browser download). */
  inspectionCsv(id: string): Promise<string>;
  /**
   * Writes the CSV (UTF-8 with BOM so Excel reads Japanese names) to `file`; FileExistsError when it exists, unless
   * `overwrite`. `rows`: data rows written (inspected images and unreadable files).
   */
  exportInspectionCsv(id: string, file: string, opts?: { overwrite?: boolean }): Promise<{ file: string; rows: number }>;
  /**
   * Adds photos of an inspection to the catalog with a label (null = unlabelled) through the catalog's import
   * (duplicates are labelled where they already are); catalog images among `indices` are relabelled (undoable).
   */
  addInspectedToLibrary(id: string, indices: number[], defectTypeId: number | null): Promise<AddToLibraryResult>;
}

export const inspectOperations = [
  'startInspection',
  'getInspection',
  'listInspections',
  'setInspectionThreshold',
  'inspectionCsv',
  'exportInspectionCsv',
  'addInspectedToLibrary',
] as const satisfies readonly (keyof InspectApi)[];

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InspectEvents {}
