/**
 * The regions an imported file brings: VOC boxes, LabelMe / COCO shapes and regions given with the entry (first
 * page only), and a mask PNG turned into a mask region. Problems become report warnings, never failures.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import sharp from 'sharp';
import type { Region } from '../../shared/library-types.ts';
import { listTypes } from '../db/repos/defect-types.ts';
import type { ImportContext, Prepared } from './import-context.ts';
import type { GivenRegion } from './import-collect.ts';
import { parseVoc, vocToRect } from './region-formats/voc.ts';
import { maskToRegion } from './rle.ts';

/** A region about to be stored with its image. */
export interface RegionToStore {
  typeId: number;
  r: GivenRegion;
  source: Region['source'];
}

/** Everything computed before the image's transaction (reads annotation files; writes nothing). */
export function regionsOf(ctx: ImportContext, p: Prepared): RegionToStore[] {
  const { report, labels } = ctx;
  const e = p.entry;
  const out: RegionToStore[] = [];
  if (p.page !== null && p.page !== 0) return out;
  const W = p.probed.width;
  const H = p.probed.height;
  const stem = basename(e.path, extname(e.path));
  const xmlPath = ctx.voc?.get(stem);
  if (xmlPath) {
    try {
      const parsed = parseVoc(readFileSync(xmlPath, 'utf8'));
      for (const b of parsed.boxes) {
        const typeId = labels.resolve(b.name);
        if (typeId === undefined || typeId === null) {
          report.warnings.push(`${xmlPath}: box class "${b.name}" matches no defect type; box skipped.`);
          continue;
        }
        const rect = vocToRect(b, W, H);
        if (rect) out.push({ typeId, r: { defectTypeKey: '', kind: 'rect', ...rect }, source: 'voc' });
      }
    } catch (err) {
      report.warnings.push(`${xmlPath}: ${(err as Error).message}`);
    }
  }
  for (const a of ctx.annotations?.rowsFor(e.path, W, H, (n) => labels.resolve(n)) ?? [])
    out.push({ typeId: a.typeId, r: { defectTypeKey: '', ...a.region }, source: a.source });
  for (const r of e.regions ?? []) {
    const t = [...ctx.typeKeys.entries()].find(([, k]) => k === r.defectTypeKey);
    if (t) out.push({ typeId: t[0], r, source: e.regionSource ?? 'user' });
    else report.warnings.push(`${e.path}: region type ${r.defectTypeKey} does not exist; region skipped.`);
  }
  return out;
}

/** The mask PNG of the same stem, as a mask region of the image's defect type given with the entry. */
export async function addMaskRegion(ctx: ImportContext, p: Prepared): Promise<void> {
  const { report } = ctx;
  const stem = basename(p.entry.path, extname(p.entry.path));
  const mp = ctx.masks?.get(stem);
  if (!mp || (p.page !== null && p.page !== 0)) return;
  const labelId = p.entry.labelName === null ? null : (ctx.labels.resolve(p.entry.labelName) ?? null);
  const key = labelId === null ? undefined : ctx.typeKeys.get(labelId);
  const isOk = labelId !== null && listTypes(ctx.db).find((t) => t.id === labelId)?.isOk;
  if (!key || isOk) {
    report.warnings.push(`${mp}: the image has no defect label, so its mask has no defect type; skipped.`);
    return;
  }
  try {
    const { data, info } = await sharp(mp).greyscale().raw().toBuffer({ resolveWithObject: true });
    if (info.width !== p.probed.width || info.height !== p.probed.height) {
      report.warnings.push(`${mp}: mask is ${info.width}x${info.height} but the image is ${p.probed.width}x${p.probed.height}; skipped.`);
      return;
    }
    const r = maskToRegion(data, info.width, info.height);
    if (r) {
      (p.entry.regions ??= []).push({ defectTypeKey: key, kind: 'mask', ...r });
      p.entry.regionSource = 'mask';
    }
  } catch (err) {
    report.warnings.push(`${mp}: ${(err as Error).message}`);
  }
}
