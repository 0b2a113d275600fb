/**
 * Engine jobs of the anomaly task:
 * - 'anomaly-fit': learns the memory bank from the OK images of the training split (defect images there are not
 *   used), scores the validation and test images, sets the threshold on validation, and returns the model files'
 *   contents (backbone segment, bank, parameters) and the evaluations for the main side to store;
 * - 'anomaly-score': raw and normalised scores of images with a saved anomaly model, and optionally each image's
 *   patch map (for heatmaps and Inspect).
 */
import type { OperatingAim } from '../../shared/operating-point.ts';
import type { AnomalyModelParams, Evaluation, TrainConfig } from '../../shared/training-types.ts';
import { anomalyTaps } from '../anomaly/features.ts';
import { AnomalyModel, DEFAULT_ANOMALY } from '../anomaly/model.ts';
import { chooseAnomalyThreshold, normaliseScore, type AnomalyThreshold } from '../anomaly/threshold.ts';
import { openSource, type SourceSpec } from '../data/open-source.ts';
import type { EngineSample, SampleSource } from '../../services/ml/data/source.ts';
import { readModelInfo } from '../../services/ml/model/saved-model.ts';
import { modelArtifacts, useBackend, type SavedModelArtifacts } from '../model/tf-util.ts';
import { readWeightSet } from '../model/weights.ts';
import { evaluate } from '../../services/ml/train/metrics.ts';
import { defineJob } from '../job.ts';

/** Images per backbone batch. */
const BATCH = 8;

export interface AnomalyFitParams {
  config: TrainConfig;
  /** Class index of OK in `samples` (0: the run's classes are OK, defect). */
  okIndex: number;
  classes: string[];
  samples: EngineSample[];
  source: SourceSpec;
  backboneWeightsDir: string;
  aim: OperatingAim;
}

export type AnomalyFitEvent =
  { kind: 'phase'; phase: 'features' | 'coreset' | 'evaluate' } | { kind: 'progress'; done: number; total: number; unit: 'images' };

export interface AnomalyFitResult {
  artifacts: SavedModelArtifacts;
  /** Bank rows [bankRows * dim], float32. */
  bank: Float32Array;
  params: AnomalyModelParams;
  threshold: AnomalyThreshold;
  evaluations: Evaluation[];
  trainImages: number;
  candidates: number;
  durations: { featuresMs: number; coresetMs: number; evaluationMs: number; totalMs: number };
  /** Largest resident set size of the engine during the fit (MB). */
  peakRssMB: number;
  backends: { training: string; inference: string };
}

async function scoreAll(
  model: AnomalyModel,
  source: SampleSource,
  indices: number[],
  signal: AbortSignal,
  onDone?: (n: number) => void,
): Promise<{ raw: number[]; patches: Float32Array[] }> {
  const raw: number[] = [];
  const patches: Float32Array[] = [];
  for (let i = 0; i < indices.length; i += BATCH) {
    if (signal.aborted) throw Object.assign(new Error('Cancelled by the user'), { name: 'CancelledError' });
    const part = indices.slice(i, i + BATCH);
    const px = await Promise.all(part.map((k) => source.loadPixels(k, model.params.inputSize)));
    for (const s of await model.score(px)) {
      raw.push(s.raw);
      patches.push(s.patches);
    }
    onDone?.(raw.length);
  }
  return { raw, patches };
}

export const anomalyFitJob = defineJob<AnomalyFitParams, AnomalyFitEvent, AnomalyFitResult>()('anomaly-fit', async (p, ctx) => {
  const t0 = performance.now();
  let peakRss = process.memoryUsage().rss;
  const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  await useBackend(ctx.backends.inference);
  const cfg = { ...DEFAULT_ANOMALY, ...(p.config.anomaly ?? {}) };
  const taps = anomalyTaps(p.config.backbone);
  const params: AnomalyModelParams = {
    backbone: p.config.backbone,
    inputSize: p.config.inputSize,
    taps: [taps[0].name, taps[1].name],
    seed: p.config.seed,
    coresetFraction: cfg.coresetFraction,
    projectDim: cfg.projectDim,
    normaliseIntensity: cfg.normaliseIntensity,
    candidateFactor: cfg.candidateFactor,
    coresetProjectDim: cfg.coresetProjectDim,
    maxBankRows: cfg.maxBankRows,
    bankRows: 0,
    dim: 0,
    rawThreshold: 1,
    thresholdBasis: '',
    smoothingSigma: cfg.smoothingSigma,
  };
  const source = await openSource(p.source, p.samples);
  const model = new AnomalyModel(params, readWeightSet(p.backboneWeightsDir));
  try {
    const train = p.samples.flatMap((s, i) => (s.split === 'train' && s.label === p.okIndex ? [i] : []));
    if (!train.length) throw Object.assign(new Error('No OK images in the training split to learn from.'), { name: 'ValidationError' });
    ctx.emit({ kind: 'phase', phase: 'features' });
    let next = 0;
    const fit = await model.fit(
      async () => {
        ctx.throwIfCancelled();
        await ctx.pause.wait(ctx.signal);
        ctx.throwIfCancelled();
        if (next >= train.length) return null;
        const part = train.slice(next, next + BATCH);
        next += part.length;
        return Promise.all(part.map((k) => source.loadPixels(k, params.inputSize)));
      },
      train.length,
      (done) => {
        sampleRss();
        ctx.emit({ kind: 'progress', done, total: train.length, unit: 'images' });
        if (done === train.length) ctx.emit({ kind: 'phase', phase: 'coreset' });
      },
      ctx.signal,
    );
    sampleRss();
    const tFit = performance.now();
    params.bankRows = fit.rows;
    params.dim = model.extractor.dim;
    ctx.emit({ kind: 'phase', phase: 'evaluate' });
    const val = p.samples.flatMap((s, i) => (s.split === 'val' ? [i] : []));
    const test = p.samples.flatMap((s, i) => (s.split === 'test' ? [i] : []));
    const valScores = await scoreAll(model, source, val, ctx.signal);
    const isDefect = (i: number) => p.samples[i]!.label !== p.okIndex;
    let trainRaw: number[] = [];
    if (!val.some((i) => !isDefect(i))) trainRaw = (await scoreAll(model, source, train.slice(0, 200), ctx.signal)).raw;
    const threshold = chooseAnomalyThreshold(valScores.raw, val.map(isDefect), p.aim, trainRaw);
    params.rawThreshold = threshold.raw;
    params.thresholdBasis = threshold.description;
    const testScores = await scoreAll(model, source, test, ctx.signal);
    const evalOf = (split: 'val' | 'test', idx: number[], raw: number[]) =>
      evaluate(
        split,
        idx.map((k, j) => {
          const n = normaliseScore(raw[j]!, threshold.raw);
          const label = isDefect(k) ? 1 - p.okIndex : p.okIndex;
          const probs = p.okIndex === 0 ? [1 - n, n] : [n, 1 - n];
          return { id: source.idOf(k), label, probs };
        }),
        p.classes,
        { okIndex: p.okIndex, threshold: 0.5 },
      );
    const evaluations: Evaluation[] = [];
    if (val.length) evaluations.push(evalOf('val', val, valScores.raw));
    if (test.length) evaluations.push(evalOf('test', test, testScores.raw));
    sampleRss();
    const artifacts = await modelArtifacts(model.extractor.model);
    const tEnd = performance.now();
    return {
      artifacts,
      bank: model.bankData(),
      params,
      threshold,
      evaluations,
      trainImages: train.length,
      candidates: fit.candidates,
      durations: {
        featuresMs: fit.featuresMs,
        coresetMs: fit.coresetMs,
        evaluationMs: tEnd - tFit,
        totalMs: tEnd - t0,
      },
      peakRssMB: Math.round(peakRss / 1e6),
      backends: ctx.backends,
    };
  } finally {
    model.dispose();
    source.close?.();
  }
});

export interface AnomalyScoreParams {
  modelDir: string;
  samples: EngineSample[];
  source: SourceSpec;
  /** Also return each image's patch distances (grid x grid). */
  maps: boolean;
}

export interface AnomalyScoreResult {
  ids: number[];
  raw: number[];
  /** Normalised scores (0.5 = the threshold). */
  scores: number[];
  /** probabilities[i] in the model's class order (OK, defect), as a classifier's predict returns them. */
  probabilities: number[][];
  grid: number;
  /** Patch distances per image (only when asked for), in raw units. */
  patches: Float32Array[] | null;
  rawThreshold: number;
}

export type AnomalyScoreEvent = { kind: 'progress'; done: number; total: number };

const loaded: { key: string; model: AnomalyModel }[] = [];

/** The anomaly model of a folder, kept (one at a time) between jobs. */
export async function loadAnomalyModel(dir: string, backend: string): Promise<AnomalyModel> {
  const info = readModelInfo(dir);
  if (!info.anomaly) throw Object.assign(new Error(`${dir} is not an anomaly model.`), { name: 'ModelWeightsError' });
  const key = `${dir}|${info.createdAt}|${info.anomaly.rawThreshold}|${backend}`;
  const hit = loaded.find((e) => e.key === key);
  if (hit) return hit.model;
  await useBackend(backend);
  while (loaded.length) loaded.pop()!.model.dispose();
  const model = new AnomalyModel(info.anomaly, readWeightSet(dir));
  model.loadBank(dir);
  loaded.push({ key, model });
  return model;
}

export const anomalyScoreJob = defineJob<AnomalyScoreParams, AnomalyScoreEvent, AnomalyScoreResult>()('anomaly-score', async (p, ctx) => {
  const model = await loadAnomalyModel(p.modelDir, ctx.backends.inference);
  const okIndex = Math.max(
    0,
    readModelInfo(p.modelDir).classes.findIndex((c) => c.isOk),
  );
  const source = await openSource(p.source, p.samples);
  try {
    const idx = p.samples.map((_, i) => i);
    const { raw, patches } = await scoreAll(model, source, idx, ctx.signal, (done) =>
      ctx.emit({ kind: 'progress', done, total: idx.length }),
    );
    const thr = model.params.rawThreshold;
    const scores = raw.map((r) => normaliseScore(r, thr));
    return {
      ids: p.samples.map((s) => s.id),
      raw,
      scores,
      probabilities: scores.map((n) => (okIndex === 0 ? [1 - n, n] : [n, 1 - n])),
      grid: model.grid,
      patches: p.maps ? patches : null,
      rawThreshold: thr,
    };
  } finally {
    source.close?.();
  }
});
