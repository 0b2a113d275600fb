/**
 * Inspect operations: run a trained model (the project's active one by default) over catalog images or
 * folders of new photos as a cancellable task, read the results, export them as CSV and add photos to
 * the catalog with a label.
 */
import type { ImportSkip } from '../catalog-types.ts';
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
}

export interface InspectSkip {
  path: string;
  /** Why, as a code the UI words: an import skip reason, or 'failed' (the engine could not read or predict it). */
  code: ImportSkip['reason'] | 'failed';
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
  items: InspectItem[];
  skipped: InspectSkip[];
  createdAt: string;
  elapsedMs: number;
  imagesPerSecond: number;
  /** True when the task was cancelled: items hold what was done. */
  partial: boolean;
}

export interface InspectionSummary {
  id: string;
  runId: number;
  runName: string;
  count: number;
  ng: number;
  createdAt: string;
}

export interface AddToCatalogResult {
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
  /** Writes the CSV (UTF-8 with BOM so Excel reads Japanese names) to `file`. */
  exportInspectionCsv(id: string, file: string): Promise<{ file: string; rows: number }>;
  /**
   * Adds photos of an inspection to the catalog with a label (null = unlabelled) through the catalog's import
   * (duplicates are labelled where they already are); catalog images among `indices` are relabelled (undoable).
   */
  addInspectedToCatalog(id: string, indices: number[], defectTypeId: number | null): Promise<AddToCatalogResult>;
}

export const inspectOperations = [
  'startInspection',
  'getInspection',
  'listInspections',
  'setInspectionThreshold',
  'inspectionCsv',
  'exportInspectionCsv',
  'addInspectedToCatalog',
] as const satisfies readonly (keyof InspectApi)[];

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InspectEvents {}
