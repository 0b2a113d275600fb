import { describe, expect, it } from 'vitest';
import { formatDurationIn } from '../../src-renderer/src/lib/format.ts';
import {
  alignLines,
  batchBoundary,
  breakLine,
  needsLongRunConfirm,
  overfitTrend,
  panelPhase,
  phaseBoundary,
  runName,
  taskFraction,
  type ProgressInput,
} from '../../src-renderer/src/views/train/panel.ts';
import { DEFAULT_TRAIN_CONFIG } from '../../src-main/shared/training-types.ts';

const training = (over: Partial<ProgressInput>): ProgressInput => ({
  kind: 'training',
  state: 'running',
  progress: { done: 0, total: null, rate: null, etaSeconds: null, unit: 'items' },
  ...over,
});
const batches = (done: number, total: number) => ({ done, total, rate: null, etaSeconds: null, unit: 'batches' });

describe('one progress figure for a training run', () => {
  it('counts whole epochs plus the batches of the epoch in progress, not the batches of one epoch', () => {
    // Epoch 9 of 10 is half done: the status bar used to say 50 % (batches of this epoch) while the panel said 85 %.
    const s = training({ epoch: { current: 8, total: 10 }, progress: batches(6, 12) });
    expect(taskFraction(s)).toBeCloseTo(0.85, 5);
    // The panel passes the run's configured epoch count; the figure is the same.
    expect(taskFraction(s, 10)).toBeCloseTo(0.85, 5);
  });

  it('never counts an epoch twice while its last batch waits for validation, and never goes back', () => {
    const seq = [
      training({ epoch: { current: 2, total: 4 }, progress: batches(9, 10) }),
      training({ epoch: { current: 2, total: 4 }, progress: batches(10, 10) }),
      training({ epoch: { current: 3, total: 4 }, progress: batches(10, 10) }),
      training({ epoch: { current: 3, total: 4 }, progress: batches(1, 10) }),
    ].map((s) => taskFraction(s)!);
    expect(seq[2]).toBeCloseTo(0.75, 5);
    expect(seq[3]).toBeGreaterThan(seq[2]!);
    expect(Math.max(...seq)).toBeLessThanOrEqual(0.775);
  });

  it('is 0 while embeddings are computed, 1 when the run succeeded, done/total for other tasks', () => {
    const emb = training({
      epoch: { current: 0, total: 10 },
      progress: { ...batches(300, 400), unit: 'images' },
      step: { kind: 'embeddings' },
    });
    expect(taskFraction(emb)).toBe(0);
    expect(taskFraction(training({ state: 'succeeded', epoch: { current: 6, total: 10 } }))).toBe(1);
    expect(taskFraction({ ...training({ progress: { ...batches(30, 120), unit: 'images' } }), kind: 'inspect' })).toBeCloseTo(0.25, 5);
    expect(taskFraction(training({}))).toBeNull();
  });
});

describe('the phase a run is in', () => {
  it('follows the running task’s step, so a paused fine-tuning says phase 2 and a new run says embeddings', () => {
    expect(panelPhase({ kind: 'finetune', blocks: 4 }, 'transfer', true)).toBe('finetune');
    expect(panelPhase({ kind: 'embeddings' }, 'finetune', true)).toBe('embeddings');
    expect(panelPhase({ kind: 'engine-starting' }, null, true)).toBe('starting');
    expect(panelPhase({ kind: 'evaluate' }, 'finetune', true)).toBe('evaluate');
  });
  it('falls back to the last epoch’s phase for a run that has ended, unless it ended inside a phase', () => {
    expect(panelPhase({ kind: 'evaluate' }, 'finetune', false)).toBe('finetune');
    // Cancelled during the first fine-tuning epoch: its last stored epoch is a transfer one, yet it was fine-tuning.
    expect(panelPhase({ kind: 'finetune', blocks: 13 }, 'transfer', false)).toBe('finetune');
    expect(panelPhase(undefined, 'transfer', false)).toBe('transfer');
    expect(panelPhase(undefined, null, false)).toBeNull();
  });
});

describe('over-fitting hint from smoothed trends', () => {
  const falling = Array.from({ length: 14 }, (_, i) => 1 / (1 + i * 0.4));
  const uShape = Array.from({ length: 14 }, (_, i) => 0.6 + 0.01 * (i - 5) ** 2);
  it('fires when training loss keeps falling and validation loss keeps rising after its best', () => {
    expect(overfitTrend(falling, uShape)).toBe(true);
  });
  it('does not fire while the training loss bounces without falling', () => {
    const bouncing = Array.from({ length: 14 }, (_, i) => (i % 2 ? 0.9 : 0.5) - 0.002 * i);
    expect(overfitTrend(bouncing, uShape)).toBe(false);
  });
  it('does not fire when both losses fall, when validation only wobbles, or too early', () => {
    expect(
      overfitTrend(
        falling,
        falling.map((v) => v + 0.1),
      ),
    ).toBe(false);
    const wobble = Array.from({ length: 14 }, (_, i) => 0.5 + (i % 2 ? 0.03 : -0.03));
    expect(overfitTrend(falling, wobble)).toBe(false);
    expect(overfitTrend(falling.slice(0, 6), uShape.slice(0, 6))).toBe(false);
    expect(
      overfitTrend(
        falling,
        uShape.map((v, i) => (i === 12 ? null : v)),
      ),
    ).toBe(false);
  });
});

describe('batch-loss line', () => {
  it('breaks at the phase boundary and where whole epochs have no batches, and nowhere else', () => {
    // Transfer epochs 1–2 (2 batches each), fine-tuning epoch 3, then epoch 6 after three epochs not recorded.
    const x = [0.5, 1, 1.5, 2, 2.5, 3, 5.5, 6];
    const y = [1, 0.9, 0.8, 0.7, 1.2, 1.1, 0.5, 0.4];
    const epochs = [
      { phase: 'transfer' as const, globalEpoch: 1 },
      { phase: 'transfer' as const, globalEpoch: 2 },
      { phase: 'finetune' as const, globalEpoch: 3 },
    ];
    expect(phaseBoundary(epochs)).toBe(2.5);
    const b = breakLine(x, y, [batchBoundary(epochs)!]);
    const breaks = b.x.filter((_, i) => b.y[i] === null);
    expect(breaks).toEqual([2.25, 4.25]);
    expect(b.y.filter((v) => v !== null)).toEqual(y);
  });
  it('breaks where thinned-out live batches skip most of an epoch, not between ordinary neighbours', () => {
    // One batch event of epoch 1 arrived, then every batch of epoch 2 (9 per epoch): no diagonal from 0.11 to 1.11.
    const x = [1 / 9, 1 + 1 / 9, 1 + 2 / 9, 1 + 3 / 9, 1 + 4 / 9];
    const b = breakLine(x, [0.7, 0.3, 1.1, 0.2, 0.4]);
    expect(b.y.filter((v) => v === null)).toHaveLength(1);
    expect(b.y[1]).toBeNull();
    // One batch per epoch is an ordinary step of 1 epoch: no breaks.
    expect(breakLine([1, 2, 3, 4], [1, 0.9, 0.8, 0.7]).y).not.toContain(null);
  });
  it('aligns lines with undefined where a line has no point, keeping its breaks as null', () => {
    const [x, a, b] = alignLines([
      { x: [1, 2], y: [0.5, 0.4] },
      { x: [0.5, 1.25, 2], y: [0.9, null, 0.3] },
    ]);
    expect(x).toEqual([0.5, 1, 1.25, 2]);
    expect(a).toEqual([undefined, 0.5, undefined, 0.4]);
    expect(b).toEqual([0.9, undefined, null, 0.3]);
  });
  it('has no boundary for a run that only did one phase', () => {
    expect(phaseBoundary([{ phase: 'transfer', globalEpoch: 1 }])).toBeNull();
    expect(phaseBoundary([{ phase: 'finetune', globalEpoch: 1 }])).toBeNull();
  });
});

describe('run names and long runs', () => {
  const at = new Date(2026, 11, 2, 9, 5).getTime();
  it('names a run from its own settings', () => {
    const c = { ...DEFAULT_TRAIN_CONFIG, backbone: 'mobilenet_v2_1.0' as const, inputSize: 224, fineTuneBlocks: 6 };
    const a = runName(c, 'finetune', at, 'en-GB');
    expect(a).toMatch(/^MobileNet v2 1\.0 224px FT6 · /);
    const b = runName({ ...c, inputSize: 160 }, 'transfer', at, 'en-GB');
    expect(b).toMatch(/^MobileNet v2 1\.0 160px TL · /);
    expect(runName({ ...c, continueFromRunId: 4 }, 'finetune', at, 'en-GB')).toContain('#4→FT6');
    expect(runName({ ...c, task: 'anomaly' }, 'transfer', at, 'en-GB')).toContain('PatchCore');
  });
  it('asks before a run estimated over 10 minutes', () => {
    expect(needsLongRunConfirm(601)).toBe(true);
    expect(needsLongRunConfirm(600)).toBe(false);
    expect(needsLongRunConfirm(null)).toBe(false);
  });
});

describe('durations in the UI language', () => {
  it('writes seconds, minutes and hours in English and Japanese', () => {
    expect(formatDurationIn('en', 62)).toBe('1 min 02 s');
    expect(formatDurationIn('ja', 62)).toBe('1 分 02 秒');
    expect(formatDurationIn('ja', 4.25)).toBe('4.3 秒');
    expect(formatDurationIn('en', 12)).toBe('12 s');
    expect(formatDurationIn('ja', 3900)).toBe('1 時間 05 分');
    expect(formatDurationIn('en', 3900)).toBe('1 h 05 min');
    expect(formatDurationIn('en', null)).toBe('–');
  });
});
