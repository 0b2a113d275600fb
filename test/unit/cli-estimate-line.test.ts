/**
 * The line `kensa train` prints before a run starts (src-main/cli/estimate-line.ts): the total first, the parts that
 * make it up, fine-tuning's first epoch apart from the later ones, and for anomaly runs the fit's own parts.
 */
import { describe, expect, it } from 'vitest';
import { durationText, estimateLine } from '../../src-main/cli/estimate-line.ts';
import type { TrainingEstimate } from '../../src-main/shared/training-types.ts';

const base: TrainingEstimate = {
  backend: { training: 'wasm', inference: 'wasm' },
  trainImages: 90,
  valImages: 30,
  testImages: 0,
  samplesPerEpoch: 270,
  parameters: { total: 1_800_000, trainableFineTune: 1_200_000 },
  backboneMsPerImage: 40,
  embeddingSeconds: 12.4,
  transferEpochSeconds: 0.01,
  fineTuneEpochSeconds: 21,
  fineTuneFirstEpochSeconds: 48,
  expectedTransferEpochs: 300,
  transferSeconds: 3,
  fineTuneSeconds: 69 + 21 * 10,
  evaluationSeconds: 1.5,
  totalSeconds: 190,
  peakMemoryMB: 1234.4,
  notes: [],
};

describe('durationText', () => {
  it('writes seconds as the UI does', () => {
    expect(durationText(8.44)).toBe('8.4 s');
    expect(durationText(42.4)).toBe('42 s');
    expect(durationText(190)).toBe('3 min 10 s');
    expect(durationText(7500)).toBe('2 h 05 min');
  });
});

describe('estimateLine', () => {
  it('starts with the total and names each phase, fine-tuning first epoch apart', () => {
    expect(estimateLine(base, 12)).toBe(
      'Estimated 3 min 10 s (embeddings 12 s, head ~300 epochs 3.0 s, fine-tuning 4 min 39 s for 12 epochs ' +
        '(first about 48 s, then 21 s each), evaluation 1.5 s, peak memory about 1,234 MB; on wasm).',
    );
  });

  it('leaves out the phases a run does not have', () => {
    const line = estimateLine({ ...base, fineTuneSeconds: 0, fineTuneEpochSeconds: 0, fineTuneFirstEpochSeconds: 0, totalSeconds: 17 }, 0);
    expect(line).toMatch(/^Estimated 17 s \(embeddings 12 s, head ~300 epochs 3\.0 s, evaluation 1\.5 s, peak memory/);
    expect(line).not.toContain('fine-tuning');
  });

  it('gives an anomaly run its fit: features, coreset, scoring', () => {
    const line = estimateLine(
      {
        ...base,
        embeddingSeconds: 0,
        transferSeconds: 0,
        fineTuneSeconds: 0,
        evaluationSeconds: 0,
        totalSeconds: 75,
        anomaly: { fitImages: 400, featuresSeconds: 50, coresetSeconds: 5, scoredImages: 120, scoringSeconds: 20, flips: true },
      },
      0,
    );
    expect(line).toBe(
      'Estimated 1 min 15 s (features of 400 good images 50 s, coreset 5.0 s, scoring 120 images 20 s (with flips), ' +
        'peak memory about 1,234 MB; on wasm).',
    );
  });
});
