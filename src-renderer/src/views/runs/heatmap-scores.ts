import type { ScoreRow } from '../../../../src-main/shared/heatmap-types.ts';
import type { ClassInfo } from '../../../../src-main/shared/training-types.ts';
import type { MessageKey } from '../../i18n/catalogs.ts';
import { className } from './evaluation.ts';

/** The UI's `t` (i18n.svelte.ts), passed in so these stay pure and unit-tested under Node. */
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** Label of a score row's defect type ('*' is the aggregate over every type). */
export function scoreTypeLabel(t: Translate, row: ScoreRow, info: ClassInfo[], lang: 'en' | 'ja'): string {
  return row.classKey === '*' ? t('runs.hm.allTypes') : className(info, row.classKey, lang);
}

/** Method label, with its parameters when they are not the defaults. */
export function scoreMethodLabel(t: Translate, row: ScoreRow): string {
  const m = t(`heatmaps.method.${row.method}`);
  return row.paramsKey === 'd' ? m : `${m} (${row.paramsKey})`;
}
