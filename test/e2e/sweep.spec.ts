import { expect, test } from '@playwright/test';
import { createNeuProject } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

/**
 * The study's sweep in one click: from the wizard's Sweep panel (sizes and N ticked, estimate = sum of the runs'),
 * two runs at 96 px queued one after another, then the sweep view in Runs with both charts, the best run marked,
 * and any run made the active model.
 */
let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  await createNeuProject(server, { ok: 'crazing', scratch: 'scratches' }, 8);
});
test.afterAll(async () => {
  await server.stop();
});

test('a sweep from the wizard, its charts with the best run, and "use as active model"', async ({ page }) => {
  test.setTimeout(240_000);
  const { shell, api, train, runs } = kensa(page, server);
  const { sweep: panel } = train;
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await shell.goto();
  await train.open();
  await train.next();
  await train.preset('quick');
  await train.inputSize.fill('96');
  await train.toTrainingStep();
  await train.epochs.fill('3');

  await panel.open();
  await panel.size(224).uncheck();
  await panel.size(320).uncheck();
  await panel.size(96).check();
  await panel.blocks(6).uncheck();
  await panel.blocks(2).check();
  await expect(panel.root).toContainText('2 runs');
  await panel.measure();
  await expect(panel.estimate).toContainText('About', { timeout: 60_000 });
  await shell.screenshot('sweep-panel-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(panel.root).toContainText('再学習ブロック数');
  await shell.screenshot('sweep-panel-ja', { fullPage: true });
  await shell.setLanguage('en');

  await panel.start();
  const view = runs.sweep;
  await expect(view.root).toBeVisible();
  const listed = await api.listRuns();
  expect(listed).toHaveLength(2);
  expect(listed.every((r) => r.inputSize === 96)).toBe(true);
  // Both finish (one after another); the best is marked and both charts have their points.
  await expect(view.best).toBeVisible({ timeout: 180_000 });
  await expect.poll(async () => (await api.listRuns()).map((r) => r.status).join(','), { timeout: 180_000 }).toBe('succeeded,succeeded');
  const sweepId = decodeURIComponent(new URL(page.url()).hash.split('/')[3] ?? '');
  const sweep = await api.getSweep(sweepId);
  expect(sweep.points.map((p) => p.fineTuneBlocks)).toEqual([0, 2]);
  await expect(view.row(sweep.bestRunId!)).toContainText('Best');
  await expect(view.sizeChart).toBeVisible();
  await expect(view.blocksChart).toBeVisible();

  // Any run of the sweep can become the active model.
  const active = (await api.getActiveModel())?.id ?? null;
  const other = sweep.points.map((p) => p.runId).find((id) => id !== active)!;
  await view.activate(other);
  await expect.poll(async () => (await api.getActiveModel())?.id).toBe(other);
  await expect(view.row(other)).toContainText('Active model');
  await shell.screenshot('sweep-view-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(view.root).toContainText('入力サイズ別の検証正解率');
  await shell.screenshot('sweep-view-ja', { fullPage: true });
  await shell.setLanguage('en');

  // The runs list links to the sweep.
  await view.backToRuns();
  await expect(runs.sweepLink(sweepId)).toContainText('2 runs');
});
