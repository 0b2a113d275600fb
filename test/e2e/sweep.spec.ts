import { expect, test, type Page } from '@playwright/test';
import { apiCall, createNeuProject, switchLanguage } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * The study's sweep in one click: from the wizard's Sweep panel (sizes and N ticked, estimate = sum of the runs'),
 * two runs at 96 px queued one after another, then the sweep view in Runs with both charts, the best run marked,
 * and any run made the active model.
 */
let server: RunningServer;

const call = <T>(op: string, ...args: unknown[]): Promise<T> => apiCall<T>(server, op, ...args);
const setLanguage = (page: Page, lang: 'en' | 'ja'): Promise<void> => switchLanguage(server, page, lang);

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  await createNeuProject(server, { ok: 'crazing', scratch: 'scratches' }, 8);
});
test.afterAll(async () => {
  await server.stop();
});

test('a sweep from the wizard, its charts with the best run, and "use as active model"', async ({ page }) => {
  test.setTimeout(240_000);
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Train' }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByTestId('preset-quick').click();
  await page.locator('input[name=inputSize]').fill('96');
  await page.getByTestId('step-training-tab').click();
  await page.locator('input[name=epochs]').fill('3');

  await page.getByTestId('sweep-open').click();
  const panel = page.getByTestId('sweep-panel');
  await panel.getByTestId('sweep-size-224').uncheck();
  await panel.getByTestId('sweep-size-320').uncheck();
  await panel.getByTestId('sweep-size-96').check();
  await panel.getByTestId('sweep-blocks-6').uncheck();
  await panel.getByTestId('sweep-blocks-2').check();
  await expect(panel).toContainText('2 runs');
  await panel.getByRole('button', { name: 'Estimate' }).click();
  await expect(panel.getByTestId('sweep-estimate')).toContainText('About', { timeout: 60_000 });
  await page.screenshot({ path: 'test-results/screens/sweep-panel-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(panel).toContainText('再学習ブロック数');
  await page.screenshot({ path: 'test-results/screens/sweep-panel-ja.png', fullPage: true });
  await setLanguage(page, 'en');

  await panel.getByTestId('sweep-start').click();
  const view = page.getByTestId('sweep-view');
  await expect(view).toBeVisible();
  const runs = await call<{ id: number; status: string; inputSize: number }[]>('listRuns');
  expect(runs).toHaveLength(2);
  expect(runs.every((r) => r.inputSize === 96)).toBe(true);
  // Both finish (one after another); the best is marked and both charts have their points.
  await expect(view.getByTestId('sweep-best')).toBeVisible({ timeout: 180_000 });
  await expect
    .poll(async () => (await call<{ status: string }[]>('listRuns')).map((r) => r.status).join(','), { timeout: 180_000 })
    .toBe('succeeded,succeeded');
  const sweepId = decodeURIComponent(new URL(page.url()).hash.split('/')[3] ?? '');
  const sweep = await call<{ bestRunId: number; points: { runId: number; fineTuneBlocks: number }[] }>('getSweep', sweepId);
  expect(sweep.points.map((p) => p.fineTuneBlocks)).toEqual([0, 2]);
  await expect(view.getByTestId(`sweep-row-${sweep.bestRunId}`)).toContainText('Best');
  await expect(view.getByTestId('sweep-chart-size')).toBeVisible();
  await expect(view.getByTestId('sweep-chart-blocks')).toBeVisible();

  // Any run of the sweep can become the active model.
  const active = (await call<{ id: number } | null>('getActiveModel'))?.id ?? null;
  const other = sweep.points.map((p) => p.runId).find((id) => id !== active)!;
  await view.getByTestId(`sweep-activate-${other}`).click();
  await expect.poll(async () => (await call<{ id: number } | null>('getActiveModel'))?.id).toBe(other);
  await expect(view.getByTestId(`sweep-row-${other}`)).toContainText('Active model');
  await page.screenshot({ path: 'test-results/screens/sweep-view-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(view).toContainText('入力サイズ別の検証正解率');
  await page.screenshot({ path: 'test-results/screens/sweep-view-ja.png', fullPage: true });
  await setLanguage(page, 'en');

  // The runs list links to the sweep.
  await view.getByRole('button', { name: /Back to runs/ }).click();
  await expect(page.getByTestId(`open-sweep-${sweepId}`)).toContainText('2 runs');
});
