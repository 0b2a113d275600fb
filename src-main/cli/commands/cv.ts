import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import { checkCrossValidationSpec, type FoldResult } from '../../shared/cross-validation.ts';
import { wilsonInterval, formatWithInterval } from '../../shared/operating-point.ts';
import type { BackboneId, TrainConfigInput, TrainingTaskKind } from '../../shared/training-types.ts';
import type { CliCommand } from '../command.ts';

// Where callers have found them; the maths is shared with the cross-validation service and the runs screen.
export { alwaysWrong, foldFigures, type FoldResult } from '../../shared/cross-validation.ts';

export const cvCommand: CliCommand = {
  name: 'cv',
  summary: 'k-fold cross-validation for small sets (stratified, import batches kept whole): mean ± sd and the images that always fail',
  usage:
    'kensa cv <project> [--folds 5] [--repeats 1] [--group batch|none] [--task binary|multiclass] [--backbone ID] [--size 224]\n' +
    '  [--epochs N] [--lr X] [--batch N] [--seed S] [--json]\n' +
    "  Trains one run per fold (the catalog's test images stay locked aside) and reports each fold's validation accuracy\n" +
    '  (most probable class) and ROC AUC, their mean ± sd, and the images wrong whenever they were held out.',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        folds: { type: 'string', default: '5' },
        repeats: { type: 'string', default: '1' },
        group: { type: 'string', default: 'batch' },
        task: { type: 'string' },
        backbone: { type: 'string' },
        size: { type: 'string' },
        epochs: { type: 'string' },
        lr: { type: 'string' },
        batch: { type: 'string' },
        seed: { type: 'string', default: '1' },
        json: { type: 'boolean', default: false },
      },
    });
    const [dir] = positionals;
    if (!dir) throw new ValidationError(`Usage: ${this.usage}`);
    if (values.group !== 'batch' && values.group !== 'none') throw new ValidationError('--group is batch or none.');
    const spec = checkCrossValidationSpec({
      folds: Number(values.folds),
      repeats: Number(values.repeats),
      seed: Number(values.seed),
      groupBy: values.group,
    });
    const { folds, repeats } = spec;
    const base: TrainConfigInput = {};
    if (values.task) base.task = values.task as TrainingTaskKind;
    if (values.backbone) base.backbone = values.backbone as BackboneId;
    for (const [flag, key] of [
      ['size', 'inputSize'],
      ['epochs', 'epochs'],
      ['lr', 'learningRate'],
      ['batch', 'batchSize'],
    ] as const) {
      const v = values[flag];
      if (v === undefined) continue;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new ValidationError(`--${flag} must be a number (got ${v}).`);
      base[key] = n;
    }
    const s = io.services();
    await s.projects.open(dir);
    const results: FoldResult[] = [];
    const started = s.crossValidation.start(base, spec, {
      onFold: ({ heldOut: _h, ...r }) => {
        results.push(r);
        if (values.json) return;
        const k = Math.round(r.accuracy * r.images);
        io.out(
          `repeat ${r.repeat} fold ${r.fold}/${folds} (run #${r.runId}): ${r.images} images, accuracy ${formatWithInterval(r.accuracy, wilsonInterval(k, r.images))}` +
            `${r.auc !== null ? `, ROC AUC ${r.auc.toFixed(4)}` : ''}`,
        );
      },
    });
    const done = await s.tasks.wait(started.taskId);
    if (done.state !== 'succeeded') throw new ValidationError(done.error?.message ?? `Cross-validation did not finish (${done.state}).`);
    const sum = s.crossValidation.get(started.id).summary;
    const acc = sum.accuracy;
    const auc = sum.auc;
    const hard = sum.alwaysWrong;
    if (values.json) io.out(JSON.stringify({ ok: true, folds, repeats, accuracy: acc, auc, alwaysWrong: hard, results }));
    else {
      io.out(
        `accuracy ${(acc.mean * 100).toFixed(1)} % ± ${(acc.sd * 100).toFixed(1)} (sd over ${results.length} folds)` +
          (auc ? `, ROC AUC ${auc.mean.toFixed(4)} ± ${auc.sd.toFixed(4)}` : ''),
      );
      io.out(
        `${hard.length} image${hard.length === 1 ? '' : 's'} wrong ${repeats > 1 ? `in all ${repeats} repeats` : 'when held out'}: ${hard.map((id) => `#${id}`).join(' ') || 'none'}`,
      );
    }
    return 0;
  },
};
