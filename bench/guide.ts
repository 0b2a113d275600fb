/**
 * Localisation-curve bench: `npm run bench -- guide` (or `node bench/guide.ts [--per-class N] [--ft-epochs N]`).
 * The same NEU run (v1 0.25 @ 224, VOC boxes of the validation images) with and without the per-epoch CAM
 * pointing / energy: fine-tuning and transfer epoch times side by side, and the localisation figures of the last
 * epoch. Runs alternate (with, without, with, without) so that load on the machine hits both alike.
 * With `--guided`: instead, the same run unguided and guided by the training images' boxes (--guide-weight W,
 * fine-tuning the last 3 blocks), validation pointing overall and per class, and accuracy side by side.
 * Ends with one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initWasmForProbe } from '../src-main/engine/backend/wasm-init.ts';
import { neuSamples } from '../src-main/services/training/data/neu.ts';
import { fileSource } from '../src-main/services/training/data/source.ts';
import { vocRegionMasks } from '../src-main/services/training/guide/voc-masks.ts';
import { readWeightSet } from '../src-main/engine/model/weights.ts';
import { Trainer, type TrainerEvent } from '../src-main/engine/train/trainer.ts';
import { resolveConfig } from '../src-main/services/training/train/config.ts';

const WEIGHTS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/models/mobilenet_v1_0.25_224');
const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const perClass = arg('--per-class', 40);
const ftEpochs = arg('--ft-epochs', 2);
const repeats = arg('--repeats', 2);
const guidedMode = process.argv.includes('--guided');
const guideWeight = arg('--guide-weight', 5);
/** --only plain|guided: one of the two runs (each fits the time limit on its own). */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;

const probe = await initWasmForProbe();
const training = probe.missingGradients.length ? 'cpu' : 'wasm';
const { classes, samples } = neuSamples({ perClass });
const splits = { train: [] as number[], val: [] as number[], test: [] as number[] };
samples.forEach((s, i) => splits[s.split].push(i));
const masks = vocRegionMasks(samples, classes, (s) => s.split === 'val' || (guidedMode && s.split === 'train'));
const tmp = mkdtempSync(join(tmpdir(), 'kensa-guide-bench-'));

type Epoch = Extract<TrainerEvent, { kind: 'epoch' }>;
async function once(withRegions: boolean, guided = false): Promise<Epoch[]> {
  const epochs: Epoch[] = [];
  await new Trainer({
    config: resolveConfig({
      task: 'multiclass',
      backbone: 'mobilenet_v1_0.25',
      inputSize: 224,
      batchSize: 16,
      epochs: 40,
      patience: 0,
      fineTuneBlocks: guidedMode ? 3 : 2,
      fineTuneEpochs: ftEpochs,
      fineTunePatience: 0,
      ...(guidedMode ? { fineTuneLearningRate: 2e-4 } : {}),
      augmentation: { mode: 'none' },
      ...(guided ? { guideRegions: true, guideWeight } : {}),
    }),
    classes,
    okIndex: null,
    source: fileSource(samples),
    splits,
    backboneWeights: readWeightSet(WEIGHTS),
    cacheDir: join(tmp, 'cache'),
    backends: { training, inference: 'wasm' },
    signal: new AbortController().signal,
    ...(withRegions ? { regionMasks: masks } : {}),
    onEvent: (e) => {
      if (e.kind === 'epoch') epochs.push(e);
    },
  }).run();
  return epochs;
}

if (guidedMode) {
  const t0 = Date.now();
  const plain = only === 'guided' ? null : (await once(true)).pop()!.metrics;
  const t1 = Date.now();
  const guided = only === 'plain' ? null : (await once(true, true)).pop()!.metrics;
  const t2 = Date.now();
  rmSync(tmp, { recursive: true, force: true });
  const pc = (m: Epoch['metrics']) =>
    Object.entries(m.valPointingByClass ?? {})
      .map(([k, v]) => `${k} ${(v.pointing * 100).toFixed(0)}`)
      .join(', ');
  const line = (name: string, m: Epoch['metrics'], ms: number) =>
    console.log(
      `${name}: val acc ${(m.valAccuracy! * 100).toFixed(1)} %, pointing ${(m.valPointing! * 100).toFixed(1)} %, energy ${(m.valEnergy! * 100).toFixed(1)} % (${pc(m)}) in ${(ms / 1000).toFixed(0)} s`,
    );
  console.log(
    `NEU ${samples.length} images (${splits.train.length} train, ${splits.val.length} val), v1 0.25 @ 224, ${training}, weight ${guideWeight}`,
  );
  if (plain) line('unguided', plain, t1 - t0);
  if (guided) line('guided  ', guided, t2 - t1);
  console.log(JSON.stringify({ bench: 'guide-guided', images: samples.length, guideWeight, plain, guided }));
  process.exit(0);
}

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
const times = { with: { ft: [] as number[], tr: [] as number[] }, without: { ft: [] as number[], tr: [] as number[] } };
/** Time the measurement itself took inside the fine-tuning epochs of the runs with regions (same run, same load). */
const locFt: number[] = [];
let last: Epoch['metrics'] | null = null;
try {
  await once(false); // warm-up: embeddings into the cache, kernels compiled
  for (let r = 0; r < repeats; r++) {
    for (const w of [true, false]) {
      const ep = await once(w);
      const t = w ? times.with : times.without;
      t.ft.push(...ep.filter((e) => e.phase === 'finetune').map((e) => e.durationMs));
      t.tr.push(...ep.filter((e) => e.phase === 'transfer').map((e) => e.durationMs));
      if (w) {
        last = ep[ep.length - 1]!.metrics;
        locFt.push(...ep.filter((e) => e.phase === 'finetune').map((e) => e.metrics.valLocalisationMs ?? 0));
      }
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const ftWith = mean(times.with.ft);
const ftWithout = mean(times.without.ft);
const trWith = mean(times.with.tr);
const trWithout = mean(times.without.tr);
const share = mean(locFt) / ftWith;
console.log(`NEU ${samples.length} images (${splits.val.length} val, ${masks.size} with boxes of their class), v1 0.25 @ 224, ${training}`);
console.log(
  `fine-tuning epoch (2 blocks): ${ftWith.toFixed(0)} ms with localisation, ${ftWithout.toFixed(0)} ms without (${((ftWith / ftWithout - 1) * 100).toFixed(1)} %)`,
);
console.log(
  `localisation inside a fine-tuning epoch: ${mean(locFt).toFixed(0)} ms = ${(share * 100).toFixed(2)} % of the epoch (measured in the same epochs)`,
);
console.log(`transfer epoch: ${trWith.toFixed(2)} ms with, ${trWithout.toFixed(2)} ms without`);
if (last)
  console.log(
    `last epoch: pointing ${(last.valPointing! * 100).toFixed(1)} % (chance ${(last.valPointingChance! * 100).toFixed(1)} %), energy ${(last.valEnergy! * 100).toFixed(1)} % (area ${(last.valRegionArea! * 100).toFixed(1)} %)`,
  );
console.log(
  JSON.stringify({
    bench: 'guide',
    images: samples.length,
    localised: masks.size,
    finetuneEpochMs: { with: ftWith, without: ftWithout, overhead: ftWith / ftWithout - 1, localisationMs: mean(locFt), share },
    transferEpochMs: { with: trWith, without: trWithout },
    lastEpoch: last,
  }),
);
