/**
 * What catalog durability costs: `npm run bench -- catalog-sync [--commits N] [--runs N]`.
 * 1. Single-row commits (a label click each) on a WAL catalog with synchronous = NORMAL and FULL, ms per commit.
 * 2. NEU-DET (../shared/datasets/neu-det/images, 1,800 files) imported into a fresh project the way the app does
 *    (FULL outside imports, one synced commit a second during them), images per second, and the longest the event
 *    loop was held (what the UI would wait for). Ends with one JSON line.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runImport } from '../src-main/services/library/import.ts';
import { Project } from '../src-main/services/projects/project.ts';

const { values } = parseArgs({ options: { commits: { type: 'string', default: '500' }, runs: { type: 'string', default: '2' } } });
const COMMITS = Number(values.commits);
const RUNS = Number(values.runs);
const NEU = resolve(import.meta.dirname, '../../shared/datasets/neu-det/images');
const log = (s: string) => process.stdout.write(`${s}\n`);

const perCommit: Record<'NORMAL' | 'FULL', number[]> = { NORMAL: [], FULL: [] };
for (let r = 0; r < RUNS; r++) {
  for (const mode of ['NORMAL', 'FULL'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'kensa-bench-sync-'));
    const db = new Database(join(dir, 'c.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${mode}`);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT) STRICT');
    const ins = db.prepare('INSERT INTO t(v) VALUES (?)');
    const t0 = performance.now();
    for (let i = 0; i < COMMITS; i++) db.transaction(() => ins.run(`label ${i}`))();
    perCommit[mode].push((performance.now() - t0) / COMMITS);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(', ');
log(`single-row commit, ms: NORMAL ${fmt(perCommit.NORMAL)}; FULL ${fmt(perCommit.FULL)}`);

const imports: { imported: number; seconds: number; perSecond: number; maxLoopGapMs: number }[] = [];
if (existsSync(NEU)) {
  for (let r = 0; r < RUNS; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'kensa-bench-sync-import-'));
    const p = Project.create(join(dir, 'p'));
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 10);
    const t0 = performance.now();
    const rep = await runImport(p, { paths: [NEU], labels: { from: 'folders' } });
    const s = (performance.now() - t0) / 1000;
    clearInterval(timer);
    imports.push({
      imported: rep.imported,
      seconds: +s.toFixed(2),
      perSecond: +(rep.imported / s).toFixed(1),
      maxLoopGapMs: Math.round(maxGap),
    });
    log(
      `NEU-DET import ${r + 1}: ${rep.imported} images in ${s.toFixed(1)} s, ${(rep.imported / s).toFixed(1)} images/s, event loop held at most ${Math.round(maxGap)} ms`,
    );
    p.close();
    rmSync(dir, { recursive: true, force: true });
  }
} else log(`NEU-DET not found at ${NEU}: import part skipped`);

log(JSON.stringify({ bench: 'catalog-sync', commitMs: perCommit, imports }));
