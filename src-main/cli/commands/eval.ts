import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import {
  describeAim,
  formatWithInterval,
  honestFigures,
  parseAim,
  recallAtFalseAlarm,
  scoresOf,
  type OperatingPointChoice,
} from '../../shared/operating-point.ts';
import type { Evaluation } from '../../shared/training-types.ts';
import type { CliCommand } from '../command.ts';

/** Rates of false alarms whose defect recall is reported. */
export const REPORTED_FALSE_ALARM_RATES = [0.01, 0.001] as const;

export function printEvaluation(e: Evaluation, out: (l: string) => void, choice: OperatingPointChoice | null = null): void {
  const h = honestFigures(e);
  const split = e.split === 'test' ? 'test (locked, evaluated at the stored threshold)' : e.split === 'val' ? 'validation' : e.split;
  out(
    `${split}: ${e.count} images, accuracy ${formatWithInterval(h.accuracy.value, h.accuracy.ci)}` +
      `${e.threshold != null && e.argmaxAccuracy !== undefined ? ` at threshold ${e.threshold.toFixed(3)} (most probable class: ${(e.argmaxAccuracy * 100).toFixed(1)} %)` : ''}` +
      `, loss ${e.loss.toFixed(4)}, macro F1 ${e.macroF1.toFixed(4)}`,
  );
  if (e.threshold != null && choice)
    out(
      `  threshold ${choice.threshold.toFixed(3)} on P(defect): ${describeAim(choice.aim)}${choice.basis === 'default' ? ` (fallback: ${choice.reason})` : choice.basis === 'validation' ? ', chosen on validation' : ''}`,
    );
  if (h.defectRecall && h.falseAlarmRate)
    out(
      `  defect recall ${formatWithInterval(h.defectRecall.value, h.defectRecall.ci)} (${h.defectRecall.k} of ${h.defectRecall.n}), ` +
        `false alarms ${formatWithInterval(h.falseAlarmRate.value, h.falseAlarmRate.ci)} (${h.falseAlarmRate.k} of ${h.falseAlarmRate.n} OK)`,
    );
  for (const c of e.perClass)
    out(`  ${c.key.padEnd(18)} precision ${c.precision.toFixed(3)} recall ${c.recall.toFixed(3)} F1 ${c.f1.toFixed(3)} (n=${c.support})`);
  out(`  confusion (rows actual, columns predicted: ${e.classes.join(', ')})`);
  for (const [i, row] of e.confusion.entries()) out(`  ${e.classes[i]!.padEnd(18)} ${row.map((v) => String(v).padStart(5)).join('')}`);
  if (e.binary) out(`  ROC AUC ${e.binary.auc.toFixed(4)}`);
  const sc = scoresOf(e);
  if (sc)
    for (const rate of REPORTED_FALSE_ALARM_RATES) {
      const r = recallAtFalseAlarm(sc.scores, sc.positive, rate);
      if (!r) continue;
      out(
        `  at ${(rate * 100).toString()} % false alarms: ${(rate * 100).toString()} % of ${r.okImages} OK = ${r.allowedFalseAlarms} false alarm${r.allowedFalseAlarms === 1 ? '' : 's'} allowed; ` +
          `defect recall ${(r.recall * 100).toFixed(1)} % (${r.detected} of ${r.defectImages}) at threshold ${r.threshold.toFixed(3)}` +
          (r.resolved ? '' : ` — too few OK images to resolve this rate (needs ${Math.ceil(1 / rate)})`),
      );
    }
}

export const evalCommand: CliCommand = {
  name: 'eval',
  summary:
    "Evaluate a run's model on its validation or test images at its stored threshold (Wilson 95 % intervals, recall at 1 % / 0.1 % false alarms)",
  usage:
    'kensa eval <project> <run> [--split val|test] [--use-threshold miss-no-defect[:99]|balanced|fewest-false-alarms[:1]|T] [--json]\n' +
    '  --use-threshold stores a threshold in the run and its model first: chosen on validation for that aim, or T set by hand.\n' +
    '  --tta / --no-tta: test-time augmentation (mean of the x3 variants) on or off; default: as the model was trained.',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        split: { type: 'string', default: 'val' },
        'use-threshold': { type: 'string' },
        tta: { type: 'boolean' },
        'no-tta': { type: 'boolean' },
        json: { type: 'boolean', default: false },
      },
    });
    const [dir, run] = positionals;
    if (!dir || !run) throw new ValidationError(`Usage: ${this.usage}`);
    if (values.split !== 'val' && values.split !== 'test') throw new ValidationError('--split is val or test.');
    let wanted: ReturnType<typeof parseAim> | null = null;
    if (values['use-threshold'] !== undefined) {
      try {
        wanted = parseAim(values['use-threshold']);
      } catch (err) {
        throw new ValidationError((err as Error).message);
      }
    }
    const s = io.services();
    await s.projects.open(dir);
    const t = s.training;
    const runId = Number(run);
    if (wanted) {
      if (!t.get(runId).evaluations.some((e) => e.split === 'val' && e.samples) && wanted.aim.kind !== 'manual')
        await t.evaluateRun(runId, 'val');
      t.setOperatingPoint(runId, wanted.aim, wanted.threshold);
    }
    const tta = values.tta ? { tta: true } : values['no-tta'] ? { tta: false } : {};
    const detail = await t.evaluateRun(runId, values.split, tta);
    const ev = detail.evaluations.find((e) => e.split === values.split)!;
    if (values.json) {
      const { samples: _samples, ...rest } = ev;
      void _samples;
      io.out(
        JSON.stringify({
          ok: true,
          runId: detail.id,
          threshold: detail.threshold,
          operatingPoint: detail.operatingPoint,
          evaluation: rest,
        }),
      );
    } else printEvaluation(ev, io.out, detail.operatingPoint);
    return 0;
  },
};
