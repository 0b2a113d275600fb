/**
 * Engine job 'estimate': time and memory of a training configuration on this machine's backends,
 * measured on a small batch (random weights: speed does not depend on their values).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackboneId, TrainingEstimate } from '../../../../shared/training-types.ts';
import { buildHead, buildSegment, featureShapeAfter, parseBackbone } from '../../model/mobilenet.ts';
import { useBackend } from '../../model/tf-util.ts';
import { defineJob } from '../job.ts';

export interface EstimateJobParams {
  backbone: BackboneId;
  inputSize: number;
  batchSize: number;
  fineTuneBlocks: number;
  trainImages: number;
  valImages: number;
  variants: number;
  epochs: number;
  fineTuneEpochs: number;
  numClasses: number;
  cachedFraction: number;
}

export type EstimateJobResult = Omit<TrainingEstimate, 'backend'>;

const measured = new Map<string, number>();

function time(fn: () => void, reps: number): number {
  fn(); // warm-up (kernel set-up, XNNPACK operator creation)
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
}

export const estimateJob = defineJob<EstimateJobParams, never, EstimateJobResult>()('estimate', async (p, ctx) => {
  const spec = parseBackbone(p.backbone);
  const s = p.inputSize;
  const n = Math.max(1, Math.min(p.fineTuneBlocks, spec.blocks));
  const B = 4;
  const notes: string[] = [];
  // Backbone forward ms per image on the inference backend.
  const fKey = `${p.backbone}|${s}|${ctx.backends.inference}`;
  let fwd = measured.get(fKey);
  if (fwd === undefined) {
    await useBackend(ctx.backends.inference);
    const m = buildSegment(spec, 0, spec.blocks, [s, s, 3], { gap: true });
    const x = tf.zeros([B, s, s, 3]);
    fwd = time(() => tf.tidy(() => (m.apply(x, { training: false }) as tf.Tensor).dataSync()), 2) / B;
    x.dispose();
    m.dispose();
    measured.set(fKey, fwd);
  }
  ctx.throwIfCancelled();
  // Fine-tuning: forward + backward of the last n blocks on the training backend.
  const cut = spec.blocks - n;
  const tKey = `${p.backbone}|${s}|${n}|${ctx.backends.training}`;
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
      }, 2) / B;
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
  const embeddingSeconds = ((perEpoch + p.valImages) * (1 - p.cachedFraction) * (fwd + 4)) / 1000; // + ~4 ms decode
  const transferEpochSeconds = Math.ceil(perEpoch / p.batchSize) * 0.002 + p.valImages * 1e-5; // head on cached embeddings
  const fineTuneEpochSeconds = ((perEpoch + p.valImages) * (fwd + 4) + perEpoch * step) / 1000;
  if (ctx.backends.training === 'cpu')
    notes.push('Training runs on the slow pure-JavaScript cpu backend: install tfjs-node (or a GPU) for faster fine-tuning.');
  if (s >= 448) notes.push('Large inputs: expect long fine-tuning epochs; transfer learning on cached embeddings stays fast.');
  return {
    trainImages: p.trainImages,
    valImages: p.valImages,
    samplesPerEpoch: perEpoch,
    parameters: { total: totalParams, trainableFineTune: tailParams },
    backboneMsPerImage: fwd,
    embeddingSeconds,
    transferEpochSeconds,
    fineTuneEpochSeconds,
    totalSeconds: embeddingSeconds + transferEpochSeconds * p.epochs + fineTuneEpochSeconds * p.fineTuneEpochs,
    peakMemoryMB,
    notes,
  };
});
