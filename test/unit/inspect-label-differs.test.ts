/** Inspect's "label differs from prediction" filter: a library photo's catalog label against the model's prediction. */
import { describe, expect, it } from 'vitest';
import type { Inspection } from '../../src-main/shared/api/inspect.ts';
import type { ClassInfo } from '../../src-main/shared/training-types.ts';
import { classOfLabel, labelDiffers } from '../../src-renderer/src/views/inspect/label-match.ts';

const cls = (key: string, isOk = false): ClassInfo => ({ key, nameEn: key, nameJa: key, color: '#888888', isOk });
const types = [
  { key: 'ok', isOk: true },
  { key: 'scratches', isOk: false },
  { key: 'inclusion', isOk: false },
  { key: 'pitted', isOk: false },
];
const binary: Pick<Inspection, 'classes' | 'task'> = { task: 'binary', classes: [cls('ok', true), cls('defect')] };
const multi: Pick<Inspection, 'classes' | 'task'> = { task: 'multiclass', classes: [cls('ok', true), cls('scratches'), cls('inclusion')] };

describe('label differs from prediction', () => {
  it('binary: any defect type counts as "defect", the OK type as "ok"', () => {
    expect(classOfLabel(binary, 'scratches', types)).toBe(1);
    expect(classOfLabel(binary, 'ok', types)).toBe(0);
    expect(labelDiffers(binary, { labelKey: 'scratches', predicted: 1 }, types)).toBe(false);
    expect(labelDiffers(binary, { labelKey: 'inclusion', predicted: 0 }, types)).toBe(true);
    expect(labelDiffers(binary, { labelKey: 'ok', predicted: 1 }, types)).toBe(true);
    expect(labelDiffers(binary, { labelKey: 'ok', predicted: 0 }, types)).toBe(false);
  });

  it('binary with OK second: the defect class is the other one', () => {
    const flipped: Pick<Inspection, 'classes' | 'task'> = { task: 'binary', classes: [cls('defect'), cls('ok', true)] };
    expect(labelDiffers(flipped, { labelKey: 'pitted', predicted: 0 }, types)).toBe(false);
    expect(labelDiffers(flipped, { labelKey: 'pitted', predicted: 1 }, types)).toBe(true);
  });

  it('multiclass: one defect type predicted as another differs; a type the model lacks is not compared', () => {
    expect(labelDiffers(multi, { labelKey: 'scratches', predicted: 2 }, types)).toBe(true);
    expect(labelDiffers(multi, { labelKey: 'scratches', predicted: 1 }, types)).toBe(false);
    expect(labelDiffers(multi, { labelKey: 'ok', predicted: 2 }, types)).toBe(true);
    expect(labelDiffers(multi, { labelKey: 'pitted', predicted: 1 }, types)).toBeNull();
  });

  it('photos without a catalog label are never counted as differing', () => {
    expect(labelDiffers(binary, { labelKey: null, predicted: 1 }, types)).toBeNull();
    const noOk: Pick<Inspection, 'classes' | 'task'> = { task: 'multiclass', classes: [cls('scratches'), cls('inclusion')] };
    expect(labelDiffers(noOk, { labelKey: 'ok', predicted: 0 }, types)).toBeNull();
  });
});
