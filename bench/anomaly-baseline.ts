/**
 * The anomaly model against the script a user could write in twenty lines, on the same images:
 * `npm run bench -- anomaly-baseline <project> <runId> [--backbone mobilenet_v2_1.0] [--limit N]`.
 *
 * The run (a `kensa train --task anomaly` run) fixes the split: its training OK images and its validation images,
 * read from the catalog's run_samples. The baselines embed every photo with the same frozen ImageNet backbone at
 * 224 px, one global vector per photo, and score a validation photo by its distance to the nearest training OK
 * photo (cosine distance of the mean-pooled and of the max-pooled vector). Image AUROC of each beside the run's own,
 * as stored in its validation evaluation. If the run is not well above them, the patch bank adds nothing.
 * Ends with one JSON line.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import { initWasmForProbe } from '../src-main/engine/backend/wasm-init.ts';
import { buildSegment, parseBackbone } from '../src-main/engine/model/mobilenet.ts';
import { pixelsToBatch } from '../src-main/engine/model/tf-util.ts';
import { assignWeightsByName, readWeightSet } from '../src-main/engine/model/weights.ts';
import { loadFileRgb } from '../src-main/services/training/data/source.ts';

const ROOT = resolve(import.meta.dirname, '..');
const [projectArg, runArg] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const opt = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
if (!projectArg || !runArg) {
  console.error('Usage: npm run bench -- anomaly-baseline <project> <runId> [--backbone mobilenet_v2_1.0] [--limit N]');
  process.exit(1);
}
const project = resolve(projectArg);
const runId = Number(runArg);
const backbone = opt('backbone', 'mobilenet_v2_1.0');
const limit = Number(opt('limit', '0'));

interface Row {
  path: string;
  defect: boolean;
  split: string;
}
const db = new Database(join(project, 'kensa.sqlite'), { readonly: true });
let rows = (
  db
    .prepare(
      `SELECT s.split, s.label, i.sha256, i.ext FROM run_samples s JOIN images i ON i.id = s.image_id
       WHERE s.run_id = ? AND s.split IN ('train', 'val') ORDER BY s.sha256`,
    )
    .all(runId) as { split: string; label: string; sha256: string; ext: string }[]
).map((r): Row => ({
  path: join(project, 'images', r.sha256.slice(0, 2), `${r.sha256}.${r.ext}`),
  defect: r.label !== 'ok',
  split: r.split,
}));
const evalRow = db.prepare(`SELECT metrics FROM run_evaluations WHERE run_id = ? AND split = 'val'`).get(runId) as
  { metrics: string } | undefined;
db.close();
const runAuc = evalRow ? ((JSON.parse(evalRow.metrics) as { binary?: { auc?: number } }).binary?.auc ?? null) : null;
// Train OK only (an anomaly run trains on nothing else); --limit keeps every n-th row for a quick look.
rows = rows.filter((r) => r.split === 'val' || !r.defect);
if (limit > 0 && rows.length > limit) rows = rows.filter((_, i) => i % Math.ceil(rows.length / limit) === 0);

const probe = await initWasmForProbe();
await tf.setBackend('wasm');
const spec = parseBackbone(backbone);
const net = buildSegment(spec, 0, spec.blocks, [224, 224, 3], { gap: false });
const models = join(ROOT, '..', 'shared', 'models');
const folder = spec.weightFolders.find((d) => existsSync(join(models, d)));
if (!folder) throw new Error(`No weights for ${backbone} in ${models}`);
assignWeightsByName(net, readWeightSet(join(models, folder)));
const C = spec.featureChannels;
const mean = new Float32Array(rows.length * C);
const max = new Float32Array(rows.length * C);
const t0 = performance.now();
for (let k = 0; k < rows.length; k += 16) {
  const px = await Promise.all(rows.slice(k, k + 16).map((r) => loadFileRgb(r.path, 224)));
  const [m, x] = tf.tidy(() => {
    /** [n, h, w, C] last feature map of the frozen backbone. */
    const f = net.apply(pixelsToBatch(px, 224), { training: false }) as tf.Tensor4D;
    return [f.mean([1, 2]).dataSync() as Float32Array, f.max([1, 2]).dataSync() as Float32Array];
  });
  mean.set(m, k * C);
  max.set(x, k * C);
}
net.dispose();
const featSeconds = (performance.now() - t0) / 1000;

/** Cosine distance of each validation row to its nearest training row. */
function nearest(feats: Float32Array): { score: number; defect: boolean }[] {
  const unit = (i: number) => {
    const v = feats.subarray(i * C, (i + 1) * C);
    const n = Math.hypot(...v) || 1;
    return v.map((a) => a / n);
  };
  const train = rows.flatMap((r, i) => (r.split === 'train' ? [unit(i)] : []));
  return rows.flatMap((r, i) => {
    if (r.split !== 'val') return [];
    const v = unit(i);
    let best = Infinity;
    for (const t of train) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += v[c]! * t[c]!;
      best = Math.min(best, 1 - dot);
    }
    return [{ score: best, defect: r.defect }];
  });
}

/** Image AUROC: the chance that a random defect photo scores above a random OK photo (ties count half). */
function auroc(list: { score: number; defect: boolean }[]): number {
  const pos = list.filter((p) => p.defect).map((p) => p.score);
  const neg = list.filter((p) => !p.defect).map((p) => p.score);
  let wins = 0;
  for (const a of pos) for (const b of neg) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

const aMean = auroc(nearest(mean));
const aMax = auroc(nearest(max));
const n = (s: string, d: boolean) => rows.filter((r) => r.split === s && r.defect === d).length;
const f = (v: number | null) => (v === null ? '  -  ' : v.toFixed(3));
console.log(
  `Project ${project}, run ${runId}: ${n('train', false)} training OK, validation ${n('val', false)} OK + ${n('val', true)} defect; ${backbone} @ 224, wasm ${probe.threads} thread(s), features ${featSeconds.toFixed(0)} s`,
);
console.log(`image AUROC   run (patch bank) ${f(runAuc)}   baseline nearest OK photo: mean-pooled ${f(aMean)}, max-pooled ${f(aMax)}`);
console.log(JSON.stringify({ bench: 'anomaly-baseline', runId, backbone, runAuc, baselineMeanPooled: aMean, baselineMaxPooled: aMax }));
