/**
 * The operating point over the real training engine: a tiny binary model (NEU crazing as OK, scratches as defect,
 * 96 px, 2 epochs) trained for "miss no defect"; the threshold chosen on validation is stored in the run, the
 * model folder and the evaluations; "use this threshold" moves all of them and predict; export / import keep it;
 * `kensa eval` prints Wilson intervals and recall at 1 % / 0.1 % false alarms.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/index.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import { decideClass, decisionTable, scoresOf } from '../../src-main/shared/operating-point.ts';
import type { KensaModelInfo, RunDetail } from '../../src-main/shared/training-types.ts';
import { neuPhoto } from '../helpers/tiny-project.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kensa-oppoint-'));
let s: Services;
let api: KensaApi;
let runId = 0;

const modelInfo = (r: RunDetail): KensaModelInfo =>
  JSON.parse(readFileSync(join(r.modelDir!, 'kensa-model.json'), 'utf8')) as KensaModelInfo;

beforeAll(async () => {
  const src = join(tmp, 'src');
  for (const cls of ['crazing', 'scratches']) {
    mkdirSync(join(src, cls), { recursive: true });
    for (let i = 1; i <= 8; i++) await neuPhoto(cls, i, join(src, cls, `${cls}_${i}.jpg`));
  }
  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'resources'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  await api.createProject(join(tmp, 'project'), 'operating point test');
  const project = s.projects.require();
  const ok = listTypes(project.db).find((t) => t.isOk)!;
  await runImport(project, {
    paths: [src],
    labels: { from: 'folders', mapping: { crazing: { defectTypeId: ok.id } }, createUnknown: true },
  });
  const snap = await api.startTraining({
    name: 'tiny',
    task: 'binary',
    inputSize: 96,
    epochs: 2,
    batchSize: 8,
    split: { mode: 'random', valFraction: 0.25, testFraction: 0.25, seed: 1 },
    operatingPoint: { kind: 'recall', target: 1 },
  });
  runId = snap.runId;
  expect((await s.tasks.wait(snap.id)).state).toBe('succeeded');
}, 150_000);

afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('operating point of a trained run', () => {
  it('is chosen on validation for the aim and stored in the run, the model and both evaluations', async () => {
    const r = await api.getRun(runId);
    expect(r.operatingPoint).toMatchObject({ aim: { kind: 'recall', target: 1 }, basis: 'validation', reason: null });
    expect(r.threshold).toBe(r.operatingPoint!.threshold);
    expect(modelInfo(r).threshold).toBe(r.threshold);
    expect(modelInfo(r).operatingPoint).toEqual(r.operatingPoint);
    const val = r.evaluations.find((e) => e.split === 'val')!;
    const test = r.evaluations.find((e) => e.split === 'test')!;
    expect(val.threshold).toBe(r.threshold);
    // Miss no defect: every validation defect is flagged.
    expect(val.binary!.defectRecall).toBe(1);
    expect(r.operatingPoint!.counts!.fn).toBe(0);
    // The matrix is the one at the threshold, to the image.
    expect(val.confusion).toEqual(decisionTable(val.samples!, val.classes, val.okIndex!, r.threshold).confusion);
    // The locked test split is at the stored threshold, not at one of its own.
    expect(test.threshold).toBe(r.threshold);
    expect(test.count).toBe(4);
    expect(test.confusion).toEqual(decisionTable(test.samples!, test.classes, test.okIndex!, r.threshold).confusion);
  });

  it('"use this threshold" moves the run, its model, the evaluations and predict', async () => {
    const before = await api.getRun(runId);
    const ids = before.evaluations.flatMap((e) => e.samples!.map((x) => x.id));
    let r = await api.setOperatingPoint(runId, { kind: 'manual' }, 0);
    expect(r.threshold).toBe(0);
    expect(r.operatingPoint).toMatchObject({ basis: 'manual', threshold: 0 });
    expect(modelInfo(r).threshold).toBe(0);
    const everything = await api.predict({ imageIds: ids }, runId);
    expect(everything.threshold).toBe(0);
    expect(new Set(everything.predictions.map((p) => p.predictedKey))).toEqual(new Set(['defect']));
    expect(r.evaluations.find((e) => e.split === 'val')!.binary!.falseAlarmRate).toBe(1);

    r = await api.setOperatingPoint(runId, { kind: 'balanced' });
    expect(r.operatingPoint).toMatchObject({ aim: { kind: 'balanced' }, basis: 'validation' });
    const t = r.threshold!;
    expect(t).toBeGreaterThan(0);
    const val = r.evaluations.find((e) => e.split === 'val')!;
    expect(val.threshold).toBe(t);
    const sc = scoresOf(val)!;
    expect(r.operatingPoint!.counts!.tp + r.operatingPoint!.counts!.fn).toBe(sc.positive.filter(Boolean).length);
    const res = await api.predict({ imageIds: ids }, runId);
    expect(res.threshold).toBe(t);
    for (const p of res.predictions) expect(p.predicted).toBe(decideClass(p.probabilities, 0, t));
    await expect(api.setOperatingPoint(runId, { kind: 'manual' }, 1.5)).rejects.toThrow(/between 0 and 1/);
    await expect(api.setOperatingPoint(runId, { kind: 'recall', target: 2 } as never)).rejects.toThrow(/between 0 and 100/);
  });

  it('travels with an exported model and comes back on import', async () => {
    const r = await api.getRun(runId);
    const dir = join(tmp, 'export');
    await api.exportModel(runId, dir);
    const imported = await api.importModel(dir);
    expect(imported.threshold).toBe(r.threshold);
    expect(imported.operatingPoint).toEqual(r.operatingPoint);
  });

  it('kensa eval prints Wilson intervals, the stored threshold and recall at 1 % / 0.1 % false alarms', async () => {
    await s.projects.close();
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const home = process.env.KENSA_HOME;
    process.env.KENSA_HOME = join(tmp, 'cli-config');
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['eval', join(tmp, 'project'), String(runId), '--split', 'val', '--use-threshold', 'miss-no-defect:100']);
    } finally {
      process.stdout.write = write;
      if (home === undefined) delete process.env.KENSA_HOME;
      else process.env.KENSA_HOME = home;
    }
    const text = out.join('');
    expect(code, text).toBe(0);
    expect(text).toMatch(/accuracy \d+\.\d % \(\d+\.\d–\d+\.\d\) at threshold \d\.\d{3}/);
    expect(text).toContain('miss no defect (defect recall >= 100.0 %), chosen on validation');
    expect(text).toMatch(/defect recall 100\.0 % \(\d+\.\d–100\.0\) \(2 of 2\)/);
    expect(text).toMatch(
      /at 1 % false alarms: 1 % of 2 OK = 0 false alarms allowed; defect recall .* too few OK images to resolve this rate \(needs 100\)/,
    );
    expect(text).toContain('at 0.1 % false alarms');
  }, 60_000);
});
