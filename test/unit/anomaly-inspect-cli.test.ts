/**
 * Inspect with an anomaly model as the active model and a multiclass classifier beside it (real engine, small demo
 * cores): the classifier is found by itself and names NG photos' types; it can be left out or must be a classifier;
 * `kensa inspect` prints and exports the types.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/index.ts';
import { renderDemoPng } from '../../src-main/services/library/demo/populate.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import type { Inspection } from '../../src-main/shared/api/inspect.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kensa-anomaly-type-'));
const photos = join(tmp, 'photos');
let s: Services;
let api: KensaApi;
let anomalyRun = 0;
let typeRun = 0;

beforeAll(async () => {
  const src = join(tmp, 'src');
  for (const [folder, n, seed] of [
    ['ok', 16, 100],
    ['chip', 5, 300],
    ['scratch', 5, 500],
  ] as const) {
    mkdirSync(join(src, folder), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(src, folder, `${folder}-${i}.png`), (await renderDemoPng(seed + i, folder, 128)).png);
  }
  mkdirSync(photos);
  writeFileSync(join(photos, 'new-good.png'), (await renderDemoPng(900, 'ok', 128)).png);
  writeFileSync(join(photos, 'new-chip.png'), (await renderDemoPng(901, 'chip', 128)).png);

  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'resources'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  await api.createProject(join(tmp, 'project'), 'anomaly types');
  const imp = await api.startImport({ paths: [src], labels: { from: 'folders' } });
  expect((await s.tasks.wait(imp.id)).state).toBe('succeeded');
  const split = { mode: 'random', valFraction: 0.3, testFraction: 0, seed: 1 } as const;
  const a = await api.startTraining({ name: 'good only', task: 'anomaly', inputSize: 128, split });
  expect((await s.tasks.wait(a.id)).state).toBe('succeeded');
  const c = await api.startTraining({ name: 'types', task: 'multiclass', inputSize: 96, epochs: 2, batchSize: 8, split });
  expect((await s.tasks.wait(c.id)).state).toBe('succeeded');
  anomalyRun = a.runId;
  typeRun = c.runId;
}, 150_000);

afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

async function inspect(req: Parameters<KensaApi['startInspection']>[0]): Promise<Inspection> {
  const done = await s.tasks.wait((await api.startInspection(req)).id);
  expect(done.state).toBe('succeeded');
  return api.getInspection((done.result as { inspectionId: string }).inspectionId);
}

async function cli(args: string[]): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const home = process.env.KENSA_HOME;
  process.env.KENSA_HOME = join(tmp, 'cli-config');
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    return { code: await main(args), text: out.join('') };
  } finally {
    process.stdout.write = write;
    if (home === undefined) delete process.env.KENSA_HOME;
    else process.env.KENSA_HOME = home;
  }
}

describe('Inspect: anomaly model with a type classifier', () => {
  it('finds the classifier beside the active anomaly model and names every NG photo', async () => {
    expect((await api.getActiveModel())?.id).toBe(anomalyRun);
    const ins = await inspect({ paths: [photos], threshold: 0.001 });
    expect(ins.typeRun).toMatchObject({ id: typeRun, minProbability: 0.5 });
    expect(ins.typeRun!.classes.map((c) => c.key).sort()).toEqual(['chip', 'ok', 'scratch']);
    expect(ins.items).toHaveLength(2);
    for (const it of ins.items) {
      expect(it.verdict).toBe('ng');
      expect(it.typeProbabilities).toHaveLength(3);
      expect(['chip', 'scratch']).toContain(it.defectType!.key);
      expect(it.defectType!.known).toBe(it.defectType!.probability >= 0.5);
    }
    // A threshold nothing reaches: OK photos carry no type.
    const none = await api.setInspectionThreshold(ins.id, 1);
    expect(none.items.every((i) => i.verdict === 'ok' && i.defectType === null)).toBe(true);
  });

  it('leaves the classifier out on request, and refuses a run that cannot name types', async () => {
    const ins = await inspect({ paths: [photos], typeRunId: null });
    expect(ins.typeRun).toBeNull();
    await expect(api.startInspection({ paths: [photos], typeRunId: anomalyRun })).rejects.toThrow(/cannot name defect types/);
  });

  it('records no test-time augmentation for an anomaly model, and refuses it when asked', async () => {
    const ins = await inspect({ paths: [photos], typeRunId: null, tta: false });
    expect(ins.tta).toBe(false);
    await expect(api.startInspection({ paths: [photos], tta: true })).rejects.toThrow(/anomaly model: test-time augmentation/);
  });

  it('kensa inspect prints and exports the types; --type-run none leaves them out', async () => {
    await s.projects.close();
    const project = join(tmp, 'project');
    const withTypes = await cli(['inspect', project, photos, '--threshold', '0.001', '--csv', join(tmp, 'types.csv')]);
    expect(withTypes.code, withTypes.text).toBe(0);
    expect(withTypes.text).toContain(`Defect types of NG photos: #${typeRun} types`);
    expect(withTypes.text).toMatch(/new-chip\.png\s+NG .*(chip|scratch|UNKNOWN) \(\d+\.\d% (chip|scratch)\)/);
    const [head, ...rows] = readFileSync(join(tmp, 'types.csv'), 'utf8')
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    const col = head!.split(',').indexOf('defect_type');
    expect(col).toBeGreaterThan(0);
    expect(rows.map((r) => r.split(',')[col])).toEqual(expect.arrayContaining([expect.stringMatching(/^(chip|scratch|UNKNOWN)$/)]));
    const without = await cli(['inspect', project, photos, '--type-run', 'none', '--json']);
    expect(without.code, without.text).toBe(0);
    expect(JSON.parse(without.text.trim().split('\n').at(-1)!).inspection.typeRun).toBeNull();
    const bad = await cli(['inspect', project, photos, '--type-run', 'x']);
    expect(bad.code).not.toBe(0);
  }, 60_000);
});
