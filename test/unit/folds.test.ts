/**
 * k-fold cross-validation: the fold assignment (stratified, groups kept whole) and `kensa cv` over the real engine on
 * a tiny project imported in two batches.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/index.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import { getRunSnapshot } from '../../src-main/services/db/repos/runs.ts';
import { Project } from '../../src-main/services/projects/project.ts';
import { meanSd, stratifiedGroupFolds } from '../../src-main/services/training/train/folds.ts';
import { Services } from '../../src-main/services/services.ts';
import { neuPhoto } from '../helpers/tiny-project.ts';

describe('stratified group folds', () => {
  it('without groups, each class is split across the folds to within one image', () => {
    const items = [
      ...Array.from({ length: 23 }, () => ({ classIndex: 0, group: null })),
      ...Array.from({ length: 7 }, () => ({ classIndex: 1, group: null })),
    ];
    const fold = stratifiedGroupFolds(items, 5, 3);
    for (const c of [0, 1]) {
      const per = [0, 1, 2, 3, 4].map((f) => items.filter((it, i) => it.classIndex === c && fold[i] === f).length);
      expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1);
    }
    expect(stratifiedGroupFolds(items, 5, 3)).toEqual(fold);
    expect(new Set(fold)).toEqual(new Set([0, 1, 2, 3, 4]));
  });

  it('never splits a group across folds, and still spreads the classes', () => {
    // 12 groups (e.g. cores) of 3-5 images; classes mixed within groups.
    const items: { classIndex: number; group: string }[] = [];
    for (let g = 0; g < 12; g++)
      for (let j = 0; j < 3 + (g % 3); j++) items.push({ classIndex: (g + j) % 3 === 0 ? 1 : 0, group: `core-${g}` });
    const fold = stratifiedGroupFolds(items, 4, 1);
    const foldOfGroup = new Map<string, Set<number>>();
    items.forEach((it, i) => foldOfGroup.set(it.group, (foldOfGroup.get(it.group) ?? new Set()).add(fold[i]!)));
    for (const fs of foldOfGroup.values()) expect(fs.size).toBe(1);
    const defectsPerFold = [0, 1, 2, 3].map((f) => items.filter((it, i) => it.classIndex === 1 && fold[i] === f).length);
    expect(Math.min(...defectsPerFold)).toBeGreaterThan(0);
    expect(() => stratifiedGroupFolds(items, 1, 1)).toThrow(/at least 2 folds/);
  });

  it('mean ± sample sd', () => {
    expect(meanSd([0.9, 0.8, 1.0])).toEqual({ mean: expect.closeTo(0.9, 12) as number, sd: expect.closeTo(0.1, 12) as number });
    expect(meanSd([0.5]).sd).toBeNaN();
  });
});

const tmp = mkdtempSync(join(tmpdir(), 'kensa-cv-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('kensa cv', () => {
  it('trains one run per fold, keeps each import batch in one fold and prints mean ± sd', async () => {
    const s = new Services({
      configDir: join(tmp, 'config'),
      resourcesDir: join(tmp, 'res'),
      host: { mode: 'cli', electronVersion: null },
    });
    const projectDir = join(tmp, 'project');
    const project = await s.projects.create(projectDir);
    const ok = listTypes(project.db).find((t) => t.isOk)!;
    for (const batch of [0, 1]) {
      const src = join(tmp, `batch${batch}`);
      for (const cls of ['crazing', 'scratches']) {
        mkdirSync(join(src, cls), { recursive: true });
        for (let i = 1; i <= 4; i++) await neuPhoto(cls, batch * 4 + i, join(src, cls, `${cls}_${batch * 4 + i}.jpg`));
      }
      await runImport(project, {
        paths: [src],
        labels: { from: 'folders', mapping: { crazing: { defectTypeId: ok.id } }, createUnknown: true },
      });
    }
    await s.dispose();

    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const home = process.env.KENSA_HOME;
    process.env.KENSA_HOME = join(tmp, 'cli-config');
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['cv', projectDir, '--folds', '2', '--group', 'batch', '--size', '96', '--epochs', '2', '--batch', '8']);
    } finally {
      process.stdout.write = write;
      if (home === undefined) delete process.env.KENSA_HOME;
      else process.env.KENSA_HOME = home;
    }
    const text = out.join('');
    expect(code, text).toBe(0);
    expect(text).toMatch(/repeat 1 fold 1\/2 \(run #1\): 8 images, accuracy/);
    expect(text).toMatch(/repeat 1 fold 2\/2 \(run #2\): 8 images/);
    expect(text).toMatch(/accuracy \d+\.\d % ± \d+\.\d \(sd over 2 folds\), ROC AUC/);
    expect(text).toMatch(/images? wrong when held out/);

    // Each image is held out exactly once, and a fold's validation images all come from one import batch.
    const p = Project.open(projectDir);
    try {
      const batchOf = new Map(
        (p.db.prepare('SELECT id, batch_id FROM images').all() as { id: number; batch_id: number }[]).map((r) => [r.id, r.batch_id]),
      );
      const held = [1, 2].flatMap((runId) => getRunSnapshot(p.db, runId).filter((x) => x.split === 'val'));
      expect(held.map((x) => x.imageId).sort((a, b) => a - b)).toEqual([...batchOf.keys()].sort((a, b) => a - b));
      for (const runId of [1, 2])
        expect(
          new Set(
            getRunSnapshot(p.db, runId)
              .filter((x) => x.split === 'val')
              .map((x) => batchOf.get(x.imageId)),
          ).size,
        ).toBe(1);
      // Cross-validation runs do not become the active model.
      expect(p.db.prepare("SELECT value FROM project_meta WHERE key = 'active_model_run_id'").pluck().get()).toBeUndefined();
    } finally {
      p.close();
    }
  }, 120_000);
});
