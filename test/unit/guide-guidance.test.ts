/**
 * Training guided by regions: the guidance loss itself, and a run on a synthetic set where a corner marker predicts
 * the class as well as the defect does (a shortcut): with guidance the model's maps move onto the defect.
 */
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initWasmForProbe } from '../../src-main/engine/backend/wasm-init.ts';
import type { SampleSource } from '../../src-main/services/training/data/source.ts';
import { addGuidanceGradient, guidanceLoss, guidanceLossTensor, variantTarget } from '../../src-main/engine/guide/guidance.ts';
import { prepareTarget } from '../../src-main/services/training/guide/localisation.ts';
import type { RegionMask } from '../../src-main/services/training/guide/regions.ts';
import { readWeightSet } from '../../src-main/engine/model/weights.ts';
import { createRng } from '../../src-main/services/training/train/rng.ts';
import { Trainer, type TrainerEvent } from '../../src-main/engine/train/trainer.ts';
import { resolveConfig } from '../../src-main/services/training/train/config.ts';

const WEIGHTS = resolve(import.meta.dirname, '../../../shared/models/mobilenet_v1_0.25_224');
let training = 'cpu';
beforeAll(async () => {
  const f = await initWasmForProbe();
  training = f.missingGradients.length ? 'cpu' : 'wasm';
});

/** A 7x7-grid target for a 224-px box [32, 192)²: the interpolated mass of nodes 2..4 lies wholly inside it. */
function boxTarget() {
  const W = 224;
  const mask = new Uint8Array(W * W);
  for (let y = 32; y < 192; y++) mask.fill(1, y * W + 32, y * W + 192);
  return prepareTarget(mask, W, W, 7, 7)!;
}

describe('guidance loss', () => {
  it('is zero for a map entirely inside the region and grows as its mass moves out', () => {
    const t = variantTarget(boxTarget(), 0);
    // Nodes whose whole interpolated mass lies inside the box.
    const full = [...t.a.keys()].filter((j) => t.a[j]! > 0 && Math.abs(t.a[j]! - t.T[j]!) < 1e-6);
    expect(full.length).toBeGreaterThan(0);
    const inside = new Float32Array(49);
    for (const j of full) inside[j] = 1;
    expect(guidanceLoss(inside, t)).toBeCloseTo(0, 6);
    // A uniform shift (what the head's bias can do) changes nothing.
    expect(
      guidanceLoss(
        inside.map((v) => v - 5),
        t,
      ),
    ).toBeCloseTo(0, 6);
    // Move mass step by step onto a far corner node.
    const losses = [0, 0.25, 0.5, 0.75, 1].map((s) => {
      const m = Float32Array.from(inside, (v) => v * (1 - s));
      m[48] = s * full.length;
      return guidanceLoss(m, t);
    });
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeGreaterThan(losses[i - 1]!);
    expect(losses[4]!).toBeGreaterThan(0.9);
  });

  it('its gradient matches finite differences, and the tfjs form gives the same loss', () => {
    const t = variantTarget(boxTarget(), 1);
    const rng = createRng(3);
    const m = Float32Array.from({ length: 49 }, () => rng.next() * 2 - 0.5);
    const g = new Float32Array(49);
    const l0 = guidanceLoss(m, t, g);
    for (const j of [0, 10, 16, 24, 30, 48]) {
      if (m[j]! <= 0) continue;
      const h = 1e-3;
      const up = Float32Array.from(m);
      up[j]! += h;
      const dn = Float32Array.from(m);
      dn[j]! -= h;
      expect(g[j]!).toBeCloseTo((guidanceLoss(up, t) - guidanceLoss(dn, t)) / (2 * h), 3);
    }
    // The tfjs expression on maps [1, 7, 7, C=1] with kernel [[0, 1]] (class 1): the same value.
    const v = tf.tidy(() => guidanceLossTensor(tf.tensor4d(m, [1, 7, 7, 1]), tf.tensor2d([0, 1], [1, 2]), [1], [t], 1).dataSync()[0]!);
    expect(v).toBeCloseTo(l0, 5);
    // The head gradient is the map gradient through the kernel column of the true class.
    const gW = new Float32Array(2);
    addGuidanceGradient(gW, Float32Array.from([0, 1]), 1, 2, [m], [t], [1], 1);
    expect(gW[0]).toBe(0);
    expect(gW[1]).toBeCloseTo(
      g.reduce((a, gj, j) => a + gj * m[j]!, 0),
      5,
    );
  });

  it('rotated and flipped copies move the region with the image', () => {
    const W = 224;
    const mask = new Uint8Array(W * W);
    for (let y = 0; y < 32; y++) mask.fill(1, y * W, y * W + 32); // top-left node only
    const t = prepareTarget(mask, W, W, 7, 7)!;
    expect(variantTarget(t, 0).a[0]).toBeGreaterThan(0.5);
    expect(variantTarget(t, 1).a[48]).toBeCloseTo(t.inside[0]!, 6); // 180°: bottom-right
    expect(variantTarget(t, 2).a[42]).toBeCloseTo(t.inside[0]!, 6); // upside down: bottom-left
  });
});

/**
 * Defect photos: a faint bright disc (the defect; its box is the region) centred near a map node, and a bold
 * checkerboard in the top-left corner (the shortcut). OK photos: neither. Grey background with noise.
 */
function shortcutSet(n: number, size: number) {
  const rng = createRng(11);
  const items: { label: number; cx: number; cy: number; r: number; split: 'train' | 'val' }[] = [];
  const nodes = [0.375, 0.625];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const cx = Math.round(size * nodes[rng.int(2)]! + rng.int(7) - 3);
    const cy = Math.round(size * nodes[rng.int(2)]! + rng.int(7) - 3);
    items.push({ label, cx, cy, r: Math.round(size * 0.08), split: i >= n * 0.7 ? 'val' : 'train' });
  }
  const source: SampleSource = {
    count: n,
    labelOf: (i) => items[i]!.label,
    idOf: (i) => i + 1,
    keyOf: (i) => `shortcut-${size}-${i}`,
    async loadPixels(i, s) {
      const it = items[i]!;
      const r = createRng(1000 + i);
      const px = new Uint8Array(s * s * 3);
      const marker = Math.round(s * 0.22);
      for (let y = 0; y < s; y++)
        for (let x = 0; x < s; x++) {
          let v = 110 + r.int(30);
          if (it.label === 1) {
            const d = Math.hypot(x - it.cx, y - it.cy);
            if (d < it.r) v += 40 * (1 - d / it.r);
            if (x < marker && y < marker) v = ((x >> 2) + (y >> 2)) % 2 ? 250 : 5;
          }
          px.set([v, v, v], (y * s + x) * 3);
        }
      return px;
    },
  };
  const masks = new Map<number, RegionMask>();
  items.forEach((it, i) => {
    if (it.label !== 1) return;
    const mask = new Uint8Array(size * size);
    for (let y = Math.max(0, it.cy - it.r); y < Math.min(size, it.cy + it.r); y++)
      mask.fill(1, y * size + Math.max(0, it.cx - it.r), y * size + Math.min(size, it.cx + it.r));
    masks.set(i, { mask, width: size, height: size, tolerance: 4 });
  });
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  items.forEach((it, i) => splits[it.split].push(i));
  return { source, masks, splits };
}

describe('a guided run on a shortcut set', () => {
  const SIZE = 128;
  const set = shortcutSet(48, SIZE);

  async function run(guide: boolean) {
    const epochs: Extract<TrainerEvent, { kind: 'epoch' }>[] = [];
    const out = await new Trainer({
      config: resolveConfig({
        task: 'binary',
        inputSize: SIZE,
        batchSize: 8,
        // Head first, then the last 3 blocks: with the backbone frozen the head alone cannot move the maps here.
        epochs: 20,
        patience: 0,
        fineTuneEpochs: 6,
        fineTuneBlocks: 3,
        fineTuneLearningRate: 5e-4,
        fineTunePatience: 0,
        dropout: 0,
        augmentation: { mode: 'none' },
        ...(guide ? { guideRegions: true, guideWeight: 5 } : {}),
      }),
      classes: ['ok', 'defect'],
      okIndex: 0,
      source: set.source,
      splits: set.splits,
      backboneWeights: readWeightSet(WEIGHTS),
      cacheDir: null,
      backends: { training, inference: 'wasm' },
      signal: new AbortController().signal,
      regionMasks: set.masks,
      onEvent: (e) => {
        if (e.kind === 'epoch') epochs.push(e);
      },
    }).run();
    return { out, last: epochs[epochs.length - 1]!.metrics };
  }

  it('looks at the defect instead of the corner marker (pointing rises), and stays right', async () => {
    expect(set.splits.val.filter((i) => set.masks.has(i)).length).toBeGreaterThanOrEqual(5);
    const plain = await run(false);
    await tf.setBackend('wasm');
    const wasmBefore = tf.memory().numTensors;
    await tf.setBackend(training);
    const before = tf.memory().numTensors;
    const guided = await run(true);
    // No tensors left behind by the guided phases (cached maps are plain arrays; the map models share layers).
    await tf.setBackend('wasm');
    expect(tf.memory().numTensors).toBe(wasmBefore);
    await tf.setBackend(training);
    expect(tf.memory().numTensors).toBe(before);
    // Unguided, fine-tuning learns the marker (measured: pointing 0 of 7); guided, the maps move onto the discs.
    expect(guided.last.valPointing!).toBeGreaterThanOrEqual(plain.last.valPointing! + 0.3);
    expect(guided.last.valEnergy!).toBeGreaterThan(plain.last.valEnergy!);
    expect(guided.last.valAccuracy!).toBeGreaterThanOrEqual(0.9);
  }, 120_000);
});
