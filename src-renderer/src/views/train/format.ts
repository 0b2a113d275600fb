import { i18n, t } from '../../i18n/i18n.svelte.ts';
import { formatDurationIn } from '../../lib/duration.ts';
import type { AugmentationMode } from '../../../../src-main/shared/training-types.ts';

/** "1 h 05 min", "3 min 20 s", "12 s" (ja: 「1 時間 05 分」「3 分 20 秒」「12 秒」) from seconds, in the UI language. */
export function formatDuration(seconds: number | null | undefined): string {
  return formatDurationIn(i18n.lang, seconds);
}

export function formatMs(ms: number | null | undefined): string {
  return ms == null ? '–' : formatDuration(ms / 1000);
}

export function pct(v: number | null | undefined, digits = 1): string {
  return v == null || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)} %`;
}

export function num(v: number | null | undefined, digits = 3): string {
  return v == null || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

export function augLabel(mode: AugmentationMode): string {
  return mode === 'none' ? t('train.summary.augNone') : mode === 'fixed' ? t('train.summary.augFixed') : t('train.summary.augRandom');
}
