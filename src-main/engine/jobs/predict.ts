/** Engine job 'predict': class probabilities of images (catalog ids or files) with a saved Kensa model. */
import { openSource } from '../data/open-source.ts';
import type { PredictJobEvent, PredictJobParams, PredictJobResult } from '../../services/engine/job-types.ts';
import { predictPhotos } from '../train/trainer.ts';
import { loadClassifier } from '../model-cache.ts';
import { defineJob } from '../job.ts';
import { readModelInfo } from '../../services/training/model/saved-model.ts';
import { padMaskOfModel, resizeOfModel } from '../../services/training/data/geometry.ts';
import { anomalyScoreJob } from './anomaly.ts';

export const predictJob = defineJob<PredictJobParams, PredictJobEvent, PredictJobResult>()('predict', async (p, ctx) => {
  // Anomaly models answer with their normalised score as P(defect) (0.5 = their threshold), in the same shape.
  if (readModelInfo(p.modelDir).task === 'anomaly') {
    const r = await anomalyScoreJob.run({ ...p, maps: false }, ctx);
    return { probabilities: r.probabilities, ids: r.ids };
  }
  const { model, info } = await loadClassifier(p.modelDir, ctx.backends.inference);
  const source = await openSource(p.source, p.samples, resizeOfModel(info), padMaskOfModel(info), info.preprocessing.tiles);
  try {
    const idx = p.samples.map((_, i) => i);
    // Tiled models: each photo is judged by its worst tile (the lowest OK probability; without OK, the most confident).
    const okAt = info.classes.findIndex((c) => c.isOk);
    const scored = await predictPhotos(model, source, idx, info.inputSize, ctx.backends.inference, ctx.signal, {
      tta: p.tta ?? info.tta ?? false,
      okIndex: okAt < 0 ? null : okAt,
    });
    ctx.emit({ kind: 'progress', done: scored.length, total: scored.length });
    const tiles = scored.every((s) => s.tile !== undefined) && resizeOfModel(info) === 'tile' ? scored.map((s) => s.tile!) : null;
    return { probabilities: scored.map((s) => Array.from(s.probs)), ids: scored.map((s) => s.id), ...(tiles ? { tiles } : {}) };
  } finally {
    source.close?.();
  }
});
