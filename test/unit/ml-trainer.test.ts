/** The training core in-process: no tensor leaks across a whole run (transfer, fine-tuning, evaluation). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWasmForProbe } from '../../src-main/services/ml/backend/wasm-init.ts';
import { neuSamples } from '../../src-main/services/ml/data/neu.ts';
import { fileSource } from '../../src-main/services/ml/data/source.ts';
import { readWeightSet } from '../../src-main/services/ml/model/weights.ts';
import { Trainer, type TrainerEvent } from '../../src-main/services/ml/train/trainer.ts';
import { resolveConfig } from '../../src-main/services/ml/training-service.ts';

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
