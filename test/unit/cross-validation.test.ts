/**
 * k-fold cross-validation as a product feature: the fold summary maths (mean ± sd, pooled Wilson interval, the images
 * wrong in every fold that held them out), and the service through the API on a tiny project (3 folds finish as 3
 * tagged runs; a cancel during fold 1 keeps that fold and marks the group cancelled; the locked test set is never used).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import { alwaysWrong, checkCrossValidationSpec, foldFigures, meanSd, summariseFolds } from '../../src-main/shared/cross-validation.ts';
import { wilsonInterval } from '../../src-main/shared/operating-point.ts';
import type { Evaluation } from '../../src-main/shared/training-types.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import { getRunSnapshot } from '../../src-main/services/db/repos/runs.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import { NEU_IMAGES } from '../helpers/tiny-project.ts';

const fold = (fold: number, images: number, accuracy: number, wrong: number[], heldOut: number[], auc: number | null = 0.9) => ({
  repeat: 1,
  fold,
  runId: fold,
  images,
  accuracy,
  auc,
  wrong,
  heldOut,
});

describe('fold summary', () => {
  it('gives mean ± sample sd over the folds, and the pooled accuracy with its Wilson interval', () => {
    const folds = [fold(1, 10, 0.9, [3], [1, 2, 3]), fold(2, 10, 0.8, [], [4, 5]), fold(3, 10, 1, [], [6], 0.7)];
    const s = summariseFolds(folds, 1);
    expect(s.folds).toBe(3);
    expect(s.accuracy.mean).toBeCloseTo(0.9, 12);
    expect(s.accuracy.sd).toBeCloseTo(0.1, 12);
    expect(s.auc?.mean).toBeCloseTo((0.9 + 0.9 + 0.7) / 3, 12);
    expect(s.auc?.sd).toBeCloseTo(Math.sqrt(((0.9 - 0.8333333333333334) ** 2 * 2 + (0.7 - 0.8333333333333334) ** 2) / 2), 12);
    const ci = wilsonInterval(27, 30)!;
    expect(s.pooled).toEqual({ correct: 27, images: 30, accuracy: 0.9, low: ci.low, high: ci.high });
    expect(s.pooled!.low).toBeLessThan(0.9);
    expect(s.pooled!.high).toBeGreaterThan(0.9);
    // Multiclass folds have no AUC; no fold at all has no pooled figure and NaN means.
    expect(summariseFolds([fold(1, 4, 0.5, [], [], null)], 1).auc).toBeNull();
    const none = summariseFolds([], 1);
    expect(none.pooled).toBeNull();
    expect(none.accuracy.mean).toBeNaN();
    expect(meanSd([0.5]).sd).toBeNaN();
  });

  it('names an image always wrong only when it was wrong each time it was held out', () => {
    // Two repeats: image 7 wrong in both, image 8 right once, image 9 held out only in the first (a cancelled group).
    const r1 = { wrong: [7, 8, 9], heldOut: [7, 8, 9, 10] };
    const r2 = { wrong: [7], heldOut: [7, 8, 10] };
    expect(alwaysWrong([r1, r2], 2)).toEqual([7, 9]);
    // Without the held-out lists (older callers): wrong in every repeat.
    expect(alwaysWrong([{ wrong: [7, 8, 9] }, { wrong: [7] }], 2)).toEqual([7]);
    expect(alwaysWrong([{ wrong: [5, 2] }], 1)).toEqual([2, 5]);
  });

  it('reads a fold from its validation evaluation by the most probable class, not the tuned threshold', () => {
    const e = {
      split: 'val',
      count: 3,
      accuracy: 1,
      argmaxAccuracy: 2 / 3,
      binary: { auc: 0.75 },
      samples: [
        { id: 11, label: 0, probs: [0.9, 0.1] },
        { id: 12, label: 1, probs: [0.6, 0.4] },
        { id: 13, label: 1, probs: [0.2, 0.8] },
      ],
    } as unknown as Evaluation;
    expect(foldFigures(e)).toEqual({ accuracy: 2 / 3, auc: 0.75, wrong: [12], heldOut: [11, 12, 13] });
  });

  it('refuses folds, repeats and groupings out of range in the CLI words', () => {
    const ok = { folds: 5, repeats: 1, groupBy: 'batch' as const, seed: 1 };
    expect(checkCrossValidationSpec(ok)).toEqual(ok);
    expect(() => checkCrossValidationSpec({ ...ok, folds: 1 })).toThrow(/--folds is a whole number from 2 to 20/);
    expect(() => checkCrossValidationSpec({ ...ok, repeats: 0 })).toThrow(/--repeats/);
    expect(() => checkCrossValidationSpec({ ...ok, seed: 0.5 })).toThrow(/--seed/);
    expect(() => checkCrossValidationSpec({ ...ok, groupBy: 'x' as 'none' })).toThrow(/--group/);
  });
});

const tmp = mkdtempSync(join(tmpdir(), 'kensa-cvsvc-'));
let s: Services | null = null;
afterAll(async () => {
  await s?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('cross-validation service', () => {
  let api: KensaApi;
  const base = { task: 'binary' as const, inputSize: 96, epochs: 2, batchSize: 8 };

  it('trains 3 folds as 3 tagged runs, never on the locked test images, and summarises them', async () => {
    const src = join(tmp, 'src');
    for (const cls of ['crazing', 'scratches']) {
      mkdirSync(join(src, cls), { recursive: true });
      for (let i = 1; i <= 7; i++) copyFileSync(join(NEU_IMAGES, cls, `${cls}_${i}.jpg`), join(src, cls, `${cls}_${i}.jpg`));
    }
    s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'res'), host: { mode: 'cli', electronVersion: null } });
    api = createHandlers(s);
    await api.createProject(join(tmp, 'project'), 'cv test');
    const project = s.projects.require();
    const ok = listTypes(project.db).find((t) => t.isOk)!;
    await runImport(project, {
      paths: [src],
      labels: { from: 'folders', mapping: { crazing: { defectTypeId: ok.id } }, createUnknown: true },
    });
    // Two images locked in the test split: no fold may train or validate on them.
    const ids = (await api.listImages({ limit: 100 })).items.map((i) => i.id);
    const locked = [ids[0]!, ids.at(-1)!];
    await api.setSplit(locked, 'test');

    await expect(
      api.startCrossValidation({ ...base, task: 'anomaly' }, { folds: 3, repeats: 1, groupBy: 'none', seed: 1 }),
    ).rejects.toThrow(/for classifiers/);
    // One import batch cannot fill 3 folds when batches are kept whole: refused before any run is queued.
    await expect(api.startCrossValidation(base, { folds: 3, repeats: 1, groupBy: 'batch', seed: 1 })).rejects.toThrow(/at least 3 batches/);
    expect(await api.listRuns()).toHaveLength(0);
    const steps: string[] = [];
    const off = s.events.on('task', (t) => {
      if (t.kind === 'crossValidation' && t.step?.kind === 'cv-fold') steps.push(`${t.step.fold}/${t.step.folds}`);
    });
    const started = await api.startCrossValidation(base, { folds: 3, repeats: 1, groupBy: 'none', seed: 1 });
    expect(started.total).toBe(3);
    expect((await s.tasks.wait(started.taskId)).state).toBe('succeeded');
    off();
    expect([...new Set(steps)]).toEqual(['1/3', '2/3', '3/3']);

    const view = await api.getCrossValidation(started.id);
    expect(view.status).toBe('succeeded');
    expect(view.folds.map((f) => [f.fold, f.status])).toEqual([
      [1, 'succeeded'],
      [2, 'succeeded'],
      [3, 'succeeded'],
    ]);
    const runs = await Promise.all(view.folds.map((f) => api.getRun(f.runId)));
    for (const [i, r] of runs.entries())
      expect(r.config.crossValidation).toEqual({ id: started.id, repeat: 1, repeats: 1, fold: i + 1, folds: 3 });
    // Every non-test image is held out exactly once; the locked ones never enter a fold.
    const held = runs.flatMap((r) =>
      getRunSnapshot(project.db, r.id)
        .filter((x) => x.split === 'val')
        .map((x) => x.imageId),
    );
    expect(held.sort((a, b) => a - b)).toEqual(ids.filter((id) => !locked.includes(id)).sort((a, b) => a - b));
    for (const r of runs) {
      const snap = getRunSnapshot(project.db, r.id);
      expect(snap.filter((x) => locked.includes(x.imageId)).every((x) => x.split === 'test')).toBe(true);
    }
    expect(view.summary.folds).toBe(3);
    expect(view.summary.accuracy.mean).toBeCloseTo(view.folds.reduce((a, f) => a + f.accuracy!, 0) / 3, 12);
    expect(view.summary.pooled?.images).toBe(ids.length - locked.length);
    expect(view.summary.alwaysWrong.every((id) => held.includes(id))).toBe(true);
    // Each always-wrong image comes with its label and the other class its fold predicted.
    expect(view.wrongImages.map((w) => w.imageId)).toEqual(view.summary.alwaysWrong);
    for (const w of view.wrongImages) expect(w.predicted.key).not.toBe(w.label.key);
    // Fold runs never become the active model by themselves.
    expect(await api.getActiveModel()).toBeNull();
    expect((await api.listCrossValidations()).map((g) => g.id)).toEqual([started.id]);
    await expect(api.getCrossValidation('cv-none')).rejects.toThrow(/No cross-validation/);
  }, 180_000);

  it('a cancel during fold 1 lets it finish, keeps that one run and marks the group cancelled', async () => {
    const runsBefore = (await api.listRuns()).length;
    const started = await api.startCrossValidation({ ...base, name: 'stop early' }, { folds: 3, repeats: 1, groupBy: 'none', seed: 2 });
    let cancelled = false;
    const off = s!.events.on('trainingEpoch', () => {
      if (cancelled) return;
      cancelled = true;
      void api.cancelTask(started.taskId);
    });
    expect((await s!.tasks.wait(started.taskId)).state).toBe('cancelled');
    off();
    expect(cancelled).toBe(true);
    const view = await api.getCrossValidation(started.id);
    expect(view.status).toBe('cancelled');
    expect(view.folds.map((f) => [f.fold, f.status])).toEqual([[1, 'succeeded']]);
    expect(view.summary.folds).toBe(1);
    expect((await api.listRuns()).length).toBe(runsBefore + 1);
    expect((await api.listCrossValidations()).map((g) => [g.id, g.status])).toContainEqual([started.id, 'cancelled']);
  }, 120_000);
});
