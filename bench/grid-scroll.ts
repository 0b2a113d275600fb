// Grid scroll: the library grid on a 50,000-image project in browser mode, driven by Playwright in
// Chromium. Measures the first grid page (navigation → first cell → first thumbnail) and frame times
// (requestAnimationFrame deltas) while scrolling smoothly and while jumping around like a scrollbar drag.
// Usage: npm run bench -- grid-scroll [--count N] [--seconds S]   (needs `electron-vite build` first)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { chromium } from '@playwright/test';
import sharp from 'sharp';
import { createHandlers } from '../src-main/services/handlers/index.ts';
import { CATALOG_FILE } from '../src-main/services/projects/project.ts';
import { Services } from '../src-main/services/services.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '50000' }, seconds: { type: 'string', default: '4' } } });
const COUNT = Number(values.count);
const SECONDS = Number(values.seconds);
const repo = resolve(import.meta.dirname, '..');
if (!existsSync(join(repo, 'out/renderer/index.html'))) {
  console.error('Build the renderer first: electron-vite build');
  process.exit(1);
}

const root = mkdtempSync(join(tmpdir(), 'kensa-bench-scroll-'));
const dir = join(root, 'project');
let server: ReturnType<typeof spawn> | null = null;
try {
  // 1. The project through the services (creates the folder layout and runs the migrations).
  const tc = performance.now();
  {
    const s = new Services({
      configDir: join(root, 'config-build'),
      resourcesDir: join(repo, 'resources'),
      host: { mode: 'cli', electronVersion: null },
    });
    await createHandlers(s).createProject(dir, 'Grid scroll bench');
    await s.dispose();
  }

  // 2. A few real pictures and their thumbnails; every catalog row points at one of them. They live inside the
  //    project's cache: media links that lead out of the project's store are refused.
  const variants: { thumb: string; image: string }[] = [];
  const srcDir = join(dir, 'cache', 'bench-variants');
  mkdirSync(srcDir, { recursive: true });
  for (let v = 0; v < 6; v++) {
    const ring = Buffer.from(
      `<svg width="640" height="480"><circle cx="320" cy="240" r="${170 + v * 6}" fill="none" stroke="#c8c8c8" stroke-width="${40 + v * 4}"/><circle cx="320" cy="240" r="80" fill="#2a2a2a"/><rect x="${200 + v * 30}" y="120" width="40" height="6" fill="#111"/></svg>`,
    );
    const base = sharp({
      create: {
        width: 640,
        height: 480,
        channels: 3,
        background: { r: 90 + v * 10, g: 92 + v * 10, b: 96 + v * 10 },
        noise: { type: 'gaussian', mean: 100, sigma: 14 },
      },
    }).composite([{ input: ring }]);
    const image = join(srcDir, `v${v}.jpg`);
    const thumb = join(srcDir, `v${v}-thumb.jpg`);
    const buf = await base.jpeg({ quality: 85 }).toBuffer();
    writeFileSync(image, buf);
    writeFileSync(thumb, await sharp(buf).resize(256, 256, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer());
    variants.push({ thumb, image });
  }

  // 3. 50,000 rows straight into the images table (columns of migration 002-catalog), thumbnails and store
  //    files linked to the real files above, as an import would have left them.
  const db = new Database(join(dir, CATALOG_FILE));
  const types = db.prepare('SELECT id FROM defect_types ORDER BY sort_order').all() as { id: number }[];
  const now = Date.parse('2026-06-01T00:00:00Z');
  const batch = db
    .prepare(
      "INSERT INTO import_batches(created_at, finished_at, state, fingerprint, request, imported) VALUES (?, ?, 'done', 'bench', '{}', ?)",
    )
    .run(new Date(now).toISOString(), new Date(now).toISOString(), COUNT).lastInsertRowid;
  const ins = db.prepare(`INSERT INTO images(sha256, ext, format, width, height, channels, bit_depth, orientation, pages, page, byte_size,
      original_path, original_name, batch_id, imported_at, label_id, core_type, note, review_state, split, group_key, group_manual, region_count)
      VALUES (?, 'jpg', 'jpeg', 640, 480, 3, 8, 1, 1, NULL, 60000, ?, ?, ?, ?, ?, ?, '', ?, ?, NULL, 0, 0)`);
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const made = new Set<string>();
  db.transaction(() => {
    for (let i = 0; i < COUNT; i++) {
      const sha = createHash('sha256').update(`bench-${i}`).digest('hex');
      const label = rnd() < 0.15 ? null : types[Math.floor(rnd() * types.length)]!.id;
      const sp = rnd();
      ins.run(
        sha,
        `/data/line3/batch${i % 50}/core_${String(i).padStart(6, '0')}.jpg`,
        `core_${String(i).padStart(6, '0')}.jpg`,
        batch,
        new Date(now + i * 1000).toISOString(),
        label,
        rnd() < 0.6 ? 'stator' : 'rotor',
        label === null ? 'unlabelled' : 'labelled',
        sp < 0.76 ? 'train' : 'val',
      );
      const v = variants[i % variants.length]!;
      const sub = sha.slice(0, 2);
      for (const d of [join(dir, 'cache', 'thumbs', sub), join(dir, 'images', sub)])
        if (!made.has(d)) {
          mkdirSync(d, { recursive: true });
          made.add(d);
        }
      symlinkSync(v.thumb, join(dir, 'cache', 'thumbs', sub, `${sha}.jpg`));
      symlinkSync(v.image, join(dir, 'images', sub, `${sha}.jpg`));
    }
  })();
  db.close();
  const buildS = (performance.now() - tc) / 1000;

  // 4. Browser mode on that project.
  server = spawn(
    process.execPath,
    [join(repo, 'src-main/server/serve.ts'), '--config-dir', join(root, 'config'), '--no-demo', '--project', dir],
    {
      cwd: repo,
      env: { ...process.env, KENSA_HOME: join(root, 'config') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${out}`)), 60_000);
    const check = (): void => {
      const m = /browser mode: (http:\/\/\S+)/.exec(out);
      if (m?.[1] && /Project: /.test(out)) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    server!.stdout!.on('data', check);
  });
  const u = new URL(url);
  const token = u.searchParams.get('token') ?? '';
  const apiCall = async (op: string, ...args: unknown[]): Promise<number> => {
    const t = performance.now();
    const res = await fetch(`${u.origin}/api/${op}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-kensa-token': token },
      body: JSON.stringify(args),
    });
    const env = (await res.json()) as { ok: boolean };
    if (!env.ok) throw new Error(`${op} failed: ${JSON.stringify(env)}`);
    return performance.now() - t;
  };
  await apiCall('listImages', { offset: 0, limit: 120 }); // warm the statement cache like a first open would not; measured below
  const apiFirst = await apiCall('listImages', { sort: { by: 'importedAt', dir: 'asc' }, offset: 0, limit: 120 });
  const apiDeep = await apiCall('listImages', { sort: { by: 'importedAt', dir: 'asc' }, offset: COUNT - 200, limit: 120 });
  const apiDeepName = await apiCall('listImages', { sort: { by: 'name', dir: 'desc' }, offset: Math.floor(COUNT / 2), limit: 120 });
  const apiStats = await apiCall('getLibraryStats');
  const apiTypes = await apiCall('listDefectTypes');

  const browser = await chromium.launch({
    executablePath: process.env.KENSA_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  let pageRequests = 0;
  const t0 = Date.now();
  const log: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/listImages')) pageRequests++;
    if (process.env.BENCH_VERBOSE && log.length < 40) log.push(`${Date.now() - t0} start ${r.url().replace(u.origin, '')}`);
  });
  page.on('requestfinished', (r) => {
    if (process.env.BENCH_VERBOSE && log.length < 40) log.push(`${Date.now() - t0} done  ${r.url().replace(u.origin, '')}`);
  });
  // First cell and first painted thumbnail, timed from navigation start. (Page code is plain JS in strings:
  // the repo's Node tsconfig has no DOM types.)
  await page.addInitScript({
    content: `(() => {
      const w = window;
      const mo = new MutationObserver(() => {
        if (w.__view === undefined && document.querySelector('[data-testid=library-grid]')) w.__view = performance.now();
        const cell = document.querySelector('[data-testid=library-grid] [data-id]');
        if (cell && w.__firstCell === undefined) w.__firstCell = performance.now();
        const img = cell && cell.querySelector('img');
        if (img && w.__firstThumb === undefined) {
          const done = () => { if (w.__firstThumb === undefined) w.__firstThumb = performance.now(); };
          if (img.complete && img.naturalWidth) done();
          else img.addEventListener('load', done, { once: true });
        }
        if (w.__firstThumb !== undefined) mo.disconnect();
      });
      mo.observe(document, { childList: true, subtree: true });
    })()`,
  });
  await page.goto(`${url.split('#')[0]}#/library`);
  await page.waitForFunction('window.__firstThumb !== undefined', null, { timeout: 60_000 });
  const first = (await page.evaluate(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const total = document.querySelector('[data-testid=grid-total]');
    return { view: window.__view, dcl: nav ? nav.domContentLoadedEventEnd : 0, cell: window.__firstCell, thumb: window.__firstThumb, total: total ? total.textContent : '' };
  })()`)) as { view: number; dcl: number; cell: number; thumb: number; total: string };
  await page.waitForTimeout(500);
  if (process.env.BENCH_VERBOSE) console.log(log.join('\n'));
  const requestsBefore = pageRequests;

  // 5. Scrolling, measured inside the page with requestAnimationFrame.
  const phases = (await page.evaluate(`(async (seconds) => {
    const scroller = document.querySelector('[data-testid=library-grid]');
    const run = (name, step) =>
      new Promise((done) => {
        const deltas = [];
        let last = performance.now();
        const end = last + seconds * 1000;
        let frame = 0, maxCells = 0, blanks = 0, seen = 0;
        const tick = (now) => {
          deltas.push(now - last);
          last = now;
          const cells = scroller.querySelectorAll('.cell');
          maxCells = Math.max(maxCells, cells.length);
          // Cells inside the viewport still waiting for their row data (skeletons).
          const top = scroller.scrollTop;
          const bottom = top + scroller.clientHeight;
          for (const c of cells) {
            // From the inline style (no getComputedStyle: the probe must not force a style recalc itself).
            const m = /,\\s*(-?[\\d.]+)px\\)/.exec(c.style.transform);
            const y = m ? Number(m[1]) : 0;
            if (y + 176 < top || y > bottom) continue;
            seen++;
            if (!c.hasAttribute('data-id')) blanks++;
          }
          if (now >= end) return done({ name, deltas: deltas.slice(1), maxCells, blankRatio: seen ? blanks / seen : 0 });
          step(frame++);
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
    const out = [];
    scroller.scrollTop = 0;
    out.push(await run('smooth scroll (3,600 px/s)', () => (scroller.scrollTop += 60)));
    out.push(await run('fast wheel (12,000 px/s)', () => (scroller.scrollTop += 200)));
    let pos = 0;
    out.push(await run('random jump every frame (worst case)', () => {
      pos = (pos * 1103515245 + 12345) & 0x7fffffff;
      scroller.scrollTop = (pos / 0x7fffffff) * (scroller.scrollHeight - scroller.clientHeight);
    }));
    return out;
  })(${SECONDS})`)) as { name: string; deltas: number[]; maxCells: number; blankRatio: number }[];
  await page.waitForTimeout(400);
  const settled = (await page.evaluate(`(() => {
    const cells = [...document.querySelectorAll('[data-testid=library-grid] .cell')];
    return { cells: cells.length, loaded: cells.filter((c) => c.hasAttribute('data-id')).length };
  })()`)) as { cells: number; loaded: number };
  const requestsScrolling = pageRequests - requestsBefore;
  await browser.close();

  const q = (a: number[], p: number): number => {
    const s = [...a].sort((x, y) => x - y);
    return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))] ?? 0;
  };
  const r1 = (n: number): number => Math.round(n * 10) / 10;
  const rows = phases.map((p) => ({
    phase: p.name,
    frames: p.deltas.length,
    fps: r1(p.deltas.length / (p.deltas.reduce((a, b) => a + b, 0) / 1000)),
    p50: r1(q(p.deltas, 0.5)),
    p95: r1(q(p.deltas, 0.95)),
    max: r1(Math.max(...p.deltas)),
    long: p.deltas.filter((d) => d > 50).length,
    maxCells: p.maxCells,
    blankPct: r1(p.blankRatio * 100),
  }));

  console.log(
    `Grid scroll on a ${COUNT.toLocaleString('en')}-image project (built in ${buildS.toFixed(1)} s), Chromium headless, software rendering`,
  );
  console.log(`grid shows: ${first.total}`);
  console.log('| first page                                |      ms |');
  console.log('|-------------------------------------------|--------:|');
  console.log(`| API listImages offset 0 (120 rows)        | ${r1(apiFirst).toFixed(1).padStart(7)} |`);
  console.log(`| API listImages offset ${String(COUNT - 200).padEnd(6)} (import order)| ${r1(apiDeep).toFixed(1).padStart(7)} |`);
  console.log(
    `| API listImages offset ${String(Math.floor(COUNT / 2)).padEnd(6)} (name desc)  | ${r1(apiDeepName).toFixed(1).padStart(7)} |`,
  );
  console.log(`| API getLibraryStats (side panel counts)   | ${r1(apiStats).toFixed(1).padStart(7)} |`);
  console.log(`| API listDefectTypes (with image counts)   | ${r1(apiTypes).toFixed(1).padStart(7)} |`);
  console.log(`| navigation → DOMContentLoaded (bundle)   | ${r1(first.dcl).toFixed(1).padStart(7)} |`);
  console.log(`| navigation → empty grid mounted           | ${r1(first.view).toFixed(1).padStart(7)} |`);
  console.log(`| navigation → first grid cell              | ${r1(first.cell).toFixed(1).padStart(7)} |`);
  console.log(`| navigation → first thumbnail shown        | ${r1(first.thumb).toFixed(1).padStart(7)} |`);
  console.log('');
  console.log('| phase                                 | frames |  fps | p50 ms | p95 ms | max ms | >50 ms | cells in DOM | blank % |');
  console.log('|---------------------------------------|-------:|-----:|-------:|-------:|-------:|-------:|-------------:|--------:|');
  for (const r of rows)
    console.log(
      `| ${r.phase.padEnd(37)} | ${String(r.frames).padStart(6)} | ${r.fps.toFixed(1).padStart(4)} | ${r.p50.toFixed(1).padStart(6)} | ${r.p95.toFixed(1).padStart(6)} | ${r.max.toFixed(1).padStart(6)} | ${String(r.long).padStart(6)} | ${String(r.maxCells).padStart(12)} | ${r.blankPct.toFixed(1).padStart(7)} |`,
    );
  console.log(
    `listImages requests while scrolling: ${requestsScrolling}; after settling ${settled.loaded}/${settled.cells} cells have their data`,
  );
  console.log(
    JSON.stringify({
      bench: 'grid-scroll',
      images: COUNT,
      buildSeconds: r1(buildS),
      apiFirstPageMs: r1(apiFirst),
      apiDeepPageMs: r1(apiDeep),
      apiDeepNamePageMs: r1(apiDeepName),
      apiStatsMs: r1(apiStats),
      apiTypesMs: r1(apiTypes),
      domContentLoadedMs: r1(first.dcl),
      gridMountedMs: r1(first.view),
      firstCellMs: r1(first.cell),
      firstThumbMs: r1(first.thumb),
      phases: rows,
      longFrames: rows.reduce((a, r) => a + r.long, 0),
      pageRequestsWhileScrolling: requestsScrolling,
      settledLoaded: `${settled.loaded}/${settled.cells}`,
    }),
  );
} finally {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
  }
  rmSync(root, { recursive: true, force: true });
}
