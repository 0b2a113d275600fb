/**
 * Every export refuses to write over an existing file unless the call says `overwrite` (FileExistsError with the
 * path, the old file left byte for byte), succeeds with it, and leaves no temp file: labels (CSV and class folders),
 * the inspection CSV, a heatmap PNG, a contact sheet and a model folder; the CLI (inspect --csv, labels export,
 * heatmaps --out) refuses with a message naming --force and accepts --force. The labels CSV is RFC 4180 with formula-like file names neutralised.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heatmapsCommand } from '../../src-main/cli/commands/heatmaps.ts';
import { inspectCommand } from '../../src-main/cli/commands/inspect.ts';
import { labelsCommand } from '../../src-main/cli/commands/labels.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { parseRfc4180 } from '../helpers/rfc4180.ts';
import { neuPhoto, tinyProject, type TinyProject } from '../helpers/tiny-project.ts';

let p: TinyProject;
const HOSTILE = '=SUM(1,2)+cmd';

beforeAll(async () => {
  p = await tinyProject('kensa-export-');
  // A photo whose name a spreadsheet would run as a formula.
  const dir = join(p.tmp, 'hostile');
  mkdirSync(join(dir, 'scratches'), { recursive: true });
  await neuPhoto('scratches', 40, join(dir, 'scratches', `${HOSTILE}.jpg`), 200);
  const rep = await runImport(p.s.projects.require(), { paths: [dir], labels: { from: 'folders', createUnknown: true } });
  expect(rep.imported).toBe(1);
  expect(Object.values(rep.labelled).reduce((a, b) => a + b, 0)).toBe(1);
}, 60_000);

afterAll(async () => {
  await p?.dispose();
});

/** Calls `write(false)` over an existing target, then `write(true)`; checks refusal, the untouched old bytes, success. */
async function refusesThenOverwrites(target: string, write: (overwrite: boolean) => Promise<unknown>): Promise<void> {
  const before = readFileSync(target);
  let err: Error | undefined;
  try {
    await write(false);
  } catch (e) {
    err = e as Error;
  }
  expect(err?.name, `${target} was overwritten without asking`).toBe('FileExistsError');
  expect((err as { detail?: { path?: string } }).detail?.path).toBe(target);
  expect(readFileSync(target).equals(before)).toBe(true);
  await write(true);
  expect(readdirSync(join(target, '..')).filter((f) => f.endsWith('.part'))).toEqual([]);
}

describe('exports refuse to overwrite unless asked', () => {
  it('labels CSV: refused over a file, replaced with overwrite; RFC 4180 with CRLF and neutralised names', async () => {
    const out = join(p.tmp, 'out', 'labels.csv');
    const first = await p.api.exportLabels({ format: 'csv', out });
    expect(first.written).toBe(7);
    writeFileSync(out, 'my own notes');
    await refusesThenOverwrites(out, (overwrite) => p.api.exportLabels({ format: 'csv', out, overwrite }));
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    const rows = parseRfc4180(text.slice(1));
    expect(rows[0]).toEqual(['path', 'label', 'split', 'core_type', 'review_state', 'original_name', 'sha256']);
    expect(rows).toHaveLength(8);
    const names = rows.slice(1).map((r) => r[5]);
    expect(names).toContain(`'${HOSTILE}.jpg`);
    expect(names.filter((n) => /^[=+\-@\t\r]/.test(n!))).toEqual([]);
  });

  it('labels as class folders: refused into a folder that is not empty, written with overwrite', async () => {
    const out = join(p.tmp, 'out', 'folders');
    const r = await p.api.exportLabels({ format: 'folders', out });
    expect(r.written).toBe(7);
    const count = () => readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.jpg')).length;
    expect(count()).toBe(7);
    const one = join(out, readdirSync(out)[0]!, readdirSync(join(out, readdirSync(out)[0]!))[0]!);
    writeFileSync(one, 'edited by hand');
    const err = await p.api.exportLabels({ format: 'folders', out }).catch((e: Error) => e);
    expect((err as Error).name).toBe('FileExistsError');
    expect(readFileSync(one, 'utf8')).toBe('edited by hand');
    await p.api.exportLabels({ format: 'folders', out, overwrite: true });
    expect(count()).toBe(7); // same names replaced, nothing doubled as name_<id>
    expect(readFileSync(one).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('inspection CSV', async () => {
    const snap = await p.api.startInspection({ paths: [join(p.tmp, 'src', 'crazing')] });
    const done = await p.s.tasks.wait(snap.id);
    expect(done.state).toBe('succeeded');
    const id = (done.result as { inspectionId: string }).inspectionId;
    const out = join(p.tmp, 'out', 'inspection.csv');
    expect((await p.api.exportInspectionCsv(id, out)).rows).toBe(3);
    await refusesThenOverwrites(out, (overwrite) => p.api.exportInspectionCsv(id, out, { overwrite }));
    expect(parseRfc4180(readFileSync(out, 'utf8').slice(1))).toHaveLength(4);
  }, 60_000);

  it('heatmap PNG and contact sheet', async () => {
    const snap = await p.api.computeHeatmaps({ runId: p.runId, methods: ['cam'], classes: 'label', splits: ['train', 'val', 'test'] });
    expect((await p.s.tasks.wait(snap.id)).state).toBe('succeeded');
    const page = await p.api.listHeatmapGallery({ runId: p.runId, methods: ['cam'], limit: 4 });
    const mediaId = page.items[0]!.maps[0]!.mediaId;
    const png = join(p.tmp, 'out', 'one.png');
    expect((await p.api.exportHeatmapPng(mediaId, png)).path).toBe(png);
    await refusesThenOverwrites(png, (overwrite) => p.api.exportHeatmapPng(mediaId, png, { overwrite }));
    const sheet = join(p.tmp, 'out', 'sheet.png');
    const q = { runId: p.runId, methods: ['cam' as const], limit: 4 };
    await p.api.exportContactSheet(q, sheet);
    await refusesThenOverwrites(sheet, (overwrite) => p.api.exportContactSheet(q, sheet, { overwrite }));
  }, 90_000);

  it('model folder: refused when it holds a model file, replaced with overwrite and importable again', async () => {
    const dir = join(p.tmp, 'out', 'model');
    await p.api.exportModel(p.runId, dir);
    await refusesThenOverwrites(join(dir, 'model.json'), (overwrite) => p.api.exportModel(p.runId, dir, { overwrite }));
    expect(readdirSync(dir).sort()).toEqual(['kensa-model.json', 'model.json', 'weights.bin']);
    const again = await p.api.importModel(dir);
    expect(again.classes).toHaveLength(2);
  });
});

describe('CLI exports: refused without --force, written with it', () => {
  const io = (lines: string[]) => ({
    out: (l: string) => lines.push(l),
    err: (l: string) => lines.push(l),
    services: () => p.s,
  });

  it('kensa inspect --csv refuses an existing file before inspecting; kensa labels export needs --force', async () => {
    const csv = join(p.tmp, 'out', 'cli.csv');
    writeFileSync(csv, 'keep me');
    const lines: string[] = [];
    const t0 = Date.now();
    const err = await inspectCommand.run([p.projectDir, join(p.tmp, 'src', 'crazing'), '--csv', csv], io(lines)).catch((e: Error) => e);
    expect((err as Error).name).toBe('FileExistsError');
    expect((err as Error).message).toMatch(/--force/);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(readFileSync(csv, 'utf8')).toBe('keep me');
    expect(await inspectCommand.run([p.projectDir, join(p.tmp, 'src', 'crazing'), '--csv', csv, '--force'], io(lines))).toBe(0);
    expect(readFileSync(csv, 'utf8')).toMatch(/^\uFEFFindex,name,path/);

    const out = join(p.tmp, 'out', 'cli-labels.csv');
    writeFileSync(out, 'keep me too');
    const e2 = await labelsCommand.run(['export', p.projectDir, '--out', out], io(lines)).catch((e: Error) => e);
    expect((e2 as Error).message).toMatch(/already exists.*--force/);
    expect(readFileSync(out, 'utf8')).toBe('keep me too');
    expect(await labelsCommand.run(['export', p.projectDir, '--out', out, '--force'], io(lines))).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^\uFEFFpath,label/);
  }, 60_000);

  it('kensa heatmaps --out refuses before writing anything when one of its files is there; --force replaces', async () => {
    const dir = join(p.tmp, 'out', 'cli-heatmaps');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'scores.json'), '{"mine":true}');
    const args = [p.projectDir, String(p.runId), '--method', 'cam', '--split', 'all', '--out', dir];
    const lines: string[] = [];
    const err = await heatmapsCommand.run(args, { ...io(lines), services: () => p.s }).catch((e: Error) => e);
    expect((err as Error).name).toBe('FileExistsError');
    expect((err as Error).message).toMatch(/scores\.json already exists.*--force/);
    expect(readdirSync(dir)).toEqual(['scores.json']);
    expect(await heatmapsCommand.run([...args, '--force'], io(lines))).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.png'))).toHaveLength(7);
    expect(JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8'))).toHaveProperty('aggregate');
  }, 60_000);
});
