/**
 * Engine jobs of the anomaly task:
 * - 'anomaly-fit': learns the memory bank from the OK images of the training split (defect images there are not
 *   used), scores the validation and test images, sets the threshold on validation, and returns the model files'
 *   contents (backbone segment, bank, parameters) and the evaluations for the main side to store;
 * - 'anomaly-score': raw and normalised scores of images with a saved anomaly model, and optionally each image's
 *   patch map (for heatmaps and Inspect).
 */
import { bankTypes, sampleCoreTypes, UNKNOWN_TYPE } from '../anomaly/core-types.ts';
import { AnomalyModel, freshAnomalyParams } from '../anomaly/model.ts';
import type { AnomalyModelParams, Evaluation } from '../../shared/training-types.ts';
import { chooseAnomalyThreshold, normaliseScore, typeScale } from '../anomaly/threshold.ts';
import type { EngineSample } from '../../services/training/data/source.ts';
import type { TileGrid } from '../../services/training/data/tiles.ts';
import { anomalyResizeOf, openPhotoInputs, scorePhotos, type PhotoInputSource } from '../anomaly/photo-inputs.ts';
import type {
  AnomalyFitEvent,
  AnomalyFitParams,
  AnomalyFitResult,
  AnomalyScoreEvent,
  AnomalyScoreParams,
  AnomalyScoreResult,
  SourceSpec,
} from '../../services/engine/job-types.ts';
import { readModelInfo } from '../../services/training/model/saved-model.ts';
import { modelArtifacts, useBackend } from '../model/tf-util.ts';
import { readWeightSet } from '../model/weights.ts';
import { evaluate } from '../../services/training/train/metrics.ts';
import { defineJob } from '../job.ts';

/** Images per backbone batch. */
const BATCH = 8;

/**
 * Scores the photos `indices` of `source` (each photo one input, or one per tile). `typeOf(k)`: the bank photo k is
 * scored against (null: all banks; with one bank of all types it does not matter). `patches[j]`: the patch distances
 * of photo j's inputs, one grid after another (grid.tiles order for tiles), `tiles[j]` its tile grid (null: one input).
 */
async function scoreAll(
  model: AnomalyModel,
  source: PhotoInputSource,
  indices: number[],
  signal: AbortSignal,
  onDone?: (n: number) => void,
  typeOf: (k: number) => string | null = () => null,
): Promise<{ raw: number[]; patches: Float32Array[]; tiles: (TileGrid | null)[] }> {
  const raw: number[] = [];
  const patches: Float32Array[] = [];
  const tiles: (TileGrid | null)[] = [];
  for (let i = 0; i < indices.length; i += BATCH) {
    if (signal.aborted) throw Object.assign(new Error('Cancelled by the user'), { name: 'CancelledError' });
    const part = indices.slice(i, i + BATCH);
    const photos = await Promise.all(part.map((k) => source.load(k, model.params.inputSize)));
    const scored = await scorePhotos(model, photos, part.map(typeOf));
    scored.forEach((s, j) => {
      raw.push(s.raw);
      patches.push(s.inputs.length === 1 ? s.inputs[0]!.patches : concatRows(s.inputs.map((x) => x.patches)));
      tiles.push(photos[j]!.tiles);
    });
    onDone?.(raw.length);
  }
  return { raw, patches, tiles };
}

function concatRows(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const anomalyFitJob = defineJob<AnomalyFitParams, AnomalyFitEvent, AnomalyFitResult>()('anomaly-fit', async (p, ctx) => {
  const t0 = performance.now();
  let peakRss = process.memoryUsage().rss;
  const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  await useBackend(ctx.backends.inference);
  const params: AnomalyModelParams = {
    ...freshAnomalyParams(p.config.backbone, p.config.inputSize, p.config.seed, p.config.anomaly),
    // Left out = squash (the main side resolves the default: shared/resize-choice.ts chooseAnomalyResize).
    resize: p.config.resize ?? 'squash',
    ...(p.config.resize === 'tile' && p.config.maxTiles !== undefined ? { maxTiles: p.config.maxTiles } : {}),
  };
  const source = await openPhotoInputs(p.source, p.samples, params.resize!, tileOptionsOf(params));
  const model = new AnomalyModel(params, readWeightSet(p.backboneWeightsDir));
  try {
    const train = p.samples.flatMap((s, i) => (s.split === 'train' && s.label === p.okIndex ? [i] : []));
    if (!train.length) throw Object.assign(new Error('No OK images in the training split to learn from.'), { name: 'ValidationError' });
    // One bank per core type when the good images carry two or more types (each type's normal look differs).
    const coreTypes = sampleCoreTypes(p.source, p.samples);
    const banked = bankTypes(train.map((k) => coreTypes[k]!));
    const bankOf = (k: number) => (banked && banked.includes(coreTypes[k]!) ? coreTypes[k]! : UNKNOWN_TYPE);
    const groups = banked
      ? banked.map((t) => ({ type: t, images: train.filter((k) => bankOf(k) === t) }))
      : [{ type: undefined, images: train }];
    ctx.emit({ kind: 'phase', phase: 'features' });
    const fit = { rows: 0, candidates: 0, featuresMs: 0, coresetMs: 0 };
    let before = 0;
    for (const g of groups) {
      let next = 0;
      const f = await model.fit(
        async () => {
          ctx.throwIfCancelled();
          await ctx.pause.wait(ctx.signal);
          ctx.throwIfCancelled();
          if (next >= g.images.length) return null;
          const part = g.images.slice(next, next + BATCH);
          next += part.length;
          const photos = await Promise.all(part.map((k) => source.load(k, params.inputSize)));
          return { inputs: photos.flatMap((x) => x.inputs), contents: photos.flatMap((x) => x.contents), photos: photos.length };
        },
        g.images.length,
        (done) => {
          sampleRss();
          ctx.emit({ kind: 'progress', done: before + done, total: train.length, unit: 'images' });
          if (before + done === train.length) ctx.emit({ kind: 'phase', phase: 'coreset' });
        },
        ctx.signal,
        g.type === undefined ? {} : { coreType: g.type, allImages: train.length },
      );
      before += g.images.length;
      fit.rows += f.rows;
      fit.candidates += f.candidates;
      fit.featuresMs += f.featuresMs;
      fit.coresetMs += f.coresetMs;
    }
    sampleRss();
    const tFit = performance.now();
    params.bankRows = fit.rows;
    params.dim = model.extractor.dim;
    ctx.emit({ kind: 'phase', phase: 'evaluate' });
    const val = p.samples.flatMap((s, i) => (s.split === 'val' ? [i] : []));
    const test = p.samples.flatMap((s, i) => (s.split === 'test' ? [i] : []));
    const isDefect = (i: number) => p.samples[i]!.label !== p.okIndex;
    // Known-type images against their own bank; unknown-type ones against all banks (the smallest distance).
    const scoreType = (k: number) => (banked && coreTypes[k] !== UNKNOWN_TYPE && banked.includes(coreTypes[k]!) ? coreTypes[k]! : null);
    // A good image of a banked type was scored against its own bank for the scales: its score is reused, scaled.
    const known = banked
      ? await setTypeScales(
          model,
          source,
          banked,
          val.filter((k) => !isDefect(k)),
          train,
          bankOf,
          ctx.signal,
        )
      : new Map();
    params.banks = banked ? model.banks.info() : undefined;
    const rest = val.filter((k) => !(known.has(k) && scoreType(k) === bankOf(k)));
    const restRaw = (await scoreAll(model, source, rest, ctx.signal, undefined, scoreType)).raw;
    const byIndex = new Map(rest.map((k, j) => [k, restRaw[j]!]));
    const scaleOf = new Map(model.banks.info().map((b) => [b.coreType, b.scale]));
    const valScores = { raw: val.map((k) => byIndex.get(k) ?? known.get(k)! / scaleOf.get(bankOf(k))!) };
    let trainRaw: number[] = [];
    if (!val.some((i) => !isDefect(i)))
      trainRaw = (await scoreAll(model, source, train.slice(0, 200), ctx.signal, undefined, scoreType)).raw;
    const threshold = chooseAnomalyThreshold(valScores.raw, val.map(isDefect), p.aim, trainRaw);
    params.rawThreshold = threshold.raw;
    params.thresholdBasis = threshold.description;
    const testScores = await scoreAll(model, source, test, ctx.signal, undefined, scoreType);
    const evalOf = (split: 'val' | 'test', idx: number[], raw: number[]) =>
      evaluate(
        split,
        idx.map((k, j) => {
          const n = normaliseScore(raw[j]!, threshold.raw);
          const label = isDefect(k) ? 1 - p.okIndex : p.okIndex;
          const probs = p.okIndex === 0 ? [1 - n, n] : [n, 1 - n];
          return { id: p.samples[k]!.id, label, probs };
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
    source.close();
  }
});

/** The tile grid's parameters of a model's params (tiles.ts defaults where absent). */
export function tileOptionsOf(params: Pick<AnomalyModelParams, 'maxTiles'>): { maxTiles?: number } {
  return params.maxTiles !== undefined ? { maxTiles: params.maxTiles } : {};
}

/**
 * Each bank's scale from the held-out good images of its type, each scored against that bank alone (the training
 * images of the type, which score low, when the type has no held-out good image: strict, and stated by the scale).
 * @returns the unscaled scores of the held-out good images, by sample index
 */
async function setTypeScales(
  model: AnomalyModel,
  source: PhotoInputSource,
  types: string[],
  valGood: number[],
  train: number[],
  bankOf: (k: number) => string,
  signal: AbortSignal,
): Promise<Map<number, number>> {
  const heldRaw = new Map<number, number>();
  for (const t of types) {
    const held = valGood.filter((k) => bankOf(k) === t);
    const idx = held.length ? held : train.filter((k) => bankOf(k) === t).slice(0, 50);
    const { raw } = await scoreAll(model, source, idx, signal, undefined, () => t);
    if (held.length) held.forEach((k, j) => heldRaw.set(k, raw[j]!));
    model.banks.setScale(t, typeScale(raw));
  }
  return heldRaw;
}

/**
 * The bank each sample is scored against with `model`: its core type when the model has that type's bank, else
 * null (all banks). Reads the types only for a model with per-type banks.
 */
export function bankTypeOf(model: AnomalyModel, spec: SourceSpec, samples: EngineSample[]): (k: number) => string | null {
  if (model.banks.count < 2) return () => null;
  const types = sampleCoreTypes(spec, samples);
  return (k) => (types[k] && types[k] !== UNKNOWN_TYPE && model.banks.has(types[k]) ? types[k] : null);
}

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
  const source = await openPhotoInputs(p.source, p.samples, anomalyResizeOf(model.params), tileOptionsOf(model.params));
  try {
    const idx = p.samples.map((_, i) => i);
    const { raw, patches, tiles } = await scoreAll(
      model,
      source,
      idx,
      ctx.signal,
      (done) => ctx.emit({ kind: 'progress', done, total: idx.length }),
      bankTypeOf(model, p.source, p.samples),
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
      ...(p.maps && tiles.some((t) => t) ? { tiles } : {}),
      rawThreshold: thr,
    };
  } finally {
    source.close();
  }
});
