/**
 * The renderer's number, percent, duration and date formatters, in one place so that a figure reads the same on
 * every screen (live panel, wizard estimates, runs list, report, HTML report, heatmaps, Inspect).
 *
 * Pure: where the output depends on the language, the language is the first argument, so these are unit-tested
 * under Node. Screens use them bound to the UI language through `i18n` (`i18n.number`, `i18n.date`,
 * `i18n.duration`, `i18n.durationMs` in i18n/i18n.svelte.ts), which re-renders them when the language changes.
 */
export type FormatLang = 'en' | 'ja';

const UNITS: Record<FormatLang, { s: string; min: string; h: string }> = {
  en: { s: 's', min: 'min', h: 'h' },
  ja: { s: '秒', min: '分', h: '時間' },
};

/** en: "4.2 s", "12 s", "1 min 02 s", "1 h 05 min"; ja: 「4.2 秒」「12 秒」「1 分 02 秒」「1 時間 05 分」; "–" when unknown. */
export function formatDurationIn(lang: FormatLang, seconds: number | null | undefined): string {
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

/** A duration stored in milliseconds (runs, phases), as formatDurationIn. */
export function formatMsIn(lang: FormatLang, ms: number | null | undefined): string {
  return ms == null ? '–' : formatDurationIn(lang, ms / 1000);
}

/** A fraction as a percentage in tables and figures: 0.9234 → "92.3 %"; "–" when unknown. */
export function pct(v: number | null | undefined, digits = 1): string {
  return v == null || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)} %`;
}

/** A plain figure (loss, AUC, F1, threshold): 0.12345 → "0.123"; "–" when unknown. */
export function num(v: number | null | undefined, digits = 3): string {
  return v == null || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/**
 * A percentage the user typed or chose (recall target, allowed false-alarm rate), without trailing zeros:
 * 0.99 → "99 %", 0.001 → "0.1 %", 0.0125 → "1.25 %" (at most `digits` decimals).
 */
export function pctTrim(v: number, digits: number): string {
  return `${Number((v * 100).toFixed(digits))} %`;
}

/** A percentage in a dense table cell or list, no space: 0.935 → "93.5%", with 0 digits "94%" (Inspect rows). */
export function pctTight(v: number, digits = 1): string {
  return `${(v * 100).toFixed(digits)}%`;
}

/** Only the figure of a percentage, for messages that carry their own "%" (Inspect's type hints): 0.935 → "94". */
export function pctFigure(v: number, digits = 0): string {
  return (v * 100).toFixed(digits);
}

/** Chart axes and tooltips, where space is short: 0.935 → "93.5%". */
export function pctAxis(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

/** A number in the language's digits grouping with exactly `digits` decimals: 12345 → "12,345". */
export function numberIn(lang: FormatLang, n: number, digits = 0): string {
  return n.toLocaleString(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A grouped percentage with one decimal and no space (heatmap scores): 0.5 → "50.0%"; "—" when not finite. */
export function pctGroupedIn(lang: FormatLang, v: number): string {
  return Number.isFinite(v) ? `${numberIn(lang, v * 100, 1)}%` : '—';
}

/** Date and time in the language's full form (report facts, HTML report). */
export function dateTimeIn(lang: FormatLang, iso: string): string {
  return new Date(iso).toLocaleString(lang);
}

/** Month, day, hour and minute, for lists and generated run names: en "12/02, 09:05 AM", ja "12/02 09:05". */
export function stampIn(lang: string | undefined, at: string | number): string {
  return new Date(at).toLocaleString(lang, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}
