/** The training core in-process: no tensor leaks across a whole run (transfer, fine-tuning, evaluation). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWasmForProbe } from '../../src-main/engine/backend/wasm-init.ts';
import { neuSamples } from '../../src-main/services/training/data/neu.ts';
import { fileSource } from '../../src-main/services/training/data/source.ts';
import { assignWeightsByName, readWeightSet } from '../../src-main/engine/model/weights.ts';
import { applyVariant } from '../../src-main/services/training/data/augment.ts';
import { buildClassifier, parseBackbone } from '../../src-main/engine/model/mobilenet.ts';
import { EpochBook } from '../../src-main/engine/train/epoch-book.ts';
import { learningRateAt } from '../../src-main/engine/train/schedule.ts';
import { predictSamples, Trainer, type TrainerEvent } from '../../src-main/engine/train/trainer.ts';
import { resolveConfig } from '../../src-main/services/training/train/config.ts';

const WEIGHTS = resolve(import.meta.dirname, '../../../shared/models/mobilenet_v1_0.25_224');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-trainer-'));
let training = 'cpu';
beforeAll(async () => {
  const f = await initWasmForProbe();
  training = f.missingGradients.length ? 'cpu' : 'wasm';
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function trainer(over: Parameters<typeof resolveConfig>[0], events: TrainerEvent[], signal = new AbortController().signal): Trainer {
  const { classes, samples } = neuSamples({ perClass: 6, classes: ['patches', 'inclusion', 'scratches'], valFraction: 0.34 });
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  samples.forEach((s, i) => splits[s.split].push(i));
  return new Trainer({
    config: resolveConfig({ task: 'multiclass', inputSize: 96, batchSize: 4, ...over }),
    classes,
    okIndex: null,
    source: fileSource(samples),
    splits,
    backboneWeights: readWeightSet(WEIGHTS),
    cacheDir: join(tmp, 'cache'),
    backends: { training, inference: 'wasm' },
    signal,
    onEvent: (e) => events.push(e),
  });
}

describe('Trainer', () => {
  it('leaves no tensors behind (transfer + fine-tuning 2 blocks + evaluation), on both backends', async () => {
    const before = { wasm: 0, other: 0 };
    await tf.setBackend('wasm');
    before.wasm = tf.memory().numTensors;
    await tf.setBackend(training);
    before.other = tf.memory().numTensors;
    const events: TrainerEvent[] = [];
    const out = await trainer(
      { epochs: 2, fineTuneBlocks: 2, fineTuneEpochs: 1, augmentation: { mode: 'random', rotationDeg: 5, brightness: 0.1 } },
      events,
    ).run();
    expect(out.status).toBe('completed');
    expect(out.model).not.toBeNull();
    expect(events.filter((e) => e.kind === 'epoch')).toHaveLength(3);
    await tf.setBackend('wasm');
    expect(tf.memory().numTensors).toBe(before.wasm);
    await tf.setBackend(training);
    expect(tf.memory().numTensors).toBe(before.other);
  });

  it('balanced sampling and no augmentation; embeddings come from the disk cache the second time', async () => {
    const first: TrainerEvent[] = [];
    await trainer({ epochs: 1, fineTuneEpochs: 0, imbalance: 'balancedSampling', augmentation: { mode: 'none' } }, first).run();
    const second: TrainerEvent[] = [];
    await trainer({ epochs: 1, fineTuneEpochs: 0, imbalance: 'balancedSampling', augmentation: { mode: 'none' } }, second).run();
    const last = (ev: TrainerEvent[]) =>
      ev.filter((e): e is Extract<TrainerEvent, { kind: 'embeddings' }> => e.kind === 'embeddings').pop()!;
    expect(last(first).cached).toBe(0);
    expect(last(second).cached).toBe(last(second).total);
  });
});

describe('transfer-phase schedule and early stopping', () => {
  it('warms up linearly to the base rate, then anneals by a half cosine to 2 % of it at the last epoch', () => {
    const o = { schedule: 'warmupCosine' as const, base: 1e-3, epochs: 200 };
    const lr = Array.from({ length: 200 }, (_, i) => learningRateAt(i + 1, o));
    // 200 epochs: 10 warm-up epochs (epochs / 20), rising to the base rate.
    expect(lr[0]).toBeCloseTo(1e-4, 12);
    expect(lr[9]).toBeCloseTo(1e-3, 12);
    for (let i = 1; i < 10; i++) expect(lr[i]!).toBeGreaterThan(lr[i - 1]!);
    // Then never rising, ending at the floor.
    expect(lr[10]).toBeCloseTo(1e-3, 12);
    for (let i = 11; i < 200; i++) expect(lr[i]!).toBeLessThanOrEqual(lr[i - 1]!);
    expect(lr[199]).toBeCloseTo(2e-5, 12);
    expect(lr[104]).toBeCloseTo(2e-5 + (1e-3 - 2e-5) * 0.5 * (1 + Math.cos((Math.PI * 94) / 189)), 12);
    expect(learningRateAt(37, { ...o, schedule: 'constant' })).toBe(1e-3);
  });

  it('stops on the smoothed validation loss: one bad epoch does not stop it, a plateau does; the best epoch is the raw minimum', () => {
    // Falling loss with a single spike at epoch 4 and a lucky dip at epoch 6, then flat.
    const losses = [1, 0.8, 0.7, 1.4, 0.6, 0.3, ...new Array<number>(40).fill(0.55)];
    const raw = new EpochBook(2, true, 1);
    const smooth = new EpochBook(3, true, 0.3);
    let rawStop = 0;
    let smoothStop = 0;
    let best = Infinity;
    losses.forEach((l, i) => {
      const improved = l < best;
      if (improved) best = l;
      if (!rawStop && raw.record(i + 1, improved, l)) rawStop = i + 1;
      if (!smoothStop && smooth.record(i + 1, improved, l)) smoothStop = i + 1;
    });
    // The raw loss with patience 2 would have stopped right after the lucky dip; the smoothed one keeps going
    // while its average still falls, then stops 3 epochs after its low.
    expect(rawStop).toBe(8);
    expect(smoothStop).toBeGreaterThan(rawStop);
    expect(smoothStop).toBeLessThan(30);
    expect(smooth.bestEpoch).toBe(6);
    expect(smooth.stoppedEarly).toBe(true);
    // Patience 0 never stops.
    const off = new EpochBook(0, true, 0.3);
    expect(losses.some((l, i) => off.record(i + 1, false, l))).toBe(false);
  });

  it('records the learning rate of every transfer epoch as the schedule gives it', async () => {
    const events: TrainerEvent[] = [];
    await trainer({ epochs: 6, fineTuneEpochs: 0, patience: 0, learningRate: 1e-3, augmentation: { mode: 'none' } }, events).run();
    const lrs = events.filter((e): e is Extract<TrainerEvent, { kind: 'epoch' }> => e.kind === 'epoch').map((e) => e.metrics.learningRate);
    expect(lrs).toEqual(Array.from({ length: 6 }, (_, i) => learningRateAt(i + 1, { schedule: 'warmupCosine', base: 1e-3, epochs: 6 })));
  });
});

describe('test-time augmentation', () => {
  it("is the mean of the three fixed variants' softmax outputs", async () => {
    await tf.setBackend('wasm');
    const size = 96;
    const model = buildClassifier(parseBackbone('mobilenet_v1_0.25'), size, 3, 0, 5);
    assignWeightsByName(model, readWeightSet(WEIGHTS), { optional: (n) => n.startsWith('head_') });
    const { samples } = neuSamples({ perClass: 1, classes: ['patches', 'inclusion', 'scratches'], valFraction: 0 });
    const src = fileSource(samples);
    const idx = samples.map((_, i) => i);
    const before = tf.memory().numTensors;
    const tta = await predictSamples(model, src, idx, size, 'wasm', undefined, { tta: true });
    const variants = await Promise.all(
      ([0, 1, 2] as const).map((v) =>
        predictSamples(model, { ...src, loadPixels: async (i, s) => applyVariant(await src.loadPixels(i, s), s, v) }, idx, size, 'wasm'),
      ),
    );
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    // The variants really differ (otherwise the check below would prove nothing).
    expect(Math.abs(variants[0]![0]!.probs[0]! - variants[1]![0]!.probs[0]!)).toBeGreaterThan(1e-6);
    tta.forEach((r, j) => {
      expect(r.id).toBe(variants[0]![j]!.id);
      Array.from(r.probs).forEach((p, c) =>
        expect(p).toBeCloseTo((variants[0]![j]!.probs[c]! + variants[1]![j]!.probs[c]! + variants[2]![j]!.probs[c]!) / 3, 6),
      );
    });
  });
});
