import { describe, expect, it } from 'vitest';
import {
  dateTimeIn,
  formatDurationIn,
  formatMsIn,
  num,
  numberIn,
  pct,
  pctAxis,
  pctFigure,
  pctTight,
  pctGroupedIn,
  pctTrim,
  stampIn,
} from '../../src-renderer/src/lib/format.ts';

describe('renderer formatters (lib/format.ts)', () => {
  it('formats durations in English and Japanese with the same breakpoints', () => {
    expect(formatDurationIn('en', 4.24)).toBe('4.2 s');
    expect(formatDurationIn('ja', 4.24)).toBe('4.2 秒');
    expect(formatDurationIn('en', 12.4)).toBe('12 s');
    expect(formatDurationIn('en', 62)).toBe('1 min 02 s');
    expect(formatDurationIn('ja', 62)).toBe('1 分 02 秒');
    expect(formatDurationIn('en', 3900)).toBe('1 h 05 min');
    expect(formatDurationIn('ja', 3900)).toBe('1 時間 05 分');
    // 59.6 s rounds to a whole minute, not "60 s".
    expect(formatDurationIn('en', 59.6)).toBe('1 min 00 s');
    expect(formatDurationIn('en', -3)).toBe('0.0 s');
    expect(formatDurationIn('en', null)).toBe('–');
    expect(formatDurationIn('ja', Number.NaN)).toBe('–');
  });

  it('formats stored milliseconds as the same durations', () => {
    expect(formatMsIn('en', 125_000)).toBe('2 min 05 s');
    expect(formatMsIn('ja', 125_000)).toBe('2 分 05 秒');
    expect(formatMsIn('en', undefined)).toBe('–');
  });

  it('formats percentages and figures as the tables show them', () => {
    expect(pct(0.92345)).toBe('92.3 %');
    expect(pct(0.92346, 2)).toBe('92.35 %');
    expect(pct(1)).toBe('100.0 %');
    expect(pct(null)).toBe('–');
    expect(pct(Number.POSITIVE_INFINITY)).toBe('–');
    expect(num(0.123456)).toBe('0.123');
    expect(num(2, 1)).toBe('2.0');
    expect(num(undefined)).toBe('–');
    expect(num(Number.NaN)).toBe('–');
  });

  it('drops trailing zeros from chosen percentages, and keeps chart percentages short', () => {
    expect(pctTrim(0.99, 3)).toBe('99 %');
    expect(pctTrim(0.001, 2)).toBe('0.1 %');
    expect(pctTrim(0.0125, 3)).toBe('1.25 %');
    // Floating-point noise is rounded away: 0.07 * 100 is 7.000000000000001.
    expect(pctTrim(0.07, 3)).toBe('7 %');
    expect(pctAxis(0.935)).toBe('93.5%');
    expect(pctAxis(0)).toBe('0.0%');
    // Inspect's table cells and message figures: what its toFixed copies printed.
    expect(pctTight(0.935)).toBe('93.5%');
    expect(pctTight(0.935, 0)).toBe('94%');
    expect(pctTight(1)).toBe('100.0%');
    expect(pctFigure(0.935)).toBe('94');
    expect(pctFigure(0.05, 1)).toBe('5.0');
    for (const v of [0, 0.0004, 0.125, 0.5, 0.9999, 1]) {
      expect(pctTight(v)).toBe(`${(v * 100).toFixed(1)}%`);
      expect(pctFigure(v)).toBe((v * 100).toFixed(0));
    }
  });

  it('groups digits per language and keeps a fixed number of decimals', () => {
    expect(numberIn('en', 12345)).toBe('12,345');
    expect(numberIn('ja', 12345.678, 1)).toBe('12,345.7');
    expect(numberIn('en', 3, 2)).toBe('3.00');
    expect(pctGroupedIn('ja', 0.5)).toBe('50.0%');
    expect(pctGroupedIn('en', 12.3456)).toBe('1,234.6%');
    expect(pctGroupedIn('en', Number.NaN)).toBe('—');
  });

  it('writes dates and short stamps in each language', () => {
    // Local time: build the instant from local fields so the test holds in any time zone.
    const at = new Date(2026, 11, 2, 9, 5, 0);
    expect(stampIn('ja', at.getTime())).toBe('12/02 09:05');
    expect(stampIn('en', at.toISOString())).toBe('12/02, 09:05 AM');
    expect(dateTimeIn('ja', at.toISOString())).toBe('2026/12/2 9:05:00');
    expect(dateTimeIn('en', at.toISOString())).toBe('12/2/2026, 9:05:00 AM');
  });
});
