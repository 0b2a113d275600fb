import { expect, test } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { e2eApi, NEU_IMAGES as NEU, waitForTask, writeNeuCrops } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

/**
 * The training wizard end to end on the real engine: a tiny project of real NEU photos (shrunk with sharp),
 * through the three steps to a finished run with live curves, then a second run cancelled mid-way.
 */
let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  const src = join(server.tmp, 'photos');
  // 8 OK (NEU crazing stands in for defect-free texture) and 8 scratches, 64 px.
  await writeNeuCrops(src, { ok: 'crazing', scratch: 'scratches' }, 8);
  const api = e2eApi(server);
  await api.createProject(join(server.tmp, 'project'), 'Line 3');
  const snap = await api.startImport({ paths: [src], labels: { from: 'folders' } });
  expect((await waitForTask(server, snap.id)).state).toBe('succeeded');
});
test.afterAll(async () => {
  await server.stop();
});

test('the wizard trains a model with live curves, and a second run can be cancelled', async ({ page }) => {
  const { shell, api, train } = kensa(page, server);
  const { live } = train;
  await shell.goto();
  await train.open();

  // Step 1: data. Counts per class and split, warnings for the tiny set.
  await expect(train.classCounts).toContainText('OK');
  await expect(train.classCounts.locator('tfoot')).toContainText('16');
  await expect(train.dataWarnings).toContainText(/training images/);
  await shell.screenshot('train-data-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(train.stepData).toContainText('何を判別するモデルですか');
  await shell.screenshot('train-data-ja', { fullPage: true });
  await shell.setLanguage('en');
  // Letterbox offers to leave its padding out of pooling and maps (on by default); squash has no padding to mask.
  const padMask = page.getByTestId('pad-mask');
  await expect(padMask).toHaveCount(0);
  await train.resizeChoice.locator('input[value=letterbox]').check();
  await expect(padMask).toBeChecked();
  await expect(train.resizeChoice).toContainText('Leave the padding out of pooling and maps');
  await padMask.uncheck();
  await expect(padMask).not.toBeChecked();
  await shell.setLanguage('ja');
  await expect(train.resizeChoice).toContainText('余白をプーリングとヒートマップから除外する');
  await shell.setLanguage('en');
  await padMask.check();
  await train.resizeChoice.locator('input[value=squash]').check();
  await expect(padMask).toHaveCount(0);
  // An anomaly model offers test-time flips (off by default), with their trade-off.
  const flips = page.getByTestId('anomaly-flips');
  await expect(flips).toHaveCount(0);
  await train.stepData.locator('input[name=task][value=anomaly]').check();
  await expect(flips).not.toBeChecked();
  await expect(train.stepData).toContainText('twice as long');
  await flips.check();
  await shell.screenshot('train-anomaly-flips-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(train.stepData).toContainText('テスト時反転');
  await shell.screenshot('train-anomaly-flips-ja', { fullPage: true });
  await shell.setLanguage('en');
  // The anomaly run's own estimate: the good images' features, the memory bank, the scoring (with flips).
  await train.toModelStep();
  const anomalyEstimate = page.getByTestId('estimate-anomaly');
  await expect(anomalyEstimate).toContainText('with flips', { timeout: 60_000 });
  await expect(anomalyEstimate).toContainText('Features of 6 good images');
  await shell.screenshot('train-anomaly-estimate-en', { fullPage: true });
  await page.getByTestId('step-data-tab').click();
  await train.stepData.locator('input[name=task][value=binary]').check();
  await expect(flips).toHaveCount(0);

  // Step 2: model. Presets fill it in; the diagram shows trainable blocks; an estimate is measured.
  await train.preset('study');
  await train.next();
  await expect(train.blocksTrainable).toHaveCount(6);
  await train.preset('best');
  await expect(train.inputSize).toHaveValue('320');
  await expect(train.blocksTrainable).toHaveCount(6);
  await train.preset('quick');
  await expect(train.blocksTrainable).toHaveCount(0);
  await train.inputSize.fill('96');
  await expect(train.estimate).toContainText('MB', { timeout: 60_000 });
  await shell.screenshot('train-model-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(train.estimate).toContainText('最大メモリ');
  await shell.screenshot('train-model-ja', { fullPage: true });
  await shell.setLanguage('en');

  // Step 3: training options with an augmentation preview of a real thumbnail.
  await train.next();
  await train.epochs.fill('3');
  await train.batchSize.selectOption('4');
  await train.augmentation('Small rotations').check();
  await expect(train.augmentPreview).toHaveCount(6);
  await train.runName.fill('First model');
  await shell.screenshot('train-options-en', { fullPage: true });
  await shell.setLanguage('ja');
  await shell.screenshot('train-options-ja', { fullPage: true });
  await shell.setLanguage('en');
  await train.augmentation('Small rotations').uncheck();

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
  await train.start();
  await expect(live.root).toBeVisible();
  await expect(live.state).toHaveAttribute('data-state', 'succeeded', { timeout: 90_000 });
  await expect(live.epoch).toHaveText('3 / 3');
  await expect(live.best).not.toHaveText('–');
  const seen = (await page.evaluate('window.seen')) as string[];
  const epochsSeen = new Set(seen.map((s) => s.split('|')[0]).filter((e) => /^[123] \/ 3$/.test(e ?? '')));
  expect(epochsSeen.size, `epoch counter values seen: ${seen.join(', ')}`).toBeGreaterThanOrEqual(2);
  expect(await live.lossPoints()).toBeGreaterThanOrEqual(3);
  await shell.screenshot('train-live-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(live.root).toContainText('学習損失');
  await shell.screenshot('train-live-ja', { fullPage: true });
  await shell.setLanguage('en');
  const runs = await api.listRuns();
  expect(runs[0]).toMatchObject({ name: 'First model', status: 'succeeded' });
  // Every stored batch loss is on the live chart (batch events are thinned out in transit; stored ones are read back).
  const stored = await api.getRunBatchLosses(runs[0]!.id);
  expect(stored.length).toBeGreaterThan(3);
  await expect.poll(() => live.lossPoints()).toBeGreaterThanOrEqual(stored.length);

  // A longer second run (fine-tuning every block at 160 px) is cancelled while it trains.
  await live.newRun();
  // The name typed for the first run is not carried over: the next run is named from its own settings.
  await train.toTrainingStep();
  await expect(train.runName).toHaveValue('');
  await train.toModelStep();
  await train.inputSize.fill('160');
  await train.chooseFineTuning();
  // Choosing fine-tuning fills in the study's 6 blocks, never 0 blocks and 0 epochs.
  await expect(train.fineTuneBlocks).toHaveValue('6');
  await expect(train.blocksTrainable).toHaveCount(6);
  await train.fineTuneBlocks.fill('13');
  // The first fine-tuning epoch (it fills the prefix cache) is estimated apart from the later ones.
  await expect(page.getByTestId('estimate-finetune-epochs')).toHaveText(/^First about .+, then .+ each$/, { timeout: 60_000 });
  await shell.screenshot('train-model-finetune-en', { fullPage: true });
  await train.toTrainingStep();
  await train.epochs.fill('1');
  await train.fineTuneEpochs.fill('2000');
  await train.earlyStopping().uncheck();
  await train.runName.fill('Too long');
  // Estimated well over 10 minutes: Start asks first (app-styled dialog), and "Change settings" starts nothing.
  await expect(train.summaryEstimate).toHaveText(/^(\d+ h \d+ min|[1-5]\d min \d+ s) · /, { timeout: 60_000 });
  await train.start();
  const long = train.longRunConfirm;
  await expect(long).toContainText('over 10 minutes');
  await shell.screenshot('train-long-confirm-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(long).toContainText('10 分を超えます');
  await expect(long).toContainText(/約 \d+ (時間|分) \d+ (分|秒)/);
  await shell.screenshot('train-long-confirm-ja', { fullPage: true });
  await shell.setLanguage('en');
  await long.getByTestId('confirm-no').click();
  await expect(long).toHaveCount(0);
  expect(await api.listRuns()).toHaveLength(1);
  await train.start();
  await long.getByTestId('confirm-yes').click();
  await expect(live.state).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  await expect(live.epoch).toHaveText(/^[1-9]\d* \/ 2001$/, { timeout: 60_000 });
  // Past its one transfer epoch the run says phase 2, and the status bar shows the panel's figure (whole run).
  await expect(live.phase).toHaveAttribute('data-phase', 'finetune');
  await expect(live.phase).toHaveText('Phase 2: fine-tuning');
  const figures = (await page.evaluate(`[
    document.querySelector('[data-testid=task-percent]')?.textContent ?? '',
    document.querySelector('[data-testid=live-panel] [role=progressbar]')?.getAttribute('aria-valuenow') ?? '',
  ]`)) as [string, string];
  expect(figures[0]).toBe(`${figures[1]} %`);
  expect(Number(figures[1])).toBeLessThan(5);
  // Cancel asks too: "Keep training" keeps it running.
  await live.cancel.click();
  const ask = live.cancelConfirm;
  await expect(ask).toContainText('Too long');
  await shell.screenshot('train-cancel-confirm-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(ask).toContainText('この学習を中止しますか');
  await shell.screenshot('train-cancel-confirm-ja', { fullPage: true });
  await shell.setLanguage('en');
  await ask.getByTestId('confirm-no').click();
  await expect(ask).toHaveCount(0);
  await expect(live.state).toHaveAttribute('data-state', 'running');
  await live.cancel.click();
  await ask.getByTestId('confirm-yes').click();
  await expect(live.state).toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 });
  // Cancelled while fine-tuning: it still says phase 2 (its last stored epoch was the transfer one).
  await expect(live.phase).toHaveAttribute('data-phase', 'finetune');
  await expect.poll(async () => (await api.listRuns())[0]?.status).toBe('cancelled');
  await shell.screenshot('train-cancelled-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(live.state).toHaveText('中止');
  await shell.screenshot('train-cancelled-ja', { fullPage: true });
  await shell.setLanguage('en');
});

test('a run can be paused and resumed, and labels unticked in the data step stay out of it', async ({ page }) => {
  const { shell, api, train } = kensa(page, server);
  const { live } = train;
  // A third label (NEU patches) that this run leaves out.
  const extra = join(server.tmp, 'photos-extra', 'patch');
  mkdirSync(extra, { recursive: true });
  for (let i = 1; i <= 6; i++)
    await sharp(join(NEU, 'patches', `patches_${i}.jpg`))
      .resize(64, 64)
      .jpeg()
      .toFile(join(extra, `patches_${i}.jpg`));
  const imp = await api.startImport({ paths: [join(server.tmp, 'photos-extra')], labels: { from: 'folders' } });
  expect((await waitForTask(server, imp.id)).state).toBe('succeeded');
  const types = await api.listDefectTypes();
  const patch = types.find((x) => x.key.startsWith('patch'))!;

  await shell.goto();
  await train.open();
  await train.perDefectType();
  await expect(train.labelChoice).toContainText('6 images');
  await train.labelTick(new RegExp(patch.nameEn)).uncheck();
  await expect(train.classCounts.locator('tbody tr')).toHaveCount(2);
  await shell.screenshot('train-labels-en', { fullPage: true });

  await train.toModelStep();
  await train.inputSize.fill('128');
  await train.chooseFineTuning();
  await train.fineTuneBlocks.fill('13');
  await train.toTrainingStep();
  await train.epochs.fill('1');
  await train.fineTuneEpochs.fill('5');
  await train.batchSize.selectOption('4');
  await train.earlyStopping().uncheck();
  await train.runName.fill('Paused run');
  await train.start();
  await expect(live.epoch).toHaveText(/^[1-9]\d* \/ 6$/, { timeout: 60_000 });

  // Paused: the badge shows and the epoch counter stands still; resumed, the run finishes.
  await live.pause.click();
  await expect(live.state).toHaveAttribute('data-state', 'paused');
  await expect(live.resume).toBeVisible();
  // Paused during fine-tuning (its one transfer epoch is done): the panel says phase 2, not phase 1.
  await expect(live.phase).toHaveAttribute('data-phase', 'finetune');
  // The batch in flight (and its epoch's validation) may still end, later on a loaded machine: wait until the
  // counter has stood still for 2 s, then check that it keeps standing still and the run does not finish.
  const epochText = async () => (await live.epoch.textContent()) ?? '';
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
  await expect(live.epoch).toHaveText(frozen);
  await expect(live.state).toHaveAttribute('data-state', 'paused');
  expect(frozen).not.toBe('6 / 6');
  await shell.screenshot('train-paused-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(live.state).toHaveText('一時停止');
  await expect(live.resume).toHaveText('再開');
  await shell.screenshot('train-paused-ja', { fullPage: true });
  await shell.setLanguage('en');
  await live.resume.click();
  await expect(live.state).toHaveAttribute('data-state', 'succeeded', { timeout: 120_000 });
  await expect(live.epoch).toHaveText('6 / 6');

  const runs = await api.listRuns();
  const run = await api.getRun(runs.find((r) => r.name === 'Paused run')!.id);
  expect(run.classes).toHaveLength(2);
  expect(run.classes).not.toContain(patch.key);
  expect(run.config.labels).not.toContain(patch.key);
});
