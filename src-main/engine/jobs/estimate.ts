/**
 * Engine job 'estimate': time and memory of a training configuration on this machine's backends,
 * measured on a small batch (random weights: speed does not depend on their values).
 */
import * as tf from '@tensorflow/tfjs';
import type { EstimateJobParams, EstimateJobResult } from '../../services/engine/job-types.ts';
import { buildHead, buildSegment, featureShapeAfter, parseBackbone } from '../model/mobilenet.ts';
import { useBackend } from '../model/tf-util.ts';
import { JsHead } from '../train/js-head.ts';
import { defineJob } from '../job.ts';

export type { EstimateJobParams, EstimateJobResult };

/**
 * ms per image beside the backbone: decode and resize (sharp), the fixed variant, the embedding-cache write
 * (NEU at 224 on 2 cores: 9.9 ms an image through the pipeline against ~4 ms for the bare forward pass).
 */
const DECODE_MS = 5;
/** s per transfer epoch beside the head steps: validation, checkpoint, the epoch event (~15 ms measured on NEU). */
const EPOCH_OVERHEAD_S = 0.015;

/**
 * Transfer epochs a run is expected to take: with early stopping on the smoothed validation loss, the phase ends
 * about `patience` epochs after the loss levels off, which on the bench's data sets (NEU, elpv, the demo) came at
 * 1x to 5x the patience (31, 59 and 147 epochs at patience 30); 3x is the middle.
 */
export function expectedTransferEpochs(epochs: number, patience: number, hasVal: boolean): number {
  if (!hasVal || patience <= 0) return epochs;
  return Math.min(epochs, 3 * patience + 1);
}

const measured = new Map<string, number>();

function time(fn: () => void, reps: number): number {
  fn(); // warm-up (kernel set-up, XNNPACK operator creation)
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
}

/** ms of one head step (JsHead: forward, gradient, Adam) on a batch of random embeddings. */
function timeHeadBatch(C: number, K: number, B: number): number {
  const key = `head|${C}|${K}|${B}`;
  const known = measured.get(key);
  if (known !== undefined) return known;
  const head = new JsHead(new Float32Array(C * K).fill(0.01), new Float32Array(K), C, K, 1e-3);
  const x = Float32Array.from({ length: B * C }, (_, i) => ((i * 7919) % 1000) / 250);
  const labels = Array.from({ length: B }, (_, i) => i % K);
  const w = labels.map(() => 1);
  // Enough calls for V8 to optimise the loop, as it does over a real phase's thousands of steps.
  for (let i = 0; i < 50; i++) head.step(x, labels, w, undefined);
  const ms = time(() => void head.step(x, labels, w, undefined), 200);
  measured.set(key, ms);
  return ms;
}

export const estimateJob = defineJob<EstimateJobParams, never, EstimateJobResult>()('estimate', async (p, ctx) => {
  const spec = parseBackbone(p.backbone);
  const s = p.inputSize;
  const n = Math.max(1, Math.min(p.fineTuneBlocks, spec.blocks));
  // Timed at the run's own batch size (up to 32): per-image costs at 224+ px grow with the batch (activations
  // outgrow the caches), so a 4-image batch underestimated a 32-image fine-tuning step by up to 4x at 320 px.
  const B = Math.max(1, Math.min(32, p.batchSize));
  const notes: string[] = [];
  // Backbone forward ms per image on the inference backend.
  const fKey = `${p.backbone}|${s}|${B}|${ctx.backends.inference}`;
  let fwd = measured.get(fKey);
  if (fwd === undefined) {
    await useBackend(ctx.backends.inference);
    const m = buildSegment(spec, 0, spec.blocks, [s, s, 3], { gap: true });
    const x = tf.zeros([B, s, s, 3]);
    fwd = time(() => tf.tidy(() => (m.apply(x, { training: false }) as tf.Tensor).dataSync()), 1) / B;
    x.dispose();
    m.dispose();
    measured.set(fKey, fwd);
  }
  ctx.throwIfCancelled();
  // Fine-tuning: forward + backward of the last n blocks on the training backend.
  const cut = spec.blocks - n;
  const tKey = `${p.backbone}|${s}|${n}|${B}|${ctx.backends.training}`;
  let step = measured.get(tKey);
  await useBackend(ctx.backends.training);
  const shape = featureShapeAfter(spec, cut, s);
  const tail = buildSegment(spec, cut + 1, spec.blocks, shape, { gap: true });
  const tailParams = tail.countParams() + spec.featureChannels * p.numClasses + p.numClasses;
  if (step === undefined) {
    const head = buildHead(spec.featureChannels, p.numClasses, 1);
    const opt = tf.train.adam(1e-4);
    const vars = [...tail.trainableWeights, ...head.trainableWeights].map((w) => w.read() as tf.Variable);
    const x = tf.zeros([B, ...shape]);
    const y = tf.oneHot(tf.zeros([B], 'int32'), p.numClasses);
    step =
      time(() => {
        const c = opt.minimize(
          () => tf.losses.softmaxCrossEntropy(y, head.apply(tail.apply(x, { training: true })) as tf.Tensor) as tf.Scalar,
          true,
          vars,
        );
        c?.dataSync();
        c?.dispose();
      }, 1) / B;
    tf.dispose([x, y]);
    opt.dispose();
    head.dispose();
    measured.set(tKey, step);
  }
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
  // A head epoch on cached embeddings, timed with the trainer's own head code at the real sizes.
  const headBatchMs = timeHeadBatch(spec.featureChannels, K, p.batchSize);
  const transferEpochSeconds =
    (Math.ceil(perEpoch / p.batchSize) * headBatchMs + (p.valImages / p.batchSize) * headBatchMs * 0.4) / 1000 + EPOCH_OVERHEAD_S;
  const transferEpochs = expectedTransferEpochs(p.epochs, p.patience ?? 0, p.valImages > 0);
  const imageMs = fwd + DECODE_MS;
  const embeddingSeconds = ((perEpoch + p.valImages) * (1 - p.cachedFraction) * imageMs) / 1000;
  // A fine-tuning epoch: the frozen prefix and the trainable tail on every training sample (forward + backward
  // of the tail), the prefix and tail forward on validation; one validation pass more before the first epoch.
  const fineTuneEpochSeconds = ((perEpoch + p.valImages) * imageMs + perEpoch * step) / 1000;
  const fineTuneSeconds = p.fineTuneEpochs > 0 ? fineTuneEpochSeconds * p.fineTuneEpochs + (p.valImages * imageMs) / 1000 : 0;
  const evaluationSeconds = ((p.valImages + (p.testImages ?? 0)) * (fwd * (p.tta ? 3 : 1) + DECODE_MS)) / 1000;
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
    backboneMsPerImage: fwd,
    embeddingSeconds,
    transferEpochSeconds,
    fineTuneEpochSeconds,
    expectedTransferEpochs: transferEpochs,
    transferSeconds,
    fineTuneSeconds,
    evaluationSeconds,
    totalSeconds: (p.epochs > 0 ? embeddingSeconds : 0) + transferSeconds + fineTuneSeconds + evaluationSeconds,
    peakMemoryMB,
    notes,
  };
});
