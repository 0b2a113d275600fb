/**
 * Test-time augmentation in Inspect: left out, the predict job is given the model's own setting (off for a plain
 * run, on for a run trained with it); asked for, the job is given what was asked; the inspection and every CSV row
 * say which was used; `kensa inspect --tta / --no-tta` pass it on. Over the real engine (a tiny binary model).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import type { Inspection } from '../../src-main/shared/api/inspect.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import { main } from '../../src-main/cli/index.ts';
import { parseRfc4180 } from '../helpers/rfc4180.ts';

const NEU = resolve(import.meta.dirname, '../../../shared/datasets/neu-det/images');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-inspect-tta-'));
const photos = join(tmp, 'photos');
let s: Services;
let api: KensaApi;
let plainRun = 0;
let ttaRun = 0;
/** The `tta` of every predict job the engine was given since the last reset. */
let jobTta: (boolean | undefined)[] = [];

async function train(name: string, tta: boolean): Promise<number> {
  const snap = await api.startTraining({
    name,
    task: 'binary',
    inputSize: 96,
    epochs: 2,
    batchSize: 8,
    tta,
    split: { mode: 'random', valFraction: 0.25, testFraction: 0, seed: 1 },
  });
  expect((await s.tasks.wait(snap.id)).state).toBe('succeeded');
  return snap.runId;
}

beforeAll(async () => {
  const src = join(tmp, 'src');
  for (const cls of ['crazing', 'scratches']) {
    mkdirSync(join(src, cls), { recursive: true });
    for (let i = 1; i <= 8; i++)
      await sharp(join(NEU, cls, `${cls}_${i}.jpg`))
        .resize(64, 64)
        .jpeg({ quality: 90 })
        .toFile(join(src, cls, `${cls}_${i}.jpg`));
  }
  mkdirSync(photos, { recursive: true });
  for (const [from, to] of [
    ['scratches/scratches_100.jpg', 'a-scratch.jpg'],
    ['crazing/crazing_100.jpg', 'b-crazing.jpg'],
    ['scratches/scratches_101.jpg', 'c-scratch.jpg'],
  ] as const)
    await sharp(join(NEU, from)).resize(64, 64).jpeg({ quality: 90 }).toFile(join(photos, to));

  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'resources'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  await api.createProject(join(tmp, 'project'), 'inspect tta test');
  const project = s.projects.require();
  const ok = listTypes(project.db).find((t) => t.isOk)!;
  const rep = await runImport(project, {
    paths: [src],
    labels: { from: 'folders', mapping: { crazing: { defectTypeId: ok.id } }, createUnknown: true },
  });
  expect(rep.imported).toBe(16);
  plainRun = await train('plain', false);
  ttaRun = await train('with tta', true);
  // Watch what the engine's predict job is given, still running it.
  const run = s.engine.run.bind(s.engine);
  vi.spyOn(s.engine, 'run').mockImplementation(((kind, params, opts) => {
    if (kind === 'predict') jobTta.push((params as { tta?: boolean }).tta);
    return run(kind, params, opts);
  }) as typeof s.engine.run);
}, 180_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

async function inspect(req: Parameters<KensaApi['startInspection']>[0]): Promise<Inspection> {
  jobTta = [];
  const snap = await api.startInspection(req);
  const done = await s.tasks.wait(snap.id);
  expect(done.state).toBe('succeeded');
  return api.getInspection((done.result as { inspectionId: string }).inspectionId);
}

/** The CSV's `tta` cell of every data row. */
function ttaColumn(csv: string): string[] {
  const [head, ...rows] = parseRfc4180(csv.replace(/^\uFEFF/, ''));
  const col = head!.indexOf('tta');
  expect(col, head!.join(',')).toBeGreaterThan(0);
  return rows.map((r) => r[col]!);
}

describe('Inspect with test-time augmentation', () => {
  it('uses the model’s own setting when left out, and records it', async () => {
    const plain = await inspect({ paths: [photos], runId: plainRun });
    expect(jobTta.length).toBeGreaterThan(0);
    expect(jobTta.every((t) => t === false)).toBe(true);
    expect(plain.tta).toBe(false);
    expect(ttaColumn(await api.inspectionCsv(plain.id))).toEqual(['off', 'off', 'off']);

    const own = await inspect({ paths: [photos], runId: ttaRun });
    expect(jobTta.every((t) => t === true)).toBe(true);
    expect(own.tta).toBe(true);
    const off = await inspect({ paths: [photos], runId: ttaRun, tta: false });
    expect(jobTta.every((t) => t === false)).toBe(true);
    expect(off.tta).toBe(false);
  });

  it('passes the switch to the predict job, averages the views, and the CSV says so on every row', async () => {
    const plain = await inspect({ paths: [photos], runId: plainRun, tta: false });
    const tta = await inspect({ paths: [photos], runId: plainRun, tta: true });
    expect(jobTta.length).toBeGreaterThan(0);
    expect(jobTta.every((t) => t === true)).toBe(true);
    expect(tta.tta).toBe(true);
    expect(tta.items.map((i) => i.name)).toEqual(plain.items.map((i) => i.name));
    // The mean over three views is not the plain prediction (rotated NEU textures score differently).
    const moved = tta.items.some((it, k) => Math.abs(it.probabilities[0]! - plain.items[k]!.probabilities[0]!) > 1e-6);
    expect(moved).toBe(true);
    expect(ttaColumn(await api.inspectionCsv(tta.id))).toEqual(['on', 'on', 'on']);
    // A threshold moved later keeps the record.
    expect((await api.setInspectionThreshold(tta.id, 0.2)).tta).toBe(true);
    await expect(api.startInspection({ paths: [photos], tta: 'yes' as unknown as boolean })).rejects.toThrow(/true or false/);
  });

  it('kensa inspect --tta / --no-tta', async () => {
    await s.projects.close(); // the CLI opens the project itself (one Kensa per project)
    const cli = async (...args: string[]): Promise<{ code: number; text: string }> => {
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      const home = process.env.KENSA_HOME;
      process.env.KENSA_HOME = join(tmp, 'cli-config');
      process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
      try {
        const code = await main(['inspect', join(tmp, 'project'), photos, '--run', String(plainRun), ...args]);
        return { code, text: out.join('') };
      } finally {
        process.stdout.write = write;
        if (home === undefined) delete process.env.KENSA_HOME;
        else process.env.KENSA_HOME = home;
      }
    };
    const on = await cli('--tta', '--csv', join(tmp, 'on.csv'));
    expect(on.code, on.text).toBe(0);
    expect(on.text).toContain('test-time augmentation');
    expect(ttaColumn(readFileSync(join(tmp, 'on.csv'), 'utf8'))).toEqual(['on', 'on', 'on']);
    const off = await cli('--no-tta', '--csv', join(tmp, 'off.csv'));
    expect(off.code, off.text).toBe(0);
    expect(off.text).not.toContain('test-time augmentation');
    expect(ttaColumn(readFileSync(join(tmp, 'off.csv'), 'utf8'))).toEqual(['off', 'off', 'off']);
    const both = await cli('--tta', '--no-tta');
    expect(both.code).not.toBe(0);
  }, 90_000);
});
