/**
 * The wasm gradient kernels against the cpu backend's, for every conv layer
 * configuration MobileNet v1 (alpha 0.25-1.0) and v2 (alpha 0.35, 1.0) use,
 * whole blocks, the replaced kernels' fallbacks, idempotent registration and
 * leaks. Tolerance: 1e-4 relative, as a norm (||wasm - cpu|| / ||cpu||):
 * both backends compute in float32 and differ only in summation order, which
 * puts the observed error near 1e-6.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOBILENET_TRAINING_KERNELS,
  missingWasmGradientKernels,
  registerWasmGradientKernels,
} from '../../src-main/engine/wasm-grads/index.ts';
import { windowGradInto } from '../../src-main/engine/wasm-grads/activation-grads.ts';
import { axisPhases } from '../../src-main/engine/wasm-grads/phase-input-grad.ts';
import { initWasmBackend } from '../../src-main/engine/wasm-grads/setup-wasm.ts';
import { simdWindowGrad, type WasmMemory } from '../../src-main/engine/wasm-grads/window-grad-simd.ts';

const TOLERANCE = 1e-4;
const BATCH = 2;

/** Deterministic values in [-1, 1): the same inputs reach both backends. */
function values(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] ?? 0;
    diff += ((actual[i] ?? 0) - e) ** 2;
    norm += e * e;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12);
}

/**
 * Runs `compute` on a backend and returns the results' values; nothing is
 * left allocated. The engine's per-kernel leak check (IS_TEST) is on while it
 * runs, so a wasm-grads kernel leaving an intermediate behind throws. It is
 * off elsewhere: it misfires on custom-gradient ops such as
 * softmaxCrossEntropy, on the cpu backend too.
 */
async function on(backend: 'wasm' | 'cpu', compute: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  // Variables outlive tidy(); the blocks create theirs inside `compute`.
  tf.disposeVariables();
  const before = tf.memory().numTensors;
  tf.env().set('IS_TEST', true);
  let outs: tf.Tensor[];
  try {
    outs = tf.tidy(compute);
  } finally {
    tf.env().set('IS_TEST', false);
  }
  const data = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  tf.disposeVariables();
  expect(tf.memory().numTensors).toBe(before);
  return data;
}

let worstSeen = 0;

async function expectSameOnBothBackends(compute: () => tf.Tensor[]): Promise<number> {
  const wasm = await on('wasm', compute);
  const cpu = await on('cpu', compute);
  expect(wasm.length).toBe(cpu.length);
  let worst = 0;
  cpu.forEach((expected, i) => {
    const actual = wasm[i];
    if (actual === undefined) throw new Error('missing wasm output');
    worst = Math.max(worst, relativeError(actual, expected));
  });
  expect(worst).toBeLessThan(TOLERANCE);
  worstSeen = Math.max(worstSeen, worst);
  return worst;
}

type Conv = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

type Shape4 = [number, number, number, number];

/** Gradients of sum(conv(x, w) * dy) for x and w, with a random dy. */
function convGrads(conv: Conv, xShape: Shape4, wShape: Shape4, seed: number): () => tf.Tensor[] {
  return () => {
    const x = tf.tensor4d(values(tf.util.sizeFromShape(xShape), seed), xShape);
    const w = tf.tensor4d(values(tf.util.sizeFromShape(wShape), seed + 1), wShape);
    const outShape = conv(x, w).shape;
    const dy = tf.tensor(values(tf.util.sizeFromShape(outShape), seed + 2), outShape) as tf.Tensor4D;
    return tf.grads((a: tf.Tensor, b: tf.Tensor) => conv(a as tf.Tensor4D, b as tf.Tensor4D))([x, w], dy);
  };
}

const SPATIAL = [7, 14, 15, 28];
/** Channel counts of MobileNet v1 alpha 0.25-1.0 and v2 alpha 0.35/1.0 layers, scaled down. */
const CHANNELS = [8, 16, 24, 32, 48, 64];
/** (in, out) of pointwise convs: v1 widening, v2 expansion and projection. */
const POINTWISE: Array<[number, number]> = [
  [8, 16],
  [16, 24],
  [24, 32],
  [32, 48],
  [48, 64],
  [64, 8],
  [16, 96],
];

/** Keras MobileNetV2's ZeroPadding2D before stride-2 'valid' convs (correct_pad). */
function correctPad(x: tf.Tensor4D): tf.Tensor4D {
  const odd = (x.shape[1] % 2) as 0 | 1;
  return tf.pad(x, [
    [0, 0],
    [1 - odd, 1],
    [1 - odd, 1],
    [0, 0],
  ]);
}

beforeAll(async () => {
  // WASM_GRADS_THREADS=1 runs the suite on the stock single-threaded build.
  const threads = Number(process.env['WASM_GRADS_THREADS'] ?? 0);
  const info = await initWasmBackend(threads > 0 ? { threads } : {});
  console.info(`wasm backend: simd=${info.simd} threads=${info.threads}`);
  expect(info.simd).toBe(true);
  expect(info.threads).toBeGreaterThanOrEqual(1);
});

afterAll(async () => {
  console.info(`worst wasm/cpu relative error: ${worstSeen.toExponential(2)}`);
  await tf.setBackend('wasm');
});

describe('registration', () => {
  it('registers the missing kernels once', () => {
    expect(missingWasmGradientKernels()).toEqual([]);
    expect(registerWasmGradientKernels()).toEqual([]);
    expect(registerWasmGradientKernels()).toEqual([]);
    for (const name of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
    }
  });

  it('lists every kernel a MobileNet v1/v2 fine-tuning step runs', async () => {
    await tf.setBackend('wasm');
    const L = tf.layers;
    const input = tf.input({ shape: [16, 16, 3] });
    const chain = (layers: tf.layers.Layer[], from: tf.SymbolicTensor): tf.SymbolicTensor =>
      layers.reduce((h, layer) => layer.apply(h) as tf.SymbolicTensor, from);
    const stem = chain(
      [
        L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
        L.batchNormalization({}),
        L.reLU({ maxValue: 6 }),
      ],
      input,
    );
    const residual = chain(
      [
        L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }),
        L.batchNormalization({}),
        L.activation({ activation: 'relu6' }),
        L.conv2d({ filters: 8, kernelSize: 1, useBias: false }),
        L.batchNormalization({}),
      ],
      stem,
    );
    const output = chain(
      [
        L.zeroPadding2d({
          padding: [
            [0, 1],
            [0, 1],
          ],
        }),
        L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', useBias: false }),
        L.globalAveragePooling2d({}),
        L.dropout({ rate: 0.2 }),
        L.dense({ units: 3, activation: 'softmax' }),
      ],
      L.add().apply([residual, stem]) as tf.SymbolicTensor,
    );
    const model = tf.model({ inputs: input, outputs: output });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const xs = tf.tensor4d(values(4 * 16 * 16 * 3, 9), [4, 16, 16, 3]);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
    const optimizer = tf.train.adam(1e-3);
    const info = await tf.profile(async () => {
      await model.fit(xs, ys, { epochs: 1, batchSize: 2, verbose: 0 });
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: false }) as tf.Tensor));
    });
    const kernels = info.kernelNames.filter((name) => tf.getKernel(name, 'cpu') !== undefined);
    expect(kernels.filter((name) => !MOBILENET_TRAINING_KERNELS.includes(name))).toEqual([]);
    tf.dispose([xs, ys]);
    optimizer.dispose();
    model.dispose();
  });
});

describe('depthwise 3x3 gradients (dx, dW) match cpu', () => {
  const cases = SPATIAL.flatMap((size) => CHANNELS.map((c) => ({ size, c })));
  it.each(cases)('stride 1 same: $size x $size x $c', async ({ size, c }) => {
    const conv: Conv = (x, w) => tf.depthwiseConv2d(x, w, 1, 'same');
    await expectSameOnBothBackends(convGrads(conv, [BATCH, size, size, c], [3, 3, c, 1], size * 100 + c));
  });
  it.each(cases)('stride 2 same: $size x $size x $c', async ({ size, c }) => {
    const conv: Conv = (x, w) => tf.depthwiseConv2d(x, w, 2, 'same');
    await expectSameOnBothBackends(convGrads(conv, [BATCH, size, size, c], [3, 3, c, 1], size * 100 + c + 7));
  });
  it.each(SPATIAL.map((size) => ({ size })))('v2 stride 2 valid after correct_pad: $size', async ({ size }) => {
    const conv: Conv = (x, w) => tf.depthwiseConv2d(correctPad(x), w, 2, 'valid');
    await expectSameOnBothBackends(convGrads(conv, [BATCH, size, size, 24], [3, 3, 24, 1], size));
  });
  it('channel multiplier 2 and explicit asymmetric padding', async () => {
    const conv: Conv = (x, w) =>
      tf.depthwiseConv2d(
        x,
        w,
        [2, 1],
        [
          [0, 0],
          [2, 0],
          [1, 3],
          [0, 0],
        ],
      );
    await expectSameOnBothBackends(convGrads(conv, [BATCH, 9, 11, 5], [3, 3, 5, 2], 42));
  });
});

describe('pointwise 1x1 gradients match cpu', () => {
  const cases = SPATIAL.flatMap((size) => POINTWISE.map(([ci, co]) => ({ size, ci, co })));
  it.each(cases)('$size x $size, $ci -> $co', async ({ size, ci, co }) => {
    const conv: Conv = (x, w) => tf.conv2d(x, w, 1, 'same');
    await expectSameOnBothBackends(convGrads(conv, [BATCH, size, size, ci], [1, 1, ci, co], size * 1000 + ci * 10 + co));
  });
  it('1x1 stride 2 (strided sampling path)', async () => {
    const conv: Conv = (x, w) => tf.conv2d(x, w, 2, 'same');
    await expectSameOnBothBackends(convGrads(conv, [BATCH, 15, 15, 16], [1, 1, 16, 24], 5));
  });
});

describe('first 3x3 stride-2 conv gradients match cpu', () => {
  const cases = [15, 28, 32].flatMap((size) => [8, 16, 24, 32].map((co) => ({ size, co })));
  it.each(cases)('same: $size x $size x 3 -> $co', async ({ size, co }) => {
    const conv: Conv = (x, w) => tf.conv2d(x, w, 2, 'same');
    await expectSameOnBothBackends(convGrads(conv, [BATCH, size, size, 3], [3, 3, 3, co], size + co));
  });
  it.each([15, 28].map((size) => ({ size })))('v2 valid after correct_pad: $size', async ({ size }) => {
    const conv: Conv = (x, w) => tf.conv2d(correctPad(x), w, 2, 'valid');
    await expectSameOnBothBackends(convGrads(conv, [BATCH, size, size, 3], [3, 3, 3, 16], size * 3));
  });
  it('strided input gradients by phase: larger filters and strides, filter = stride, explicit pads, mixed strides', async () => {
    const at = (
      x: tf.Tensor4D,
      w: tf.Tensor4D,
      s: [number, number],
      pad: 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]],
    ) => tf.conv2d(x, w, s, pad as 'same');
    await expectSameOnBothBackends(convGrads((x, w) => at(x, w, [2, 2], 'same'), [BATCH, 13, 16, 3], [5, 5, 3, 8], 21));
    await expectSameOnBothBackends(convGrads((x, w) => at(x, w, [3, 3], 'same'), [BATCH, 17, 14, 4], [3, 3, 4, 6], 22));
    await expectSameOnBothBackends(convGrads((x, w) => at(x, w, [2, 2], 'valid'), [BATCH, 11, 12, 5], [2, 2, 5, 7], 23));
    const explicit: [[0, 0], [number, number], [number, number], [0, 0]] = [
      [0, 0],
      [2, 0],
      [1, 3],
      [0, 0],
    ];
    await expectSameOnBothBackends(convGrads((x, w) => at(x, w, [2, 2], explicit), [BATCH, 9, 10, 3], [4, 4, 3, 8], 24));
    await expectSameOnBothBackends(convGrads((x, w) => at(x, w, [2, 1], 'same'), [BATCH, 12, 9, 3], [3, 3, 3, 5], 25));
  });
  it('phase geometry sends every filter tap to the input row the convolution took it from', () => {
    for (let inSize = 1; inSize <= 12; inSize++)
      for (let f = 1; f <= 5; f++)
        for (let s = 2; s <= 3; s++)
          for (let pad = 0; pad < f; pad++) {
            const outSize = Math.floor((inSize + pad + (f - 1) - f) / s) + 1;
            if (outSize < 1) continue;
            const g = axisPhases(inSize, f, s, pad, outSize);
            if (f < s) {
              expect(g).toBeNull();
              continue;
            }
            // Direct: output i reads input i·s + p − pad with tap p. By phase: residue ρ's m-th output is input row
            // s·m + ρ and reads dy[m + q − pad_before] with merged tap q (flipped: q = offset + count − 1 − t).
            const direct = new Set<string>();
            for (let i = 0; i < outSize; i++)
              for (let p = 0; p < f; p++) {
                const u = i * s + p - pad;
                if (u >= 0 && u < inSize) direct.add(`${u}:${i}:${p}`);
              }
            const phased = new Set<string>();
            g!.phases.forEach((ph, rho) => {
              for (let m = 0; m < g!.perPhase; m++) {
                const u = s * m + rho;
                if (u >= inSize) continue;
                for (let t = 0; t < ph.count; t++) {
                  const i = m + ph.offset + ph.count - 1 - t - g!.pad[0];
                  if (i >= 0 && i < outSize) phased.add(`${u}:${i}:${ph.tap + s * t}`);
                }
              }
            });
            expect([...phased].sort(), `in ${inSize} f ${f} s ${s} pad ${pad}`).toEqual([...direct].sort());
            // The stride-1 correlation over the padded dy yields exactly perPhase outputs.
            expect(outSize + g!.pad[0] + g!.pad[1] - g!.taps + 1).toBe(g!.perPhase);
          }
  });
  it('3x3 stride 1 and valid leftovers', async () => {
    await expectSameOnBothBackends(convGrads((x, w) => tf.conv2d(x, w, 1, 'same'), [BATCH, 9, 9, 8], [3, 3, 8, 12], 3));
    await expectSameOnBothBackends(convGrads((x, w) => tf.conv2d(x, w, 2, 'valid'), [BATCH, 10, 12, 4], [3, 3, 4, 6], 4));
  });
});

/** Inference-mode BatchNormalization with random frozen statistics; gamma and beta trained. */
interface Bn {
  gamma: tf.Variable;
  beta: tf.Variable;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}
function bn(c: number, seed: number): Bn {
  return {
    gamma: tf.variable(tf.add(tf.tensor1d(values(c, seed)), 1.5)),
    beta: tf.variable(tf.tensor1d(values(c, seed + 1))),
    mean: tf.tensor1d(values(c, seed + 2)),
    variance: tf.add(tf.abs(tf.tensor1d(values(c, seed + 3))), 0.5),
  };
}
function applyBn(x: tf.Tensor4D, p: Bn): tf.Tensor4D {
  return tf.batchNorm(x, p.mean, p.variance, p.beta, p.gamma, 1e-3) as tf.Tensor4D;
}

describe('whole blocks via tf.variableGrads match cpu', () => {
  /** Returns the loss and every variable's gradient, in a stable order. */
  function blockGrads(build: (seed: number) => { vars: tf.Variable[]; loss: () => tf.Scalar }): () => tf.Tensor[] {
    return () => {
      const { vars, loss } = build(11);
      const { value, grads } = tf.variableGrads(loss, vars);
      const out = [value, ...vars.map((v) => grads[v.name] ?? tf.scalar(Number.NaN))];
      return out;
    };
  }
  it.each([
    { stride: 1, size: 14, ci: 32, co: 64 },
    { stride: 2, size: 15, ci: 16, co: 32 },
    { stride: 2, size: 28, ci: 24, co: 48 },
    { stride: 1, size: 7, ci: 64, co: 64 },
  ])('v1: dw s$stride -> BN -> relu6 -> pw -> BN -> relu6 ($size, $ci -> $co)', async ({ stride, size, ci, co }) => {
    const compute = blockGrads((seed) => {
      const x = tf.tensor4d(values(BATCH * size * size * ci, seed), [BATCH, size, size, ci]);
      const dw = tf.variable(tf.tensor4d(values(9 * ci, seed + 1), [3, 3, ci, 1])) as tf.Variable<tf.Rank.R4>;
      const pw = tf.variable(tf.mul(tf.tensor4d(values(ci * co, seed + 2), [1, 1, ci, co]), 0.3)) as tf.Variable<tf.Rank.R4>;
      const bn1 = bn(ci, seed + 3);
      const bn2 = bn(co, seed + 7);
      const target = tf.tensor4d(values(BATCH * Math.ceil(size / stride) ** 2 * co, seed + 11), [
        BATCH,
        Math.ceil(size / stride),
        Math.ceil(size / stride),
        co,
      ]);
      const loss = (): tf.Scalar => {
        const h = tf.relu6(applyBn(tf.depthwiseConv2d(x, dw, stride, 'same'), bn1));
        const y = tf.relu6(applyBn(tf.conv2d(h, pw, 1, 'same'), bn2));
        return tf.mean(tf.square(tf.sub(y, target)));
      };
      return { vars: [dw, bn1.gamma, bn1.beta, pw, bn2.gamma, bn2.beta], loss };
    });
    await expectSameOnBothBackends(compute);
  });

  it('v2 inverted residual: expand -> BN -> relu6 -> dw -> BN -> relu6 -> project -> BN, + input', async () => {
    const size = 14;
    const c = 16;
    const e = 96;
    const compute = blockGrads((seed) => {
      const x = tf.tensor4d(values(BATCH * size * size * c, seed), [BATCH, size, size, c]);
      const expand = tf.variable(tf.mul(tf.tensor4d(values(c * e, seed + 1), [1, 1, c, e]), 0.3)) as tf.Variable<tf.Rank.R4>;
      const dw = tf.variable(tf.tensor4d(values(9 * e, seed + 2), [3, 3, e, 1])) as tf.Variable<tf.Rank.R4>;
      const project = tf.variable(tf.mul(tf.tensor4d(values(e * c, seed + 3), [1, 1, e, c]), 0.1)) as tf.Variable<tf.Rank.R4>;
      const [b1, b2, b3] = [bn(e, seed + 4), bn(e, seed + 8), bn(c, seed + 12)];
      const loss = (): tf.Scalar => {
        let h = tf.relu6(applyBn(tf.conv2d(x, expand, 1, 'same'), b1));
        h = tf.relu6(applyBn(tf.depthwiseConv2d(h, dw, 1, 'same'), b2));
        const y = tf.add(applyBn(tf.conv2d(h, project, 1, 'same'), b3), x);
        return tf.mean(tf.square(y));
      };
      return { vars: [expand, b1.gamma, b1.beta, dw, b2.gamma, b2.beta, project, b3.gamma, b3.beta], loss };
    });
    await expectSameOnBothBackends(compute);
  });

  it('tf.layers block: DepthwiseConv2D, BatchNormalization(training=false), ReLU(maxValue 6), Conv2D', async () => {
    const compute = (): tf.Tensor[] => {
      const L = tf.layers;
      const seq = [
        L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
        L.batchNormalization({}),
        L.reLU({ maxValue: 6 }),
        L.conv2d({ filters: 24, kernelSize: 1, useBias: false }),
        L.batchNormalization({}),
        L.reLU({ maxValue: 6 }),
      ];
      const x = tf.tensor4d(values(BATCH * 15 * 15 * 16, 3), [BATCH, 15, 15, 16]);
      let h: tf.Tensor = x;
      for (const layer of seq) h = layer.apply(h, { training: false }) as tf.Tensor;
      seq.forEach((layer, i) => {
        layer.setWeights(
          layer.getWeights().map((w, j) => {
            const v = values(w.size, i * 10 + j);
            // Variances must stay positive; everything else may be any value.
            return tf.tensor(j === 3 ? v.map((a) => Math.abs(a) + 0.5) : v, w.shape);
          }),
        );
      });
      const vars = seq.flatMap((layer) => layer.trainableWeights.map((w) => w.read() as tf.Variable));
      const loss = (): tf.Scalar => {
        let y: tf.Tensor = x;
        for (const layer of seq) y = layer.apply(y, { training: false }) as tf.Tensor;
        return tf.mean(tf.square(y));
      };
      const { value, grads } = tf.variableGrads(loss, vars);
      return [value, ...vars.map((v) => grads[v.name] ?? tf.scalar(Number.NaN))];
    };
    await expectSameOnBothBackends(compute);
  });
});

describe('activation gradients in one pass', () => {
  /** Values at and around each op's window edges, scaled to reach past ReLU6's 6. */
  const edgy = () => tf.tensor1d([-2, -0.5, 0, 1e-7, 0.25, 1, 3, 5.999, 6, 6.001, 9, -1, 0.5, -0.25]);
  const ops: Record<string, (x: tf.Tensor) => tf.Tensor> = {
    relu: (x) => tf.relu(x),
    relu6: (x) => tf.relu6(x),
    clip: (x) => tf.clipByValue(x, -0.5, 1),
  };

  it('ReLU, ReLU6 and ClipByValue gradients equal tfjs-core on cpu, window edges included', async () => {
    for (const op of Object.values(ops)) {
      const compute = () => {
        const x = edgy();
        const dy = tf.tensor1d(values(x.size, 9));
        return [tf.grad((a: tf.Tensor) => op(a))(x, dy)];
      };
      const [wasm] = await on('wasm', compute);
      const [cpu] = await on('cpu', compute);
      // Equal values; tfjs-core multiplies by a 0/1 mask, so its zeros carry dy's sign.
      expect(Array.from(wasm!, (v) => v + 0)).toEqual(Array.from(cpu!, (v) => v + 0));
    }
  });

  it('the SIMD loop agrees with the plain loop on shared and unshared memory, for every window', () => {
    const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => WasmMemory } }).WebAssembly;
    for (const shared of [true, false]) {
      const memory = new WA.Memory({ initial: 2, maximum: 16, shared });
      const fn = simdWindowGrad(memory);
      expect(fn, `SIMD loop on ${shared ? 'shared' : 'unshared'} memory`).not.toBeNull();
      const n = 1000;
      const x = new Float32Array(memory.buffer, 0, n);
      const dy = new Float32Array(memory.buffer, 4096, n);
      const dx = new Float32Array(memory.buffer, 8192, n);
      x.set(values(n, 5).map((v) => v * 8));
      x[3] = 0;
      x[4] = 6;
      x[5] = -0.5;
      x[6] = NaN;
      dy.set(values(n, 6));
      for (const w of [
        { lo: 0, hi: Infinity, includeLo: false },
        { lo: 0, hi: 6, includeLo: false },
        { lo: -0.5, hi: 1, includeLo: true },
      ]) {
        const expected = new Float32Array(n);
        windowGradInto(expected, dy, x, w);
        fn!(8192, 4096, 0, n, w.lo, w.hi, w.includeLo ? 1 : 0);
        expect(Array.from(dx)).toEqual(Array.from(expected));
      }
    }
  });

  it('runs as one kernel on wasm instead of the comparison chain', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(values(2 * 8 * 8 * 4, 3), [2, 8, 8, 4]).mul(8);
    const prof = await tf.profile(() => tf.dispose(tf.grad((a: tf.Tensor) => tf.relu6(a))(x)));
    const names = prof.kernels.map((k) => k.name);
    expect(names).toContain('KensaWindowGrad');
    expect(names).not.toContain('LessEqual');
    expect(names).not.toContain('Step');
    x.dispose();
  });
});

describe('replaced kernels keep their contract', () => {
  it('Tile: broadcasts and real tilings', async () => {
    await expectSameOnBothBackends(() => {
      const c = tf.tensor(values(24, 1), [1, 1, 1, 24]);
      const row = tf.tensor(values(6, 2), [6, 1]);
      const block = tf.tensor(values(12, 3), [3, 4]);
      return [tf.tile(c, [2, 5, 5, 1]), tf.tile(row, [1, 7]), tf.tile(block, [2, 3]), tf.tile(tf.tensor(values(4, 4), [1, 4]), [3, 1])];
    });
    await tf.setBackend('wasm');
    expect(tf.tile(tf.tensor1d([1, 2], 'int32'), [2]).arraySync()).toEqual([1, 2, 1, 2]);
  });

  it('Sum: leading, trailing, middle and all axes, keepDims', async () => {
    await expectSameOnBothBackends(() => {
      const x = tf.tensor(values(2 * 5 * 6 * 7, 5), [2, 5, 6, 7]);
      return [tf.sum(x, [0, 1, 2]), tf.sum(x, [0, 1], true), tf.sum(x, 0), tf.sum(x, [2, 3]), tf.sum(x, [1, 2]), tf.sum(x)];
    });
    await tf.setBackend('wasm');
    expect(tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0).arraySync()).toEqual([4, 6]);
  });

  it('FusedBatchNorm: per-channel statistics, optional scale/offset, other broadcasts', async () => {
    await expectSameOnBothBackends(() => {
      const x = tf.tensor4d(values(2 * 7 * 7 * 24, 6), [2, 7, 7, 24]);
      const v = (seed: number): tf.Tensor1D => tf.tensor1d(values(24, seed));
      const variance = tf.add(tf.abs(v(1)), 0.1) as tf.Tensor1D;
      const rows = tf.tensor2d(values(5 * 24, 7), [5, 24]);
      return [
        tf.batchNorm(x, v(2), variance, v(3), v(4), 1e-3),
        tf.batchNorm(x, v(2), variance, undefined, undefined, 1e-5),
        tf.batchNorm(rows, v(2), variance, v(3), v(4), 1e-3),
        // Scalar statistics take the stock kernel.
        tf.batchNorm(x, tf.scalar(0.5), tf.scalar(2), tf.scalar(0.1), tf.scalar(3), 1e-3),
      ];
    });
  });

  it('Identity shares data without leaking', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(y.arraySync()).toEqual([1, 2, 3]);
    y.dispose();
    expect(tf.clone(tf.tensor1d(['a', 'b'], 'string')).arraySync()).toEqual(['a', 'b']);
  });

  it('Conv2DBackpropInput: NCHW goes to the stock kernel', async () => {
    await tf.setBackend('wasm');
    // NCHW conv2dTranspose has no cpu kernel either; check against NHWC on wasm.
    const dy = tf.tensor4d(values(2 * 4 * 5 * 5, 8), [2, 4, 5, 5]);
    const w = tf.tensor4d(values(3 * 3 * 6 * 4, 9), [3, 3, 6, 4]);
    const nchw = tf.engine().runKernel(
      'Conv2DBackpropInput',
      { dy, filter: w },
      {
        strides: [1, 1],
        pad: 'same',
        dataFormat: 'NCHW',
        inputShape: [2, 6, 5, 5],
      },
    ) as tf.Tensor4D;
    const nhwc = tf.conv2dTranspose(tf.transpose(dy, [0, 2, 3, 1]), w, [2, 5, 5, 6], 1, 'same');
    expect(relativeError(nchw.transpose([0, 2, 3, 1]).dataSync() as Float32Array, nhwc.dataSync() as Float32Array)).toBeLessThan(TOLERANCE);
    tf.dispose([dy, w, nchw, nhwc]);
  });
});

describe('memory', () => {
  it('a fine-tuning step leaks neither tensors nor wasm data', async () => {
    await tf.setBackend('wasm');
    const dw = tf.variable(tf.tensor4d(values(9 * 16, 1), [3, 3, 16, 1])) as tf.Variable<tf.Rank.R4>;
    const pw = tf.variable(tf.tensor4d(values(16 * 32, 2), [1, 1, 16, 32])) as tf.Variable<tf.Rank.R4>;
    const stem = tf.variable(tf.tensor4d(values(27 * 16, 3), [3, 3, 3, 16])) as tf.Variable<tf.Rank.R4>;
    const x = tf.tensor4d(values(2 * 15 * 15 * 3, 4), [2, 15, 15, 3]);
    const optimizer = tf.train.adam(1e-2);
    const step = (): void => {
      optimizer.minimize(() => {
        const h = tf.relu6(tf.conv2d(x, stem, 2, 'same'));
        const y = tf.conv2d(tf.relu6(tf.depthwiseConv2d(h, dw, 2, 'same')), pw, 1, 'same');
        return tf.mean(tf.square(y));
      });
    };
    step(); // Adam creates its slots on the first step.
    const tensors = tf.memory().numTensors;
    const dataIds = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    optimizer.dispose();
    tf.dispose([dw, pw, stem, x]);
  });
});
