/**
 * Letterbox with the padding masked out: the feature cells over the photo are found from the content rectangle, the
 * pool averages only them (so the amount of grey around a photo does not move its embedding), a map's maximum never
 * lies in the padding, prediction and TTA pool the same way, and squash is untouched.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contentCells,
  contentUnderVariant,
  fitGeometry,
  keyForPadMask,
  padMaskOfConfig,
  padMaskOfModel,
  suppressPadding,
  type Rect,
} from '../../src-main/services/training/data/geometry.ts';
import { fileSource, type EngineSample } from '../../src-main/services/training/data/source.ts';
import { cellMaskBatch, maskedMean } from '../../src-main/engine/model/masked-pool.ts';
import { buildClassifier, HEAD_LAYERS, parseBackbone } from '../../src-main/engine/model/mobilenet.ts';
import { pixelsToBatch } from '../../src-main/engine/model/tf-util.ts';
import { predictSamples } from '../../src-main/engine/train/evaluate.ts';
import type { BackendReport } from '../../src-main/shared/types.ts';
import { writeModelFolder } from '../../src-main/services/training/model/saved-model.ts';
import { heatmapsJob } from '../../src-main/engine/jobs/heatmaps.ts';
import type { SavedModelArtifacts } from '../../src-main/engine/model/tf-util.ts';
import { PauseGate } from '../../src-main/engine/train/pause-gate.ts';
import { initWasmForProbe } from '../../src-main/engine/backend/wasm-init.ts';
import { Trainer } from '../../src-main/engine/train/trainer.ts';
import { resolveConfig } from '../../src-main/services/training/train/config.ts';
import { assignWeightsByName, readWeightSet } from '../../src-main/engine/model/weights.ts';

const NEU = resolve(import.meta.dirname, '../../../shared/datasets/neu-det/images');
const WEIGHTS = resolve(import.meta.dirname, '../../../shared/models/mobilenet_v1_0.25_224');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-lbmask-'));
const samples: EngineSample[] = [];
/** Three classes, each cropped to its own aspect (2:1, 1:1, 1:2), for the trainer runs. */
const trainSet: EngineSample[] = [];
let modelDir = '';
type HeatmapsJobEvent = Parameters<Parameters<typeof heatmapsJob.run>[1]['emit']>[0];

/** A trained classifier as a model folder (letterbox, padding masked). */
function saveModel(artifacts: SavedModelArtifacts, keys: string[]): string {
  const dir = join(tmp, 'model');
  writeModelFolder(dir, artifacts, {
    format: 'kensa-model',
    version: 1,
    runId: null,
    name: 'masked',
    task: 'multiclass',
    backbone: 'mobilenet_v1_0.25',
    inputSize: 96,
    classes: keys.map((key) => ({ key, nameEn: key, nameJa: key, color: '#888888', isOk: false })),
    threshold: null,
    preprocessing: { resize: 'letterbox', channels: 'rgb (grey repeated)', scale: '[-1,1]', padMask: true },
    layers: { lastConv: 'conv_pw_13_relu', gap: HEAD_LAYERS.gap, dropout: HEAD_LAYERS.dropout, dense: HEAD_LAYERS.dense },
    metrics: { valAccuracy: null, valLoss: null, testAccuracy: null },
    createdAt: new Date(0).toISOString(),
    kensaVersion: 'test',
  });
  return dir;
}

beforeAll(async () => {
  await initWasmForProbe();
  await tf.setBackend('cpu');
  mkdirSync(join(tmp, 'src'), { recursive: true });
  // Two wide (2:1) and one tall (1:2) crop of real NEU photos.
  for (const [i, w, h] of [
    [1, 200, 100],
    [2, 200, 100],
    [3, 90, 180],
  ] as const) {
    const path = join(tmp, 'src', `p${i}.png`);
    await sharp(join(NEU, 'scratches', `scratches_${i}.jpg`))
      .extract({ left: 0, top: 0, width: w, height: h })
      .png()
      .toFile(path);
    samples.push({ id: i, key: `k${i}`, label: 0, split: 'test', path });
  }
  for (const [label, cls, w, h] of [
    [0, 'patches', 200, 100],
    [1, 'inclusion', 200, 200],
    [2, 'scratches', 100, 200],
  ] as const)
    for (let i = 1; i <= 6; i++) {
      const path = join(tmp, 'src', `${cls}_${i}.png`);
      await sharp(join(NEU, cls, `${cls}_${i}.jpg`))
        .extract({ left: 0, top: 0, width: w, height: h })
        .png()
        .toFile(path);
      trainSet.push({ id: trainSet.length + 1, key: `${cls}${i}`, label, split: i <= 2 ? 'val' : 'train', path });
    }
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('photo cells on the feature grid', () => {
  it('keeps the cells whose centre lies in the photo, under every fixed variant', () => {
    // A 2:1 photo at 224: content 224 x 112 from y = 56; on the 7 x 7 grid, rows 2..4 (centres 80, 112, 144).
    const c = fitGeometry(400, 200, 224, 'letterbox').content;
    expect(c).toEqual({ x: 0, y: 56, w: 224, h: 112 });
    const cells = contentCells(c, 224, 7, 7);
    const rows = [...Array(7).keys()].map((y) => cells.slice(y * 7, y * 7 + 7).reduce((a, b) => a + b, 0));
    expect(rows).toEqual([0, 0, 7, 7, 7, 0, 0]);
    // Squash: every cell is photo.
    expect(contentCells(fitGeometry(400, 200, 224, 'squash').content, 224, 7, 7).every((v) => v === 1)).toBe(true);
    // Odd padding moves the photo by a pixel under the 180° variants.
    const odd: Rect = { x: 0, y: 10, w: 96, h: 75 };
    expect(contentUnderVariant(odd, 96, 0)).toEqual(odd);
    expect(contentUnderVariant(odd, 96, 1)).toEqual({ x: 0, y: 11, w: 96, h: 75 });
    expect(contentUnderVariant(odd, 96, 2)).toEqual({ x: 0, y: 11, w: 96, h: 75 });
    // A photo thinner than a cell still keeps one cell.
    expect(contentCells({ x: 0, y: 47, w: 96, h: 2 }, 96, 3, 3).reduce((a, b) => a + b, 0)).toBe(3);
  });

  it("never leaves a map's maximum in the padding", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    for (let t = 0; t < 200; t++) {
      const n = 3 + (t % 12);
      const size = 32 * n;
      const w = Math.max(1, Math.round(((t % 5) + 1) * (size / 5)));
      const c = fitGeometry(w, size, size, 'letterbox').content;
      const cells = t % 2 ? contentCells(c, size, n, n) : contentCells({ ...c, x: c.y, y: c.x, w: c.h, h: c.w }, size, n, n);
      const map = Float32Array.from({ length: n * n }, rnd);
      // The padding holds the raw maximum.
      cells.forEach((v, i) => (v ? undefined : (map[i] = 10)));
      const before = Float32Array.from(map);
      suppressPadding(map, cells);
      const photoMax = Math.max(...Array.from(map).filter((_, i) => cells[i]));
      expect(Math.max(...map)).toBe(photoMax);
      cells.forEach((v, i) => (v ? expect(map[i]).toBe(before[i]) : expect(map[i]).toBeLessThanOrEqual(Math.max(...map))));
    }
  });
});

describe('masked pooling', () => {
  it('gives the same embedding whatever the amount of padding, and GAP a different one', () => {
    // A cell-local feature extractor (1x1 conv, then one mean per 16 px cell): what a cell sees is its own pixels,
    // so the photo's cells are the same in both inputs and only the padding differs.
    const input = tf.input({ shape: [null, null, 3] as unknown as number[] });
    const conv = tf.layers.conv2d({
      filters: 8,
      kernelSize: 1,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    });
    const pool = tf.layers.averagePooling2d({ poolSize: 16, strides: 16 });
    const net = tf.model({ inputs: input, outputs: pool.apply(conv.apply(input)) as tf.SymbolicTensor });
    const photo = Uint8Array.from({ length: 64 * 32 * 3 }, (_, i) => (i * 37) % 251);
    const place = (size: number, r: Rect): Uint8Array => {
      const px = new Uint8Array(size * size * 3).fill(128);
      for (let y = 0; y < r.h; y++) px.set(photo.subarray(y * r.w * 3, (y + 1) * r.w * 3), ((r.y + y) * size + r.x) * 3);
      return px;
    };
    const a: Rect = { x: 0, y: 16, w: 64, h: 32 }; // 64 x 64: one padded cell row above and below
    const b: Rect = { x: 16, y: 32, w: 64, h: 32 }; // 96 x 96: padding on all four sides, far more of it
    const embed = (size: number, r: Rect) =>
      tf.tidy(() => {
        const f = net.predict(pixelsToBatch([place(size, r)], size)) as tf.Tensor;
        const n = size / 16;
        return [maskedMean(f, cellMaskBatch([r], [0], size, n, n)).dataSync(), tf.mean(f, [1, 2]).dataSync()] as const;
      });
    const before = tf.memory().numTensors;
    const [ma, ga] = embed(64, a);
    const [mb, gb] = embed(96, b);
    expect(tf.memory().numTensors).toBe(before);
    for (let k = 0; k < ma.length; k++) expect(mb[k]).toBeCloseTo(ma[k]!, 5);
    const gapDiff = Math.max(...Array.from(ga, (v, k) => Math.abs(v - gb[k]!)));
    expect(gapDiff).toBeGreaterThan(1e-3);
    net.dispose();
  });

  it('predicts and runs TTA with the photo cells only; squash sources and keys are unchanged', async () => {
    const size = 96;
    const model = buildClassifier(parseBackbone('mobilenet_v1_0.25'), size, 3, 0, 5);
    assignWeightsByName(model, readWeightSet(WEIGHTS), { optional: (n) => n.startsWith('head_') });
    const masked = fileSource(samples, 'letterbox', true);
    const plain = fileSource(samples, 'letterbox', false);
    const squash = fileSource(samples, 'squash', true);
    expect(plain.contentOf).toBeUndefined();
    expect(squash.contentOf).toBeUndefined();
    expect(squash.keyOf(0)).toBe('k1');
    expect(plain.keyOf(0)).toBe('k1-lb');
    expect(masked.keyOf(0)).toBe('k1-lbm');
    expect(keyForPadMask('k', 'squash', true)).toBe('k');
    expect(await masked.contentOf!(2, size)).toEqual(fitGeometry(90, 180, size, 'letterbox').content);
    const idx = [0, 1, 2];
    const before = tf.memory().numTensors;
    const pm = await predictSamples(model, masked, idx, size, 'cpu');
    const pp = await predictSamples(model, plain, idx, size, 'cpu');
    const ps = await predictSamples(model, squash, idx, size, 'cpu');
    const tm = await predictSamples(model, masked, idx, size, 'cpu', undefined, { tta: true });
    expect(tf.memory().numTensors).toBe(before);
    // By hand: the features up to the GAP layer, their mean over the photo's cells, the dense softmax.
    const px = await Promise.all(idx.map((i) => masked.loadPixels(i, size)));
    const rects = await Promise.all(idx.map((i) => masked.contentOf!(i, size)));
    const byHand = tf.tidy(() => {
      const feats = tf.model({ inputs: model.inputs, outputs: model.getLayer(HEAD_LAYERS.gap).input as tf.SymbolicTensor });
      const f = feats.predict(pixelsToBatch(px, size)) as tf.Tensor;
      const [, gh, gw] = f.shape as number[];
      return (
        model.getLayer(HEAD_LAYERS.dense).apply(maskedMean(f, cellMaskBatch(rects, [], size, gh!, gw!))) as tf.Tensor
      ).arraySync() as number[][];
    });
    pm.forEach((s, j) => Array.from(s.probs).forEach((p, c) => expect(p).toBeCloseTo(byHand[j]![c]!, 5)));
    // Unmasked letterbox pools the grey too: another answer.
    const diff = Math.max(...pm.flatMap((s, j) => Array.from(s.probs).map((p, c) => Math.abs(p - pp[j]!.probs[c]!))));
    expect(diff).toBeGreaterThan(1e-6);
    // Squash: exactly the plain model's softmax (the path from before the mask).
    const sqPx = await Promise.all(idx.map((i) => squash.loadPixels(i, size)));
    const direct = tf.tidy(() => (model.predict(pixelsToBatch(sqPx, size)) as tf.Tensor).arraySync() as number[][]);
    ps.forEach((s, j) => expect(Array.from(s.probs)).toEqual(direct[j]));
    for (const s of tm) expect(Array.from(s.probs).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
    model.dispose();
  }, 60_000);

  it('is on by default for letterbox, off for squash, and read back from a saved model', () => {
    expect(padMaskOfConfig({ resize: 'letterbox' })).toBe(true);
    expect(padMaskOfConfig({ resize: 'letterbox', padMask: false })).toBe(false);
    expect(padMaskOfConfig({ resize: 'squash', padMask: true })).toBe(false);
    expect(padMaskOfConfig({})).toBe(false);
    expect(padMaskOfModel({ preprocessing: { resize: 'letterbox', padMask: true } })).toBe(true);
    // Letterbox models from before the mask pooled the padding: they go on doing so.
    expect(padMaskOfModel({ preprocessing: { resize: 'letterbox' } })).toBe(false);
    expect(padMaskOfModel({ preprocessing: { resize: 'fill', padMask: true } })).toBe(false);
  });

  it('trains with the same pooling it predicts with (transfer, fine-tuning with and without a tail)', async () => {
    const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
    trainSet.forEach((x, i) => splits[x.split].push(i));
    for (const fineTuneBlocks of [0, 1]) {
      const before = tf.memory().numTensors;
      const out = await new Trainer({
        config: resolveConfig({
          task: 'multiclass',
          inputSize: 96,
          batchSize: 4,
          epochs: 3,
          fineTuneBlocks,
          fineTuneEpochs: 1,
          resize: 'letterbox',
        }),
        classes: ['patches', 'inclusion', 'scratches'],
        okIndex: null,
        source: fileSource(trainSet, 'letterbox', true),
        splits,
        backboneWeights: readWeightSet(WEIGHTS),
        cacheDir: join(tmp, `cache-${fineTuneBlocks}`),
        backends: { training: 'cpu', inference: 'wasm' },
        signal: new AbortController().signal,
        onEvent: () => undefined,
      }).run();
      expect(out.status).toBe('completed');
      await tf.setBackend('cpu');
      expect(tf.memory().numTensors).toBe(before);
      // The best checkpoint's validation loss (measured on the masked pool while training) is what the assembled
      // classifier scores through predict's masked pool; pooling the grey instead would give another loss.
      const val = out.evaluations.find((e) => e.split === 'val')!;
      expect(val.loss).toBeCloseTo(out.bestValLoss!, 3);
      if (fineTuneBlocks === 0) modelDir = saveModel(out.model!, ['patches', 'inclusion', 'scratches']);
    }
  }, 120_000);

  it("puts no map's maximum in the padding (CAM, Grad-CAM, saliency of a masked model)", async () => {
    const events: HeatmapsJobEvent[] = [];
    const ctx = {
      signal: new AbortController().signal,
      throwIfCancelled: () => undefined,
      pause: new PauseGate(),
      emit: (e: HeatmapsJobEvent) => events.push(e),
      backends: { training: 'cpu', inference: 'wasm' },
      report: {} as BackendReport,
      log: () => undefined,
    };
    const some = trainSet.filter((x) => x.label !== 1).map((x) => ({ ...x, split: 'test' as const }));
    await heatmapsJob.run(
      {
        modelDir,
        samples: some,
        source: { kind: 'files' },
        requests: [
          { method: 'cam', classes: [null, 0] },
          { method: 'gradcam', classes: [null] },
          { method: 'saliency', classes: [2] },
        ],
      },
      ctx,
    );
    const maps = events.filter((e) => e.kind === 'map');
    expect(maps).toHaveLength(some.length * 4);
    const src = fileSource(some, 'letterbox', true);
    for (const m of maps) {
      const rect = await src.contentOf!(
        some.findIndex((x) => x.id === m.imageId),
        96,
      );
      const cells = contentCells(rect, 96, m.width, m.height);
      expect(cells.some((v) => v === 0)).toBe(true);
      const photoMax = Math.max(...Array.from(m.data).filter((_, i) => cells[i]));
      expect(Math.max(...m.data)).toBe(photoMax);
      // The class mapped for "predicted" is the masked model's prediction.
      expect(m.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
    const cam = maps.filter((m) => m.method === 'cam');
    for (let j = 0; j < some.length; j++) {
      const [pred] = cam.filter((m) => m.imageId === some[j]!.id);
      expect(pred!.classIndex).toBe(pred!.probabilities.indexOf(Math.max(...pred!.probabilities)));
    }
  }, 60_000);
});
