import { expect, test, type Page } from '@playwright/test';
import { apiCall, switchLanguage, waitForTask, createNeuProject } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * The localisation curve on the live panel and in the report, and the "right, but not looking at the defects"
 * warning. The defect photos' regions are drawn away from the scratches on purpose (a small box in the upper left,
 * out of reach of any map peak at this size): the model separates the classes well, its maps cannot point into the
 * regions, which is exactly the case the warning is for.
 */
let server: RunningServer;
const call = <T>(op: string, ...args: unknown[]): Promise<T> => apiCall<T>(server, op, ...args);
const setLanguage = (page: Page, lang: 'en' | 'ja'): Promise<void> => switchLanguage(server, page, lang);

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  await createNeuProject(server, { ok: 'patches', scratch: 'scratches' }, 14);
  const types = await call<{ id: number; key: string }[]>('listDefectTypes');
  const ok = types.find((t) => t.key === 'ok')!;
  const page = await call<{ items: { id: number; labelId: number | null }[] }>('listImages', { limit: 1000 });
  for (const img of page.items)
    if (img.labelId !== null && img.labelId !== ok.id)
      await call('addRegion', img.id, { defectTypeId: img.labelId, kind: 'rect', x: 14, y: 14, w: 8, h: 8 });
});
test.afterAll(async () => {
  await server.stop();
});

test('the live panel plots pointing and energy per epoch and warns when the model is right for the wrong reasons', async ({ page }) => {
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Train' }).click();
  await expect(page.getByTestId('step-data')).toBeVisible();
  const run = await call<{ id: string; runId: number }>('startTraining', {
    name: 'Shortcut check',
    inputSize: 96,
    epochs: 25,
    patience: 0,
    batchSize: 4,
    augmentation: { mode: 'none' },
  });
  const liveTab = page.getByRole('tab', { name: 'Live training' });
  await expect(liveTab).toBeEnabled({ timeout: 60_000 });
  await liveTab.click();
  const card = page.getByTestId('localisation-card');
  await expect(card).toBeVisible({ timeout: 60_000 });
  await expect(card.getByTestId('chart-localisation')).toBeVisible();
  expect((await waitForTask(server, run.id)).state).toBe('succeeded');
  await expect(page.getByTestId('live-epoch')).toContainText('25 / 25');
  await expect(page.getByTestId('localisation-summary')).toContainText(/0(\.0)?% of \d+ images/);
  const warning = page.getByTestId('localisation-warning');
  await expect(warning).toContainText('The model is right, but it is not looking at the defects.');
  await page.screenshot({ path: 'test-results/screens/guide-live-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(warning).toContainText('判定は正しいが、欠陥を見ていません');
  await page.screenshot({ path: 'test-results/screens/guide-live-ja.png', fullPage: true });
  await setLanguage(page, 'en');

  // The report reads the same curve back from the catalog.
  await page.goto(`${server.url}#/runs/${run.runId}`);
  await expect(page.getByTestId('localisation-card')).toBeVisible();
  await expect(page.getByTestId('localisation-warning')).toBeVisible();
  await page.getByTestId('localisation-card').screenshot({ path: 'test-results/screens/guide-report-en.png' });
});
