/**
 * Engine job 'heatmaps': raw class activation / gradient maps of images under a saved Kensa model.
 * CAM batches images through one forward pass of [last conv, softmax]; gradient methods run on the
 * engine's training backend (wasm when its gradient kernels are registered, else cpu). Maps go back as
 * events on the model's grid (normalising, upsampling, colouring and scoring happen on the main side).
 */
import * as tf from '@tensorflow/tfjs';
import { openSource } from '../data/open-source.ts';
import type { HeatmapJobRequest, HeatmapsJobEvent, HeatmapsJobParams, HeatmapsJobResult } from '../../services/engine/job-types.ts';
import { pixelsToBatch, useBackend } from '../model/tf-util.ts';
import { cam, gradCam, saliency, smoothGrad } from '../heatmaps/index.ts';
import { loadClassifier } from '../model-cache.ts';
import { defineJob, type EngineContext } from '../job.ts';
import { ValidationError } from '../../shared/errors.ts';
import { anomalyResizeOf, openPhotoInputs, photoMap, scorePhotos, type PhotoInputs } from '../anomaly/photo-inputs.ts';
import { readModelInfo } from '../../services/training/model/saved-model.ts';
import { padMaskOfModel, resizeOfModel } from '../../services/training/data/geometry.ts';
import { PaddedMaps } from '../heatmaps/padded-maps.ts';
import { tiledClassifierMaps } from '../heatmaps/tiled-maps.ts';
import { bankTypeOf, loadAnomalyModel, tileOptionsOf } from './anomaly.ts';

export const heatmapsJob = defineJob<HeatmapsJobParams, HeatmapsJobEvent, HeatmapsJobResult>()('heatmaps', async (p, ctx) => {
  const fwdBackend = ctx.backends.inference;
  const gradBackend = ctx.backends.training;
  // The model's own geometry (squash or letterbox): maps lie on its input grid; the main side maps them back.
  // Letterbox with masked padding: the source says where each photo lies; its maps never peak in the padding.
  const saved = readModelInfo(p.modelDir);
  const source = await openSource(p.source, p.samples, resizeOfModel(saved), padMaskOfModel(saved), saved.preprocessing?.tiles);
  let maps = 0;
  const total = p.samples.length * p.requests.length;
  let done = 0;
  /** SmoothGrad copies per batch that fitted in memory, per request. */
  const fittedBatch = new Map<HeatmapJobRequest, number>();
  try {
    if (readModelInfo(p.modelDir).task === 'anomaly') return await anomalyMaps(p, ctx);
    if (p.requests.some((r) => r.method === 'anomaly'))
      throw new ValidationError('Anomaly maps need an anomaly model (task "Anomaly"); this run is a classifier.');
    // Tiled models: each tile mapped, the maps stitched back onto the photo (heatmaps/tiled-maps.ts).
    if (source.loadTiles) {
      maps = await tiledClassifierMaps(p, ctx, source);
      return { maps, backends: { forward: fwdBackend, gradients: gradBackend } };
    }
    const { info } = await loadClassifier(p.modelDir, fwdBackend);
    const size = info.inputSize;
    const bs = Math.max(1, p.camBatch ?? 16);
    const padded = source.contentOf ? new PaddedMaps(size) : null;
    const emit = (e: HeatmapsJobEvent): void => ctx.emit(padded ? padded.apply(e) : e);
    for (let k = 0; k < p.samples.length; k += bs) {
      ctx.throwIfCancelled();
      const idx = p.samples.slice(k, k + bs).map((_, j) => k + j);
      const loaded = await Promise.all(
        idx.map(async (i) => {
          try {
            return await source.loadPixels(i, size);
          } catch (err) {
            emit({ kind: 'error', imageId: p.samples[i]!.id, message: (err as Error).message });
            return null;
          }
        }),
      );
      const ok = idx.filter((_, j) => loaded[j]);
      const px = loaded.filter((x): x is Uint8Array => !!x);
      if (padded) await padded.load(source, ok, p.samples, fwdBackend, p.modelDir, px);
      if (!px.length) {
        done += idx.length * p.requests.length;
        continue;
      }
      for (const req of p.requests) {
        ctx.throwIfCancelled();
        const backend = req.method === 'cam' ? fwdBackend : gradBackend;
        const { model } = await loadClassifier(p.modelDir, backend);
        await useBackend(backend);
        const x = pixelsToBatch(px, size);
        try {
          if (req.method === 'cam') {
            const t0 = performance.now();
            // Masked pooling: "the predicted class" is the masked model's, so every class is mapped and picked below.
            const every = padded && req.classes.includes(null);
            const r = cam(model, x, every ? 'all' : req.classes);
            const ms = (performance.now() - t0) / ok.length;
            ok.forEach((i, j) => {
              const probs = r.probabilities[j]!;
              const id = p.samples[i]!.id;
              req.classes.forEach((wanted, c) => {
                const classIndex = wanted ?? (every ? padded!.predicted(id) : null) ?? argmaxOf(probs);
                const g = every ? r.maps[j]![classIndex]! : r.maps[j]![c]!;
                emit({
                  kind: 'map',
                  imageId: p.samples[i]!.id,
                  method: 'cam',
                  classIndex,
                  width: g.width,
                  height: g.height,
                  data: g.data,
                  probabilities: probs,
                  ms,
                });
                maps++;
              });
            });
          } else {
            for (let j = 0; j < ok.length; j++) {
              ctx.throwIfCancelled();
              const one = tf.slice(x, [j, 0, 0, 0], [1, size, size, 3]) as tf.Tensor4D;
              try {
                for (const wanted of req.classes) {
                  const c = wanted ?? padded?.predicted(p.samples[ok[j]!]!.id) ?? null;
                  const t0 = performance.now();
                  let g;
                  let probs: number[];
                  if (req.method === 'smoothgrad') {
                    const batchSize = fittedBatch.get(req) ?? req.batchSize;
                    const r = smoothGrad(
                      model,
                      one,
                      c,
                      {
                        n: req.n ?? 50,
                        sigma: req.sigma ?? 0.1,
                        seed: req.seed ?? 1,
                        ...(batchSize ? { batchSize } : {}),
                      },
                      ctx.signal,
                    );
                    // A batch that ran out of memory was split: start the next image at the size that fitted.
                    fittedBatch.set(req, r.batchSize);
                    g = r.map;
                    probs = r.probabilities;
                  } else if (req.method === 'gradcam') {
                    const r = gradCam(model, one, c, req.layer);
                    g = r.maps[0]!;
                    probs = r.probabilities[0]!;
                  } else {
                    const r = saliency(model, one, c);
                    g = r.maps[0]!;
                    probs = r.probabilities[0]!;
                  }
                  const classIndex = c ?? argmaxOf(probs);
                  emit({
                    kind: 'map',
                    imageId: p.samples[ok[j]!]!.id,
                    method: req.method,
                    classIndex,
                    width: g.width,
                    height: g.height,
                    data: g.data,
                    probabilities: probs,
                    ms: performance.now() - t0,
                  });
                  maps++;
                }
              } finally {
                one.dispose();
              }
              // Let cancel messages through between images.
              await new Promise((r) => setImmediate(r));
            }
          }
        } finally {
          x.dispose();
        }
        done += idx.length;
        emit({ kind: 'progress', done, total });
      }
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    source.close?.();
    await useBackend(fwdBackend);
  }
  return { maps, backends: { forward: fwdBackend, gradients: gradBackend } };
});

/**
 * Anomaly maps: patch distances upsampled and smoothed, scaled so 0.5 is the threshold, on the model's geometry
 * (engine/anomaly/photo-inputs.ts: squash and letterbox on the input square, cut back on the main side; tiles stitched
 * onto the photo's shape).
 */
async function anomalyMaps(p: HeatmapsJobParams, ctx: EngineContext & { emit(event: HeatmapsJobEvent): void }): Promise<HeatmapsJobResult> {
  if (p.requests.some((r) => r.method !== 'anomaly'))
    throw new ValidationError('An anomaly model has anomaly maps only (no CAM or gradients: it has no classifier head).');
  const model = await loadAnomalyModel(p.modelDir, ctx.backends.inference);
  const info = readModelInfo(p.modelDir);
  const okAt = info.classes.findIndex((c) => c.isOk);
  const ok = okAt < 0 ? 0 : okAt;
  const size = model.params.inputSize;
  const scale = 1 / (2 * model.params.rawThreshold);
  let maps = 0;
  // Each image against its core type's bank when the model has one per type.
  const typeOf = bankTypeOf(model, p.source, p.samples);
  const source = await openPhotoInputs(p.source, p.samples, anomalyResizeOf(model.params), tileOptionsOf(model.params));
  const bs = Math.max(1, Math.min(8, p.camBatch ?? 8));
  try {
    for (let k = 0; k < p.samples.length; k += bs) {
      ctx.throwIfCancelled();
      const idx = p.samples.slice(k, k + bs).map((_, j) => k + j);
      const photos: PhotoInputs[] = [];
      const okIdx: number[] = [];
      for (const i of idx) {
        try {
          photos.push(await source.load(i, size));
          okIdx.push(i);
        } catch (err) {
          ctx.emit({ kind: 'error', imageId: p.samples[i]!.id, message: (err as Error).message });
        }
      }
      if (!photos.length) continue;
      const t0 = performance.now();
      const scored = await scorePhotos(model, photos, okIdx.map(typeOf));
      const ms = (performance.now() - t0) / photos.length;
      scored.forEach((s, j) => {
        const m = photoMap(model, photos[j]!, s);
        const n = 1 - Math.pow(2, -s.raw / model.params.rawThreshold);
        const probabilities = ok === 0 ? [1 - n, n] : [n, 1 - n];
        ctx.emit({
          kind: 'map',
          imageId: p.samples[okIdx[j]!]!.id,
          method: 'anomaly',
          classIndex: 1 - ok,
          width: m.width,
          height: m.height,
          data: m.data.map((v) => v * scale),
          probabilities,
          ms,
        });
        maps++;
      });
      ctx.emit({ kind: 'progress', done: Math.min(p.samples.length, k + bs), total: p.samples.length });
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    source.close();
  }
  return { maps, backends: { forward: ctx.backends.inference, gradients: ctx.backends.inference } };
}

function argmaxOf(a: number[]): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i;
  return b;
}
