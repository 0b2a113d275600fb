/** Engine job 'train': one training run (transfer, then fine-tuning, then evaluation). */
import type { TrainConfig } from '../../shared/training-types.ts';
import { openSource, type SourceSpec } from '../data/open-source.ts';
import type { EngineSample } from '../../services/ml/data/source.ts';
import { readRegionMasks } from '../../services/ml/guide/regions.ts';
import { readWeightSet } from '../model/weights.ts';
import { Trainer, type TrainerEvent, type TrainerOutput } from '../train/trainer.ts';
import { defineJob } from '../job.ts';

export interface TrainJobParams {
  runId: number;
  config: TrainConfig;
  classes: string[];
  okIndex: number | null;
  samples: EngineSample[];
  source: SourceSpec;
  /** Folder of the ImageNet (or user) backbone weights, tfjs layers format. */
  backboneWeightsDir: string;
  /** Continue from run: that run's model folder. */
  initialModelDir: string | null;
  /** Project cache folder (embeddings), or null. */
  cacheDir: string | null;
}

export type TrainJobEvent = TrainerEvent;
export type TrainJobResult = TrainerOutput & { backends: { training: string; inference: string } };

const BATCH_EVENT_INTERVAL_MS = 100;

export const trainJob = defineJob<TrainJobParams, TrainJobEvent, TrainJobResult>()('train', async (p, ctx) => {
  const crashAt = Number(process.env.KENSA_ENGINE_CRASH_AT_EPOCH ?? 0);
  const backboneWeights = readWeightSet(p.backboneWeightsDir);
  const initialWeights = p.initialModelDir ? readWeightSet(p.initialModelDir) : null;
  const source = await openSource(p.source, p.samples, p.config.resize ?? 'squash');
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  p.samples.forEach((s, i) => splits[s.split].push(i));
  let lastBatchEmit = 0;
  // Regions of the validation images: the localisation curve (CAM pointing / energy) every epoch.
  const regionMasks =
    p.source.kind === 'catalog'
      ? readRegionMasks(
          p.source.projectDir,
          p.samples,
          p.classes,
          p.okIndex,
          (s) => s.split === 'val' || (p.config.guideRegions === true && s.split === 'train'),
          p.config.resize ?? 'squash',
        )
      : null;
  try {
    const trainer = new Trainer({
      config: p.config,
      classes: p.classes,
      okIndex: p.okIndex,
      source,
      splits,
      backboneWeights,
      initialWeights,
      cacheDir: p.cacheDir,
      backends: ctx.backends,
      signal: ctx.signal,
      pause: ctx.pause,
      ...(regionMasks?.size ? { regionMasks } : {}),
      onEvent(e) {
        if (e.kind === 'batch') {
          // Test hook: die mid-epoch like a native crash would (no clean-up, no reply).
          if (crashAt > 0 && e.globalEpoch === crashAt && e.batch >= 2) process.kill(process.pid, 'SIGKILL');
          const now = Date.now();
          if (now - lastBatchEmit < BATCH_EVENT_INTERVAL_MS) return;
          lastBatchEmit = now;
        }
        ctx.emit(e);
      },
    });
    const out = await trainer.run();
    return { ...out, backends: ctx.backends };
  } finally {
    source.close?.();
  }
});
