/**
 * The estimate of an anomaly run (engine job 'estimate' with task 'anomaly'), from timed passes of the fit's own code
 * on this machine (random backbone weights and seeded noise images: the speed does not depend on their values):
 * features = every good image decoded, through the two taps and its per-image coreset candidates (AnomalyModel.fit on
 * a few images, told the real image count so each keeps as many candidates as in the run); coreset = the global greedy
 * pass over all candidates, timed on a part and scaled by candidates x bank rows (each pick scans every candidate);
 * scoring = each validation and test image against a bank of the run's size (x2 with flips 'h', x4 'hv').
 */
import type { EstimateJobParams, EstimateJobResult } from '../../services/engine/job-types.ts';
import { greedyCoresetCpu } from '../anomaly/coreset.ts';
import { anomalyTaps } from '../anomaly/features.ts';
import { AnomalyModel, DEFAULT_ANOMALY, freshAnomalyParams } from '../anomaly/model.ts';
import { buildSegment, parseBackbone } from '../model/mobilenet.ts';
import { snapshotWeights, useBackend } from '../model/tf-util.ts';
import { createRng } from '../../services/training/train/rng.ts';
import type { EngineContext } from '../job.ts';

/** ms per image of decoding and resizing (sharp) beside the backbone, as for the classifier's estimate. */
const DECODE_MS = 5;
/** Images the fit and the scoring are timed on (one backbone batch). */
const TIMED_IMAGES = 8;
/** Candidates the global pass is timed on at most (the run's pass is scaled from it). */
const TIMED_CANDIDATES = 3000;

/** Measured per-image and per-pass costs of an anomaly fit (ms). */
export interface AnomalyCosts {
  /** Two taps + per-image candidate selection, per good image (decode not included). */
  featureMs: number;
  /** The global greedy pass timed on `timedCandidates` candidates picking `timedRows`. */
  coresetMs: number;
  timedCandidates: number;
  timedRows: number;
  /** One image scored against the bank (with its flips), decode not included. */
  scoreMs: number;
}

/**
 * Seconds of each part of an anomaly fit over `fitImages` good images giving `candidates` candidates and a bank of
 * `rows` rows, then `scoredImages` scored: the greedy global pass scales with candidates x rows (every pick updates
 * every candidate's distance), the other parts with their image counts.
 */
export function anomalyFitSeconds(
  p: { fitImages: number; scoredImages: number; candidates: number; rows: number },
  ms: AnomalyCosts,
  decodeMs = DECODE_MS,
): { featuresSeconds: number; coresetSeconds: number; scoringSeconds: number; totalSeconds: number } {
  const featuresSeconds = (p.fitImages * (ms.featureMs + decodeMs)) / 1000;
  // No global pass when the candidates do not outnumber the bank (they all become it).
  const passes = p.candidates > p.rows ? (p.candidates * p.rows) / Math.max(1, ms.timedCandidates * ms.timedRows) : 0;
  const coresetSeconds = (passes * ms.coresetMs) / 1000;
  const scoringSeconds = (p.scoredImages * (ms.scoreMs + decodeMs)) / 1000;
  return { featuresSeconds, coresetSeconds, scoringSeconds, totalSeconds: featuresSeconds + coresetSeconds + scoringSeconds };
}

/** Seeded noise images (not zeros, so no value-dependent shortcut makes the timing optimistic). */
function noiseImages(n: number, size: number, seed: number): Uint8Array[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Uint8Array.from({ length: size * size * 3 }, () => Math.floor(rng.next() * 256)));
}

/** Fastest of `reps` async calls after a first one (which pays the backend's set-up). */
async function fastest(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn();
  let ms = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

/** What was timed, per configuration (a wizard asks again on every change). */
interface Measured {
  costs: AnomalyCosts;
  /** Candidates each good image keeps for the global pass, for the run's image count. */
  candidatesPerImage: number;
  /** Values per bank row, and patches per image. */
  dim: number;
  patches: number;
}

const measured = new Map<string, Measured>();

export async function estimateAnomaly(p: EstimateJobParams, ctx: EngineContext): Promise<EstimateJobResult> {
  await useBackend(ctx.backends.inference);
  const cfg = { ...DEFAULT_ANOMALY, ...(p.anomaly ?? {}) };
  const s = p.inputSize;
  const spec = parseBackbone(p.backbone);
  const taps = anomalyTaps(p.backbone);
  const params = freshAnomalyParams(p.backbone, s, 1, p.anomaly);
  const fitImages = Math.max(1, p.trainImages);
  const scoredImages = p.valImages + (p.testImages ?? 0);
  const key = `${p.backbone}|${s}|${cfg.projectDim}|${cfg.coresetFraction}|${cfg.flips}|${fitImages}|${ctx.backends.inference}`;
  let m = measured.get(key);
  if (!m) {
    // Random weights in the layout the extractor loads (a segment up to the coarse tap).
    const seg = buildSegment(spec, 0, taps[1].block, [s, s, 3], { name: `anomaly_${spec.id}` });
    const weights = snapshotWeights(seg, '(estimate)');
    seg.dispose();
    const model = new AnomalyModel(params, weights);
    try {
      const px = noiseImages(TIMED_IMAGES, s, 7);
      const fitOnce = () => {
        let given = false;
        const next = async () => (given ? null : ((given = true), px));
        return model.fit(next, fitImages);
      };
      await fitOnce(); // set-up of the backend's kernels for this size
      ctx.throwIfCancelled();
      const fit = await fitOnce();
      const featureMs = fit.featuresMs / TIMED_IMAGES;
      ctx.throwIfCancelled();
      // The global pass on a part of the candidates' size, on the projected copy it runs on.
      const d = Math.min(cfg.coresetProjectDim > 0 ? cfg.coresetProjectDim : model.extractor.dim, model.extractor.dim);
      const perImage = fit.candidates / TIMED_IMAGES;
      const candidates = Math.max(2, Math.min(TIMED_CANDIDATES, Math.round(perImage * fitImages)));
      const rows = Math.max(1, Math.min(Math.floor(candidates / 2), model.bankTargetOfPatches(fitImages * model.grid * model.grid)));
      const rng = createRng(3);
      const x = Float32Array.from({ length: candidates * d }, () => rng.next() - 0.5);
      const t0 = performance.now();
      greedyCoresetCpu(x, candidates, d, rows, 1);
      const coresetMs = performance.now() - t0;
      ctx.throwIfCancelled();
      // Scoring against a bank of the run's size.
      const bankRows = model.bankTargetOfPatches(fitImages * model.grid * model.grid);
      const bank = Float32Array.from({ length: bankRows * model.extractor.dim }, () => rng.next() - 0.5);
      model.setBank(bank, bankRows);
      const scoreMs = (await fastest(() => model.score(px), 1)) / TIMED_IMAGES;
      m = {
        costs: { featureMs, coresetMs, timedCandidates: candidates, timedRows: rows, scoreMs },
        candidatesPerImage: perImage,
        dim: model.extractor.dim,
        patches: model.grid * model.grid,
      };
      measured.set(key, m);
    } finally {
      model.dispose();
    }
  }
  const candidates = Math.round(m.candidatesPerImage * fitImages);
  const rows = Math.min(cfg.maxBankRows, Math.max(1, Math.round(fitImages * m.patches * cfg.coresetFraction)));
  const t = anomalyFitSeconds({ fitImages, scoredImages, candidates, rows }, m.costs);
  // Memory: the candidates and the bank (float32, full dimension) beside the backbone and the runtime.
  const peakMemoryMB = Math.round((4 * (candidates + rows) * m.dim) / 2 ** 20 + 450);
  const notes: string[] = [];
  if (cfg.flips && cfg.flips !== 'none') notes.push('Test-time flips: each image is also scored mirrored (about twice the scoring time).');
  return {
    trainImages: p.trainImages,
    valImages: p.valImages,
    testImages: p.testImages ?? 0,
    samplesPerEpoch: p.trainImages,
    parameters: { total: 0, trainableFineTune: 0 },
    backboneMsPerImage: m.costs.featureMs,
    embeddingSeconds: 0,
    transferEpochSeconds: 0,
    fineTuneEpochSeconds: 0,
    fineTuneFirstEpochSeconds: 0,
    expectedTransferEpochs: 0,
    transferSeconds: 0,
    fineTuneSeconds: 0,
    evaluationSeconds: t.scoringSeconds,
    totalSeconds: t.totalSeconds,
    peakMemoryMB,
    notes,
    anomaly: {
      fitImages: p.trainImages,
      featuresSeconds: t.featuresSeconds,
      coresetSeconds: t.coresetSeconds,
      scoredImages,
      scoringSeconds: t.scoringSeconds,
      flips: !!cfg.flips && cfg.flips !== 'none',
    },
  };
}
