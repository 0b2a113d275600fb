/**
 * The engine process end to end on real MobileNet v1 0.25 weights and NEU images read from their
 * folders (no catalog): training, seeded repeatability, cancel, a crash mid-epoch, continue-from-run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KensaModelInfo } from '../../src-main/shared/training-types.ts';
import { neuSamples } from '../../src-main/services/training/data/neu.ts';
import { EngineClient } from '../../src-main/services/engine/client.ts';
import type { TrainJobParams } from '../../src-main/engine/jobs/train.ts';
import { writeModelFolder } from '../../src-main/services/training/model/saved-model.ts';
import { resolveConfig } from '../../src-main/services/training/train/config.ts';

const WEIGHTS = resolve(import.meta.dirname, '../../../shared/models/mobilenet_v1_0.25_224');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-engine-'));
const clients: EngineClient[] = [];
afterAll(async () => {
  for (const c of clients) await c.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

function client(env?: NodeJS.ProcessEnv): EngineClient {
  const c = new EngineClient(env ? { env } : {});
  clients.push(c);
  return c;
}

function params(over: Partial<TrainJobParams['config']> = {}, perClass = 8): TrainJobParams {
  const { classes, samples } = neuSamples({ perClass, classes: ['crazing', 'scratches'], valFraction: 0.25 });
  return {
    runId: 1,
    config: resolveConfig({ task: 'multiclass', inputSize: 96, epochs: 2, batchSize: 8, fineTuneBlocks: 1, fineTuneEpochs: 1, ...over }),
    classes,
    okIndex: null,
    samples,
    source: { kind: 'files' },
    backboneWeightsDir: WEIGHTS,
    initialModelDir: null,
    cacheDir: join(tmp, 'cache'),
  };
}

describe('training engine (child process)', () => {
  const engine = client();

  it('trains 2 epochs + 1 fine-tuning epoch at 96 px, evaluates, returns the model; seeded runs repeat', async () => {
    const epochs: number[] = [];
    const res = await engine.run('train', params(), { onEvent: (e) => e.kind === 'epoch' && epochs.push(e.metrics.loss) });
    expect(engine.report?.candidates.map((c) => c.name)).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
    expect(res.status).toBe('completed');
    expect(res.phases.map((p) => [p.phase, p.epochsRun])).toEqual([
      ['transfer', 2],
      ['finetune', 1],
    ]);
    expect(epochs).toHaveLength(3);
    const val = res.evaluations.find((e) => e.split === 'val')!;
    expect(val.count).toBe(4);
    expect(val.confusion.flat().reduce((a, b) => a + b, 0)).toBe(4);
    expect(res.model!.weightData.byteLength).toBeGreaterThan(800_000);
    expect(JSON.stringify(res.model!.modelTopology)).toContain('head_dense');
    // Same seed, same backend: identical losses (the second run also reads the embedding cache).
    const again: number[] = [];
    await engine.run('train', params(), { onEvent: (e) => e.kind === 'epoch' && again.push(e.metrics.loss) });
    expect(again).toEqual(epochs);
  });

  it('cancel stops within a batch and keeps the best checkpoint', async () => {
    const ac = new AbortController();
    let abortedAt = 0;
    const res = await engine.run('train', params({ epochs: 500, patience: 0 }), {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.kind === 'epoch' && e.epoch === 2 && !abortedAt) {
          abortedAt = Date.now();
          ac.abort();
        }
      },
    });
    expect(res.status).toBe('cancelled');
    expect(Date.now() - abortedAt).toBeLessThan(3000);
    expect(res.phases[0]!.epochsRun).toBeLessThan(10);
    expect(res.model).not.toBeNull();
  });

  it('a crash mid-epoch fails the job with EngineCrashedError; the next job restarts the engine and works', async () => {
    const c = client({ KENSA_ENGINE_CRASH_AT_EPOCH: '2' });
    let err: Error | null = null;
    let firstPid: number | undefined;
    try {
      await c.run('train', params({ epochs: 5 }), { onEvent: () => (firstPid ??= c.pid) });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.name).toBe('EngineCrashedError');
    expect(err?.message).toMatch(/stopped unexpectedly/);
    expect(c.running).toBe(false);
    const res = await c.run('train', params({ epochs: 1, fineTuneEpochs: 0 }));
    expect(res.status).toBe('completed');
    expect(c.starts).toBe(2);
    expect(c.pid).not.toBe(firstPid);
  });

  it('the debug crash op kills the engine while a job runs', async () => {
    const c = client();
    const job = c.run('train', params({ epochs: 200, patience: 0 }), {
      onEvent: (e) => {
        if (e.kind === 'epoch' && e.epoch === 1) void c.crash();
      },
    });
    await expect(job).rejects.toMatchObject({ name: 'EngineCrashedError' });
    await expect(
      c.run('estimate', {
        backbone: 'mobilenet_v1_0.25',
        inputSize: 96,
        batchSize: 8,
        fineTuneBlocks: 2,
        trainImages: 100,
        valImages: 20,
        variants: 3,
        epochs: 10,
        fineTuneEpochs: 5,
        numClasses: 2,
        cachedFraction: 0,
      }),
    ).resolves.toMatchObject({
      samplesPerEpoch: 300,
    });
  });

  it('continue from a saved run: fine-tunes its model with more images', async () => {
    const first = await engine.run('train', params({ epochs: 30, learningRate: 1e-3, fineTuneEpochs: 0 }));
    expect(first.evaluations[0]!.loss).toBeLessThan(0.5);
    const dir = join(tmp, 'models', '1');
    const info: KensaModelInfo = {
      format: 'kensa-model',
      version: 1,
      runId: 1,
      name: 'first',
      task: 'multiclass',
      backbone: 'mobilenet_v1_0.25',
      inputSize: 96,
      classes: ['crazing', 'scratches'].map((k) => ({ key: k, nameEn: k, nameJa: k, color: '#000000', isOk: false })),
      threshold: null,
      preprocessing: { resize: 'fill', channels: 'rgb (grey repeated)', scale: '[-1,1]' },
      layers: { lastConv: 'conv_pw_13_relu', gap: 'gap', dropout: 'head_dropout', dense: 'head_dense' },
      metrics: { valAccuracy: null, valLoss: null, testAccuracy: null },
      createdAt: new Date().toISOString(),
      kensaVersion: 'test',
    };
    writeModelFolder(dir, first.model!, info);
    // The saved model predicts exactly what the engine evaluated.
    const p = params({}, 8);
    const val = p.samples.filter((s) => s.split === 'val');
    const pred = await engine.run('predict', { modelDir: dir, samples: val, source: { kind: 'files' } });
    const acc = pred.probabilities.filter((pr, i) => (pr[1]! > pr[0]! ? 1 : 0) === val[i]!.label).length / val.length;
    expect(acc).toBeCloseTo(first.evaluations[0]!.accuracy, 5);
    const cont = await engine.run('train', { ...params({ epochs: 0, fineTuneBlocks: 2, fineTuneEpochs: 1 }, 12), initialModelDir: dir });
    expect(cont.status).toBe('completed');
    expect(cont.phases.map((x) => x.phase)).toEqual(['finetune']);
    // Starting from the trained head, the first validation is already better than chance.
    expect(cont.evaluations[0]!.loss).toBeLessThan(0.69);
  });
});
