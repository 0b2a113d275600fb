// Import throughput: 2,000 generated 640x640 JPEGs (motor-core demo renderer) imported with
// thumbnails, side by side with sharp's own decode+resize of the same files at the same concurrency.
// Usage: node bench/import.ts [--count N] [--keep]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { mulberry32, renderCore, DEMO_DEFECTS } from '../src-main/services/library/demo/render.ts';
import { IMPORT_CONCURRENCY, runImport } from '../src-main/services/library/import.ts';
import { THUMB_SIZE } from '../src-main/services/library/imaging.ts';
import { Project } from '../src-main/services/projects/project.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '2000' }, keep: { type: 'boolean', default: false } } });
const COUNT = Number(values.count);
const SIZE = 640;
const BASES = 40;

function rssSampler() {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  return { stop: () => (clearInterval(t), (peak = Math.max(peak, process.memoryUsage().rss)), peak) };
}

const root = mkdtempSync(join(tmpdir(), 'kensa-bench-import-'));
const src = join(root, 'src');
mkdirSync(src);
try {
  // 1. Generate: BASES rendered cores, each varied per file (shifted, re-noised) so every file is distinct.
  const tg = Date.now();
  const bases = Array.from(
    { length: BASES },
    (_, i) => renderCore({ seed: 5000 + i, defect: DEMO_DEFECTS[i % DEMO_DEFECTS.length]!, size: SIZE }).rgb,
  );
  for (let i = 0; i < COUNT; i++) {
    const base = bases[i % BASES]!;
    const rnd = mulberry32(i + 1);
    const shift = Math.floor(rnd() * 24) * 3 * SIZE;
    const px = Buffer.allocUnsafe(base.length);
    px.set(base.subarray(shift), 0);
    px.set(base.subarray(0, shift), base.length - shift);
    for (let k = 0; k < 3000; k++) {
      const p = Math.floor(rnd() * px.length);
      px[p] = Math.min(255, px[p]! + Math.floor(rnd() * 40));
    }
    writeFileSync(
      join(src, `core_${String(i).padStart(5, '0')}.jpg`),
      await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  const genS = (Date.now() - tg) / 1000;
  const files = readdirSync(src).map((f) => join(src, f));
  process.stderr.write(`generated ${files.length} JPEGs in ${genS.toFixed(1)} s\n`);

  // 2. Baseline: sharp alone, decode + resize to the thumbnail size + JPEG encode, same concurrency.
  let m = rssSampler();
  let t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IMPORT_CONCURRENCY }, async () => {
      while (next < files.length) {
        const f = files[next++]!;
        await sharp(f).resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer();
      }
    }),
  );
  const baseS = (performance.now() - t0) / 1000;
  const basePeak = m.stop();

  // 3. Kensa import: hash, sniff, probe, thumbnail, store copy, catalog rows, split assignment.
  const project = Project.create(join(root, 'project'));
  m = rssSampler();
  t0 = performance.now();
  const report = await runImport(project, { paths: [src] });
  const impS = (performance.now() - t0) / 1000;
  const impPeak = m.stop();
  project.close();
  if (report.imported !== COUNT) throw new Error(`imported ${report.imported} of ${COUNT}`);

  const baseRate = files.length / baseS;
  const impRate = report.imported / impS;
  const mb = (b: number) => (b / 1048576).toFixed(0);
  console.log(
    `Import of ${COUNT} ${SIZE}x${SIZE} JPEGs, concurrency ${IMPORT_CONCURRENCY}, ${process.platform}-${process.arch}, Node ${process.versions.node}, sharp ${sharp.versions.sharp}`,
  );
  console.log('| run                              | seconds | images/s | peak RSS MB |');
  console.log('|----------------------------------|--------:|---------:|------------:|');
  console.log(
    `| sharp decode+resize+jpeg (alone) | ${baseS.toFixed(2).padStart(7)} | ${baseRate.toFixed(1).padStart(8)} | ${mb(basePeak).padStart(11)} |`,
  );
  console.log(
    `| kensa import with thumbnails     | ${impS.toFixed(2).padStart(7)} | ${impRate.toFixed(1).padStart(8)} | ${mb(impPeak).padStart(11)} |`,
  );
  console.log(`overhead ratio (sharp rate / import rate): ${(baseRate / impRate).toFixed(2)}x (goal <= 1.5x)`);
  console.log(
    JSON.stringify({
      bench: 'import',
      images: COUNT,
      size: SIZE,
      concurrency: IMPORT_CONCURRENCY,
      sharpImagesPerS: Math.round(baseRate * 10) / 10,
      importImagesPerS: Math.round(impRate * 10) / 10,
      overheadRatio: Math.round((baseRate / impRate) * 100) / 100,
      sharpPeakRssMb: Number(mb(basePeak)),
      importPeakRssMb: Number(mb(impPeak)),
      generateSeconds: Math.round(genS * 10) / 10,
    }),
  );
} finally {
  if (!values.keep) rmSync(root, { recursive: true, force: true });
  else process.stderr.write(`kept ${root}\n`);
}
