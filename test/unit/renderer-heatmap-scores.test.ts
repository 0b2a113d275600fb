import { describe, expect, it } from 'vitest';
import type { ScoreRow } from '../../src-main/shared/heatmap-types.ts';
import type { ClassInfo } from '../../src-main/shared/training-types.ts';
import { en, ja, type MessageKey } from '../../src-renderer/src/i18n/catalogs.ts';
import { formatMessage } from '../../src-renderer/src/i18n/format.ts';
import { scoreMethodLabel, scoreTypeLabel } from '../../src-renderer/src/views/runs/heatmap-scores.ts';

/** The UI's t() over the real catalogs, in one language. */
const tIn =
  (lang: 'en' | 'ja') =>
  (key: MessageKey, params?: Record<string, string | number>): string =>
    formatMessage((lang === 'ja' ? ja : en)[key], params);

const row = (over: Partial<ScoreRow>): ScoreRow => ({
  method: 'gradcam',
  paramsKey: 'd',
  classKey: '*',
  count: 10,
  pointingAccuracy: 0.8,
  meanEnergy: 0.4,
  meanArea: 0.1,
  ...over,
});
const info: ClassInfo[] = [{ key: 'scratch', nameEn: 'Scratch', nameJa: 'キズ', color: '#a00', isOk: false }];

describe('heatmap score rows in the report (views/runs/heatmap-scores.ts)', () => {
  it('names the aggregate row and each defect type in the UI language', () => {
    expect(scoreTypeLabel(tIn('en'), row({}), info, 'en')).toBe('All defect types');
    expect(scoreTypeLabel(tIn('en'), row({ classKey: 'scratch' }), info, 'en')).toBe('Scratch');
    expect(scoreTypeLabel(tIn('ja'), row({}), info, 'ja')).toBe('全欠陥種別');
    expect(scoreTypeLabel(tIn('ja'), row({ classKey: 'scratch' }), info, 'ja')).toBe('キズ');
  });

  it('adds the parameters to the method only when they are not the defaults', () => {
    const t = tIn('en');
    expect(scoreMethodLabel(t, row({}))).toBe('Grad-CAM');
    expect(scoreMethodLabel(t, row({ paramsKey: 'l-conv_pw_11_relu' }))).toBe('Grad-CAM (l-conv_pw_11_relu)');
    expect(scoreMethodLabel(t, row({ method: 'smoothgrad', paramsKey: 'n50-s0.1' }))).toBe('SmoothGrad (n50-s0.1)');
    expect(scoreMethodLabel(tIn('ja'), row({ method: 'cam' }))).toBe('CAM');
  });
});
