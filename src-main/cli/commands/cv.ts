import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import { decideClass, wilsonInterval, formatWithInterval } from '../../shared/operating-point.ts';
import type { BackboneId, Evaluation, TrainConfigInput, TrainingTaskKind } from '../../shared/training-types.ts';
import * as runs from '../../services/db/repos/runs.ts';
import { meanSd } from '../../services/ml/train/folds.ts';
import { trainingService } from '../../services/ml/training-service.ts';
import type { CliCommand } from '../command.ts';

export interface FoldResult {
  repeat: number;
  fold: number;
  runId: number;
  images: number;
  /** Most probable class: a threshold chosen on the same fold would flatter it. */
  accuracy: number;
  auc: number | null;
  /** Image ids the fold's model got wrong (most probable class). */
  wrong: number[];
}

/** Per-fold figures of a validation evaluation (most probable class, so no threshold is tuned on the fold itself). */
export function foldFigures(e: Evaluation): { accuracy: number; auc: number | null; wrong: number[] } {
  const samples = e.samples ?? [];
  const wrong = samples.filter((s) => decideClass(s.probs, null, null) !== s.label).map((s) => s.id);
  return {
    accuracy: e.argmaxAccuracy ?? e.accuracy,
    auc: e.binary && Number.isFinite(e.binary.auc) ? e.binary.auc : null,
    wrong,
  };
}

/** Images wrong in every repeat they were held out in (with one repeat: every image its fold's model got wrong). */
export function alwaysWrong(results: readonly FoldResult[], repeats: number): number[] {
  const n = new Map<number, number>();
  for (const r of results) for (const id of r.wrong) n.set(id, (n.get(id) ?? 0) + 1);
  return [...n.entries()]
    .filter(([, c]) => c >= repeats)
    .map(([id]) => id)
    .sort((a, b) => a - b);
}

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
    const folds = Number(values.folds);
    const repeats = Number(values.repeats);
    const seed = Number(values.seed);
    if (!Number.isInteger(folds) || folds < 2 || folds > 20) throw new ValidationError('--folds is a whole number from 2 to 20.');
    if (!Number.isInteger(repeats) || repeats < 1 || repeats > 10) throw new ValidationError('--repeats is a whole number from 1 to 10.');
    if (!Number.isInteger(seed)) throw new ValidationError('--seed is a whole number.');
    if (values.group !== 'batch' && values.group !== 'none') throw new ValidationError('--group is batch or none.');
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
    const project = await s.projects.open(dir);
    const t = trainingService(s);
    const activeBefore = runs.getActiveRunId(project.db);
    const results: FoldResult[] = [];
    try {
      for (let r = 0; r < repeats; r++) {
        for (let f = 0; f < folds; f++) {
          const snap = t.start({
            ...base,
            seed: seed + r,
            name: `cross-validation ${r + 1}.${f + 1}/${folds}`,
            split: { mode: 'fold', folds, fold: f, seed: seed + r, groupBy: values.group },
          });
          const done = await s.tasks.wait(snap.id);
          if (done.state !== 'succeeded') throw new ValidationError(`Fold ${f + 1} of repeat ${r + 1} did not finish (${done.state}).`);
          const val = t.get(snap.runId).evaluations.find((e) => e.split === 'val');
          if (!val) throw new ValidationError(`Fold ${f + 1} has no validation images: use fewer folds.`);
          const fig = foldFigures(val);
          results.push({ repeat: r + 1, fold: f + 1, runId: snap.runId, images: val.count, ...fig });
          if (!values.json) {
            const k = Math.round(fig.accuracy * val.count);
            io.out(
              `repeat ${r + 1} fold ${f + 1}/${folds} (run #${snap.runId}): ${val.count} images, accuracy ${formatWithInterval(fig.accuracy, wilsonInterval(k, val.count))}` +
                `${fig.auc !== null ? `, ROC AUC ${fig.auc.toFixed(4)}` : ''}`,
            );
          }
        }
      }
    } finally {
      // Cross-validation runs are measurements, not the model to inspect with.
      if (
        activeBefore === null &&
        runs.getActiveRunId(project.db) !== null &&
        results.some((x) => x.runId === runs.getActiveRunId(project.db))
      )
        runs.setActiveRunId(project.db, null);
    }
    const acc = meanSd(results.map((x) => x.accuracy));
    const aucs = results.flatMap((x) => (x.auc === null ? [] : [x.auc]));
    const auc = meanSd(aucs);
    const hard = alwaysWrong(results, repeats);
    if (values.json)
      io.out(JSON.stringify({ ok: true, folds, repeats, accuracy: acc, auc: aucs.length ? auc : null, alwaysWrong: hard, results }));
    else {
      io.out(
        `accuracy ${(acc.mean * 100).toFixed(1)} % ± ${(acc.sd * 100).toFixed(1)} (sd over ${results.length} folds)` +
          (aucs.length ? `, ROC AUC ${auc.mean.toFixed(4)} ± ${auc.sd.toFixed(4)}` : ''),
      );
      io.out(
        `${hard.length} image${hard.length === 1 ? '' : 's'} wrong ${repeats > 1 ? `in all ${repeats} repeats` : 'when held out'}: ${hard.map((id) => `#${id}`).join(' ') || 'none'}`,
      );
    }
    return 0;
  },
};
