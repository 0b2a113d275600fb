import { t } from '../../i18n/i18n.svelte.ts';
import type { AugmentationMode } from '../../../../src-main/shared/training-types.ts';

/** "1 h 05 min", "3 min 20 s", "12 s" from seconds. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '–';
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)} s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
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
