/**
 * The one duration formatter of the UI (live panel, wizard estimates, reports, runs list, Inspect, HTML report).
 * Pure: the language is passed in, so it is unit-tested without the renderer.
 *
 * en: "4.2 s", "12 s", "1 min 02 s", "1 h 05 min"; ja: 「4.2 秒」「12 秒」「1 分 02 秒」「1 時間 05 分」.
 */
export type DurationLang = 'en' | 'ja';

const UNITS: Record<DurationLang, { s: string; min: string; h: string }> = {
  en: { s: 's', min: 'min', h: 'h' },
  ja: { s: '秒', min: '分', h: '時間' },
};

export function formatDurationIn(lang: DurationLang, seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '–';
  const u = UNITS[lang];
  if (seconds < 10) {
    const v = Math.max(0, seconds);
    return `${v.toFixed(1)} ${u.s}`;
  }
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} ${u.s}`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} ${u.min} ${String(s % 60).padStart(2, '0')} ${u.s}`;
  return `${Math.floor(m / 60)} ${u.h} ${String(m % 60).padStart(2, '0')} ${u.min}`;
}
