/**
 * Photo shape for anomaly models (issue 16), run from bench/anomaly.ts `--strips [--cells 3]`: elongated strips built
 * from elpv cells (three 300 px cells side by side, 900 x 300 px, of one cell type: good = three cells of defect
 * probability 0, defect = a cell of probability >= 2/3 between two good ones; `--cells 2`: 600 x 300, the defect cell
 * left or right), one anomaly model per resize mode (squash, letterbox,
 * tile) fitted on the same good strips and scored on the same held-out strips: image AUROC, the scoring time per
 * strip (features + nearest-neighbour search over every input of the strip; decoding not counted) and the fit's time.
 * The strips are written once as PNG files and read through the product's own path (engine/anomaly/photo-inputs.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { AnomalyModel } from '../src-main/engine/anomaly/model.ts';
import { openPhotoInputs, scorePhotos, type PhotoInputSource } from '../src-main/engine/anomaly/photo-inputs.ts';
import type { WeightSet } from '../src-main/engine/model/weights.ts';
import type { ResizeMode } from '../src-main/services/training/data/geometry.ts';
import type { EngineSample } from '../src-main/services/training/data/source.ts';
import { rocCurve } from '../src-main/services/training/train/metrics.ts';
import { createRng, shuffleInPlace } from '../src-main/services/training/train/rng.ts';
import type { AnomalyModelParams } from '../src-main/shared/training-types.ts';

export interface StripsOptions {
  elpv: string;
  params: AnomalyModelParams;
  weights: WeightSet;
  /** Good strips the bank is fitted on. */
  fit: number;
  /** Held-out good strips, and as many defect strips. */
  test: number;
  seed: number;
  modes: ResizeMode[];
  /** Cells per strip (3: 900 x 300 px; 2: 600 x 300). */
  cells: number;
}

export interface StripsResult {
  cells: number;
  fit: number;
  good: number;
  defect: number;
  modes: Record<string, { auroc: number; scoreMsPerImage: number; fitMs: number; bankRows: number; inputsPerImage: number }>;
}

/** Three cells side by side (each 300 x 300 grey), as one 900 x 300 PNG. */
async function writeStrip(dir: string, name: string, cells: string[]): Promise<string> {
  const side = 300;
  const parts = await Promise.all(cells.map((c) => sharp(c).greyscale().resize(side, side).raw().toBuffer()));
  const out = Buffer.alloc(side * side * cells.length);
  for (let y = 0; y < side; y++) parts.forEach((p, k) => p.copy(out, y * side * cells.length + k * side, y * side, (y + 1) * side));
  const path = join(dir, `${name}.png`);
  await sharp(out, { raw: { width: side * cells.length, height: side, channels: 1 } })
    .png()
    .toFile(path);
  return path;
}

export async function runStrips(o: StripsOptions): Promise<StripsResult> {
  const rows = readFileSync(join(o.elpv, 'labels.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  const rng = createRng(o.seed);
  const byType = new Map<string, { good: string[]; bad: string[] }>();
  for (const r of rows) {
    const t = byType.get(r[2] ?? '') ?? { good: [], bad: [] };
    const p = Number(r[1]);
    if (p === 0) t.good.push(join(o.elpv, r[0]!));
    else if (p >= 0.66) t.bad.push(join(o.elpv, r[0]!));
    byType.set(r[2] ?? '', t);
  }
  for (const t of byType.values()) {
    shuffleInPlace(t.good, rng);
    shuffleInPlace(t.bad, rng);
  }
  const types = [...byType.keys()].sort();
  const dir = mkdtempSync(join(tmpdir(), 'kensa-strips-'));
  try {
    // Strips alternate between the cell types; each draws its cells from its type's shuffled list without reuse.
    const fitStrips: string[] = [];
    const goodStrips: string[] = [];
    const badStrips: string[] = [];
    const take = (list: string[], n: number) => list.splice(0, n);
    for (let i = 0; i < o.fit + o.test; i++) {
      const t = byType.get(types[i % types.length]!)!;
      const cells = take(t.good, o.cells);
      if (cells.length < o.cells) break;
      const path = await writeStrip(dir, `good-${i}`, cells);
      (i < o.fit ? fitStrips : goodStrips).push(path);
    }
    for (let i = 0; i < o.test; i++) {
      const t = byType.get(types[i % types.length]!)!;
      const [bad] = take(t.bad, 1);
      const others = take(t.good, o.cells - 1);
      if (!bad || others.length < o.cells - 1) break;
      // The defect cell between good ones (3 cells), or beside one (2 cells: left or right in turn).
      const at = o.cells >= 3 ? Math.floor(o.cells / 2) : i % o.cells;
      badStrips.push(await writeStrip(dir, `bad-${i}`, [...others.slice(0, at), bad, ...others.slice(at)]));
    }
    const samples = (paths: string[]): EngineSample[] => paths.map((path, i) => ({ id: i + 1, key: path, label: 0, split: 'test', path }));
    const result: StripsResult = { cells: o.cells, fit: fitStrips.length, good: goodStrips.length, defect: badStrips.length, modes: {} };
    const size = o.params.inputSize;
    for (const mode of o.modes) {
      const model = new AnomalyModel({ ...o.params, resize: mode }, o.weights);
      const fitSrc = await openPhotoInputs({ kind: 'files' }, samples(fitStrips), mode);
      const t0 = performance.now();
      let next = 0;
      let inputs = 0;
      const fit = await model.fit(async () => {
        if (next >= fitStrips.length) return null;
        const part = Array.from({ length: Math.min(8, fitStrips.length - next) }, (_, k) => next + k);
        next += part.length;
        const photos = await Promise.all(part.map((k) => fitSrc.load(k, size)));
        inputs += photos.reduce((a, p) => a + p.inputs.length, 0);
        return { inputs: photos.flatMap((p) => p.inputs), contents: photos.flatMap((p) => p.contents), photos: photos.length };
      }, fitStrips.length);
      const fitMs = performance.now() - t0;
      fitSrc.close();
      const test = [...goodStrips, ...badStrips];
      const src = await openPhotoInputs({ kind: 'files' }, samples(test), mode);
      const { raw, ms } = await scoreStrips(model, src, test.length);
      src.close();
      const auroc = rocCurve(
        raw,
        test.map((_, i) => i >= goodStrips.length),
      ).auc;
      result.modes[mode] = {
        auroc,
        scoreMsPerImage: ms / test.length,
        fitMs,
        bankRows: fit.rows,
        inputsPerImage: inputs / Math.max(1, fitStrips.length),
      };
      console.log(
        `strips ${mode.padEnd(9)} AUROC ${auroc.toFixed(4)}  scoring ${(ms / test.length).toFixed(0)} ms a strip ` +
          `(${inputs / Math.max(1, fitStrips.length)} inputs), fit ${(fitMs / 1000).toFixed(1)} s, bank ${fit.rows}`,
      );
      model.dispose();
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Raw scores of the source's n strips, in batches of 8, and the time spent scoring (not decoding). */
async function scoreStrips(model: AnomalyModel, src: PhotoInputSource, n: number): Promise<{ raw: number[]; ms: number }> {
  const raw: number[] = [];
  let ms = 0;
  for (let i = 0; i < n; i += 8) {
    const photos = await Promise.all(Array.from({ length: Math.min(8, n - i) }, (_, k) => src.load(i + k, model.params.inputSize)));
    const t = performance.now();
    for (const s of await scorePhotos(model, photos)) raw.push(s.raw);
    ms += performance.now() - t;
  }
  return { raw, ms };
}
