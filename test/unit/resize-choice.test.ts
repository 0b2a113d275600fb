import { describe, expect, it } from 'vitest';
import { applyDefaultResize } from '../../src-main/cli/commands/train.ts';
import { chooseAnomalyResize, chooseResize, describeResizeChoice } from '../../src-main/shared/resize-choice.ts';
import type { TrainConfigInput } from '../../src-main/shared/training-types.ts';

describe('chooseResize (default resize mode from the photos)', () => {
  it('squashes when every class is about square', () => {
    const c = chooseResize([
      { key: 'ok', total: 40, aspect: 1 },
      { key: 'scratch', total: 20, aspect: 1.05 },
    ]);
    expect(c.mode).toBe('squash');
    expect(c.reason.kind).toBe('similar');
    if (c.reason.kind === 'similar') expect(c.reason.aspect).toBeGreaterThan(1);
  });

  it('keeps squash when two classes differ in shape (the padding would show the shape), naming the narrowest and the widest', () => {
    const c = chooseResize([
      { key: 'ok', total: 40, aspect: 1 },
      { key: 'crack', total: 10, aspect: 1.33 },
      { key: 'scratch', total: 20, aspect: 0.9 },
    ]);
    expect(c).toEqual({
      mode: 'squash',
      reason: { kind: 'aspectDiffers', narrow: 'scratch', narrowAspect: 0.9, wide: 'crack', wideAspect: 1.33 },
    });
  });

  it('treats a spread just under the bound as the same shape, and at the bound as different', () => {
    expect(
      chooseResize([
        { key: 'a', total: 1, aspect: 1 },
        { key: 'b', total: 1, aspect: 1.09 },
      ]).reason.kind,
    ).toBe('similar');
    expect(
      chooseResize([
        { key: 'a', total: 1, aspect: 1 },
        { key: 'b', total: 1, aspect: 1.1 },
      ]).reason.kind,
    ).toBe('aspectDiffers');
  });

  it('letterboxes photos far from square even when every class has the same shape, tall or wide', () => {
    const wide = chooseResize([
      { key: 'ok', total: 5, aspect: 2 },
      { key: 'ng', total: 5, aspect: 2.05 },
    ]);
    expect(wide.mode).toBe('letterbox');
    expect(wide.reason.kind).toBe('farFromSquare');
    const tall = chooseResize([{ key: 'ok', total: 5, aspect: 0.5 }]);
    expect(tall).toMatchObject({ mode: 'letterbox', reason: { kind: 'farFromSquare' } });
    if (tall.reason.kind === 'farFromSquare') expect(tall.reason.aspect).toBeCloseTo(0.5, 10);
    // 4:3 camera frames are squashed: the stretch is a third, and every class gets the same one.
    expect(chooseResize([{ key: 'ok', total: 5, aspect: 4 / 3 }]).mode).toBe('squash');
  });

  it('ignores classes without photos and decides squash when none has any', () => {
    expect(
      chooseResize([
        { key: 'ok', total: 10, aspect: 1 },
        { key: 'empty', total: 0, aspect: null },
        { key: 'unknown', total: 3 },
      ]).mode,
    ).toBe('squash');
    expect(chooseResize([{ key: 'ok', total: 0, aspect: null }])).toEqual({ mode: 'squash', reason: { kind: 'noData' } });
  });

  it('says why in one line, with the names given', () => {
    const c = chooseResize([
      { key: 'ok', total: 1, aspect: 1 },
      { key: 'scratch', total: 1, aspect: 1.5 },
    ]);
    const line = describeResizeChoice(c, (k) => (k === 'ok' ? 'Good' : 'Scratch'));
    expect(line).toMatch(/^squash: the photos of Good \(aspect 1\.00\) and Scratch \(1\.50\) differ in shape/);
    expect(line).not.toContain('\n');
  });
});

describe('kensa train without --resize', () => {
  const stats = [
    { key: 'ok', nameEn: 'Good', nameJa: '良品', total: 10, train: 8, val: 2, test: 0, aspect: 1 },
    { key: 'scratch', nameEn: 'Scratch', nameJa: 'キズ', total: 6, train: 4, val: 2, test: 0, aspect: 1.6 },
    { key: 'dent', nameEn: 'Dent', nameJa: '打痕', total: 6, train: 4, val: 2, test: 0, aspect: 1.02 },
  ];

  it('chooses from the photos and says why on one line', () => {
    const cfg: TrainConfigInput = {};
    const line = applyDefaultResize(cfg, stats);
    expect(cfg.resize).toBe('squash');
    expect(line).toContain('the photos of Good (aspect 1.00) and Scratch (1.60) differ in shape');
  });

  it('looks only at the labels that take part', () => {
    const cfg: TrainConfigInput = { labels: ['ok', 'dent'] };
    applyDefaultResize(cfg, stats);
    expect(cfg.resize).toBe('squash');
  });

  it('leaves a given resize and continued runs alone', () => {
    for (const cfg of [{ resize: 'letterbox' }, { continueFromRunId: 3 }] as TrainConfigInput[]) {
      const before = { ...cfg };
      expect(applyDefaultResize(cfg, stats)).toBeNull();
      expect(cfg).toEqual(before);
    }
  });

  // Issue 16: anomaly runs get their own rule (chooseAnomalyResize), no longer always squash.
  it('gives anomaly runs tiles for elongated photos and squash otherwise, whatever the classes’ shapes', () => {
    const square: TrainConfigInput = { task: 'anomaly' };
    expect(applyDefaultResize(square, stats)).toContain('squash');
    expect(square.resize).toBe('squash');
    const strips: TrainConfigInput = { task: 'anomaly' };
    const long = stats.map((l) => ({ ...l, aspect: l.key === 'ok' ? 3 : 2.8 }));
    expect(applyDefaultResize(strips, long)).toMatch(/^Resize tile: the photos are elongated/);
    expect(strips.resize).toBe('tile');
    expect(chooseAnomalyResize([{ key: 'ok', total: 5, aspect: 1 / 3 }]).mode).toBe('tile');
    expect(chooseAnomalyResize([{ key: 'ok', total: 5, aspect: 2 }]).mode).toBe('squash');
    expect(chooseAnomalyResize([]).reason.kind).toBe('noData');
  });
});
