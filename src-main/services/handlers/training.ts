import type { TrainingApi } from '../../shared/api/training.ts';
import { ValidationError } from '../../shared/errors.ts';
import { trainingService } from '../ml/training-service.ts';
import type { Services } from '../services.ts';

function runIdArg(v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ValidationError(`Not a run id: ${String(v)}`);
  return n;
}

export function trainingHandlers(s: Services): TrainingApi {
  const t = trainingService(s);
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
    async exportModel(runId, dir) {
      if (!dir?.trim()) throw new ValidationError('Choose a folder to export the model to.');
      return t.exportModel(runIdArg(runId), dir);
    },
    async importModel(dir) {
      if (!dir?.trim()) throw new ValidationError('Choose a model folder to import.');
      return t.importModel(dir);
    },
    estimateTraining(config) {
      return t.estimate(config ?? {});
    },
    debugCrashEngine() {
      return t.debugCrashEngine();
    },
  };
}
