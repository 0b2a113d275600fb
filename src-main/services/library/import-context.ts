/**
 * What the steps of one running import share (runImport builds one per call): the request, the batch and its
 * report, the label and split state, the annotation indexes, and the files being imported right now.
 */
import type { ImageFormat, ImportReport, ImportRequest, ImportSkip } from '../../shared/library-types.ts';
import type { BulkWriter, Db } from '../db/open.ts';
import type { Project } from '../projects/project.ts';
import type { ProbedImage } from './imaging.ts';
import type { ImportEntry } from './import-collect.ts';
import type { LabelResolver } from './labels.ts';
import type { AnnotationIndex } from './region-formats/index.ts';
import type { SplitAssigner } from './splits.ts';

export interface ImportContext {
  project: Project;
  db: Db;
  req: ImportRequest;
  batchId: number;
  report: ImportReport;
  labels: LabelResolver;
  /** Defect type key by id, read once the request's label names are resolved. */
  typeKeys: Map<number, string>;
  /** VOC XML and mask PNG files by stem, when the request names their folders. */
  voc: Map<string, string> | null;
  masks: Map<string, string> | null;
  /** LabelMe / COCO shapes, when the request names them. */
  annotations: AnnotationIndex | null;
  groupRe: RegExp | null;
  splits: SplitAssigner;
  /** One commit per image, synced once a second (db/open.ts bulkWriter). */
  bulk: BulkWriter;
  /** sha256 -> path of content being imported right now (two workers meeting the same bytes). */
  claimed: Map<string, string>;
  /** Ids imported since the last `imported` callback. */
  pendingIds: number[];
}

/** A file decoded and ready to store: its bytes, what probing found, the page it is of a multi-page TIFF. */
export interface Prepared {
  entry: ImportEntry;
  sha256: string;
  bytes: Buffer;
  probed: ProbedImage;
  page: number | null;
  thumb: Buffer;
  storeExt: string;
  format: ImageFormat;
}

/** Adds a skipped file to the report. */
export function skip(ctx: ImportContext, path: string, reason: ImportSkip['reason'], message: string, detail = ''): void {
  ctx.report.skipped.push({ path, reason, message, detail });
}
