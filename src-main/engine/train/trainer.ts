/**
 * The training core: transfer learning on cached embeddings, then fine-tuning of the last N blocks.
 * Independent of the catalog, of IPC and of the database: it takes a SampleSource with split indices
 * and reports through callbacks. Runs in the engine process.
 *
 * Memory: images are decoded a batch at a time (the next batch is decoded while the current one
 * trains); only embedding vectors (C floats per image and variant) are kept for the whole set.
 * Backends: frozen parts run on the inference backend (wasm here), the trainable part on the training
 * backend (cpu here, or wasm once its gradient kernels are registered, or native TensorFlow).
 *
 * Files: run-state.ts (what one run holds and every epoch's bookkeeping), epoch-data.ts (items, class weights,
 * decoding), embeddings.ts, transfer-phase.ts (phase 1, head only), finetune-phase.ts + train-step.ts (phase 2),
 * evaluate.ts (final evaluation, TTA, predictSamples). This module is the entry the engine's jobs import.
 */
import { CancelledError } from '../../shared/errors.ts';
import type { Evaluation, PhaseSummary, RunDurations } from '../../shared/training-types.ts';
import type { TrainerOutput } from '../../services/engine/job-types.ts';
import { buildClassifier, buildHead } from '../model/mobilenet.ts';
import { mergeWeightSets, modelArtifacts, useBackend, type SavedModelArtifacts } from '../model/tf-util.ts';
import { assignWeightsByName } from '../model/weights.ts';
import { evaluateSplit } from './evaluate.ts';
import { fineTunePhase } from './finetune-phase.ts';
import type { PrefixCacheStats } from './prefix-cache.ts';
import { TrainingRun, type TrainerInput } from './run-state.ts';
import { isTilingSource, tiledTrainerInput } from './tiled.ts';
import { transferPhase } from './transfer-phase.ts';

export type { TrainerEvent, TrainerOutput } from '../../services/engine/job-types.ts';
export type { TrainerInput } from './run-state.ts';
export { predictPhotos, predictSamples, ttaProbabilities } from './evaluate.ts';
export { DEFAULT_FINETUNE_PATIENCE } from './finetune-phase.ts';
export { DEFAULT_STOP_SMOOTHING } from './transfer-phase.ts';

export class Trainer {
  private state: TrainingRun;

  constructor(inp: TrainerInput) {
    this.state = new TrainingRun(inp);
  }

  /** What the fine-tune phase's prefix cache held when it ended (null: not used), for benches and logs. */
  get prefixCacheStats(): PrefixCacheStats | null {
    return this.state.prefixCacheStats;
  }

  async run(): Promise<TrainerOutput> {
    // Tiles: the run trains and validates on one sample per tile (tiled.ts); the photos' headers give the grids.
    const given = this.state.inp;
    if (given.config.resize === 'tile' && isTilingSource(given.source) && !given.tiles)
      this.state = new TrainingRun(await tiledTrainerInput(given, given.regionBoxes));
    const run = this.state;
    const t0 = run.now();
    const c = run.inp.config;
    const durations: RunDurations = { totalMs: 0, embeddingsMs: 0, transferMs: 0, fineTuneMs: 0, evaluationMs: 0 };
    const phases: PhaseSummary[] = [];
    const totalEpochs = c.epochs + (c.fineTuneEpochs > 0 ? c.fineTuneEpochs : 0);
    const fineTuneBlocks = Math.max(0, Math.min(run.spec.blocks, c.fineTuneBlocks));

    await useBackend(run.inp.backends.training);
    run.head = buildHead(run.spec.featureChannels, run.numClasses, c.seed);
    if (run.inp.initialWeights) assignWeightsByName(run.head, run.inp.initialWeights, { optional: () => true });

    try {
      // Phase 1: transfer learning (frozen backbone, head only).
      if (c.epochs > 0) {
        const tp = run.now();
        const summary = await transferPhase(run, c.epochs, totalEpochs, durations);
        durations.transferMs = run.now() - tp - durations.embeddingsMs;
        phases.push(summary);
      }
      // Phase 2: fine-tuning of the last N blocks (N = 0: more head training at the lower rate).
      if (c.fineTuneEpochs > 0 && !run.cancelled) {
        const tf0 = run.now();
        const summary = await fineTunePhase(run, fineTuneBlocks, c.fineTuneEpochs, totalEpochs);
        durations.fineTuneMs = run.now() - tf0;
        phases.push(summary);
      }
    } catch (err) {
      if (!(err instanceof CancelledError)) throw err;
      run.cancelled = true;
    }

    // Assemble the full classifier from the best checkpoint.
    let model: SavedModelArtifacts | null = null;
    const evaluations: Evaluation[] = [];
    let threshold: number | null = null;
    if (run.best) {
      await useBackend(run.inp.backends.inference);
      const full = buildClassifier(run.spec, run.size, run.numClasses, c.dropout, c.seed);
      try {
        assignWeightsByName(full, mergeWeightSets('final', run.startWeights(), run.best.weights), {
          optional: (n) => n.startsWith('head_'),
        });
        if (!run.cancelled) {
          const te = run.now();
          run.inp.onEvent({ kind: 'phase', phase: 'evaluation', epochs: 0 });
          const val = await evaluateSplit(run, full, 'val', run.inp.splits.val);
          if (val) {
            evaluations.push(val);
            threshold = val.binary?.threshold ?? null;
          }
          const test = await evaluateSplit(run, full, 'test', run.inp.splits.test, threshold ?? undefined);
          if (test) evaluations.push(test);
          durations.evaluationMs = run.now() - te;
        }
        model = await modelArtifacts(full);
      } finally {
        full.dispose();
      }
    }
    run.head?.dispose();
    run.head = null;
    durations.totalMs = run.now() - t0;
    return {
      status: run.cancelled ? 'cancelled' : 'completed',
      phases,
      durations,
      evaluations,
      threshold,
      model,
      bestValLoss: run.best && Number.isFinite(run.best.loss) ? run.best.loss : null,
      bestValAccuracy: run.best && Number.isFinite(run.best.acc) ? run.best.acc : null,
    };
  }
}
