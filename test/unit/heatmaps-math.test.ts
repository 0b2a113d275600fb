import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cam,
  classScores,
  gradCam,
  gradientFolding,
  normalise,
  resizeBilinear,
  saliency,
  smoothGrad,
  spatialLayers,
} from '../../src-main/engine/heatmaps/index.ts';
import { fillGaussian } from '../../src-main/engine/heatmaps/gaussian.ts';
import { aggregateScores, scoreMap } from '../../src-main/services/heatmaps/scoring.ts';
import { initWasmBackend } from '../../src-main/engine/wasm-grads/setup-wasm.ts';
import { colorOf, overlay } from '../../src-main/services/heatmaps/colormap.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * 4x4x1 input → 1x1 conv, 2 filters, ReLU ('feat') → GAP → dense softmax over 2 classes (no bias).
 * f_0 = relu(x), f_1 = relu(-x); w = [[1, -1], [2, 0.5]] (rows: features, cols: classes).
 */
function tinyCamNet(): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 1] });
  const feat = tf.layers
    .conv2d({ filters: 2, kernelSize: 1, useBias: false, activation: 'relu', name: 'feat' })
    .apply(input) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(feat) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, activation: 'softmax', useBias: false, name: 'head_dense' }).apply(gap) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  m.getLayer('feat').setWeights([tf.tensor4d([1, -1], [1, 1, 1, 2])]);
  m.getLayer('head_dense').setWeights([
    tf.tensor2d([
      [1, -1],
      [2, 0.5],
    ]),
  ]);
  return m;
}

/** Residual network: conv 'a' (3x3, stride 2) → conv 'b' → add(a, b) → ReLU 'r' → GAP → dense softmax (3 classes). */
function residualNet(seed = 3): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  const a = tf.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      name: 'a',
      kernelInitializer: tf.initializers.glorotNormal({ seed }),
    })
    .apply(input) as tf.SymbolicTensor;
  const b = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'b', kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) })
    .apply(a) as tf.SymbolicTensor;
  const s = tf.layers.add({ name: 'sum' }).apply([a, b]) as tf.SymbolicTensor;
  const r = tf.layers.reLU({ maxValue: 6, name: 'r' }).apply(s) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(r) as tf.SymbolicTensor;
  const d = tf.layers.dropout({ rate: 0.5, name: 'head_dropout' }).apply(gap) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 3, activation: 'softmax', name: 'head_dense', kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 2 }) })
    .apply(d) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

const X = [
  [1, 0, -1, 2],
  [0, 3, 0, 0],
  [-2, 0, 1, 0],
  [0, 0, 0, -1],
];

describe('CAM', () => {
  it('equals the hand-computed map on a tiny network', () => {
    const m = tinyCamNet();
    const x = tf.tensor4d(X.flat(), [1, 4, 4, 1]);
    const r = cam(m, x, [0, 1]);
    // class 0: 1*relu(x) + 2*relu(-x); class 1: -1*relu(x) + 0.5*relu(-x)
    const c0 = X.flat().map((v) => (v > 0 ? v : v < 0 ? -2 * v : 0));
    const c1 = X.flat().map((v) => (v > 0 ? -v : v < 0 ? -0.5 * v : 0));
    expect(Array.from(r.maps[0]![0]!.data)).toEqual(c0);
    expect(Array.from(r.maps[0]![1]!.data)).toEqual(c1);
    // Hand-computed literal for one pixel: x=3 → class 0: 3, class 1: -3; x=-2 → 4 and 1.
    expect(r.maps[0]![0]!.data[5]).toBe(3);
    expect(r.maps[0]![1]!.data[8]).toBe(1);
    expect(r.maps[0]![0]!.width).toBe(4);
    // probabilities are the model's
    const p = (m.predict(x) as tf.Tensor).arraySync() as number[][];
    expect(r.probabilities[0]![0]).toBeCloseTo(p[0]![0]!, 6);
    // predicted class when null: logits = mean CAM = [sum(c0)/16, sum(c1)/16]
    const pred = cam(m, x, [null]);
    const mean0 = c0.reduce((a, b) => a + b) / 16;
    const mean1 = c1.reduce((a, b) => a + b) / 16;
    expect(Array.from(pred.maps[0]![0]!.data)).toEqual(mean0 > mean1 ? c0 : c1);
    x.dispose();
  });

  it('Grad-CAM at the last conv layer equals ReLU(CAM) after normalisation (GAP head)', () => {
    const m = residualNet();
    const x = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
    const c = cam(m, x, [1]);
    const g = gradCam(m, x, 1, 'r');
    for (let i = 0; i < 2; i++) {
      const a = normalise(c.maps[i]![0]!, 'relu-max').data;
      const b = normalise(g.maps[i]!, 'relu-max').data;
      for (let k = 0; k < a.length; k++) expect(b[k]).toBeCloseTo(a[k]!, 4);
    }
    x.dispose();
  });

  it('Grad-CAM at an inner layer with a skip connection matches a hand-written gradient', () => {
    const m = residualNet(11);
    const x = tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 9) as tf.Tensor4D;
    const got = gradCam(m, x, 2, 'a').maps[0]!;
    const [kb, bb] = m.getLayer('b').getWeights();
    const [kd, bd] = m.getLayer('head_dense').getWeights();
    const want = tf.tidy(() => {
      const A = m.getLayer('a').apply(x) as tf.Tensor4D;
      const f = (a: tf.Tensor) => {
        const b = tf.add(tf.conv2d(a as tf.Tensor4D, kb as tf.Tensor4D, 1, 'same'), bb!);
        const r = tf.clipByValue(tf.add(a, b), 0, 6);
        const logits = tf.add(tf.matMul(tf.mean(r, [1, 2]) as tf.Tensor2D, kd as tf.Tensor2D), bd!);
        return tf.sum(tf.slice(logits, [0, 2], [1, 1]));
      };
      const g = tf.grad(f)(A);
      return tf.relu(tf.sum(tf.mul(tf.mean(g, [1, 2], true), A), 3)).dataSync();
    });
    expect(got.width).toBe(4);
    for (let k = 0; k < want.length; k++) expect(got.data[k]).toBeCloseTo(want[k]!, 5);
    x.dispose();
  });

  it('class scores are logits of the softmax head and layer choices are listed', () => {
    const m = residualNet();
    const x = tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
    const s = tf.tidy(() => tf.softmax(classScores(m, x)).arraySync()) as number[][];
    const p = tf.tidy(() => (m.predict(x) as tf.Tensor).arraySync()) as number[][];
    for (let c = 0; c < 3; c++) expect(s[0]![c]).toBeCloseTo(p[0]![c]!, 5);
    expect(spatialLayers(m)).toEqual(['a', 'b', 'sum', 'r']);
    x.dispose();
  });
});

describe('saliency and SmoothGrad', () => {
  it('input gradient matches finite differences', () => {
    const m = residualNet(5);
    const x = tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 4) as tf.Tensor4D;
    const s = saliency(m, x, 0).maps[0]!;
    const base = Float32Array.from(x.dataSync());
    const score = (arr: Float32Array) => tf.tidy(() => classScores(m, tf.tensor4d(arr, [1, 8, 8, 3])).dataSync()[0]!);
    const eps = 1e-2;
    for (const pix of [0, 13, 37, 63]) {
      let best = 0;
      for (let ch = 0; ch < 3; ch++) {
        const up = base.slice();
        const dn = base.slice();
        up[pix * 3 + ch] = up[pix * 3 + ch]! + eps;
        dn[pix * 3 + ch] = dn[pix * 3 + ch]! - eps;
        best = Math.max(best, Math.abs((score(up) - score(dn)) / (2 * eps)));
      }
      expect(s.data[pix]).toBeCloseTo(best, 2);
    }
    x.dispose();
  });

  it('batched SmoothGrad equals one-by-one with the same noise', () => {
    const m = residualNet(2);
    const x = tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const a = smoothGrad(m, x, 1, { n: 20, batchSize: 10, seed: 42 });
    const b = smoothGrad(m, x, 1, { n: 20, batchSize: 1, seed: 42 });
    const c = smoothGrad(m, x, 1, { n: 20, batchSize: 7, seed: 42 });
    for (let k = 0; k < a.map.data.length; k++) {
      expect(a.map.data[k]).toBeCloseTo(b.map.data[k]!, 5);
      expect(c.map.data[k]).toBeCloseTo(b.map.data[k]!, 5);
    }
    // and differs from plain saliency (noise did something) while staying the same scale
    const plain = saliency(m, x, 1).maps[0]!;
    expect(Array.from(a.map.data)).not.toEqual(Array.from(plain.data));
    x.dispose();
  });

  it('is the mean saliency of x + σ·range·z over the copies, z drawn per copy from seed + i', () => {
    const m = residualNet(4);
    const x = tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 6) as tf.Tensor4D;
    const sg = smoothGrad(m, x, 2, { n: 3, sigma: 0.15, inputRange: 2, batchSize: 2, seed: 9 });
    const base = x.dataSync() as Float32Array;
    const expected = new Float32Array(64);
    for (let i = 0; i < 3; i++) {
      const copy = new Float32Array(base.length);
      fillGaussian(copy, 9 + i, 0.3, base);
      const noisy = tf.tensor4d(copy, [1, 8, 8, 3]);
      const map = saliency(m, noisy, 2).maps[0]!;
      noisy.dispose();
      for (let k = 0; k < 64; k++) expected[k]! += map.data[k]! / 3;
    }
    for (let k = 0; k < 64; k++) expect(sg.map.data[k]).toBeCloseTo(expected[k]!, 5);
    x.dispose();
  });

  it('splits a batch that runs out of memory, gives the same map and leaks nothing', () => {
    // A layer that fails like native TensorFlow on a GPU when it gets more than 2 images at once.
    let failure = 'OOM when allocating tensor with shape';
    class OomAbove2 extends tf.layers.Layer {
      static className = 'OomAbove2';
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        if (x.shape[0]! > 2) throw new Error(`${failure}[${x.shape.join(',')}]`);
        return tf.mul(x, 1);
      }
    }
    const input = tf.input({ shape: [8, 8, 3] });
    const conv = tf.layers
      .conv2d({
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'c',
        kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
      })
      .apply(input) as tf.SymbolicTensor;
    const gate = new OomAbove2({ name: 'gate' }).apply(conv) as tf.SymbolicTensor;
    const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(gate) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 2, activation: 'softmax', name: 'head_dense', kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) })
      .apply(gap) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: out });
    const x = tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
    const oneByOne = smoothGrad(m, x, 1, { n: 7, batchSize: 1 });
    const before = tf.memory().numTensors;
    const split = smoothGrad(m, x, 1, { n: 7, batchSize: 7 });
    expect(tf.memory().numTensors).toBe(before);
    expect(split.batchSize).toBe(2);
    for (let k = 0; k < 64; k++) expect(split.map.data[k]).toBeCloseTo(oneByOne.map.data[k]!, 5);
    // Other failures are not retried.
    failure = 'Invalid shape';
    expect(() => smoothGrad(m, x, 1, { n: 3, batchSize: 3 })).toThrow(/Invalid shape/);
    x.dispose();
    m.dispose();
  });

  it('reduces on the device (native TensorFlow) and in JS (wasm, cpu) to the same map', () => {
    const m = residualNet(6);
    const x = tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 8) as tf.Tensor4D;
    const onDevice = smoothGrad(m, x, 0, { n: 6, batchSize: 4, reduction: 'device' });
    const inJs = smoothGrad(m, x, 0, { n: 6, batchSize: 4, reduction: 'js' });
    for (let k = 0; k < 64; k++) expect(inJs.map.data[k]).toBeCloseTo(onDevice.map.data[k]!, 6);
    expect(Math.max(...inJs.map.data)).toBeGreaterThan(0);
    x.dispose();
  });
});

describe('BN folding of the gradient graph', () => {
  /** MobileNet-like: conv → BN → ReLU6 → depthwise → BN → ReLU6 → GAP → dense softmax, with non-trivial BN statistics. */
  function bnNet(): tf.LayersModel {
    const input = tf.input({ shape: [12, 12, 3] });
    let y = tf.layers
      .conv2d({
        filters: 8,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        useBias: false,
        name: 'c1',
        kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
      })
      .apply(input) as tf.SymbolicTensor;
    y = tf.layers.batchNormalization({ name: 'c1_bn', epsilon: 1e-3 }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.reLU({ maxValue: 6, name: 'c1_relu' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers
      .depthwiseConv2d({
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        name: 'dw',
        depthwiseInitializer: tf.initializers.glorotNormal({ seed: 2 }),
      })
      .apply(y) as tf.SymbolicTensor;
    y = tf.layers.batchNormalization({ name: 'dw_bn', epsilon: 1e-3 }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.reLU({ maxValue: 6, name: 'dw_relu' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 3, activation: 'softmax', name: 'head_dense', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) })
      .apply(y) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: out });
    for (const n of ['c1_bn', 'dw_bn']) {
      const l = m.getLayer(n);
      l.setWeights([
        tf.randomUniform([8], 0.5, 2, 'float32', 4),
        tf.randomUniform([8], -1, 1, 'float32', 5),
        tf.randomUniform([8], -0.5, 0.5, 'float32', 6),
        tf.randomUniform([8], 0.2, 3, 'float32', 7),
      ]);
    }
    return m;
  }

  it.each(['cpu', 'wasm'])(
    'gives the same CAM, saliency and Grad-CAM as the layers themselves, fused conv + ReLU6 included (%s)',
    async (backend) => {
      if (backend === 'wasm') await initWasmBackend();
      await tf.setBackend(backend);
      const m = bnNet();
      const x = tf.randomUniform([2, 12, 12, 3], -1, 1, 'float32', 8) as tf.Tensor4D;
      // Grad-CAM at a ReLU (its conv fused), at a BN and at a conv (their chain kept apart: their own output is read).
      const gradLayers = ['dw_relu', 'c1_bn', 'dw'];
      gradientFolding.enabled = false;
      const s0 = saliency(m, x, [0, 2]).maps;
      const g0 = gradLayers.map((l) => gradCam(m, x, 1, l).maps);
      const c0 = cam(m, x, 'all');
      gradientFolding.enabled = true;
      const s1 = saliency(m, x, [0, 2]).maps;
      const g1 = gradLayers.map((l) => gradCam(m, x, 1, l).maps);
      const c1 = cam(m, x, 'all');
      for (let i = 0; i < 2; i++)
        for (let c = 0; c < 3; c++) {
          expect(c1.probabilities[i]![c]).toBeCloseTo(c0.probabilities[i]![c]!, 5);
          for (let k = 0; k < 36; k++) expect(c1.maps[i]![c]!.data[k]).toBeCloseTo(c0.maps[i]![c]!.data[k]!, 4);
        }
      for (let i = 0; i < 2; i++) {
        expect(Math.max(...s0[i]!.data)).toBeGreaterThan(0);
        for (let k = 0; k < s0[i]!.data.length; k++) expect(s1[i]!.data[k]).toBeCloseTo(s0[i]!.data[k]!, 4);
        gradLayers.forEach((l, j) => {
          for (let k = 0; k < g0[j]![i]!.data.length; k++) expect(g1[j]![i]!.data[k], `${l}`).toBeCloseTo(g0[j]![i]!.data[k]!, 4);
        });
      }
      x.dispose();
      // disposing the model frees its folded weights too (2 conv+BN pairs: 2 kernels + 2 biases)
      const weights = m.weights.length;
      const n0 = tf.memory().numTensors;
      m.dispose();
      expect(n0 - tf.memory().numTensors).toBe(weights + 4);
      await tf.setBackend('cpu');
    },
  );
});

describe('no tensor leaks', () => {
  it('1,000 heatmaps leave tf.memory().numTensors unchanged', () => {
    const m = residualNet();
    const x = tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    // warm up: lazily created weights/cam model
    cam(m, x);
    gradCam(m, x, null);
    smoothGrad(m, x, null, { n: 4, batchSize: 2 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) {
      const k = i % 10;
      if (k < 7) cam(m, x, 'all');
      else if (k === 7) gradCam(m, x, 1, 'b');
      else if (k === 8) saliency(m, x, null);
      else smoothGrad(m, x, 2, { n: 4, batchSize: 2, seed: i });
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    // and disposing the model frees what the heatmap code kept for it (folded weights)
    const base = tf.memory().numTensors;
    const m2 = residualNet(9);
    const x2 = tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    gradCam(m2, x2, null);
    x2.dispose();
    m2.dispose();
    expect(tf.memory().numTensors).toBe(base);
  });
});

describe('post-processing and scores', () => {
  it('normalises and resizes bilinearly', () => {
    const g = { width: 2, height: 1, data: Float32Array.from([-1, 3]) };
    expect(Array.from(normalise(g, 'relu-max').data)).toEqual([0, 1]);
    expect(Array.from(normalise(g, 'minmax').data)).toEqual([0, 1]);
    const r = resizeBilinear({ width: 2, height: 1, data: Float32Array.from([0, 1]) }, 4, 1);
    expect(Array.from(r.data)).toEqual([0, 0.25, 0.75, 1]);
  });

  it('pointing game and energy in region on hand-made maps', () => {
    // 5x5 map, peak at (3,1); region = the 2x2 block at x 3..4, y 0..1
    const map = { width: 5, height: 5, data: new Float32Array(25) };
    map.data[1 * 5 + 3] = 1;
    map.data[1 * 5 + 4] = 0.5;
    map.data[4 * 5 + 0] = 0.5;
    const mask = new Uint8Array(25);
    for (const [x, y] of [
      [3, 0],
      [4, 0],
      [3, 1],
      [4, 1],
    ] as const)
      mask[y * 5 + x] = 1;
    const s = scoreMap(map, mask, 0)!;
    expect(s.pointing).toBe(true);
    expect(s.energy).toBeCloseTo(1.5 / 2, 6);
    expect(s.area).toBeCloseTo(4 / 25, 6);
    expect(s.peak).toEqual({ x: 3, y: 1 });
    // move the peak outside, 2 px from the region: miss at tolerance 1, hit at tolerance 2
    map.data[1 * 5 + 3] = 0;
    map.data[3 * 5 + 3] = 2;
    expect(scoreMap(map, mask, 1)!.pointing).toBe(false);
    expect(scoreMap(map, mask, 2)!.pointing).toBe(true);
    expect(scoreMap(map, new Uint8Array(25))).toBeNull();
    const agg = aggregateScores([
      { pointing: true, energy: 0.5, area: 0.1 },
      { pointing: false, energy: 0.1, area: 0.3 },
    ]);
    expect(agg).toEqual({ count: 2, pointingAccuracy: 0.5, meanEnergy: 0.3, meanArea: 0.2 });
  });

  it('colour maps and overlay', () => {
    expect(colorOf('grey', 1)).toEqual([255, 255, 255]);
    expect(colorOf('jet', 0)).toEqual([0, 0, 128]);
    const [r, , b] = colorOf('turbo', 1);
    expect(r).toBeGreaterThan(100);
    expect(b).toBeLessThan(30);
    const px = new Uint8Array([100, 100, 100]);
    expect(Array.from(overlay(px, { width: 1, height: 1, data: Float32Array.from([1]) }, 'grey', 0.5))).toEqual([178, 178, 178]);
    expect(Array.from(overlay(px, { width: 1, height: 1, data: Float32Array.from([1]) }, 'grey', 0))).toEqual([100, 100, 100]);
  });
});
