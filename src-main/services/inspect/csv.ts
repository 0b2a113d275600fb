/** The CSV of an inspection, and the words the CSV and the CLI share for what is neither OK nor NG. */
import { basename } from 'node:path';
import type { InspectItem, InspectSkip, Inspection } from '../../shared/api/inspect.ts';
import { toCsv, type CsvValue } from '../csv.ts';

/** Type column of an NG image of unknown type in the CSV and the CLI. */
export const UNKNOWN_TYPE = 'UNKNOWN';

/** Verdict column of an unreadable file's row (never OK, never NG: nobody looked at it). */
export const UNREADABLE_VERDICT = 'UNREADABLE';

/** Skipped files that are rows of the results and the CSV: every unreadable one (not the files that are no images). */
export function unreadableOf(ins: Pick<Inspection, 'skipped'>): InspectSkip[] {
  return ins.skipped.filter((k) => k.code !== 'not-an-image');
}

/** The `tta` cell: whether the model's predictions were the mean over the x3 views. */
function ttaCell(tta: boolean): string {
  return tta ? 'on' : 'off';
}

/**
 * The CSV of an inspection (../csv.ts: RFC 4180, CRLF, cells neutralised): one row per image, then one per unreadable
 * file (verdict UNREADABLE, reason code and sentence), probabilities per class at the end. The `tta` column (on/off,
 * the same on every row, like `threshold`) is there whenever the inspection records it, which every inspection the
 * service makes does.
 */
export function inspectionToCsv(ins: Inspection): string {
  const withTta = ins.tta !== undefined;
  const head = [
    'index',
    'name',
    'path',
    'image_id',
    'label',
    'predicted',
    'confidence',
    'p_defect',
    'verdict',
    'threshold',
    'reason_code',
    'reason',
    ...(withTta ? ['tta'] : []),
    ...(ins.typeRun ? ['defect_type', 'type_probability'] : []),
    ...ins.classes.map((c) => `prob_${c.key}`),
  ];
  const ttaCells: CsvValue[] = ins.tta !== undefined ? [ttaCell(ins.tta)] : [];
  const typeCells = (it: InspectItem): CsvValue[] =>
    !ins.typeRun
      ? []
      : it.defectType
        ? [it.defectType.known ? it.defectType.key : UNKNOWN_TYPE, it.defectType.probability.toFixed(6)]
        : [null, null];
  const rows: CsvValue[][] = ins.items.map((it) => [
    it.index,
    it.name,
    it.path,
    it.imageId,
    it.labelKey,
    it.predictedKey,
    it.confidence.toFixed(6),
    it.defectScore === null ? null : it.defectScore.toFixed(6),
    it.verdict.toUpperCase(),
    ins.threshold,
    null,
    null,
    ...ttaCells,
    ...typeCells(it),
    ...it.probabilities.map((p) => p.toFixed(6)),
  ]);
  for (const k of unreadableOf(ins)) {
    const catalogId = /^#(\d+)$/.exec(k.path)?.[1];
    rows.push([
      null,
      catalogId ? k.path : basename(k.path),
      catalogId ? null : k.path,
      catalogId ? Number(catalogId) : null,
      null,
      null,
      null,
      null,
      UNREADABLE_VERDICT,
      ins.threshold,
      k.code,
      k.reason,
      ...ttaCells,
      ...(ins.typeRun ? [null, null] : []),
      ...ins.classes.map(() => null),
    ]);
  }
  return toCsv([head, ...rows]);
}
