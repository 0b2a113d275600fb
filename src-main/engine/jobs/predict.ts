/** Engine job 'predict': class probabilities of images (catalog ids or files) with a saved Kensa model. */
import { openSource } from '../data/open-source.ts';
import type { PredictJobEvent, PredictJobParams, PredictJobResult } from '../../services/engine/job-types.ts';
import { predictSamples } from '../train/trainer.ts';
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
  const source = await openSource(p.source, p.samples, resizeOfModel(info), padMaskOfModel(info));
  try {
    const idx = p.samples.map((_, i) => i);
    const scored = await predictSamples(model, source, idx, info.inputSize, ctx.backends.inference, ctx.signal, {
      tta: p.tta ?? info.tta ?? false,
    });
    ctx.emit({ kind: 'progress', done: scored.length, total: scored.length });
    return { probabilities: scored.map((s) => Array.from(s.probs)), ids: scored.map((s) => s.id) };
  } finally {
    source.close?.();
  }
});
