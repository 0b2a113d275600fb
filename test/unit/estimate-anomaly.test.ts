/**
 * The anomaly run's estimate (engine/jobs/estimate-anomaly.ts) and its test-time flips switch: the cost model's
 * arithmetic (features per good image, the global coreset pass growing with candidates x bank rows, the scoring of
 * held-out images), the engine job's answer adding up, and `kensa train --task anomaly --flips`.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initWasmForProbe } from '../../src-main/engine/backend/wasm-init.ts';
import { anomalyFitSeconds } from '../../src-main/engine/jobs/estimate-anomaly.ts';
import { estimateJob } from '../../src-main/engine/jobs/estimate.ts';
import { PauseGate } from '../../src-main/engine/train/pause-gate.ts';
import { parseTrainArgs, trainConfigFromFlags } from '../../src-main/cli/commands/train.ts';
import { resolveConfig } from '../../src-main/services/training/train/config.ts';
import type { EstimateJobParams } from '../../src-main/services/engine/job-types.ts';
import type { BackendReport } from '../../src-main/shared/types.ts';

describe('anomaly fit seconds', () => {
  const ms = { featureMs: 40, coresetMs: 200, timedCandidates: 1000, timedRows: 100, scoreMs: 30 };

  it('pays decode + features per good image, the global pass by candidates x rows, decode + scoring per held-out image', () => {
    const r = anomalyFitSeconds({ fitImages: 500, scoredImages: 100, candidates: 20_000, rows: 5000 }, ms, 5);
    expect(r.featuresSeconds).toBeCloseTo((500 * 45) / 1000, 9);
    // 20,000 x 5,000 is 1,000 times the timed 1,000 x 100 pass of 200 ms.
    expect(r.coresetSeconds).toBeCloseTo(200, 9);
    expect(r.scoringSeconds).toBeCloseTo((100 * 35) / 1000, 9);
    expect(r.totalSeconds).toBeCloseTo(r.featuresSeconds + r.coresetSeconds + r.scoringSeconds, 9);
    // Twice the images: twice the candidates and (below the cap) twice the rows, so four times the global pass.
    const twice = anomalyFitSeconds({ fitImages: 1000, scoredImages: 100, candidates: 40_000, rows: 10_000 }, ms, 5);
    expect(twice.coresetSeconds).toBeCloseTo(4 * r.coresetSeconds, 9);
    expect(twice.featuresSeconds).toBeCloseTo(2 * r.featuresSeconds, 9);
  });

  it('has no global pass when the candidates do not outnumber the bank (they all become it)', () => {
    expect(anomalyFitSeconds({ fitImages: 10, scoredImages: 0, candidates: 800, rows: 800 }, ms).coresetSeconds).toBe(0);
  });
});

describe('anomaly estimate job', () => {
  beforeAll(async () => {
    await initWasmForProbe();
  });
  const ctx = {
    signal: new AbortController().signal,
    throwIfCancelled: () => undefined,
    pause: new PauseGate(),
    emit: () => undefined,
    backends: { training: 'cpu', inference: 'wasm' },
    report: {} as BackendReport,
    log: () => undefined,
  };
  const params: EstimateJobParams = {
    task: 'anomaly',
    backbone: 'mobilenet_v1_0.25',
    inputSize: 96,
    batchSize: 32,
    fineTuneBlocks: 0,
    trainImages: 60,
    valImages: 12,
    testImages: 4,
    variants: 1,
    epochs: 0,
    fineTuneEpochs: 0,
    numClasses: 2,
    cachedFraction: 0,
  };

  it('times the fit, adds up its parts, has no classifier phases and leaves no tensors', async () => {
    const before = tf.memory().numTensors;
    const e = await estimateJob.run(params, ctx);
    const a = e.anomaly!;
    expect(a).toMatchObject({ fitImages: 60, scoredImages: 16, flips: false });
    for (const v of [a.featuresSeconds, a.scoringSeconds]) expect(v).toBeGreaterThan(0);
    expect(a.coresetSeconds).toBeGreaterThanOrEqual(0);
    expect(e.totalSeconds).toBeCloseTo(a.featuresSeconds + a.coresetSeconds + a.scoringSeconds, 9);
    expect(e.evaluationSeconds).toBe(a.scoringSeconds);
    expect([e.embeddingSeconds, e.transferSeconds, e.fineTuneSeconds, e.fineTuneFirstEpochSeconds]).toEqual([0, 0, 0, 0]);
    expect(e.peakMemoryMB).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('says when each image is also scored mirrored', async () => {
    const e = await estimateJob.run({ ...params, anomaly: { flips: 'h' } }, ctx);
    expect(e.anomaly!.flips).toBe(true);
    expect(e.notes.join(' ')).toMatch(/mirrored/);
  }, 120_000);
});

describe('kensa train --flips', () => {
  const flags = (argv: string[]) => parseTrainArgs(argv).values;

  it('asks an anomaly model for mirrored scoring; refused for a classifier', () => {
    expect(trainConfigFromFlags(flags(['--task', 'anomaly', '--flips'])).anomaly).toEqual({ flips: 'h' });
    expect(trainConfigFromFlags(flags(['--task', 'anomaly'])).anomaly).toEqual({});
    expect(() => trainConfigFromFlags(flags(['--task', 'binary', '--flips']))).toThrow(/anomaly/);
    expect(resolveConfig({ task: 'anomaly', anomaly: { flips: 'h' } }).anomaly).toEqual({ flips: 'h' });
    expect(() => resolveConfig({ task: 'binary', anomaly: { flips: 'h' } })).toThrow(/anomaly models/);
    expect(() => resolveConfig({ task: 'anomaly', anomaly: { flips: 'x' as 'h' } })).toThrow(/none, h/);
  });
});
