import { expect, test } from '@playwright/test';
import { createNeuProject } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

/**
 * k-fold cross-validation from the wizard: on a small set the data step suggests it, k = 3 with short epochs starts
 * one group of 3 runs, and the runs screen's card shows the 3 folds, accuracy as mean ± sd, the pooled interval and,
 * as thumbnails, the images wrong in every fold (two scratches labelled OK on purpose: what the card is for).
 */
let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  await createNeuProject(server, { ok: 'crazing', scratch: 'scratches' }, 9);
});
test.afterAll(async () => {
  await server.stop();
});

test('cross-validation from the wizard: 3 folds, mean ± sd and the always-wrong images', async ({ page }) => {
  test.setTimeout(240_000);
  const { shell, api, train } = kensa(page, server);
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  // Two scratch photos labelled as good parts, so that some image is wrong whenever it is held out.
  const types = await api.listDefectTypes();
  const ok = types.find((d) => d.isOk)!;
  const scratch = types.find((d) => !d.isOk && d.imageCount > 0)!;
  const scratches = (await api.listImages({ filter: { labels: [scratch.id] }, limit: 100 })).items.map((i) => i.id);
  const mislabelled = scratches.slice(0, 2);
  await api.setLabel(mislabelled, ok.id);

  await shell.goto();
  await train.open();
  const p = page;
  await expect(p.getByTestId('cv-suggested')).toBeVisible();
  await p.getByTestId('split-cv').check();
  await p.getByTestId('cv-folds').selectOption('3');
  await expect(p.getByTestId('cv-options')).toContainText('3 runs');
  // One import batch cannot be kept whole across 3 folds: the wizard says so and spreads the photos instead.
  await expect(p.getByTestId('cv-few-batches')).toBeVisible();
  await expect(p.getByTestId('cv-group-batch')).toBeDisabled();
  await shell.screenshot('cv-wizard-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(p.getByTestId('step-data')).toContainText('交差検証（k 分割）');
  await shell.screenshot('cv-wizard-ja', { fullPage: true });
  await shell.setLanguage('en');

  await train.next();
  await train.preset('quick');
  await train.inputSize.fill('96');
  await train.toTrainingStep();
  await train.epochs.fill('40');
  await expect(train.summaryEstimate).toContainText('3 ×', { timeout: 60_000 });
  await expect(p.getByTestId('start-training')).toHaveText('Start cross-validation (3 runs)');
  // Repeats redraw the folds: 3 folds x 2 repeats is 6 runs, and the estimate says so; back to 1 for this run.
  await p.getByTestId('step-data-tab').click();
  await p.getByTestId('cv-repeats').selectOption('2');
  await expect(p.getByTestId('cv-cost')).toHaveText('Costs 3 × 2 = 6 runs.');
  await expect(train.summaryEstimate).toContainText('3 × 2 ×');
  await expect(p.getByTestId('start-training')).toHaveText('Start cross-validation (6 runs)');
  await shell.setLanguage('ja');
  await expect(p.getByTestId('cv-cost')).toHaveText('学習は 3 × 2 = 6 回です。');
  await shell.screenshot('cv-repeats-ja', { fullPage: true });
  await shell.setLanguage('en');
  await shell.screenshot('cv-repeats-en', { fullPage: true });
  await p.getByTestId('cv-repeats').selectOption('1');
  await expect(p.getByTestId('cv-cost')).toHaveText('Costs 3 × one run.');
  await expect(p.getByTestId('start-training')).toHaveText('Start cross-validation (3 runs)');
  await train.toTrainingStep();
  await train.start();

  const view = p.getByTestId('cv-view');
  await expect(view).toBeVisible();
  await expect(p.getByTestId('cv-status')).toHaveText('Finished', { timeout: 200_000 });
  const id = decodeURIComponent(new URL(page.url()).hash.split('/')[3] ?? '');
  const group = await api.getCrossValidation(id);
  expect(group.folds.map((f) => [f.fold, f.status])).toEqual([
    [1, 'succeeded'],
    [2, 'succeeded'],
    [3, 'succeeded'],
  ]);
  await expect(p.locator('[data-testid=cv-table] tbody tr')).toHaveCount(3);
  for (const f of group.folds) await expect(p.getByTestId(`cv-fold-1-${f.fold}`)).toContainText(`#${f.runId}`);
  await expect(p.getByTestId('cv-accuracy')).toContainText(/\d+\.\d % ± \d+\.\d/);
  await expect(p.getByTestId('cv-pooled')).toContainText(`of ${group.summary.pooled!.images} correct`);
  // Fold runs are normal runs (in the list and the compare view) but none became the active model.
  expect((await api.listRuns()).map((r) => r.id).sort()).toEqual(group.folds.map((f) => f.runId).sort());
  expect(await api.getActiveModel()).toBeNull();

  const thumbs = p.locator('[data-testid=cv-always-wrong] [data-image-id]');
  expect(group.summary.alwaysWrong.length).toBeGreaterThan(0);
  await expect(thumbs).toHaveCount(group.summary.alwaysWrong.length);
  // Captioned with the label and what the fold called it (e.g. "#12 OK → scratch").
  await expect(thumbs.first()).toContainText(' → ');
  const heldOut = new Set((await api.listImages({ limit: 100 })).items.map((i) => i.id));
  expect(group.summary.alwaysWrong.every((imageId) => heldOut.has(imageId))).toBe(true);
  await shell.screenshot('cv-card-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(view).toContainText('どのフォールドでも誤判定された画像');
  await shell.screenshot('cv-card-ja', { fullPage: true });
  await shell.setLanguage('en');
  // A thumbnail opens the photo large.
  await thumbs.first().click();
  await expect(p.getByRole('dialog')).toBeVisible();
  await p.getByRole('dialog').getByRole('button', { name: 'Close' }).last().click();

  // The runs list links to the group.
  await p.getByRole('button', { name: /Back to runs/ }).click();
  await expect(p.getByTestId(`open-cv-${id}`)).toContainText('3 folds');
});
