/**
 * What a new user gets with one click on the demo project, beside a plain baseline, in one run:
 * `npm run bench -- demo-baseline [--count N] [--seed 1] [--anomaly] [--keep DIR] [-- <extra kensa train flags>]` (N: the
 * app's default demo size).
 *
 *  1. `kensa demo` into a fresh project (the same generator the app's first launch uses);
 *  2. `kensa train --preset quick` (wall time of the command, as the user waits for it);
 *  3. `kensa heatmaps --method cam --score` on the validation split: CAM pointing game and energy per defect
 *     type, and from the same answer accuracy and the recall of each type at argmax (the heatmap job's predicted
 *     class; the trainer's own figure, at the operating point it chose on validation, is printed beside it);
 *  4. the baseline on the same train / validation split: frozen MobileNet v1 0.25 @ 224, mean-pooled features of
 *     the original photos (no augmentation), an L2-regularised logistic regression (ok vs defect) by full-batch
 *     gradient descent. If Quick is not above it, the preset adds nothing to the frozen features;
 *  5. with --anomaly: `kensa train --task anomaly` (learns from the training split's OK images only) and
 *     `kensa heatmaps --method anomaly --score --split all`: pointing game and energy of the anomaly maps per defect
 *     type, on the classifier's validation defects (the same images as the CAM figures) and on every defect image
 *     (none of them is in the model's memory bank: the run validates on all of them), with its validation AUROC.
 * Runs through the CLI so the figures are the ones a user sees. Ends with one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import { initWasmForProbe } from '../src-main/engine/backend/wasm-init.ts';
import { buildSegment, parseBackbone } from '../src-main/engine/model/mobilenet.ts';
import { pixelsToBatch } from '../src-main/engine/model/tf-util.ts';
import { assignWeightsByName, readWeightSet } from '../src-main/engine/model/weights.ts';
import { loadFileRgb } from '../src-main/services/training/data/source.ts';
import { DEMO_DEFAULT_COUNT } from '../src-main/services/library/demo/populate.ts';

const ROOT = resolve(import.meta.dirname, '..');
const WEIGHTS = join(ROOT, '..', 'shared', 'models', 'mobilenet_v1_0.25_224');
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const own = dash >= 0 ? argv.slice(0, dash) : argv;
const trainExtra = dash >= 0 ? argv.slice(dash + 1) : [];
const opt = (name: string, def: string) => {
  const i = own.indexOf(`--${name}`);
  return i >= 0 ? own[i + 1]! : def;
};
const log = (s: string) => process.stdout.write(`${s}\n`);
const kensa = (args: string[]) =>
  execFileSync(process.execPath, [join(ROOT, 'bin', 'kensa.js'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 28,
  });
const lastJson = <T>(out: string): T => JSON.parse(out.trim().split('\n').at(-1)!) as T;

interface MapsAnswer {
  aggregate: { classKey: string; count: number; pointingAccuracy: number; meanEnergy: number; meanArea: number }[];
  images: {
    file: string;
    label: string;
    predicted: string;
    split: string;
    maps: { pointing: boolean | null; energy: number | null; area: number | null }[];
  }[];
}

/** Pointing and energy per defect type (and '*': all defects) of the answer's images that have a score. */
function localisation(images: MapsAnswer['images']) {
  const out: Record<string, { n: number; pointing: number; energy: number; area: number }> = {};
  for (const img of images) {
    const m = img.maps[0];
    if (!m || m.pointing === null || m.energy === null || m.area === null) continue;
    for (const key of [img.label, '*']) {
      const e = (out[key] ??= { n: 0, pointing: 0, energy: 0, area: 0 });
      e.n++;
      e.pointing += m.pointing ? 1 : 0;
      e.energy += m.energy;
      e.area += m.area;
    }
  }
  for (const e of Object.values(out)) {
    e.pointing /= e.n;
    e.energy /= e.n;
    e.area /= e.n;
  }
  return out;
}

/**
 * (5): an anomaly run on the OK images of the training split, its maps scored on every defect image (the run
 * validates on all of them) and on the classifier's validation defects (`camFiles`, the CAM figures' images).
 */
function anomalyStep(project: string, camFiles: Set<string>) {
  const t0 = performance.now();
  const run = lastJson<{ runId: number; evaluations: { split: string; auc: number | null }[] }>(
    kensa(['train', project, '--task', 'anomaly', '--json']),
  );
  const trainSeconds = (performance.now() - t0) / 1000;
  const maps = lastJson<MapsAnswer>(
    kensa(['heatmaps', project, String(run.runId), '--method', 'anomaly', '--score', '--split', 'all', '--json']),
  );
  return {
    runId: run.runId,
    seconds: +trainSeconds.toFixed(1),
    valAuc: run.evaluations.find((e) => e.split === 'val')?.auc ?? null,
    val: localisation(maps.images.filter((i) => camFiles.has(i.file))),
    all: localisation(maps.images),
  };
}

interface Row {
  id: number;
  path: string;
  label: string;
  split: string;
}

/** (4): frozen mean-pooled features, then logistic regression; accuracy and per-type recall on validation. */
async function baseline(rows: Row[]) {
  const spec = parseBackbone('mobilenet_v1_0.25');
  const net = buildSegment(spec, 0, spec.blocks, [224, 224, 3], { gap: true });
  assignWeightsByName(net, readWeightSet(WEIGHTS));
  const C = spec.featureChannels;
  const feats = new Float32Array(rows.length * C);
  for (let k = 0; k < rows.length; k += 16) {
    const px = await Promise.all(rows.slice(k, k + 16).map((r) => loadFileRgb(r.path, 224)));
    feats.set(
      tf.tidy(() => (net.apply(pixelsToBatch(px, 224), { training: false }) as tf.Tensor).dataSync() as Float32Array),
      k * C,
    );
  }
  net.dispose();
  const train = rows.map((r, i) => [r, i] as const).filter(([r]) => r.split === 'train');
  // Standardise on the training rows, so one learning rate and one L2 weight suit every feature.
  const mu = new Float64Array(C);
  const sd = new Float64Array(C);
  for (const [, i] of train) for (let c = 0; c < C; c++) mu[c]! += feats[i * C + c]! / train.length;
  for (const [, i] of train) for (let c = 0; c < C; c++) sd[c]! += (feats[i * C + c]! - mu[c]!) ** 2 / train.length;
  const x = (i: number, c: number) => (feats[i * C + c]! - mu[c]!) / Math.sqrt(sd[c]! + 1e-8);
  const nDef = train.filter(([r]) => r.label !== 'ok').length;
  const wOf = (def: boolean) => train.length / (2 * (def ? nDef : train.length - nDef));
  const w = new Float64Array(C);
  let b = 0;
  const score = (i: number) => {
    let z = b;
    for (let c = 0; c < C; c++) z += w[c]! * x(i, c);
    return 1 / (1 + Math.exp(-z));
  };
  for (let it = 0; it < 500; it++) {
    const g = new Float64Array(C);
    let gb = 0;
    for (const [r, i] of train) {
      const y = r.label === 'ok' ? 0 : 1;
      const e = (score(i) - y) * wOf(y === 1);
      for (let c = 0; c < C; c++) g[c]! += (e * x(i, c)) / train.length;
      gb += e / train.length;
    }
    for (let c = 0; c < C; c++) w[c]! -= 0.5 * (g[c]! + 1e-2 * w[c]!);
    b -= 0.5 * gb;
  }
  const val = rows.map((r, i) => [r, i] as const).filter(([r]) => r.split === 'val');
  return tally(val.map(([r, i]) => ({ label: r.label, predicted: score(i) >= 0.5 ? 'defect' : 'ok' })));
}

/** Validation accuracy (ok vs defect) and the recall of each label. */
function tally(list: { label: string; predicted: string }[]) {
  const right = (p: { label: string; predicted: string }) => (p.label === 'ok') === (p.predicted === 'ok');
  const recall: Record<string, number> = {};
  for (const key of [...new Set(list.map((p) => p.label))].sort()) {
    const of = list.filter((p) => p.label === key);
    recall[key] = of.filter(right).length / of.length;
  }
  return { count: list.length, accuracy: list.filter(right).length / list.length, recall };
}

const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '   -  ' : `${(v * 100).toFixed(1).padStart(5)} %`);

async function main(): Promise<void> {
  const count = opt('count', String(DEMO_DEFAULT_COUNT));
  const seed = opt('seed', '1');
  const keep = own.includes('--keep') ? resolve(opt('keep', '')) : null;
  const tmp = keep ?? mkdtempSync(join(tmpdir(), 'kensa-demo-bench-'));
  const project = join(tmp, 'demo');
  try {
    kensa(['demo', project, '--count', count, '--seed', seed]);
    const t0 = performance.now();
    const train = lastJson<{ runId: number; valAccuracy: number | null; epochs: number }>(
      kensa(['train', project, '--preset', 'quick', '--json', ...trainExtra]),
    );
    const quickSeconds = (performance.now() - t0) / 1000;
    const maps = lastJson<MapsAnswer>(
      kensa(['heatmaps', project, String(train.runId), '--method', 'cam', '--score', '--split', 'val', '--json']),
    );
    const quick = tally(maps.images);

    const db = new Database(join(project, 'kensa.sqlite'), { readonly: true });
    const rows = (
      db
        .prepare(
          'SELECT i.id, i.sha256, i.ext, d.key AS label, i.split FROM images i JOIN defect_types d ON d.id = i.label_id ORDER BY i.id',
        )
        .all() as { id: number; sha256: string; ext: string; label: string; split: string }[]
    ).map((r) => ({
      id: r.id,
      label: r.label,
      split: r.split,
      path: join(project, 'images', r.sha256.slice(0, 2), `${r.sha256}.${r.ext}`),
    }));
    db.close();
    const f = await initWasmForProbe();
    await tf.setBackend('wasm');
    const t1 = performance.now();
    const base = await baseline(rows);
    const baseSeconds = (performance.now() - t1) / 1000;
    const anomaly = own.includes('--anomaly') ? anomalyStep(project, new Set(maps.images.map((i) => i.file))) : null;

    const n = (s: string) => rows.filter((r) => r.split === s).length;
    log(`Demo: ${rows.length} images (seed ${seed}), train ${n('train')}, val ${n('val')}, test ${n('test')}; wasm ${f.threads} thread(s)`);
    log(
      `Quick: run ${train.runId}, ${train.epochs} epochs, ${quickSeconds.toFixed(1)} s (kensa train --preset quick ${trainExtra.join(' ')})`,
    );
    log(`Quick's own validation accuracy (at the operating point it chose on validation): ${pct(train.valAccuracy ?? NaN)}`);
    log(`${'(argmax)'.padEnd(14)} ${'Quick'.padStart(8)} ${'baseline'.padStart(9)}   CAM pointing  energy (area)`);
    log(`${'val accuracy'.padEnd(14)} ${pct(quick.accuracy)} ${pct(base.accuracy)}`);
    const types = [...new Set([...Object.keys(quick.recall), ...Object.keys(base.recall)])].sort();
    for (const t of types) {
      const a = maps.aggregate.find((r) => r.classKey === t);
      const loc = a ? `${pct(a.pointingAccuracy)}  ${pct(a.meanEnergy)} (${pct(a.meanArea)}) n=${a.count}` : '';
      log(`${`recall ${t}`.padEnd(14)} ${pct(quick.recall[t])} ${pct(base.recall[t])}   ${loc}`);
    }
    const all = maps.aggregate.find((r) => r.classKey === '*');
    if (all)
      log(
        `${'all defects'.padEnd(14)} ${''.padEnd(8)} ${''.padEnd(9)}   ${pct(all.pointingAccuracy)}  ${pct(all.meanEnergy)} (${pct(all.meanArea)})`,
      );
    if (anomaly) {
      log(`Anomaly: run ${anomaly.runId}, ${anomaly.seconds} s, validation AUROC ${anomaly.valAuc?.toFixed(3) ?? '-'}`);
      log(`${'anomaly maps'.padEnd(14)} ${'pointing (CAM images)'.padStart(15)} ${'energy (area)'.padStart(16)}   every defect image`);
      for (const t of [
        ...Object.keys(anomaly.all)
          .filter((k) => k !== '*')
          .sort(),
        '*',
      ]) {
        const v = anomaly.val[t];
        const a = anomaly.all[t]!;
        log(
          `${(t === '*' ? 'all defects' : t).padEnd(14)} ${v ? `${pct(v.pointing)} n=${v.n}` : ''.padEnd(13)}  ${v ? `${pct(v.energy)} (${pct(v.area)})` : ''}   ${pct(a.pointing)}  ${pct(a.energy)} (${pct(a.area)}) n=${a.n}`,
        );
      }
    }
    const pointing = Object.fromEntries(
      maps.aggregate.map((r) => [r.classKey, { n: r.count, pointing: r.pointingAccuracy, energy: r.meanEnergy, area: r.meanArea }]),
    );
    process.stdout.write(
      `${JSON.stringify({
        count: rows.length,
        seed: Number(seed),
        split: { train: n('train'), val: n('val'), test: n('test') },
        quick: { ...quick, seconds: +quickSeconds.toFixed(1), epochs: train.epochs, trainerValAccuracy: train.valAccuracy, pointing },
        baseline: { ...base, seconds: +baseSeconds.toFixed(1) },
        ...(anomaly ? { anomaly } : {}),
      })}\n`,
    );
  } finally {
    if (!keep) rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
