/** Engine job 'train': one training run (transfer, then fine-tuning, then evaluation). */
import { openSource } from '../data/open-source.ts';
import { readRegionMasks } from '../../services/training/guide/regions.ts';
import { readRegionBoxes } from '../../services/training/train/tile-regions.ts';
import { readWeightSet } from '../model/weights.ts';
import { Trainer } from '../train/trainer.ts';
import type { TrainJobEvent, TrainJobParams, TrainJobResult } from '../../services/engine/job-types.ts';
import { padMaskOfConfig } from '../../services/training/data/geometry.ts';
import { defineJob } from '../job.ts';

// The job's wire types live with the main side's engine client (TF-free); re-exported for tests and benches.
export type { TrainJobEvent, TrainJobParams, TrainJobResult };

const BATCH_EVENT_INTERVAL_MS = 100;

export const trainJob = defineJob<TrainJobParams, TrainJobEvent, TrainJobResult>()('train', async (p, ctx) => {
  const crashAt = Number(process.env.KENSA_ENGINE_CRASH_AT_EPOCH ?? 0);
  const backboneWeights = readWeightSet(p.backboneWeightsDir);
  const initialWeights = p.initialModelDir ? readWeightSet(p.initialModelDir) : null;
  const tiled = p.config.resize === 'tile';
  const tiles = p.config.maxTiles !== undefined ? { maxTiles: p.config.maxTiles } : {};
  const source = await openSource(p.source, p.samples, p.config.resize ?? 'squash', padMaskOfConfig(p.config), tiles);
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  p.samples.forEach((s, i) => splits[s.split].push(i));
  let lastBatchEmit = 0;
  // Regions of the validation images: the localisation curve (CAM pointing / energy) every epoch.
  // Tiles: the regions say which tiles of a training photo carry its label; the per-epoch curve is not measured on tiles.
  const regionBoxes =
    tiled && p.source.kind === 'catalog'
      ? readRegionBoxes(p.source.projectDir, p.samples, p.classes, p.okIndex, (s) => s.split === 'train')
      : null;
  const regionMasks =
    p.source.kind === 'catalog' && !tiled
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
      ...(regionBoxes?.size ? { regionBoxes } : {}),
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
