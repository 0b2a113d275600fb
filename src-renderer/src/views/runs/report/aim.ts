/**
 * The report's operating-point choices, pure so they are unit-tested under Node
 * (test/unit/renderer-report-aim.test.ts): the aim from the controls, the controls from a stored aim, the threshold
 * validation suggests for an aim, and recall at fixed false-alarm rates.
 */
import {
  chooseThreshold,
  recallAtFalseAlarm,
  scoresOf,
  type OperatingAim,
  type OperatingPointChoice,
  type RecallAtFalseAlarm,
} from '../../../../../src-main/shared/operating-point.ts';
import type { Evaluation, RunDetail } from '../../../../../src-main/shared/training-types.ts';

/** The aims the report offers (manual is what a moved slider saves). */
export type AimKind = 'recall' | 'balanced' | 'falseAlarm';

/** False-alarm rates the report states recall at: 1 % and 0.1 % of OK images flagged. */
export const REPORT_RATES = [0.01, 0.001];

/** The aim the controls describe; targets are in percent, as typed. */
export function aimOf(kind: AimKind, recallTargetPct: number, farTargetPct: number): OperatingAim {
  return kind === 'recall'
    ? { kind: 'recall', target: recallTargetPct / 100 }
    : kind === 'falseAlarm'
      ? { kind: 'falseAlarm', target: farTargetPct / 100 }
      : { kind: 'balanced' };
}

/**
 * The controls for a stored aim: its kind and, for a target aim, the target in percent (rounded to 3 decimals, so
 * 0.99 shows as 99, not 98.99999999999999). Null for no aim or a manual threshold: the controls keep what they show.
 */
export function controlsOf(aim: OperatingAim | undefined): { kind: AimKind; targetPct?: number } | null {
  if (!aim || aim.kind === 'manual') return null;
  if (aim.kind === 'balanced') return { kind: 'balanced' };
  return { kind: aim.kind, targetPct: Number((aim.target * 100).toFixed(3)) };
}

/** The split shown first: the one shown before when the run still has it, else validation, else the first. */
export function shownSplit(run: RunDetail, current: Evaluation['split']): Evaluation['split'] {
  const shown = run.evaluations.filter((e) => e.split !== 'test');
  const preferred = shown.find((e) => e.split === 'val') ?? shown[0];
  return preferred && !shown.some((e) => e.split === current) ? preferred.split : current;
}

/** The threshold validation gives for an aim (null: no validation scores, or the aim cannot be met there). */
export function suggestFor(val: Evaluation | undefined, aim: OperatingAim): OperatingPointChoice | null {
  const sc = val ? scoresOf(val) : null;
  if (!sc) return null;
  try {
    return chooseThreshold(sc.scores, sc.positive, aim);
  } catch {
    return null;
  }
}

/** Recall at each of REPORT_RATES on the shown split (rates its scores cannot give are left out). */
export function recallAtRates(e: Evaluation | null): RecallAtFalseAlarm[] {
  const sc = e ? scoresOf(e) : null;
  return sc ? REPORT_RATES.map((r) => recallAtFalseAlarm(sc.scores, sc.positive, r)).filter((r) => r !== null) : [];
}
