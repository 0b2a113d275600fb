import { describe, expect, it } from 'vitest';
import type { LibraryStats } from '../../src-main/shared/library-types.ts';
import { DEFAULT_TRAIN_CONFIG } from '../../src-main/shared/training-types.ts';
import { guideFacts } from '../../src-renderer/src/views/train/guide-facts.ts';
import { defectImagesWithRegions, presetGuidance } from '../../src-main/shared/training-presets.ts';

const label = (key: string, train: number, trainWithRegions: number) => ({
  key,
  nameEn: key,
  nameJa: key,
  total: train,
  train,
  val: 0,
  test: 0,
  trainWithRegions,
});
const stats = (perLabel: LibraryStats['perLabel']): LibraryStats => ({
  total: 0,
  unlabelled: 0,
  perLabel,
  perSplit: { train: 0, val: 0, test: 0 },
  perReviewState: { unlabelled: 0, labelled: 0, reviewed: 0 },
  perCoreType: { stator: 0, rotor: 0, unknown: 0 },
  regions: 0,
  batches: 0,
  duplicatesFound: 0,
});

describe('guided training facts in the wizard', () => {
  const aug = DEFAULT_TRAIN_CONFIG.augmentation;
  it('counts the training defect images with regions of the classes that take part, OK left out', () => {
    const s = stats([label('ok', 40, 3), label('scratch', 20, 12), label('dent', 10, 10)]);
    expect(guideFacts(s, { augmentation: { ...aug, rotationDeg: 0, cropMinScale: 1 } }, [])).toEqual({
      withRegions: 22,
      defectImages: 30,
      blocked: null,
    });
    expect(guideFacts(s, { augmentation: { ...aug, rotationDeg: 0, cropMinScale: 1 } }, ['dent']).withRegions).toBe(12);
  });
  it('is off, with the reason, without regions or with augmentation that moves the photo off its regions', () => {
    const none = stats([label('ok', 40, 0), label('scratch', 20, 0)]);
    expect(guideFacts(none, { augmentation: aug }, []).blocked).toBe('noRegions');
    expect(guideFacts(null, { augmentation: aug }, []).blocked).toBe('noRegions');
    const some = stats([label('scratch', 20, 5)]);
    expect(guideFacts(some, { augmentation: { ...aug, rotationDeg: 10, cropMinScale: 1 } }, []).blocked).toBe('augmentation');
    expect(guideFacts(some, { augmentation: { ...aug, rotationDeg: 0, cropMinScale: 0.85 } }, []).blocked).toBe('augmentation');
    expect(guideFacts(some, { augmentation: { ...aug, rotationDeg: 0, cropMinScale: 1 }, resize: 'tile' }, []).blocked).toBe('tiles');
  });
  it('is what Study and Best turn on where training defect images have regions, never Quick', () => {
    expect(presetGuidance('study', 3)).toEqual({ guideRegions: true, guideWeight: 1 });
    expect(presetGuidance('best', 1)).toEqual({ guideRegions: true, guideWeight: 1 });
    expect(presetGuidance('study', 0)).toEqual({ guideRegions: false });
    expect(presetGuidance('quick', 50)).toEqual({ guideRegions: false });
    expect(defectImagesWithRegions([label('ok', 9, 9), label('dent', 5, 2), label('chip', 4, 4)], ['chip'])).toBe(2);
  });
});
