/**
 * Two epochs of fine-tuning a small MobileNet-like network (tf.layers: 3x3
 * stride-2 stem, three depthwise/pointwise blocks, GAP, dense head; last two
 * blocks + head trained, BatchNormalization frozen in inference mode, Adam)
 * from the same initial weights and data on wasm and on cpu give the same
 * loss curve.
 *
 * Tolerance: 1e-3 relative per epoch. Each backend computes in float32 and
 * they differ only in summation order (~1e-6 relative per gradient, see
 * wasm-grads.test.ts). Adam divides each update by the root of that
 * coordinate's squared-gradient average, so for coordinates whose gradient
 * is near zero those tiny differences become differences in the step
 * itself; over four steps that moves the loss by far less than 1e-3, while
 * a wrong gradient kernel moves it by 1e-2 or more.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { initWasmBackend } from '../../src-main/engine/wasm-grads/setup-wasm.ts';

const TOLERANCE = 1e-3;
const SIZE = 32;
const IMAGES = 8;
const BATCH = 4;
const EPOCHS = 2;
const CLASSES = 3;
const TRAINED_BLOCKS = 2;

function values(n: number, seed: number, scale = 1): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

interface Net {
  frozen: tf.layers.Layer[];
  trained: tf.layers.Layer[];
  head: tf.layers.Layer;
}

/** Stem + blocks of (dw, BN, ReLU6, pw, BN, ReLU6), MobileNet v1 style, with deterministic weights. */
function buildNet(): Net {
  const L = tf.layers;
  const convBnRelu = (conv: tf.layers.Layer): tf.layers.Layer[] => [conv, L.batchNormalization({ epsilon: 1e-3 }), L.reLU({ maxValue: 6 })];
  const block = (stride: number, filters: number): tf.layers.Layer[] => [
    ...convBnRelu(L.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false })),
    ...convBnRelu(L.conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false })),
  ];
  const stem = convBnRelu(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }));
  const blocks = [block(1, 16), block(2, 24), block(1, 32)];
  const head = L.dense({ units: CLASSES });
  const frozen = [...stem, ...blocks.slice(0, blocks.length - TRAINED_BLOCKS).flat()];
  const trained = blocks.slice(blocks.length - TRAINED_BLOCKS).flat();

  // Build every layer, then give it weights that do not depend on the backend.
  tf.tidy(() => {
    let h: tf.Tensor = tf.zeros([1, SIZE, SIZE, 3]);
    for (const layer of [...frozen, ...trained]) h = layer.apply(h) as tf.Tensor;
    head.apply(tf.mean(h, [1, 2]));
  });
  [...frozen, ...trained, head].forEach((layer, li) => {
    const isBn = layer.getClassName() === 'BatchNormalization';
    const weights = layer.getWeights().map((w, wi) => {
      const fanIn =
        w.shape.length === 4
          ? (w.shape[0] ?? 1) * (w.shape[1] ?? 1) * (layer.getClassName() === 'Conv2D' ? (w.shape[2] ?? 1) : 1)
          : (w.shape[0] ?? 1);
      const v = values(w.size, li * 16 + wi + 1, isBn ? 0.2 : Math.sqrt(3 / fanIn));
      // BN: gamma ~ 1, beta ~ 0, moving mean ~ 0, moving variance ~ 1 (positive).
      if (isBn && (wi === 0 || wi === 3))
        return tf.tensor(
          v.map((a) => 1 + a),
          w.shape,
        );
      return tf.tensor(v, w.shape);
    });
    layer.setWeights(weights);
    tf.dispose(weights);
  });
  return { frozen, trained, head };
}

function forward(layers: tf.layers.Layer[], x: tf.Tensor): tf.Tensor {
  let h = x;
  for (const layer of layers) h = layer.apply(h, { training: false }) as tf.Tensor;
  return h;
}

/** Mean training loss of each epoch. */
async function fineTune(backend: 'wasm' | 'cpu'): Promise<number[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const net = buildNet();
  const images = values(IMAGES * SIZE * SIZE * 3, 777);
  const labels = Int32Array.from({ length: IMAGES }, (_, i) => (i * 7 + 1) % CLASSES);
  const vars = [...net.trained, net.head].flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
  const optimizer = tf.train.adam(0.01);
  const curve: number[] = [];
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    let total = 0;
    for (let start = 0; start < IMAGES; start += BATCH) {
      const pixels = SIZE * SIZE * 3;
      const x = tf.tensor4d(images.subarray(start * pixels, (start + BATCH) * pixels), [BATCH, SIZE, SIZE, 3]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels.subarray(start, start + BATCH), 'int32'), CLASSES));
      const features = tf.tidy(() => forward(net.frozen, x));
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(y, forward([net.head], tf.mean(forward(net.trained, features), [1, 2]))) as tf.Scalar,
        true,
        vars,
      );
      total += loss?.dataSync()[0] ?? Number.NaN;
      tf.dispose([x, y, features]);
      loss?.dispose();
    }
    curve.push(total / (IMAGES / BATCH));
  }
  optimizer.dispose();
  tf.disposeVariables();
  expect(tf.memory().numTensors).toBe(before);
  return curve;
}

beforeAll(async () => {
  await initWasmBackend();
});

it(`fine-tuning on wasm follows the cpu loss curve within ${TOLERANCE} relative per epoch`, async () => {
  const wasm = await fineTune('wasm');
  const cpu = await fineTune('cpu');
  console.info(`loss per epoch: wasm ${wasm.join(', ')}; cpu ${cpu.join(', ')}`);
  expect(wasm).toHaveLength(EPOCHS);
  cpu.forEach((expected, epoch) => {
    const actual = wasm[epoch] ?? Number.NaN;
    expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThan(TOLERANCE);
  });
  // The run must actually train, or equal curves would prove little.
  expect(cpu[EPOCHS - 1] ?? Number.NaN).toBeLessThan(cpu[0] ?? Number.NaN);
});
