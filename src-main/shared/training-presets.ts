/**
 * Training presets, defined once for the wizard and the CLI (`kensa train --preset quick|study|best`).
 * A preset is a partial configuration; explicit choices (wizard fields, CLI flags) are applied over it.
 *
 * Input size by backend: the study's 520 px needs a GPU. On a CPU a fine-tuning epoch grows with the pixel
 * count (520 px costs 5.4x 224 px: about 0.25 s an image for MobileNet v1 0.75 with 6 blocks, i.e. an hour an
 * epoch for 5,000 augmented images), so Study stays at 224 px there (the resolution the ImageNet weights were
 * trained at) and Best goes to 320 px.
 */
import type { BackendName } from './types.ts';
import type { TrainConfigInput } from './training-types.ts';

/**
 * Adam's learning rate while blocks are fine-tuned. The study's 2e-4 (method.md) wrecked fine-tuning of the last 6
 * blocks of v1 0.75: on NEU the transfer head's 100 % validation accuracy fell to 31 % after one epoch (loss 0.003 ->
 * 10.8; 360 images at 224 px, and the same at 128 px: loss 0.24 -> 2.49), so the run kept its transfer checkpoint and
 * fine-tuning did nothing. Adam moves every weight by about the learning rate per step whatever the gradient's scale,
 * and 2e-4 a step is a large share of a pointwise kernel's weights. Measured side by side (v1 0.75, N = 6, 128 px,
 * first fine-tuning epoch's loss from 0.24 after transfer): 2e-4 2.49, 1e-4 0.34, 5e-5 0.12, 2e-5 0.09, 1e-5 0.11.
 * 2e-5 is also what the default configuration and "Continue from run" use.
 */
export const FINETUNE_LR = 2e-5;

export const TRAIN_PRESETS = ['quick', 'study', 'best'] as const;
export type TrainPresetId = (typeof TRAIN_PRESETS)[number];

/** Whether training runs on a GPU (native TensorFlow with CUDA) or on the CPU (wasm, cpu, tfjs-node). */
export function isGpuBackend(training: BackendName | string | null | undefined): boolean {
  return training === 'tfjs-node-gpu';
}

/** The configuration a preset stands for on a machine whose training backend is `training`. */
export function presetConfig(id: TrainPresetId, training: BackendName | string | null | undefined): TrainConfigInput {
  const gpu = isGpuBackend(training);
  // Transfer phase to convergence on cached embeddings: warm-up + cosine, stop on the smoothed validation loss.
  const transfer = { epochs: 300, learningRate: 1e-3, patience: 30, lrSchedule: 'warmupCosine', stopSmoothing: 0.3 } as const;
  const fixedX3 = { mode: 'fixed', rotationDeg: 0, brightness: 0, contrast: 0, cropMinScale: 1 } as const;
  switch (id) {
    case 'quick':
      // A useful model in about a minute: the small backbone, frozen, head trained to convergence.
      return {
        ...transfer,
        backbone: 'mobilenet_v1_0.25',
        inputSize: 224,
        augmentation: fixedX3,
        fineTuneBlocks: 0,
        fineTuneEpochs: 0,
        tta: false,
        continueFromRunId: null,
      };
    case 'study':
      // method.md: ImageNet MobileNet v1 (0.75: the largest v1 with complete weights here), x3 fixed augmentation,
      // Adam, transfer learning, then the last 6 of 13 blocks fine-tuned (metrics saturate within ~30 epochs).
      return {
        ...transfer,
        backbone: 'mobilenet_v1_0.75',
        inputSize: gpu ? 520 : 224,
        augmentation: fixedX3,
        fineTuneBlocks: 6,
        fineTuneEpochs: gpu ? 30 : 12,
        fineTuneLearningRate: FINETUNE_LR,
        fineTunePatience: gpu ? 8 : 4,
        tta: false,
        continueFromRunId: null,
      };
    case 'best':
      // More time for more accuracy: larger input, longer fine-tuning, test-time augmentation in evaluation.
      return {
        ...transfer,
        backbone: 'mobilenet_v1_0.75',
        inputSize: gpu ? 640 : 320,
        augmentation: fixedX3,
        fineTuneBlocks: 6,
        fineTuneEpochs: gpu ? 60 : 20,
        fineTuneLearningRate: FINETUNE_LR,
        fineTunePatience: gpu ? 12 : 6,
        tta: true,
        continueFromRunId: null,
      };
  }
}

/**
 * Whether a preset trains guided by the drawn regions, given how many training defect images have regions: Study and
 * Best do when any has (weight 1), Quick never does (left to the user's explicit choice either way).
 *
 * Measured with the Study preset on NEU (360 photos, VOC boxes on every photo, 252 training / 108 validation, v1 0.75
 * @ 224, fine-tuning capped at 2 epochs, seed 1): validation accuracy 100 % with and without; CAM pointing 60.2 % ->
 * 90.7 % and energy in region 49.8 % -> 64.8 % with weight 1 (per type, plain -> guided: scratch 44 -> 72, crazing
 * 72 -> 100, inclusion 39 -> 94, patches 83 -> 100, pitted 67 -> 94, rolled-in 56 -> 83 %), for 303 s against 296 s.
 * Quick is left out: on the demo (transfer only, v1 0.25) weight 1 did not move pointing (25 -> 21 %, one seed).
 */
export function presetGuidance(
  id: TrainPresetId,
  trainDefectImagesWithRegions: number,
): Pick<TrainConfigInput, 'guideRegions' | 'guideWeight'> {
  if (id === 'quick' || trainDefectImagesWithRegions <= 0) return { guideRegions: false };
  return { guideRegions: true, guideWeight: 1 };
}

/** Training-split defect images with regions, from the catalog's per-label counts (OK is not a defect). */
export function defectImagesWithRegions(
  perLabel: readonly { key: string; trainWithRegions?: number }[],
  excluded: readonly string[] = [],
): number {
  return perLabel.filter((l) => l.key !== 'ok' && !excluded.includes(l.key)).reduce((a, l) => a + (l.trainWithRegions ?? 0), 0);
}
