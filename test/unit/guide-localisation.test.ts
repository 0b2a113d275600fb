/**
 * The localisation curve: per-epoch CAM pointing / energy in region must be the figures the heatmap view would
 * give the same model (same CAM, same upsampling, same region masks, same 4-pixel tolerance), for the transfer
 * phase (cached conv maps) and for fine-tuning (maps from the tail during validation).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cam, normaliseFor, resizeBilinear } from '../../src-main/engine/heatmaps/index.ts';
import { scoreMap } from '../../src-main/services/heatmaps/scoring.ts';
import { initWasmForProbe } from '../../src-main/engine/backend/wasm-init.ts';
import { neuSamples } from '../../src-main/services/training/data/neu.ts';
import { fileSource } from '../../src-main/services/training/data/source.ts';
import { PointingBestEpoch } from '../../src-main/engine/guide/best-epoch.ts';
import { camOf, prepareTarget, scoreCam } from '../../src-main/services/training/guide/localisation.ts';
import { neuAnnotationOf, vocMask, vocRegionMasks } from '../../src-main/services/training/guide/voc-masks.ts';
import { pixelsToBatch, useBackend } from '../../src-main/engine/model/tf-util.ts';
import { readWeightSet } from '../../src-main/engine/model/weights.ts';
import { Trainer, type TrainerEvent } from '../../src-main/engine/train/trainer.ts';
import { resolveConfig } from '../../src-main/services/training/train/config.ts';
import { createRng } from '../../src-main/services/training/train/rng.ts';

const WEIGHTS = resolve(import.meta.dirname, '../../../shared/models/mobilenet_v1_0.25_224');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-guide-'));
let training = 'cpu';
beforeAll(async () => {
  const f = await initWasmForProbe();
  training = f.missingGradients.length ? 'cpu' : 'wasm';
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The heatmap service's way: ReLU-max normalise, bilinear onto the mask's frame, pointing with tolerance, energy. */
function serviceScore(map: Float32Array, gw: number, gh: number, mask: Uint8Array, w: number, h: number, tol = 4) {
  const up = resizeBilinear(normaliseFor('cam', { width: gw, height: gh, data: map }), w, h);
  return scoreMap(up, mask, tol)!;
}

describe('localisation scoring on the map grid', () => {
  it('gives the heatmap service figures for any map and box mask (energy exact, pointing on the peak)', () => {
    const rng = createRng(7);
    let agree = 0;
    const n = 300;
    for (let k = 0; k < n; k++) {
      const W = 200;
      const H = 160;
      const mask = new Uint8Array(W * H);
      const bw = 8 + rng.int(80);
      const bh = 8 + rng.int(60);
      const x0 = rng.int(W - bw);
      const y0 = rng.int(H - bh);
      for (let y = y0; y < y0 + bh; y++) mask.fill(1, y * W + x0, y * W + x0 + bw);
      const map = new Float32Array(49);
      for (let i = 0; i < 49; i++) map[i] = rng.next() * 2 - 0.6;
      const t = prepareTarget(mask, W, H, 7, 7)!;
      const ours = scoreCam(map, t);
      const ref = serviceScore(map, 7, 7, mask, W, H);
      expect(ours.energy).toBeCloseTo(ref.energy, 4);
      expect(t.area).toBeCloseTo(ref.area, 6);
      if (ours.pointing === ref.pointing) agree++;
    }
    // The peak of a bilinear map lies beside its largest node (the candidates); two near-equal nodes may rarely differ.
    expect(agree / n).toBeGreaterThanOrEqual(0.99);
  });

  it('a map peaked inside the box points and holds most energy there; the same map moved away does not', () => {
    const W = 224;
    const mask = new Uint8Array(W * W);
    for (let y = 64; y < 128; y++) mask.fill(1, y * W + 64, y * W + 128); // nodes (2..3, 2..3) of 7x7
    const t = prepareTarget(mask, W, W, 7, 7)!;
    const inside = new Float32Array(49);
    inside[2 * 7 + 2] = 1;
    inside[3 * 7 + 3] = 0.8;
    const outside = new Float32Array(49);
    outside[6 * 7 + 6] = 1;
    expect(scoreCam(inside, t).pointing).toBe(true);
    expect(scoreCam(inside, t).energy).toBeGreaterThan(0.5);
    expect(scoreCam(outside, t)).toEqual({ pointing: false, energy: 0 });
    // A map with no positive value is min-max scaled (as the heatmap view does), not scored as empty.
    expect(
      scoreCam(
        inside.map((v) => v - 2),
        t,
      ).energy,
    ).toBeGreaterThan(0);
    expect(t.pointingChance).toBeGreaterThanOrEqual(t.area); // the tolerance widens the target
    expect(t.pointingChance).toBeLessThan(0.3);
  });

  it('reads NEU VOC boxes of the image class only (scratches_131 also carries inclusion boxes)', () => {
    const dir = resolve(import.meta.dirname, '../../../shared/datasets/neu-det');
    const xml = readFileSync(neuAnnotationOf(join(dir, 'images/scratches/scratches_131.jpg')), 'utf8');
    const own = vocMask(xml, 'scratches')!;
    const other = vocMask(xml, 'inclusion')!;
    expect(own.width * own.height).toBe(200 * 200);
    const count = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);
    const both = own.mask.reduce((a, v, i) => a + (v & other.mask[i]!), 0);
    expect(count(own.mask)).toBeGreaterThan(0);
    expect(both).toBeLessThan(count(own.mask));
    expect(vocMask(xml, 'crazing')).toBeNull();
  });
});

describe('best epoch by accuracy near the best pointing', () => {
  it('prefers a model about as right that looks at the defects, within 2 points of the best pointing', () => {
    const b = new PointingBestEpoch();
    const seq = [
      { acc: 0.99, loss: 0.1, pointing: 0.5 }, // right, not looking: kept only until a better-looking epoch comes
      { acc: 0.97, loss: 0.2, pointing: 0.9 },
      { acc: 0.98, loss: 0.15, pointing: 0.885 }, // within 2 points of 0.9 and more accurate: chosen
      { acc: 0.995, loss: 0.05, pointing: 0.86 }, // more accurate but 4 points below the best pointing: not chosen
      { acc: 0.98, loss: 0.2, pointing: 0.89 }, // same accuracy, higher loss: not chosen
    ];
    expect(seq.map((e) => b.consider(e.acc, e.loss, e.pointing))).toEqual([true, true, true, false, false]);
    // An epoch without a measurement never replaces a checkpoint.
    expect(b.consider(1, 0, null)).toBe(false);
  });

  it('is asked for with kensa train --best-epoch pointing; unknown rules are refused', async () => {
    const { parseTrainArgs, trainConfigFromFlags } = await import('../../src-main/cli/commands/train.ts');
    const flags = (argv: string[]) => trainConfigFromFlags(parseTrainArgs(argv).values);
    expect(flags(['p', '--best-epoch', 'pointing']).bestEpoch).toBe('accuracyNearBestPointing');
    expect(flags(['p', '--best-epoch', 'loss']).bestEpoch).toBe('valLoss');
    expect(() => flags(['p', '--best-epoch', 'accuracy'])).toThrow(/--best-epoch must be loss or pointing/);
    expect(() => resolveConfig({ bestEpoch: 'nope' as 'valLoss' })).toThrow(/Unknown best-epoch rule/);
    expect(flags(['p', '--guide-regions', '--guide-weight', '2'])).toMatchObject({ guideRegions: true, guideWeight: 2 });
    expect(() => flags(['p', '--guide-weight', '2'])).toThrow(/needs --guide-regions/);
    expect(() => resolveConfig({ guideRegions: true, guideWeight: -1 })).toThrow(/guidance weight/);
  });
});

describe('Trainer: localisation every epoch', () => {
  const { classes, samples } = neuSamples({ perClass: 6, classes: ['patches', 'inclusion', 'scratches'], valFraction: 0.5 });
  const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
  samples.forEach((s, i) => splits[s.split].push(i));
  const masks = vocRegionMasks(samples, classes, (s) => s.split === 'val');
  const SIZE = 96;

  async function run(over: Parameters<typeof resolveConfig>[0]) {
    const events: TrainerEvent[] = [];
    const out = await new Trainer({
      config: resolveConfig({ task: 'multiclass', inputSize: SIZE, batchSize: 4, augmentation: { mode: 'none' }, ...over }),
      classes,
      okIndex: null,
      source: fileSource(samples),
      splits,
      backboneWeights: readWeightSet(WEIGHTS),
      cacheDir: join(tmp, 'cache'),
      backends: { training, inference: 'wasm' },
      signal: new AbortController().signal,
      regionMasks: masks,
      onEvent: (e) => events.push(e),
    }).run();
    return { out, epochs: events.filter((e): e is Extract<TrainerEvent, { kind: 'epoch' }> => e.kind === 'epoch') };
  }

  /** Scores the saved model's CAM (engine/heatmaps/cam.ts) on the localised validation images, the heatmap view's way. */
  async function reference(artifacts: NonNullable<Awaited<ReturnType<Trainer['run']>>['model']>) {
    await useBackend('wasm');
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const src = fileSource(samples);
    let hits = 0;
    let energy = 0;
    let n = 0;
    for (const [i, m] of masks) {
      const x = pixelsToBatch([await src.loadPixels(i, SIZE)], SIZE);
      const r = cam(model, x as tf.Tensor4D, [samples[i]!.label]);
      x.dispose();
      const g = r.maps[0]![0]!;
      const s = serviceScore(g.data, g.width, g.height, m.mask, m.width, m.height);
      if (s.pointing) hits++;
      energy += s.energy;
      n++;
    }
    model.dispose();
    return { pointing: hits / n, energy: energy / n, n };
  }

  it('transfer phase: the epoch figures are the heatmap view figures of the model it checkpointed', async () => {
    expect(masks.size).toBeGreaterThanOrEqual(6);
    const { out, epochs } = await run({ epochs: 1, fineTuneEpochs: 0 });
    const m = epochs[0]!.metrics;
    expect(m.valLocalisedCount).toBe(masks.size);
    expect(Object.keys(m.valPointingByClass ?? {}).sort()).toEqual(
      [...new Set([...masks.keys()].map((i) => classes[samples[i]!.label]!))].sort(),
    );
    const ref = await reference(out.model!);
    expect(m.valEnergy).toBeCloseTo(ref.energy, 3);
    expect(m.valPointing).toBeCloseTo(ref.pointing, 9);
    expect(m.valPointingChance).toBeGreaterThan(0);
    expect(m.valRegionArea).toBeGreaterThan(0);
  }, 60_000);

  it('fine-tuning: figures come from the tail being trained (and equal the checkpointed model)', async () => {
    const { out, epochs } = await run({ epochs: 0, fineTuneEpochs: 1, fineTuneBlocks: 1 });
    expect(epochs).toHaveLength(1);
    const m = epochs[0]!.metrics;
    expect(epochs[0]!.phase).toBe('finetune');
    expect(m.valLocalisedCount).toBe(masks.size);
    const ref = await reference(out.model!);
    expect(m.valEnergy).toBeCloseTo(ref.energy, 3);
    expect(m.valPointing).toBeCloseTo(ref.pointing, 9);
  }, 60_000);

  it("bestEpoch 'accuracyNearBestPointing' keeps an epoch whose pointing is within 2 points of the best so far", async () => {
    const { out, epochs } = await run({ epochs: 12, fineTuneEpochs: 0, patience: 0, bestEpoch: 'accuracyNearBestPointing' });
    const best = out.phases[0]!.bestEpoch!;
    const p = epochs.map((e) => e.metrics.valPointing!);
    expect(p.every((v) => typeof v === 'number')).toBe(true); // measured every epoch in this mode
    expect(p[best - 1]!).toBeGreaterThanOrEqual(Math.max(...p.slice(0, best)) - 0.02 - 1e-9);
    expect(out.bestValAccuracy).toBe(epochs[best - 1]!.metrics.valAccuracy);
  }, 60_000);

  it('CAM of class k weights the features by the kernel column k', () => {
    const map = camOf(Float32Array.from([1, 2, 3, 4]), 0, 2, 2, Float32Array.from([1, 0, 0, 1]), 2, 1);
    expect([...map]).toEqual([2, 4]);
  });
});
