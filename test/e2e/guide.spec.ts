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
