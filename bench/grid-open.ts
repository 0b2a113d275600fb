// Grid open: a synthetic 50,000-image catalog (rows inserted directly), then the time to open the
// project and fetch the first grid page, plus other common grid queries.
// Usage: node bench/grid-open.ts [--count N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ImageQuery } from '../src-main/shared/library-types.ts';
import { mulberry32 } from '../src-main/services/library/demo/render.ts';
import { listTypes } from '../src-main/services/db/repos/defect-types.ts';
import { insertImage, listIds, listImagesPage } from '../src-main/services/db/repos/images.ts';
import { createHandlers } from '../src-main/services/handlers/index.ts';
import { Project } from '../src-main/services/projects/project.ts';
import { Services } from '../src-main/services/services.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '50000' } } });
const COUNT = Number(values.count);
const root = mkdtempSync(join(tmpdir(), 'kensa-bench-grid-'));
try {
  const dir = join(root, 'project');
  const tc = performance.now();
  {
    const p = Project.create(dir);
    const db = p.db;
    const types = listTypes(db);
    const rnd = mulberry32(7);
    const start = Date.parse('2026-01-01T00:00:00Z');
    db.transaction(() => {
      for (let i = 0; i < COUNT; i++) {
        const r = rnd();
        const label = r < 0.1 ? null : types[Math.floor(rnd() * types.length)]!.id;
        const sp = rnd();
        insertImage(db, {
          sha256: i.toString(16).padStart(64, '0'),
          ext: 'jpg',
          format: 'jpeg',
          width: 640,
          height: 640,
          channels: 3,
          bit_depth: 8,
          orientation: 1,
          pages: 1,
          page: null,
          byte_size: 80_000,
          original_path: `/data/cores/batch${i % 40}/core_${i}.jpg`,
          original_name: `core_${(i * 7919) % COUNT}.jpg`,
          batch_id: null,
          imported_at: new Date(start + i * 1000).toISOString(),
          label_id: label,
          core_type: rnd() < 0.6 ? 'stator' : 'rotor',
          note: '',
          review_state: label === null ? 'unlabelled' : rnd() < 0.3 ? 'reviewed' : 'labelled',
          split: sp < 0.7 ? 'train' : sp < 0.9 ? 'val' : 'test',
          group_key: null,
        });
      }
    })();
    p.close();
  }
  const createS = (performance.now() - tc) / 1000;

  // Open as the app does (services + handlers), then the first page.
  const s = new Services({
    configDir: join(root, 'config'),
    resourcesDir: join(root, 'res'),
    host: { mode: 'cli', electronVersion: null },
  });
  const api = createHandlers(s);
  const t0 = performance.now();
  await api.openProject(dir);
  const tOpen = performance.now();
  const first = await api.listImages({ sort: { by: 'importedAt', dir: 'desc' }, offset: 0, limit: 200 });
  const tFirst = performance.now();
  if (first.total !== COUNT || first.items.length !== 200) throw new Error('unexpected first page');
  const types = await api.listDefectTypes();

  const db = s.projects.require().db;
  const cases: [string, ImageQuery | 'ids'][] = [
    ['sort by name, page 100', { sort: { by: 'name', dir: 'asc' }, offset: 20_000, limit: 200 }],
    ['sort by label desc', { sort: { by: 'label', dir: 'desc' }, offset: 0, limit: 200 }],
    ['filter label=scratch', { filter: { labels: [types[1]!.id] }, sort: { by: 'importedAt', dir: 'desc' }, limit: 200 }],
    ['filter unlabelled+val', { filter: { unlabelled: true, splits: ['val'] }, sort: { by: 'id', dir: 'asc' }, limit: 200 }],
    [
      'filter 3 labels, stator, reviewed',
      {
        filter: { labels: types.slice(1, 4).map((t) => t.id), coreTypes: ['stator'], reviewStates: ['reviewed'] },
        sort: { by: 'name', dir: 'asc' },
        offset: 1000,
        limit: 200,
      },
    ],
    ['name contains', { filter: { nameContains: 'core_123' }, limit: 200 }],
    ['select-all ids (no filter)', 'ids'],
  ];
  const rows: [string, number][] = [];
  for (const [name, q] of cases) {
    const t = performance.now();
    if (q === 'ids') listIds(db);
    else listImagesPage(db, q);
    rows.push([name, performance.now() - t]);
  }
  await s.dispose();

  const openMs = tOpen - t0;
  const firstMs = tFirst - tOpen;
  console.log(
    `Grid open on a ${COUNT.toLocaleString('en')}-image catalog (created in ${createS.toFixed(1)} s), Node ${process.versions.node}`,
  );
  console.log('| step                                   |     ms |');
  console.log('|----------------------------------------|-------:|');
  console.log(`| open project (lock, migrate check)     | ${openMs.toFixed(1).padStart(6)} |`);
  console.log(`| first page (200, newest first) + total | ${firstMs.toFixed(1).padStart(6)} |`);
  console.log(`| open + first page (goal < 300)         | ${(openMs + firstMs).toFixed(1).padStart(6)} |`);
  for (const [n, ms] of rows) console.log(`| ${n.padEnd(38)} | ${ms.toFixed(1).padStart(6)} |`);
  const worst = Math.max(...rows.map((r) => r[1]), firstMs);
  console.log(
    JSON.stringify({
      bench: 'grid-open',
      images: COUNT,
      openMs: Math.round(openMs * 10) / 10,
      firstPageMs: Math.round(firstMs * 10) / 10,
      openPlusFirstPageMs: Math.round((openMs + firstMs) * 10) / 10,
      worstQueryMs: Math.round(worst * 10) / 10,
      queries: Object.fromEntries(rows.map(([n, ms]) => [n, Math.round(ms * 10) / 10])),
    }),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
