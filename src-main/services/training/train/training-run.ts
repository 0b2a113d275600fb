/**
 * The body of a training task: starts the engine, runs the 'train' job (or an anomaly fit) and writes what comes back
 * into the catalog as it comes (epochs, batch losses, evaluations at the chosen operating point, the model folder).
 * The engine never writes the catalog; a project closed meanwhile is not written.
 */
import { join } from 'node:path';
import { ConflictError, serializeError } from '../../../shared/errors.ts';
import { DEFAULT_AIM } from '../../../shared/operating-point.ts';
import type { KensaModelInfo, PhaseSummary, RunSummary, TrainConfig } from '../../../shared/training-types.ts';
import * as runs from '../../db/repos/runs.ts';
import type { EngineService } from '../../engine/engine-service.ts';
import type { EventBus } from '../../events.ts';
import type { Project } from '../../projects/project.ts';
import type { TaskContext } from '../../tasks/task-manager.ts';
import { APP_VERSION } from '../../version.ts';
import { executeAnomalyRun } from '../anomaly/anomaly-run.ts';
import { padMaskOfConfig } from '../data/geometry.ts';
import { DEFAULT_MAX_TILES } from '../data/tiles.ts';
import type { EngineSample } from '../data/source.ts';
import { HEAD_LAYERS, parseBackbone } from '../model/backbone-table.ts';
import { writeModelFolder } from '../model/saved-model.ts';
import type { TrainingDataset } from './dataset.ts';
import { applyOperatingPoint } from './metrics.ts';

export interface TrainingRunArgs {
  ctx: TaskContext;
  project: Project;
  runId: number;
  config: TrainConfig;
  ds: TrainingDataset;
  weightsDir: string;
  /** The model a continued run starts from (null: the ImageNet backbone). */
  parentModelDir: string | null;
  engine: EngineService;
  events: EventBus;
  /** Whether the run's project is still the open one. */
  stillOpen: () => boolean;
}

/** Runs one queued training run to its end (succeeded, cancelled with the best model so far, or failed). */
export async function executeTrainingRun(a: TrainingRunArgs): Promise<{ runId: number }> {
  const { ctx, project, runId, config, ds, weightsDir, parentModelDir, engine, events, stillOpen } = a;
  const db = project.db;
  const emitRun = (status: RunSummary['status']) => events.emit('trainingRun', { runId, status });
  if (ctx.signal.aborted) {
    runs.finishRun(db, runId, { status: 'cancelled' });
    emitRun('cancelled');
    return { runId };
  }
  runs.markRunStarted(db, runId, null);
  emitRun('running');
  // Pausable from the start: a pause while the engine starts is passed on when the job begins.
  const offPausable = ctx.onPauseChange(() => undefined);
  ctx.update({ message: 'Starting the training engine…', step: { kind: 'engine-starting' } });
  try {
    const { report } = await engine.ensureStarted();
    const backend = { training: report.training, inference: report.inference };
    runs.setRunBackend(db, runId, backend);
    if (config.task === 'anomaly') {
      const okIndex = ds.okIndex ?? 0;
      await executeAnomalyRun({ ctx, engine, project, runId, config, ...ds, okIndex, weightsDir, stillOpen });
      if (runs.getActiveRunId(db) === null) {
        runs.setActiveRunId(db, runId);
        events.emit('activeModel', { runId });
      }
      emitRun('succeeded');
      return { runId };
    }
    const samples: EngineSample[] = ds.snapshot.map((s) => ({ id: s.imageId, key: s.sha256, label: s.classIndex, split: s.split }));
    const totalEpochs = config.epochs + config.fineTuneEpochs;
    // The run's length from the start, so the UI's one progress figure (epochs done + batches) is right at once.
    ctx.update({ epoch: { current: 0, total: totalEpochs } });
    const result = await engine.run(
      'train',
      {
        runId,
        config,
        classes: ds.classInfo.map((c) => c.key),
        okIndex: ds.okIndex,
        samples,
        source: { kind: 'catalog', projectDir: project.dir },
        backboneWeightsDir: weightsDir,
        initialModelDir: parentModelDir,
        cacheDir: config.useEmbeddingCache ? project.paths.cache : null,
      },
      {
        signal: ctx.signal,
        pause: ctx,
        onEvent: (e) => {
          if (!stillOpen()) return;
          switch (e.kind) {
            case 'phase':
              ctx.update({
                message:
                  e.phase === 'embeddings'
                    ? 'Computing backbone embeddings…'
                    : e.phase === 'transfer'
                      ? 'Transfer learning (head only)…'
                      : e.phase === 'finetune'
                        ? `Fine-tuning the last ${config.fineTuneBlocks} blocks…`
                        : 'Evaluating…',
                step:
                  e.phase === 'finetune'
                    ? { kind: 'finetune', blocks: config.fineTuneBlocks }
                    : { kind: e.phase === 'embeddings' || e.phase === 'transfer' ? e.phase : 'evaluate' },
              });
              break;
            case 'embeddings':
              ctx.progress(e.done, e.total, 'images');
              break;
            case 'batch':
              ctx.progress(e.batch, e.batches, 'batches');
              events.emit('trainingBatch', {
                runId,
                taskId: ctx.id,
                phase: e.phase,
                epoch: e.epoch,
                batch: e.batch,
                batches: e.batches,
                loss: e.loss,
              });
              break;
            case 'epoch':
              runs.insertEpoch(
                db,
                runId,
                { ...e.metrics, phase: e.phase, epoch: e.epoch, globalEpoch: e.globalEpoch, durationMs: e.durationMs },
                e.batchLosses,
              );
              ctx.update({ epoch: { current: e.globalEpoch, total: totalEpochs }, metrics: numericMetrics(e.metrics) });
              events.emit('trainingEpoch', {
                runId,
                taskId: ctx.id,
                phase: e.phase,
                epoch: e.epoch,
                globalEpoch: e.globalEpoch,
                totalEpochs,
                metrics: e.metrics,
              });
              break;
          }
        },
      },
    );
    if (!stillOpen()) throw new ConflictError('The project was closed during training.');
    // The operating point for the user's aim, chosen on validation; the locked test split is put at it once.
    const op = applyOperatingPoint(result.evaluations, config.operatingPoint ?? DEFAULT_AIM);
    result.evaluations = op.evaluations;
    if (op.choice) result.threshold = op.choice.threshold;
    let modelRel: string | null = null;
    if (result.model) {
      modelRel = join('models', String(runId));
      const info: KensaModelInfo = {
        format: 'kensa-model',
        version: 1,
        runId,
        name: config.name,
        task: config.task,
        backbone: config.backbone,
        inputSize: config.inputSize,
        classes: ds.classInfo,
        threshold: result.threshold,
        tta: config.tta ?? false,
        operatingPoint: op.choice,
        preprocessing: {
          resize: config.resize === 'letterbox' || config.resize === 'tile' ? config.resize : 'fill',
          ...(config.resize === 'tile' ? { tiles: { maxTiles: config.maxTiles ?? DEFAULT_MAX_TILES } } : {}),
          channels: 'rgb (grey repeated)',
          scale: '[-1,1]',
          ...(padMaskOfConfig(config) ? { padMask: true } : {}),
        },
        layers: {
          lastConv: parseBackbone(config.backbone).lastConvLayer,
          gap: HEAD_LAYERS.gap,
          dropout: HEAD_LAYERS.dropout,
          dense: HEAD_LAYERS.dense,
        },
        metrics: {
          valAccuracy: result.evaluations.find((x) => x.split === 'val')?.accuracy ?? result.bestValAccuracy,
          valLoss: result.evaluations.find((x) => x.split === 'val')?.loss ?? result.bestValLoss,
          testAccuracy: result.evaluations.find((x) => x.split === 'test')?.accuracy ?? null,
        },
        createdAt: new Date().toISOString(),
        kensaVersion: APP_VERSION,
      };
      writeModelFolder(join(project.dir, modelRel), result.model, info);
    }
    for (const ev of result.evaluations) runs.upsertEvaluation(db, runId, ev);
    const val = result.evaluations.find((x) => x.split === 'val');
    const status = result.status === 'cancelled' ? 'cancelled' : 'succeeded';
    runs.finishRun(db, runId, {
      status,
      modelDir: modelRel,
      threshold: result.threshold,
      operatingPoint: op.choice,
      valAccuracy: val?.accuracy ?? result.bestValAccuracy,
      valLoss: val?.loss ?? result.bestValLoss,
      phases: result.phases,
      durations: result.durations,
    });
    if (status === 'succeeded' && modelRel && runs.getActiveRunId(db) === null) {
      if (learnedOnlyInFirstEpoch(result.phases)) {
        // Its checkpoint is the first epoch's head and nothing after it did better: not a model to inspect with
        // unasked. The run stays in Runs, where it can still be made the active model.
        ctx.update({ message: 'Not made the active model: validation was best after the first epoch and never improved.' });
      } else {
        runs.setActiveRunId(db, runId);
        events.emit('activeModel', { runId });
      }
    }
    emitRun(status);
    return { runId };
  } catch (err) {
    const cancelled = ctx.signal.aborted || (err as Error).name === 'CancelledError';
    if (stillOpen())
      runs.finishRun(db, runId, { status: cancelled ? 'cancelled' : 'failed', error: cancelled ? null : serializeError(err) });
    emitRun(cancelled ? 'cancelled' : 'failed');
    throw err;
  } finally {
    offPausable();
  }
}

/**
 * Whether a run's model is its first epoch's: the transfer phase's best epoch was epoch 1 and early stopping ended it,
 * and fine-tuning (if any) never improved on that. Such a run does not become the active model by itself.
 */
export function learnedOnlyInFirstEpoch(phases: PhaseSummary[]): boolean {
  const transfer = phases.find((p) => p.phase === 'transfer');
  const fine = phases.find((p) => p.phase === 'finetune');
  return !!transfer && transfer.bestEpoch === 1 && transfer.stoppedEarly && (!fine || fine.bestEpoch === null);
}

function numericMetrics(m: {
  loss: number;
  accuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  learningRate: number;
}): Record<string, number> {
  const out: Record<string, number> = { loss: m.loss, accuracy: m.accuracy, learningRate: m.learningRate };
  if (m.valLoss !== null) out.valLoss = m.valLoss;
  if (m.valAccuracy !== null) out.valAccuracy = m.valAccuracy;
  return out;
}
