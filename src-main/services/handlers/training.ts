import type { TrainingApi } from '../../shared/api/training.ts';
import { resolve } from 'node:path';
import { ValidationError } from '../../shared/errors.ts';
import { aimArg } from '../training/train/config.ts';
import type { Services } from '../services.ts';
import { checkTarget, writeFileAtomic } from '../export-file.ts';
import type { SweepSpec } from '../../shared/sweep.ts';
import type { CrossValidationSpec } from '../../shared/cross-validation.ts';

/** A report with its charts inlined is a few MB; far more is not one of ours. */
const REPORT_MAX_CHARS = 64 * 1024 * 1024;

function runIdArg(v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ValidationError(`Not a run id: ${String(v)}`);
  return n;
}

export function trainingHandlers(s: Services): TrainingApi {
  const t = s.training;
  return {
    async startTraining(config) {
      return t.start(config ?? {});
    },
    async listRuns() {
      return t.list();
    },
    async getRun(runId) {
      return t.get(runIdArg(runId));
    },
    async getRunBatchLosses(runId) {
      return t.batchLosses(runIdArg(runId));
    },
    async deleteRun(runId) {
      t.delete(runIdArg(runId));
    },
    async renameRun(runId, name) {
      return t.rename(runIdArg(runId), String(name ?? ''));
    },
    async setActiveModel(runId) {
      t.setActive(runId === null ? null : runIdArg(runId));
    },
    async getActiveModel() {
      return t.getActive();
    },
    predict(target, runId) {
      return t.predict(target ?? {}, runId === undefined || runId === null ? undefined : runIdArg(runId));
    },
    evaluateRun(runId, split) {
      if (split !== 'val' && split !== 'test') throw new ValidationError('Split must be "val" or "test".');
      return t.evaluateRun(runIdArg(runId), split);
    },
    async setOperatingPoint(runId, aim, threshold) {
      return t.setOperatingPoint(
        runIdArg(runId),
        aimArg(aim),
        threshold === undefined || threshold === null ? undefined : Number(threshold),
      );
    },
    async exportModel(runId, dir, opts) {
      if (!dir?.trim()) throw new ValidationError('Choose a folder to export the model to.');
      return t.exportModel(runIdArg(runId), dir, { overwrite: opts?.overwrite === true });
    },
    async importModel(dir) {
      if (!dir?.trim()) throw new ValidationError('Choose a model folder to import.');
      return t.importModel(dir);
    },
    async saveRunReport(runId, html, file, opts) {
      const id = runIdArg(runId);
      t.get(id);
      if (typeof html !== 'string' || !/^<!doctype html>/i.test(html) || html.length > REPORT_MAX_CHARS)
        throw new ValidationError('The report is not an HTML document Kensa made (or is too large).');
      if (!file?.trim()) throw new ValidationError('Choose a file to save the report to.');
      const out = resolve(/\.html?$/i.test(file) ? file : `${file}.html`);
      const overwrite = opts?.overwrite === true;
      checkTarget(out, overwrite);
      writeFileAtomic(out, html, { overwrite });
      return { path: out };
    },
    estimateTraining(config) {
      return t.estimate(config ?? {});
    },
    async listBackboneWeights() {
      return t.backboneWeights();
    },
    async startSweep(base, spec) {
      return s.sweep.start(base ?? {}, sweepSpecArg(spec));
    },
    async getSweep(sweepId) {
      return s.sweep.runs(String(sweepId ?? ''));
    },
    async estimateSweep(base, spec) {
      return s.sweep.estimate(base ?? {}, sweepSpecArg(spec));
    },
    async startCrossValidation(base, spec) {
      return s.crossValidation.start(base ?? {}, cvSpecArg(spec));
    },
    async listCrossValidations() {
      return s.crossValidation.list();
    },
    async getCrossValidation(id) {
      return s.crossValidation.get(String(id ?? ''));
    },
  };
}

function sweepSpecArg(v: unknown): SweepSpec {
  const spec = (v ?? {}) as Partial<SweepSpec>;
  if (!Array.isArray(spec.sizes) || !Array.isArray(spec.blocks))
    throw new ValidationError('A sweep needs a list of input sizes and a list of fine-tuned block counts.');
  return { sizes: spec.sizes.map(Number), blocks: spec.blocks.map(Number) };
}

function cvSpecArg(v: unknown): CrossValidationSpec {
  const spec = (v ?? {}) as Partial<CrossValidationSpec>;
  return { folds: Number(spec.folds), repeats: Number(spec.repeats ?? 1), groupBy: spec.groupBy ?? 'batch', seed: Number(spec.seed ?? 1) };
}
