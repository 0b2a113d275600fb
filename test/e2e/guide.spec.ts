import { expect, test } from '@playwright/test';
import { createNeuProject, e2eApi, waitForTask } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

/**
 * The localisation curve on the live panel and in the report, and the "right, but not looking at the defects"
 * warning. The defect photos' regions are drawn away from the scratches on purpose (a small box in the upper left,
 * out of reach of any map peak at this size): the model separates the classes well, its maps cannot point into the
 * regions, which is exactly the case the warning is for.
 */
let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  const api = e2eApi(server);
  await createNeuProject(server, { ok: 'patches', scratch: 'scratches' }, 14);
  const types = await api.listDefectTypes();
  const ok = types.find((t) => t.key === 'ok')!;
  const page = await api.listImages({ limit: 1000 });
  for (const img of page.items)
    if (img.labelId !== null && img.labelId !== ok.id)
      await api.addRegion(img.id, { defectTypeId: img.labelId, kind: 'rect', x: 14, y: 14, w: 8, h: 8 });
});
test.afterAll(async () => {
  await server.stop();
});

test('the live panel plots pointing and energy per epoch and warns when the model is right for the wrong reasons', async ({ page }) => {
  const { shell, api, train, runs } = kensa(page, server);
  const live = train.live;
  await shell.goto();
  await train.open();
  await expect(train.stepData).toBeVisible();
  const run = await api.startTraining({
    name: 'Shortcut check',
    inputSize: 96,
    epochs: 25,
    patience: 0,
    batchSize: 4,
    augmentation: { mode: 'none' },
  });
  await expect(train.liveTab()).toBeEnabled({ timeout: 60_000 });
  await train.liveTab().click();
  const card = live.localisationCard;
  await expect(card).toBeVisible({ timeout: 60_000 });
  await expect(card.getByTestId('chart-localisation')).toBeVisible();
  expect((await waitForTask(server, run.id)).state).toBe('succeeded');
  await expect(live.epoch).toContainText('25 / 25');
  await expect(live.localisationSummary).toContainText(/0(\.0)?% of \d+ images/);
  const warning = live.localisationWarning;
  await expect(warning).toContainText('The model is right, but it is not looking at the defects.');
  await shell.screenshot('guide-live-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(warning).toContainText('判定は正しいが、欠陥を見ていません');
  await shell.screenshot('guide-live-ja', { fullPage: true });
  await shell.setLanguage('en');

  // The report reads the same curve back from the catalog.
  await runs.gotoReport(run.runId);
  await expect(live.localisationCard).toBeVisible();
  await expect(live.localisationWarning).toBeVisible();
  await live.localisationCard.screenshot({ path: 'test-results/screens/guide-report-en.png' });
});

test('the wizard offers guided training when training defect images have regions, and the run stores it', async ({ page }) => {
  const { shell, api, train } = kensa(page, server);
  await shell.goto();
  await train.open();
  await train.toModelStep();
  await train.inputSize.fill('96');
  await train.toTrainingStep();
  await train.epochs.fill('3');
  const guide = train.guideChoice;
  const stats = await api.getLibraryStats();
  const scratch = stats.perLabel.find((l) => l.key === 'scratch')!;
  expect(scratch.trainWithRegions).toBe(scratch.train);
  await expect(guide.getByTestId('guide-count')).toHaveText(
    `${scratch.train} of ${scratch.train} defect images in the training split have regions; the others train as usual.`,
  );
  const box = guide.getByRole('checkbox');
  await box.check();
  await expect(guide.locator('select[name=guide-weight]')).toHaveValue('1');
  await guide.locator('select[name=guide-weight]').selectOption('5');
  // Transfer learning only: the wizard says the maps will change little.
  await expect(guide.getByTestId('guide-needs-finetune')).toBeVisible();
  await expect(page.getByTestId('summary-guide')).toHaveText('By the drawn regions, weight 5');
  await shell.screenshot('guide-choice-en');
  await shell.setLanguage('ja');
  await expect(guide).toContainText('描いた領域で学習を導く');
  await shell.setLanguage('en');

  // Small rotations move the photo off its regions: the choice is switched off and says why.
  await train.augmentation('Small rotations').check();
  await expect(box).toBeDisabled();
  await expect(guide).toContainText('Not with small rotations or random crops');
  await train.augmentation('Small rotations').uncheck();
  await expect(box).toBeEnabled();
  await expect(box).toBeChecked();

  const before = new Set((await api.listRuns()).map((r) => r.id));
  await train.start();
  await expect.poll(async () => (await api.listRuns()).filter((r) => !before.has(r.id)).length, { timeout: 30_000 }).toBe(1);
  const summary = (await api.listRuns()).find((r) => !before.has(r.id))!;
  const run = await api.getRun(summary.id);
  expect(run.config.guideRegions).toBe(true);
  expect(run.config.guideWeight).toBe(5);
  await expect.poll(async () => (await api.getRun(summary.id)).status, { timeout: 120_000 }).toMatch(/succeeded|failed/);
  expect((await api.getRun(summary.id)).status).toBe('succeeded');
});

test('Study and Best guide training by the drawn regions where training defect images have them; Quick does not', async ({ page }) => {
  const { shell, train } = kensa(page, server);
  await shell.goto();
  await train.open();
  const box = train.guideChoice.getByRole('checkbox');
  for (const [preset, guided] of [
    ['study', true],
    ['quick', false],
    ['best', true],
  ] as const) {
    await train.preset(preset);
    await train.toTrainingStep();
    if (guided) {
      await expect(box).toBeChecked();
      await expect(page.getByTestId('summary-guide')).toHaveText('By the drawn regions, weight 1');
    } else {
      await expect(box).not.toBeChecked();
      await expect(page.getByTestId('summary-guide')).toHaveCount(0);
    }
  }
});
