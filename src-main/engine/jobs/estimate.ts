/**
 * Engine job 'estimate': time and memory of a training configuration on this machine's backends,
 * measured on a small batch (random weights: speed does not depend on their values).
 *
 * Each term is work the run does (bench/estimate-check.ts runs the estimate and the run side by side, per phase):
 * embeddings = every (train image, variant) and validation image decoded and through the backbone once;
 * transfer = head epochs on the cached embeddings; fine-tuning = the frozen prefix once per item (the prefix cache
 * keeps it with fixed augmentation), then per epoch the trainable tail's step on every training item and its forward
 * pass on validation; evaluation = the full classifier on validation and test (x3 with TTA). Every phase builds a
 * fresh model whose first batch pays the backend's set-up (wasm: XNNPACK operators per weight tensor), counted once.
 */
import * as tf from '@tensorflow/tfjs';
import type { EstimateJobParams, EstimateJobResult } from '../../services/engine/job-types.ts';
import { buildHead, buildSegment, featureShapeAfter, parseBackbone } from '../model/mobilenet.ts';
import { readTidy, useBackend } from '../model/tf-util.ts';
import { DEFAULT_PREFIX_DISK_BYTES, DEFAULT_PREFIX_MEMORY_BYTES } from '../train/prefix-cache.ts';
import { EMBED_BATCH } from '../train/embeddings.ts';
import { JsHead } from '../train/js-head.ts';
import { defineJob } from '../job.ts';
import { estimateAnomaly } from './estimate-anomaly.ts';
import { createRng } from '../../services/training/train/rng.ts';
import { DEFAULT_TRAIN_CONFIG } from '../../shared/training-types.ts';

export type { EstimateJobParams, EstimateJobResult };

/**
 * ms per image beside the backbone: decode and resize (sharp), the fixed variant, the embedding-cache write
 * (NEU at 224 on 2 cores: 9.9 ms an image through the pipeline against ~4 ms for the bare forward pass).
 */
const DECODE_MS = 5;

/**
 * Transfer epochs a run is expected to take. With the default warm-up + cosine schedule the learning rate falls to
 * zero over the planned epochs, so the smoothed validation loss keeps reaching new lows late and the phase runs
 * (nearly) all of them: 300 and 237 of 300 on NEU at 20 images a class, 300 at 40 (bench/estimate-check.ts).
 * With a constant rate it ends about `patience` epochs after the loss levels off, which came at 1x to 5x the
 * patience on NEU, elpv and the demo (31, 59 and 147 epochs at patience 30); 3x is the middle.
 */
export function expectedTransferEpochs(
  epochs: number,
  patience: number,
  hasVal: boolean,
  schedule: 'warmupCosine' | 'constant' = 'warmupCosine',
): number {
  if (!hasVal || patience <= 0 || schedule === 'warmupCosine') return epochs;
  return Math.min(epochs, 3 * patience + 1);
}

/** Items (training items x variants + validation images) the fine-tuning prefix cache holds: float32 in memory, then float16 on disk. */
export function prefixCacheItems(
  items: number,
  itemFloats: number,
  memoryBytes = DEFAULT_PREFIX_MEMORY_BYTES,
  diskBytes = DEFAULT_PREFIX_DISK_BYTES,
): number {
  const held = Math.floor(memoryBytes / (itemFloats * 4)) + Math.floor(diskBytes / (itemFloats * 2));
  return Math.min(items, held);
}

/** Per-image costs (ms) of fine-tuning, measured on this machine. */
export interface FineTuneCosts {
  /** Decode + frozen prefix forward (inference backend). */
  prefixMs: number;
  /** Trainable tail + head: forward, backward and Adam update (training backend). */
  stepMs: number;
  /** Trainable tail + head forward (validation, training backend). */
  tailForwardMs: number;
}

/**
 * Seconds of the fine-tuning phase: a validation pass before the first epoch (it computes the validation images'
 * prefix outputs, which the cache keeps first), the first epoch computing the training items' prefix outputs, and
 * every epoch the tail's step on the training items and its forward pass on validation. Items the prefix cache
 * cannot hold are recomputed every epoch.
 */
export function fineTuneSeconds(
  p: { samplesPerEpoch: number; valImages: number; epochs: number; cachedItems: number },
  ms: FineTuneCosts,
): { firstEpochSeconds: number; epochSeconds: number; totalSeconds: number } {
  if (p.epochs <= 0) return { firstEpochSeconds: 0, epochSeconds: 0, totalSeconds: 0 };
  const held = Math.max(0, p.cachedItems);
  const cachedVal = Math.min(p.valImages, held);
  const cachedTrain = Math.min(p.samplesPerEpoch, held - cachedVal);
  const recomputed = p.samplesPerEpoch - cachedTrain + (p.valImages - cachedVal);
  const epochSeconds = (p.samplesPerEpoch * ms.stepMs + p.valImages * ms.tailForwardMs + recomputed * ms.prefixMs) / 1000;
  const baselineSeconds = (p.valImages * (ms.prefixMs + ms.tailForwardMs)) / 1000;
  const firstEpochSeconds = epochSeconds + (cachedTrain * ms.prefixMs) / 1000;
  return { firstEpochSeconds, epochSeconds, totalSeconds: baselineSeconds + firstEpochSeconds + (p.epochs - 1) * epochSeconds };
}

/** Timings already taken in this engine process, by what was timed (a wizard asks again on every change). */
const measured = new Map<string, unknown>();

function once<T>(key: string, measure: () => T): T {
  if (!measured.has(key)) measured.set(key, measure());
  return measured.get(key) as T;
}

interface Timing {
  /** Steady ms of one call (per image where the caller divides by the batch). */
  ms: number;
  /** What the first call costs more: the backend's set-up for a fresh model (kernels, XNNPACK operators). */
  warmupMs: number;
}

/**
 * The fastest of `reps` calls after the first (the machine is shared: a single call can land on a busy moment,
 * and the run's thousands of batches see the machine's usual speed, not one spike).
 */
function time(fn: () => void, reps: number, per = 1): Timing {
  const t0 = performance.now();
  fn();
  const first = performance.now() - t0;
  let ms = Infinity;
  for (let i = 0; i < reps; i++) {
    const t1 = performance.now();
    fn();
    ms = Math.min(ms, performance.now() - t1);
  }
  return { ms: ms / per, warmupMs: Math.max(0, first - ms) };
}

/**
 * ms of one head step (JsHead: the dropout mask drawn as the run draws it, forward, gradient, Adam) on a batch of
 * `B`, and of its validation pass over `V`.
 */
function timeHead(C: number, K: number, B: number, V: number, rate: number): { stepMs: number; valMs: number } {
  return once(`head|${C}|${K}|${B}|${V}|${rate}`, () => {
    const head = new JsHead(new Float32Array(C * K).fill(0.01), new Float32Array(K), C, K, 1e-3);
    const x = Float32Array.from({ length: B * C }, (_, i) => ((i * 7919) % 1000) / 250);
    const labels = Array.from({ length: B }, (_, i) => i % K);
    const w = labels.map(() => 1);
    const vx = Float32Array.from({ length: V * C }, (_, i) => ((i * 7919) % 1000) / 250);
    const vLabels = Array.from({ length: V }, (_, i) => i % K);
    const rng = createRng(1);
    const step = () => {
      let mask: Float32Array | undefined;
      if (rate > 0) {
        mask = new Float32Array(B * C);
        for (let i = 0; i < mask.length; i++) mask[i] = rng.next() >= rate ? 1 / (1 - rate) : 0;
      }
      head.step(x, labels, w, mask);
    };
    // Enough calls for V8 to optimise the loop, as it does over a real phase's thousands of steps.
    for (let i = 0; i < 50; i++) step();
    const stepMs = time(step, 200).ms;
    for (let i = 0; i < 20; i++) head.evaluate(vx, vLabels);
    const valMs = time(() => void head.evaluate(vx, vLabels), 50).ms;
    return { stepMs, valMs };
  });
}

/** Inference forward ms per image of a segment of the backbone on a zero batch of `B`, built and disposed here. */
function timeSegment(build: () => tf.LayersModel, shape: number[], B: number): Timing {
  const m = build();
  const x = tf.zeros([B, ...shape]);
  try {
    // Read as the run reads it (readTidy): on this zero batch a typed array returned from tf.tidy costs nothing to
    // walk, on real features it cost three times the forward pass, so timing that way hid it.
    return time(() => void readTidy(() => m.apply(x, { training: false }) as tf.Tensor), 2, B);
  } finally {
    x.dispose();
    m.dispose();
  }
}

export const estimateJob = defineJob<EstimateJobParams, never, EstimateJobResult>()('estimate', async (p, ctx) => {
  // Anomaly runs fit a memory bank (no epochs): their own timed passes (estimate-anomaly.ts).
  if (p.task === 'anomaly') return estimateAnomaly(p, ctx);
  const spec = parseBackbone(p.backbone);
  const s = p.inputSize;
  const n = Math.max(1, Math.min(p.fineTuneBlocks, spec.blocks));
  // Timed at the run's own batch size (up to 32): per-image costs at 224+ px grow with the batch (activations
  // outgrow the caches), so a 4-image batch underestimated a 32-image fine-tuning step by up to 4x at 320 px.
  const B = Math.max(1, Math.min(32, p.batchSize));
  const notes: string[] = [];
  const cut = spec.blocks - n;
  const shape = featureShapeAfter(spec, cut, s);
  const fineTunes = p.fineTuneEpochs > 0;
  // Backbone forward ms per image on the inference backend (embeddings, evaluation); the frozen prefix alone.
  await useBackend(ctx.backends.inference);
  const inf = ctx.backends.inference;
  // At the batch the embedding and evaluation passes run (16), cheaper per image than at 32.
  const fwd = once(`fwd|${p.backbone}|${s}|${EMBED_BATCH}|${inf}`, () =>
    timeSegment(() => buildSegment(spec, 0, spec.blocks, [s, s, 3], { gap: true }), [s, s, 3], EMBED_BATCH),
  );
  ctx.throwIfCancelled();
  const prefix = fineTunes
    ? once(`prefix|${p.backbone}|${s}|${cut}|${B}|${inf}`, () => timeSegment(() => buildSegment(spec, 0, cut, [s, s, 3]), [s, s, 3], B))
    : { ms: 0, warmupMs: 0 };
  ctx.throwIfCancelled();
  // Fine-tuning: forward + backward of the last n blocks on the training backend, and their forward pass.
  await useBackend(ctx.backends.training);
  const tail = buildSegment(spec, cut + 1, spec.blocks, shape, { gap: true });
  const tailParams = tail.countParams() + spec.featureChannels * p.numClasses + p.numClasses;
  const none = { step: { ms: 0, warmupMs: 0 }, forward: { ms: 0, warmupMs: 0 } };
  const tailMs = !fineTunes
    ? none
    : once(`tail|${p.backbone}|${s}|${n}|${B}|${p.numClasses}|${ctx.backends.training}`, () => {
        const head = buildHead(spec.featureChannels, p.numClasses, 1);
        const opt = tf.train.adam(1e-4);
        const vars = [...tail.trainableWeights, ...head.trainableWeights].map((w) => w.read() as tf.Variable);
        const x = tf.zeros([B, ...shape]);
        const y = tf.oneHot(tf.zeros([B], 'int32'), p.numClasses);
        const step = time(
          () => {
            const c = opt.minimize(
              () => tf.losses.softmaxCrossEntropy(y, head.apply(tail.apply(x, { training: true })) as tf.Tensor) as tf.Scalar,
              true,
              vars,
            );
            c?.dataSync();
            c?.dispose();
          },
          2,
          B,
        );
        const forward = time(() => void readTidy(() => head.apply(tail.apply(x, { training: false })) as tf.Tensor), 2, B);
        tf.dispose([x, y]);
        opt.dispose();
        head.dispose();
        return { step, forward };
      });
  const full = buildSegment(spec, 0, spec.blocks, [s, s, 3], { gap: true });
  const totalParams = full.countParams() + spec.featureChannels * p.numClasses + p.numClasses;
  full.dispose();
  tail.dispose();
  // Memory: weights (x3 for Adam moments on trainable ones) + activations of one batch (x3 in training).
  let act = 0;
  for (let b = 0; b <= spec.blocks; b++) {
    const [h, w, c] = featureShapeAfter(spec, b, s);
    act += h! * w! * c! * (spec.version === 2 ? 6 : 3); // conv, BN, ReLU outputs (v2: expanded channels)
  }
  const bytes = 4 * (totalParams + 2 * tailParams + act * p.batchSize * 3 + s * s * 3 * p.batchSize * 2);
  const peakMemoryMB = Math.round(bytes / 2 ** 20 + 350); // + runtime (Node, tfjs, wasm heap)
  const perEpoch = p.trainImages * p.variants;
  const K = Math.max(2, p.numClasses);
  // A head epoch on cached embeddings, timed with the trainer's own head code at the real sizes: the steps (with
  // their dropout masks) and the validation pass. The epoch's bookkeeping (checkpoint, event) is under 0.5 ms.
  const head = timeHead(spec.featureChannels, K, p.batchSize, Math.max(1, p.valImages), p.dropout ?? DEFAULT_TRAIN_CONFIG.dropout);
  const batches = Math.ceil(perEpoch / p.batchSize);
  const transferEpochSeconds = (batches * head.stepMs + (p.valImages > 0 ? head.valMs : 0)) / 1000;
  const transferEpochs = expectedTransferEpochs(p.epochs, p.patience ?? 0, p.valImages > 0, p.lrSchedule);
  const imageMs = fwd.ms + DECODE_MS;
  const embeddingSeconds = ((perEpoch + p.valImages) * (1 - p.cachedFraction) * imageMs + fwd.warmupMs) / 1000;
  const ft = fineTuneSeconds(
    {
      samplesPerEpoch: perEpoch,
      valImages: p.valImages,
      epochs: p.fineTuneEpochs,
      cachedItems: p.randomAugmentation
        ? 0
        : prefixCacheItems(
            perEpoch + p.valImages,
            shape.reduce((a, b) => a * b, 1),
          ),
    },
    { prefixMs: prefix.ms + DECODE_MS, stepMs: tailMs.step.ms, tailForwardMs: tailMs.forward.ms },
  );
  // Fresh prefix and tail models: their first batches pay the set-up once.
  const ftWarmup = fineTunes ? (prefix.warmupMs + tailMs.step.warmupMs + tailMs.forward.warmupMs) / 1000 : 0;
  const fineTuneTotal = fineTunes ? ft.totalSeconds + ftWarmup : 0;
  const evalImages = p.valImages + (p.testImages ?? 0);
  const evaluationSeconds = evalImages > 0 ? (evalImages * (fwd.ms * (p.tta ? 3 : 1) + DECODE_MS) + fwd.warmupMs) / 1000 : 0;
  const transferSeconds = p.epochs > 0 ? transferEpochSeconds * transferEpochs : 0;
  if (ctx.backends.training === 'cpu')
    notes.push('Training runs on the slow pure-JavaScript cpu backend: install tfjs-node (or a GPU) for faster fine-tuning.');
  if (s >= 448) notes.push('Large inputs: expect long fine-tuning epochs; transfer learning on cached embeddings stays fast.');
  return {
    trainImages: p.trainImages,
    valImages: p.valImages,
    testImages: p.testImages ?? 0,
    samplesPerEpoch: perEpoch,
    parameters: { total: totalParams, trainableFineTune: tailParams },
    backboneMsPerImage: fwd.ms,
    embeddingSeconds,
    transferEpochSeconds,
    fineTuneEpochSeconds: ft.epochSeconds,
    fineTuneFirstEpochSeconds: fineTunes ? ft.firstEpochSeconds + ftWarmup : 0,
    expectedTransferEpochs: transferEpochs,
    transferSeconds,
    fineTuneSeconds: fineTuneTotal,
    evaluationSeconds,
    totalSeconds: (p.epochs > 0 ? embeddingSeconds : 0) + transferSeconds + fineTuneTotal + evaluationSeconds,
    peakMemoryMB,
    notes,
  };
});
