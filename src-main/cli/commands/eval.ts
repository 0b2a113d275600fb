import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import type { Evaluation } from '../../shared/training-types.ts';
import { trainingService } from '../../services/ml/training-service.ts';
import type { CliCommand } from '../command.ts';

function printEvaluation(e: Evaluation, out: (l: string) => void): void {
  out(
    `${e.split}: ${e.count} images, accuracy ${(e.accuracy * 100).toFixed(2)} %, loss ${e.loss.toFixed(4)}, macro F1 ${e.macroF1.toFixed(4)}`,
  );
  for (const c of e.perClass)
    out(`  ${c.key.padEnd(18)} precision ${c.precision.toFixed(3)} recall ${c.recall.toFixed(3)} F1 ${c.f1.toFixed(3)} (n=${c.support})`);
  out(`  confusion (rows actual, columns predicted: ${e.classes.join(', ')})`);
  for (const [i, row] of e.confusion.entries()) out(`  ${e.classes[i]!.padEnd(18)} ${row.map((v) => String(v).padStart(5)).join('')}`);
  if (e.binary) {
    const b = e.binary;
    out(
      `  ROC AUC ${b.auc.toFixed(4)}; threshold ${b.threshold.toFixed(3)}: defect recall ${(b.defectRecall * 100).toFixed(1)} %, false alarms ${(b.falseAlarmRate * 100).toFixed(1)} %`,
    );
  }
}

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: "Evaluate a run's model on its validation or test images (accuracy, P/R/F1, confusion, ROC)",
  usage: 'kensa eval <project> <run> [--split val|test] [--json]',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { split: { type: 'string', default: 'val' }, json: { type: 'boolean', default: false } },
    });
    const [dir, run] = positionals;
    if (!dir || !run) throw new ValidationError(`Usage: ${this.usage}`);
    if (values.split !== 'val' && values.split !== 'test') throw new ValidationError('--split is val or test.');
    const s = io.services();
    await s.projects.open(dir);
    const detail = await trainingService(s).evaluateRun(Number(run), values.split);
    const ev = detail.evaluations.find((e) => e.split === values.split)!;
    if (values.json) io.out(JSON.stringify({ ok: true, runId: detail.id, evaluation: ev }));
    else printEvaluation(ev, io.out);
    return 0;
  },
};
