import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { apiCall, NEU_IMAGES as NEU, waitForTask, switchLanguage, writeNeuCrops } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * The training wizard end to end on the real engine: a tiny project of real NEU photos (shrunk with sharp),
 * through the three steps to a finished run with live curves, then a second run cancelled mid-way.
 */
let server: RunningServer;

const call = <T>(op: string, ...args: unknown[]): Promise<T> => apiCall<T>(server, op, ...args);

const waitTask = (id: string): Promise<{ state: string }> => waitForTask(server, id);

const setLanguage = (page: Page, lang: 'en' | 'ja'): Promise<void> => switchLanguage(server, page, lang);

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  const src = join(server.tmp, 'photos');
  // 8 OK (NEU crazing stands in for defect-free texture) and 8 scratches, 64 px.
  await writeNeuCrops(src, { ok: 'crazing', scratch: 'scratches' }, 8);
  await call('createProject', join(server.tmp, 'project'), 'Line 3');
  const snap = await call<{ id: string }>('startImport', { paths: [src], labels: { from: 'folders' } });
  expect((await waitTask(snap.id)).state).toBe('succeeded');
});
test.afterAll(async () => {
  await server.stop();
});

test('the wizard trains a model with live curves, and a second run can be cancelled', async ({ page }) => {
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Train' }).click();

  // Step 1: data. Counts per class and split, warnings for the tiny set.
  const counts = page.getByTestId('class-counts');
  await expect(counts).toContainText('OK');
  await expect(counts.locator('tfoot')).toContainText('16');
  await expect(page.getByTestId('data-warnings')).toContainText(/training images/);
  await page.screenshot({ path: 'test-results/screens/train-data-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(page.getByTestId('step-data')).toContainText('何を判別するモデルですか');
  await page.screenshot({ path: 'test-results/screens/train-data-ja.png', fullPage: true });
  await setLanguage(page, 'en');

  // Step 2: model. Presets fill it in; the diagram shows trainable blocks; an estimate is measured.
  await page.getByTestId('preset-study').click();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.locator('[data-testid=blocks-diagram] rect[data-trainable=true]')).toHaveCount(6);
  await page.getByTestId('preset-best').click();
  await expect(page.locator('input[name=inputSize]')).toHaveValue('320');
  await expect(page.locator('[data-testid=blocks-diagram] rect[data-trainable=true]')).toHaveCount(6);
  await page.getByTestId('preset-quick').click();
  await expect(page.locator('[data-testid=blocks-diagram] rect[data-trainable=true]')).toHaveCount(0);
  await page.locator('input[name=inputSize]').fill('96');
  await expect(page.getByTestId('estimate')).toContainText('MB', { timeout: 60_000 });
  await page.screenshot({ path: 'test-results/screens/train-model-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(page.getByTestId('estimate')).toContainText('最大メモリ');
  await page.screenshot({ path: 'test-results/screens/train-model-ja.png', fullPage: true });
  await setLanguage(page, 'en');

  // Step 3: training options with an augmentation preview of a real thumbnail.
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('input[name=epochs]').fill('3');
  await page.locator('select[name=batchSize]').selectOption('4');
  await page.getByLabel('Small rotations').check();
  await expect(page.locator('[data-testid=augment-preview] canvas')).toHaveCount(6);
  await page.locator('input[name=run-name]').fill('First model');
  await page.screenshot({ path: 'test-results/screens/train-options-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await page.screenshot({ path: 'test-results/screens/train-options-ja.png', fullPage: true });
  await setLanguage(page, 'en');
  await page.getByLabel('Small rotations').uncheck();

  // Record every value the epoch counter and the loss chart take, to see them update live.
  // (A string: this project's TypeScript config has no DOM types for test files.)
  await page.evaluate(`(() => {
    window.seen = [];
    new MutationObserver(() => {
      const e = document.querySelector('[data-testid=live-epoch]')?.textContent ?? '';
      const n = document.querySelector('[data-testid=chart-loss]')?.getAttribute('data-points') ?? '';
      const v = e + '|' + n;
      if (window.seen[window.seen.length - 1] !== v) window.seen.push(v);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  })()`);
  await page.getByTestId('start-training').click();
  await expect(page.getByTestId('live-panel')).toBeVisible();
  await expect(page.getByTestId('live-state')).toHaveAttribute('data-state', 'succeeded', { timeout: 90_000 });
  await expect(page.getByTestId('live-epoch')).toHaveText('3 / 3');
  await expect(page.getByTestId('live-best')).not.toHaveText('–');
  const seen = (await page.evaluate('window.seen')) as string[];
  const epochsSeen = new Set(seen.map((s) => s.split('|')[0]).filter((e) => /^[123] \/ 3$/.test(e ?? '')));
  expect(epochsSeen.size, `epoch counter values seen: ${seen.join(', ')}`).toBeGreaterThanOrEqual(2);
  expect(Number(await page.getByTestId('chart-loss').getAttribute('data-points'))).toBeGreaterThanOrEqual(3);
  await page.screenshot({ path: 'test-results/screens/train-live-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(page.getByTestId('live-panel')).toContainText('学習損失');
  await page.screenshot({ path: 'test-results/screens/train-live-ja.png', fullPage: true });
  await setLanguage(page, 'en');
  const runs = await call<{ id: number; name: string; status: string }[]>('listRuns');
  expect(runs[0]).toMatchObject({ name: 'First model', status: 'succeeded' });
  // Every stored batch loss is on the live chart (batch events are thinned out in transit; stored ones are read back).
  const stored = await call<unknown[]>('getRunBatchLosses', runs[0]!.id);
  expect(stored.length).toBeGreaterThan(3);
  await expect
    .poll(async () => Number(await page.getByTestId('chart-loss').getAttribute('data-points')))
    .toBeGreaterThanOrEqual(stored.length);

  // A longer second run (fine-tuning every block at 160 px) is cancelled while it trains.
  await page.getByRole('button', { name: 'New run' }).click();
  // The name typed for the first run is not carried over: the next run is named from its own settings.
  await page.getByTestId('step-training-tab').click();
  await expect(page.locator('input[name=run-name]')).toHaveValue('');
  await page.getByTestId('step-model-tab').click();
  await page.locator('input[name=inputSize]').fill('160');
  await page.getByLabel('Transfer learning, then fine-tune the last N blocks').check();
  // Choosing fine-tuning fills in the study's 6 blocks, never 0 blocks and 0 epochs.
  await expect(page.locator('input[name=fineTuneBlocks]')).toHaveValue('6');
  await expect(page.locator('[data-testid=blocks-diagram] rect[data-trainable=true]')).toHaveCount(6);
  await page.locator('input[name=fineTuneBlocks]').fill('13');
  await page.getByTestId('step-training-tab').click();
  await page.locator('input[name=epochs]').fill('1');
  await page.locator('input[name=fineTuneEpochs]').fill('2000');
  await page.getByLabel('Stop when validation loss has not improved, and keep the best epoch').uncheck();
  await page.locator('input[name=run-name]').fill('Too long');
  // Estimated well over 10 minutes: Start asks first (app-styled dialog), and "Change settings" starts nothing.
  await expect(page.getByTestId('summary-estimate')).toHaveText(/^(\d+ h \d+ min|[1-5]\d min \d+ s) · /, { timeout: 60_000 });
  await page.getByTestId('start-training').click();
  const long = page.getByTestId('long-run-confirm');
  await expect(long).toContainText('over 10 minutes');
  await page.screenshot({ path: 'test-results/screens/train-long-confirm-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(long).toContainText('10 分を超えます');
  await expect(long).toContainText(/約 \d+ (時間|分) \d+ (分|秒)/);
  await page.screenshot({ path: 'test-results/screens/train-long-confirm-ja.png', fullPage: true });
  await setLanguage(page, 'en');
  await long.getByTestId('confirm-no').click();
  await expect(long).toHaveCount(0);
  expect(await call<unknown[]>('listRuns')).toHaveLength(1);
  await page.getByTestId('start-training').click();
  await long.getByTestId('confirm-yes').click();
  await expect(page.getByTestId('live-state')).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  await expect(page.getByTestId('live-epoch')).toHaveText(/^[1-9]\d* \/ 2001$/, { timeout: 60_000 });
  // Past its one transfer epoch the run says phase 2, and the status bar shows the panel's figure (whole run).
  await expect(page.getByTestId('live-phase')).toHaveAttribute('data-phase', 'finetune');
  await expect(page.getByTestId('live-phase')).toHaveText('Phase 2: fine-tuning');
  const figures = (await page.evaluate(`[
    document.querySelector('[data-testid=task-percent]')?.textContent ?? '',
    document.querySelector('[data-testid=live-panel] [role=progressbar]')?.getAttribute('aria-valuenow') ?? '',
  ]`)) as [string, string];
  expect(figures[0]).toBe(`${figures[1]} %`);
  expect(Number(figures[1])).toBeLessThan(5);
  // Cancel asks too: "Keep training" keeps it running.
  await page.getByTestId('cancel-training').click();
  const ask = page.getByTestId('cancel-confirm');
  await expect(ask).toContainText('Too long');
  await page.screenshot({ path: 'test-results/screens/train-cancel-confirm-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(ask).toContainText('この学習を中止しますか');
  await page.screenshot({ path: 'test-results/screens/train-cancel-confirm-ja.png', fullPage: true });
  await setLanguage(page, 'en');
  await ask.getByTestId('confirm-no').click();
  await expect(ask).toHaveCount(0);
  await expect(page.getByTestId('live-state')).toHaveAttribute('data-state', 'running');
  await page.getByTestId('cancel-training').click();
  await ask.getByTestId('confirm-yes').click();
  await expect(page.getByTestId('live-state')).toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 });
  // Cancelled while fine-tuning: it still says phase 2 (its last stored epoch was the transfer one).
  await expect(page.getByTestId('live-phase')).toHaveAttribute('data-phase', 'finetune');
  await expect.poll(async () => (await call<{ name: string; status: string }[]>('listRuns'))[0]?.status).toBe('cancelled');
  await page.screenshot({ path: 'test-results/screens/train-cancelled-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(page.getByTestId('live-state')).toHaveText('中止');
  await page.screenshot({ path: 'test-results/screens/train-cancelled-ja.png', fullPage: true });
  await setLanguage(page, 'en');
});

test('a run can be paused and resumed, and labels unticked in the data step stay out of it', async ({ page }) => {
  // A third label (NEU patches) that this run leaves out.
  const extra = join(server.tmp, 'photos-extra', 'patch');
  mkdirSync(extra, { recursive: true });
  for (let i = 1; i <= 6; i++)
    await sharp(join(NEU, 'patches', `patches_${i}.jpg`))
      .resize(64, 64)
      .jpeg()
      .toFile(join(extra, `patches_${i}.jpg`));
  const imp = await call<{ id: string }>('startImport', { paths: [join(server.tmp, 'photos-extra')], labels: { from: 'folders' } });
  expect((await waitTask(imp.id)).state).toBe('succeeded');
  const types = await call<{ key: string; nameEn: string }[]>('listDefectTypes');
  const patch = types.find((x) => x.key.startsWith('patch'))!;

  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Train' }).click();
  await page.getByRole('radio', { name: /Per defect type/ }).check();
  const choice = page.getByTestId('label-choice');
  await expect(choice).toContainText('6 images');
  await choice.getByRole('checkbox', { name: new RegExp(patch.nameEn) }).uncheck();
  await expect(page.getByTestId('class-counts').locator('tbody tr')).toHaveCount(2);
  await page.screenshot({ path: 'test-results/screens/train-labels-en.png', fullPage: true });

  await page.getByTestId('step-model-tab').click();
  await page.locator('input[name=inputSize]').fill('128');
  await page.getByLabel('Transfer learning, then fine-tune the last N blocks').check();
  await page.locator('input[name=fineTuneBlocks]').fill('13');
  await page.getByTestId('step-training-tab').click();
  await page.locator('input[name=epochs]').fill('1');
  await page.locator('input[name=fineTuneEpochs]').fill('5');
  await page.locator('select[name=batchSize]').selectOption('4');
  await page.getByLabel('Stop when validation loss has not improved, and keep the best epoch').uncheck();
  await page.locator('input[name=run-name]').fill('Paused run');
  await page.getByTestId('start-training').click();
  await expect(page.getByTestId('live-epoch')).toHaveText(/^[1-9]\d* \/ 6$/, { timeout: 60_000 });

  // Paused: the badge shows and the epoch counter stands still; resumed, the run finishes.
  await page.getByTestId('pause-training').click();
  await expect(page.getByTestId('live-state')).toHaveAttribute('data-state', 'paused');
  await expect(page.getByTestId('resume-training')).toBeVisible();
  // Paused during fine-tuning (its one transfer epoch is done): the panel says phase 2, not phase 1.
  await expect(page.getByTestId('live-phase')).toHaveAttribute('data-phase', 'finetune');
  // The batch in flight (and its epoch's validation) may still end, later on a loaded machine: wait until the
  // counter has stood still for 2 s, then check that it keeps standing still and the run does not finish.
  const epochText = async () => (await page.getByTestId('live-epoch').textContent()) ?? '';
  let frozen = await epochText();
  await expect
    .poll(
      async () => {
        await page.waitForTimeout(2000);
        const now = await epochText();
        const still = now === frozen;
        frozen = now;
        return still;
      },
      { timeout: 30_000 },
    )
    .toBe(true);
  await page.waitForTimeout(2000);
  await expect(page.getByTestId('live-epoch')).toHaveText(frozen);
  await expect(page.getByTestId('live-state')).toHaveAttribute('data-state', 'paused');
  expect(frozen).not.toBe('6 / 6');
  await page.screenshot({ path: 'test-results/screens/train-paused-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(page.getByTestId('live-state')).toHaveText('一時停止');
  await expect(page.getByTestId('resume-training')).toHaveText('再開');
  await page.screenshot({ path: 'test-results/screens/train-paused-ja.png', fullPage: true });
  await setLanguage(page, 'en');
  await page.getByTestId('resume-training').click();
  await expect(page.getByTestId('live-state')).toHaveAttribute('data-state', 'succeeded', { timeout: 120_000 });
  await expect(page.getByTestId('live-epoch')).toHaveText('6 / 6');

  const runs = await call<{ id: number; name: string }[]>('listRuns');
  const run = await call<{ classes: string[]; config: { labels?: string[] } }>('getRun', runs.find((r) => r.name === 'Paused run')!.id);
  expect(run.classes).toHaveLength(2);
  expect(run.classes).not.toContain(patch.key);
  expect(run.config.labels).not.toContain(patch.key);
});
