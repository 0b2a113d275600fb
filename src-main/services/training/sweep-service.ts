/**
 * Sweeps over the training service: queue one run per (input size, fine-tuned blocks) on the 'training' queue
 * (they run one after another), estimate the whole sweep, and read a sweep's runs back for the charts and the choice
 * of the best one.
 */
import { ValidationError } from '../../shared/errors.ts';
import {
  bestSweepPoint,
  expandSweep,
  newSweepId,
  type SweepEstimate,
  type SweepPoint,
  type SweepSpec,
  type SweepStarted,
  type SweepView,
} from '../../shared/sweep.ts';
import type { TrainConfigInput } from '../../shared/training-types.ts';
import { type TrainingService } from './training-service.ts';
import { resolveConfig } from './train/config.ts';

export interface SweepServiceDeps {
  training: TrainingService;
}

export class SweepService {
  private readonly training: TrainingService;

  constructor(deps: SweepServiceDeps) {
    this.training = deps.training;
  }

  /** Every configuration is checked before the first run is queued, so a bad point never leaves half a sweep behind. */
  start(base: TrainConfigInput, spec: SweepSpec, sweepId = newSweepId()): SweepStarted {
    const configs = expandSweep(base, spec, sweepId);
    for (const c of configs) resolveConfig(c);
    return { sweepId, runs: configs.map((c) => this.training.start(c)) };
  }

  /** The sum of the runs' estimates (each measured for its own size and N), and each one's seconds. */
  async estimate(base: TrainConfigInput, spec: SweepSpec): Promise<SweepEstimate> {
    const runs: SweepEstimate['runs'] = [];
    for (const c of expandSweep(base, spec, 'estimate')) {
      const e = await this.training.estimate(c);
      runs.push({ inputSize: c.inputSize ?? 0, fineTuneBlocks: c.fineTuneBlocks ?? 0, totalSeconds: e.totalSeconds });
    }
    return { totalSeconds: runs.reduce((s, r) => s + r.totalSeconds, 0), runs };
  }

  /** The runs of one sweep as chart points, in the sweep's order; the best one beside them. */
  runs(sweepId: string): SweepView {
    const points: (SweepPoint & { index: number })[] = [];
    for (const r of this.training.list()) {
      const tag = this.training.get(r.id).config.sweep;
      if (!tag || tag.id !== sweepId) continue;
      points.push({
        runId: r.id,
        status: r.status,
        inputSize: tag.inputSize,
        fineTuneBlocks: tag.fineTuneBlocks,
        valAccuracy: r.valAccuracy,
        valLoss: r.valLoss,
        index: tag.index,
      });
    }
    if (points.length === 0) throw new ValidationError(`No runs belong to sweep ${sweepId}.`);
    points.sort((a, b) => a.index - b.index);
    return { sweepId, points: points.map(({ index: _i, ...p }) => p), bestRunId: bestSweepPoint(points)?.runId ?? null };
  }
}
