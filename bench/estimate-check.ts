/**
 * Estimate vs real duration per preset: `npm run bench -- estimate-check [--per-class N] [--ft-epochs N] [--size N] [quick|study|best ...]`.
 * For each preset (on this machine's backends) on a NEU subsample (N images per class, 76/24 split): the engine's
 * 'estimate' job, then the same configuration trained by the Trainer with no embedding cache (as a first run),
 * side by side: embeddings, transfer, fine-tuning, evaluation and total seconds, and the ratio estimate / real.
 * Fine-tuning epochs are capped (--ft-epochs, default 2) in both, so a CPU run stays within minutes.
 * Ends with one JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { presetConfig, TRAIN_PRESETS, type TrainPresetId } from '../src-main/shared/training-presets.ts';
import type { BackendReport } from '../src-main/shared/types.ts';
import { initWasmForProbe } from '../src-main/engine/backend/wasm-init.ts';
import { hasRandomExtras, variantsFor } from '../src-main/services/training/data/augment.ts';
import { neuSamples } from '../src-main/services/training/data/neu.ts';
import { fileSource } from '../src-main/services/training/data/source.ts';
import { estimateJob } from '../src-main/engine/jobs/estimate.ts';
import { readWeightSet } from '../src-main/engine/model/weights.ts';
import { PauseGate } from '../src-main/engine/train/pause-gate.ts';
import { Trainer, type TrainerEvent } from '../src-main/engine/train/trainer.ts';
import { resolveConfig } from '../src-main/services/training/train/config.ts';

const MODELS = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'shared', 'models');
const log = (s: string) => process.stdout.write(`${s}\n`);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};

async function main(): Promise<void> {
  const perClass = arg('--per-class', 12);
  const ftEpochs = arg('--ft-epochs', 2);
  // --size N: every preset at this input size instead of its own (e.g. 520, the study's GPU size).
  const size = arg('--size', 0);
  const names = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const which = (names.length ? names : [...TRAIN_PRESETS]) as TrainPresetId[];
  const f = await initWasmForProbe();
  const training = f.missingGradients.length ? 'cpu' : 'wasm';
  const backends = { training, inference: 'wasm' };
  const { classes, samples } = neuSamples({ perClass });
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  samples.forEach((s, i) => splits[s.split].push(i));
  log(
    `Estimate vs real on NEU (${perClass} per class: train ${splits.train.length}, val ${splits.val.length}); training backend ${training}`,
  );
  const ctx = {
    signal: new AbortController().signal,
    throwIfCancelled: () => undefined,
    pause: new PauseGate(),
    emit: () => undefined,
    backends,
    report: {} as BackendReport,
    log: () => undefined,
  };
  const out: Record<string, unknown> = { perClass, fineTuneEpochsCap: ftEpochs, trainingBackend: training };
  for (const id of which) {
    const p = presetConfig(id, training);
    const config = resolveConfig({
      ...p,
      task: 'multiclass',
      fineTuneEpochs: Math.min(p.fineTuneEpochs ?? 0, ftEpochs),
      useEmbeddingCache: false,
      ...(size ? { inputSize: size } : {}),
    });
    const est = await estimateJob.run(
      {
        backbone: config.backbone,
        inputSize: config.inputSize,
        batchSize: config.batchSize,
        fineTuneBlocks: config.fineTuneBlocks,
        trainImages: splits.train.length,
        valImages: splits.val.length,
        testImages: 0,
        variants: variantsFor(config.augmentation.mode).length,
        epochs: config.epochs,
        patience: config.patience,
        fineTuneEpochs: config.fineTuneEpochs,
        fineTunePatience: config.fineTunePatience ?? 5,
        numClasses: classes.length,
        cachedFraction: 0,
        tta: config.tta ?? false,
        lrSchedule: config.lrSchedule ?? 'warmupCosine',
        randomAugmentation: hasRandomExtras(config.augmentation),
        dropout: config.dropout,
      },
      ctx,
    );
    // Real seconds of each epoch by phase: the first fine-tuning epoch apart (it fills the prefix cache).
    const epochMs: Record<'transfer' | 'finetune', number[]> = { transfer: [], finetune: [] };
    const onEvent = (ev: TrainerEvent) => {
      if (ev.kind === 'epoch' && (ev.phase === 'transfer' || ev.phase === 'finetune')) epochMs[ev.phase].push(ev.durationMs);
    };
    tf.engine().startScope();
    const t0 = performance.now();
    const res = await new Trainer({
      config,
      classes,
      okIndex: null,
      source: fileSource(samples),
      splits,
      backboneWeights: readWeightSet(join(MODELS, `${config.backbone}_224`)),
      cacheDir: null,
      backends,
      signal: new AbortController().signal,
      onEvent,
    }).run();
    const realS = (performance.now() - t0) / 1000;
    tf.engine().endScope();
    const d = res.durations;
    const real = {
      embeddings: d.embeddingsMs / 1000,
      transfer: d.transferMs / 1000,
      fineTune: d.fineTuneMs / 1000,
      evaluation: d.evaluationMs / 1000,
      total: realS,
      transferEpochs: res.phases.find((x) => x.phase === 'transfer')?.epochsRun ?? 0,
      fineTuneEpochs: res.phases.find((x) => x.phase === 'finetune')?.epochsRun ?? 0,
      transferEpochSeconds: mean(epochMs.transfer) / 1000,
      firstFineTuneEpochSeconds: (epochMs.finetune[0] ?? NaN) / 1000,
      laterFineTuneEpochSeconds: mean(epochMs.finetune.slice(1)) / 1000,
    };
    const estimated = {
      embeddings: est.embeddingSeconds,
      transfer: est.transferSeconds,
      fineTune: est.fineTuneSeconds,
      evaluation: est.evaluationSeconds,
      total: est.totalSeconds,
      transferEpochs: est.expectedTransferEpochs,
      transferEpochSeconds: est.transferEpochSeconds,
      firstFineTuneEpochSeconds: est.fineTuneFirstEpochSeconds,
      laterFineTuneEpochSeconds: est.fineTuneEpochSeconds,
    };
    const ratio = est.totalSeconds / realS;
    log(
      `${id.padEnd(6)} ${config.backbone} ${config.inputSize}px FT ${config.fineTuneBlocks}x${config.fineTuneEpochs}: estimate ${est.totalSeconds.toFixed(1)} s` +
        ` (emb ${estimated.embeddings.toFixed(1)}, transfer ${estimated.transfer.toFixed(1)} for ~${estimated.transferEpochs} ep, FT ${estimated.fineTune.toFixed(1)}, eval ${estimated.evaluation.toFixed(1)})` +
        ` | real ${realS.toFixed(1)} s (emb ${real.embeddings.toFixed(1)}, transfer ${real.transfer.toFixed(1)} for ${real.transferEpochs} ep, FT ${real.fineTune.toFixed(1)}, eval ${real.evaluation.toFixed(1)})` +
        ` | estimate/real ${ratio.toFixed(2)}`,
    );
    const r = (a: number, b: number) => (b > 0 && Number.isFinite(a / b) ? (a / b).toFixed(2) : '-');
    log(
      `       ratios: emb ${r(estimated.embeddings, real.embeddings)}, transfer ${r(estimated.transfer, real.transfer)}` +
        ` (epochs ${r(estimated.transferEpochs, real.transferEpochs)}, s/epoch ${r(estimated.transferEpochSeconds, real.transferEpochSeconds)}),` +
        ` FT ${r(estimated.fineTune, real.fineTune)} (1st epoch ${estimated.firstFineTuneEpochSeconds.toFixed(2)}/${real.firstFineTuneEpochSeconds.toFixed(2)} s,` +
        ` later ${estimated.laterFineTuneEpochSeconds.toFixed(2)}/${real.laterFineTuneEpochSeconds.toFixed(2)} s), eval ${r(estimated.evaluation, real.evaluation)}`,
    );
    out[id] = { estimated, real, ratio: +ratio.toFixed(3) };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
