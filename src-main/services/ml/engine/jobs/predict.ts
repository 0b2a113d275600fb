/** Engine job 'predict': class probabilities of images (catalog ids or files) with a saved Kensa model. */
import { openSource, type SourceSpec } from '../../data/open-source.ts';
import type { EngineSample } from '../../data/source.ts';
import { predictSamples } from '../../train/trainer.ts';
import { loadClassifier } from '../model-cache.ts';
import { defineJob } from '../job.ts';

export interface PredictJobParams {
  modelDir: string;
  samples: EngineSample[];
  source: SourceSpec;
}

export interface PredictJobResult {
  /** probabilities[i] for samples[i]. */
  probabilities: number[][];
  ids: number[];
}

export type PredictJobEvent = { kind: 'progress'; done: number; total: number };

export const predictJob = defineJob<PredictJobParams, PredictJobEvent, PredictJobResult>()('predict', async (p, ctx) => {
  const { model, info } = await loadClassifier(p.modelDir, ctx.backends.inference);
  const source = await openSource(p.source, p.samples);
  try {
    const idx = p.samples.map((_, i) => i);
    const scored = await predictSamples(model, source, idx, info.inputSize, ctx.backends.inference, ctx.signal);
    ctx.emit({ kind: 'progress', done: scored.length, total: scored.length });
    return { probabilities: scored.map((s) => Array.from(s.probs)), ids: scored.map((s) => s.id) };
  } finally {
    source.close?.();
  }
});
