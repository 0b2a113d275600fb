/**
 * The study's sweep: expanding a spec into run configurations, choosing the best run, the chart series, and a tiny
 * sweep of two runs through the API (queued one after another, tagged, read back, any run made the active model).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import {
  bestSweepPoint,
  expandSweep,
  parseSweepList,
  sweepSeries,
  SWEEP_DEFAULT_FINETUNE_EPOCHS,
  type SweepPoint,
} from '../../src-main/shared/sweep.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import { sweepCommand } from '../../src-main/cli/commands/sweep.ts';

describe('sweep spec', () => {
  it('gives one configuration per (size, N), sizes outer, ascending, without repeats, over the base', () => {
    const base = { backbone: 'mobilenet_v1_0.75' as const, epochs: 50, learningRate: 1e-3, name: 'NEU' };
    const cfgs = expandSweep(base, { sizes: [320, 224, 320], blocks: [6, 0] }, 's1');
    expect(cfgs.map((c) => [c.inputSize, c.fineTuneBlocks])).toEqual([
      [224, 0],
      [224, 6],
      [320, 0],
      [320, 6],
    ]);
    for (const [i, c] of cfgs.entries()) {
      expect(c.backbone).toBe('mobilenet_v1_0.75');
      expect(c.epochs).toBe(50);
      expect(c.sweep).toEqual({ id: 's1', inputSize: c.inputSize, fineTuneBlocks: c.fineTuneBlocks, index: i, total: 4 });
    }
    expect(cfgs[1]?.name).toBe('NEU · 224 px · N=6');
    // N = 0 means no fine-tuning; N > 0 fine-tunes even when the base does not.
    expect(cfgs[0]?.fineTuneEpochs).toBe(0);
    expect(cfgs[1]?.fineTuneEpochs).toBe(SWEEP_DEFAULT_FINETUNE_EPOCHS);
    expect(expandSweep({ fineTuneEpochs: 4 }, { sizes: [224], blocks: [2] }, 's2')[0]?.fineTuneEpochs).toBe(4);
    expect(base).toEqual({ backbone: 'mobilenet_v1_0.75', epochs: 50, learningRate: 1e-3, name: 'NEU' });
  });

  it('refuses empty lists, fractions, out-of-range values and over-long sweeps', () => {
    expect(() => expandSweep({}, { sizes: [], blocks: [0] }, 'x')).toThrow(/at least one input size/);
    expect(() => expandSweep({}, { sizes: [224], blocks: [] }, 'x')).toThrow(/at least one number of fine-tuned/);
    expect(() => expandSweep({}, { sizes: [224.5], blocks: [0] }, 'x')).toThrow(/whole number/);
    expect(() => expandSweep({}, { sizes: [224], blocks: [99] }, 'x')).toThrow(/whole number from 0 to 17/);
    const many = Array.from({ length: 11 }, (_, i) => 96 + 32 * i);
    expect(() => expandSweep({}, { sizes: many, blocks: [0, 1, 2, 3, 4, 5] }, 'x')).toThrow(/66 runs is too long/);
    expect(parseSweepList('224, 320,448', '--sizes')).toEqual([224, 320, 448]);
    expect(() => parseSweepList('224,big', '--sizes')).toThrow(/"big"/);
  });
});

const pt = (runId: number, inputSize: number, fineTuneBlocks: number, valAccuracy: number | null, valLoss = 0.2): SweepPoint => ({
  runId,
  status: valAccuracy === null ? 'failed' : 'succeeded',
  inputSize,
  fineTuneBlocks,
  valAccuracy,
  valLoss,
});

describe('best run and chart series', () => {
  it('picks the highest validation accuracy; ties go to lower loss, then the cheaper run; unfinished runs never win', () => {
    expect(bestSweepPoint([pt(1, 224, 0, 0.9), pt(2, 320, 6, 0.95), pt(3, 448, 6, 0.93)])?.runId).toBe(2);
    expect(bestSweepPoint([pt(1, 224, 0, 0.95, 0.3), pt(2, 320, 6, 0.95, 0.1)])?.runId).toBe(2);
    expect(bestSweepPoint([pt(5, 448, 6, 0.95), pt(4, 224, 6, 0.95), pt(3, 224, 2, 0.95)])?.runId).toBe(3);
    const running: SweepPoint = { ...pt(9, 224, 0, 0.99), status: 'running' };
    expect(bestSweepPoint([running, pt(1, 224, 2, 0.5), pt(2, 224, 4, null)])?.runId).toBe(1);
    expect(bestSweepPoint([running])).toBeNull();
  });

  it('plots validation accuracy against size (one line per N) and against N (one line per size)', () => {
    const pts = [pt(1, 320, 0, 0.8), pt(2, 224, 0, 0.7), pt(3, 224, 6, 0.9), pt(4, 320, 6, null)];
    expect(sweepSeries(pts, 'inputSize')).toEqual([
      {
        key: 0,
        points: [
          { x: 224, y: 0.7, runId: 2 },
          { x: 320, y: 0.8, runId: 1 },
        ],
      },
      { key: 6, points: [{ x: 224, y: 0.9, runId: 3 }] },
    ]);
    expect(sweepSeries(pts, 'fineTuneBlocks')).toEqual([
      {
        key: 224,
        points: [
          { x: 0, y: 0.7, runId: 2 },
          { x: 6, y: 0.9, runId: 3 },
        ],
      },
      { key: 320, points: [{ x: 0, y: 0.8, runId: 1 }] },
    ]);
  });
});

const NEU = resolve(import.meta.dirname, '../../../shared/datasets/neu-det/images');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-sweep-'));
let s: Services | undefined;

afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a tiny sweep through the API and the CLI', () => {
  it('queues two tagged runs one after another, reads them back with the best marked, and any can become active', async () => {
    const src = join(tmp, 'src');
    for (const cls of ['crazing', 'scratches']) {
      mkdirSync(join(src, cls), { recursive: true });
      for (let i = 1; i <= 10; i++) copyFileSync(join(NEU, cls, `${cls}_${i}.jpg`), join(src, cls, `${cls}_${i}.jpg`));
    }
    s = new Services({
      configDir: join(tmp, 'config'),
      resourcesDir: join(tmp, 'resources'),
      host: { mode: 'cli', electronVersion: null },
    });
    const api: KensaApi = createHandlers(s);
    await api.createProject(join(tmp, 'project'), 'sweep test');
    const project = s.projects.require();
    const ok = listTypes(project.db).find((t) => t.isOk)!;
    await runImport(project, {
      paths: [src],
      labels: { from: 'folders', mapping: { crazing: { defectTypeId: ok.id } }, createUnknown: true },
    });

    const base = {
      task: 'binary' as const,
      epochs: 2,
      batchSize: 8,
      fineTuneEpochs: 1,
      split: { mode: 'random' as const, valFraction: 0.3, testFraction: 0, seed: 1 },
    };
    // A bad point refuses the whole sweep before anything is queued.
    await expect(api.startSweep(base, { sizes: [96], blocks: [0, 40] })).rejects.toThrow(/0 to 17/);
    expect(await api.listRuns()).toHaveLength(0);

    const est = await api.estimateSweep(base, { sizes: [96], blocks: [0, 1] });
    expect(est.runs).toHaveLength(2);
    expect(est.totalSeconds).toBeCloseTo((est.runs[0]?.totalSeconds ?? 0) + (est.runs[1]?.totalSeconds ?? 0), 6);

    const order: string[] = [];
    const off = s.events.on('task', (t) => {
      if (t.kind === 'training' && order.at(-1) !== `${t.id}:${t.state}`) order.push(`${t.id}:${t.state}`);
    });
    const started = await api.startSweep(base, { sizes: [96], blocks: [0, 1] });
    expect(started.runs).toHaveLength(2);
    const [a, b] = started.runs;
    expect((await s.tasks.wait(a!.id)).state).toBe('succeeded');
    expect((await s.tasks.wait(b!.id)).state).toBe('succeeded');
    off();
    const ra = await api.getRun(a!.runId);
    const rb = await api.getRun(b!.runId);
    // Queued on one queue: the second started only after the first finished.
    expect(order.indexOf(`${b!.id}:running`)).toBeGreaterThan(order.indexOf(`${a!.id}:succeeded`));
    expect(order.indexOf(`${a!.id}:succeeded`)).toBeGreaterThan(-1);
    expect(ra.config.sweep?.id).toBe(started.sweepId);
    expect(rb.phases.map((p) => p.phase)).toContain('finetune');
    expect(ra.phases.map((p) => p.phase)).not.toContain('finetune');

    const view = await api.getSweep(started.sweepId);
    expect(view.points.map((p) => [p.runId, p.inputSize, p.fineTuneBlocks])).toEqual([
      [a!.runId, 96, 0],
      [b!.runId, 96, 1],
    ]);
    expect(view.points.map((p) => p.valAccuracy)).toEqual([ra.valAccuracy, rb.valAccuracy]);
    expect(view.bestRunId).toBe(bestSweepPoint(view.points)?.runId);

    // Any run of the sweep can become the active model.
    for (const r of [a!, b!]) {
      await api.setActiveModel(r.runId);
      expect((await api.getActiveModel())?.id).toBe(r.runId);
    }
    await expect(api.getSweep('no-such-sweep')).rejects.toThrow(/No runs belong/);
  }, 120_000);

  it('the CLI refuses --size beside --sizes and a sweep without lists', async () => {
    const io = { out: () => {}, err: () => {}, services: () => s! };
    await expect(sweepCommand.run([join(tmp, 'project'), '--sizes', '96'], io)).rejects.toThrow(/Usage/);
    await expect(sweepCommand.run([join(tmp, 'project'), '--sizes', '96', '--blocks', '0', '--size', '96'], io)).rejects.toThrow(
      /leave out --size/,
    );
  });
});
