import type { ScoreRow } from '../../../../src-main/shared/heatmap-types.ts';
import type { ClassInfo } from '../../../../src-main/shared/training-types.ts';
import { t } from '../../i18n/i18n.svelte.ts';
import { className } from './evaluation.ts';

/** Label of a score row's defect type ('*' is the aggregate over every type). */
export function scoreTypeLabel(row: ScoreRow, info: ClassInfo[], lang: 'en' | 'ja'): string {
  return row.classKey === '*' ? t('runs.hm.allTypes') : className(info, row.classKey, lang);
}

/** Method label, with its parameters when they are not the defaults. */
export function scoreMethodLabel(row: ScoreRow): string {
  const m = t(`heatmaps.method.${row.method}`);
  return row.paramsKey === 'd' ? m : `${m} (${row.paramsKey})`;
}
