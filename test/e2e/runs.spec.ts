import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SplitConfig } from '../../src-main/shared/training-types.ts';
import { createNeuProject, trainRuns } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa, type Kensa } from './pages/index.ts';

/**
 * Runs and reports on the real engine: two small runs trained through the API, then the list, a report
 * (confusion-matrix cell through to its images, threshold, HTML export, active model) and a comparison.
 */
let server: RunningServer;
let runA = 0;
let runB = 0;

/** A screenshot in English, then in Japanese once `ready` holds, back to English. */
async function shoot(app: Kensa, name: string, ready: () => Promise<void>): Promise<void> {
  await app.shell.screenshot(`runs-${name}-en`, { fullPage: true });
  await app.shell.setLanguage('ja');
  await ready();
  await app.shell.screenshot(`runs-${name}-ja`, { fullPage: true });
  await app.shell.setLanguage('en');
}

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  await createNeuProject(server, { ok: 'crazing', scratch: 'scratches' }, 10);
  const split: SplitConfig = { mode: 'random', valFraction: 0.3, testFraction: 0.2, seed: 3 };
  [runA, runB] = (await trainRuns(server, [
    {
      name: 'Transfer 96',
      inputSize: 96,
      epochs: 3,
      batchSize: 4,
      split,
    },
    {
      name: 'Fine-tune 96',
      inputSize: 96,
      epochs: 2,
      fineTuneBlocks: 2,
      fineTuneEpochs: 1,
      batchSize: 4,
      split,
    },
  ])) as [number, number];
});
test.afterAll(async () => {
  await server.stop();
});

test('the runs list, a report with its confusion matrix and images, and a comparison', async ({ page }) => {
  const app = kensa(page, server);
  const { shell, api, runs } = app;
  const { report, compare: cmp } = runs;
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  page.on('console', (m) => m.type() === 'error' && console.log('CONSOLE', m.text()));
  await shell.goto();
  await runs.open();
  const table = runs.table;
  await expect(runs.row(runA)).toContainText('Transfer 96');
  await expect(runs.row(runB)).toContainText('Fine-tune 96');
  await expect(runs.row(runB)).toContainText('Finished');
  await expect(runs.row(runB).locator('td').nth(6)).toHaveText('2');
  await expect(runs.row(runA)).toContainText('wasm');
  await shoot(app, 'list', () => expect(table).toContainText('完了'));

  // Report of the first run.
  await runs.openRun(/Transfer 96/);
  await expect(report.confusionMatrix).toBeVisible();
  await expect(report.loss).toHaveAttribute('data-points', /^[1-9]/);
  const run = await api.getRun(runA);
  const val = run.evaluations.find((e) => e.split === 'val')!;
  // Click the first non-empty cell: its thumbnails are exactly that cell's images.
  let cell: [number, number] = [0, 0];
  val.confusionImageIds.forEach((row, a) =>
    row.forEach((ids, p) => ids.length && !val.confusionImageIds[cell[0]]![cell[1]]!.length && (cell = [a, p])),
  );
  const ids = val.confusionImageIds[cell[0]]![cell[1]]!;
  await shoot(app, 'report', () => expect(report.root).toContainText('混同行列'));
  await report.cmCell(cell[0], cell[1]).click();
  const thumbs = report.cellThumbs;
  await expect(thumbs).toHaveCount(ids.length);
  expect((await thumbs.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-image-id'))))).sort()).toEqual([...ids].sort());
  await expect(thumbs.first().locator('img')).toHaveJSProperty('complete', true);
  // Binary model: ROC / PR with a threshold slider.
  await expect(report.roc).toBeVisible();
  await report.setThreshold('0');
  await expect(report.opRecall).toHaveText('100.0 %');
  await shoot(app, 'report-matrix', () => expect(report.root).toContainText('混同行列'));

  // Self-contained HTML report, saved where the user says (as every export; the project's exports folder suggested).
  await report.startHtmlExport();
  await expect(report.htmlSavePath).toHaveValue(/\/exports\/reports\/kensa-run-\d+-report\.html$/);
  await shoot(app, 'report-save', () => expect(report.htmlSave).toContainText('レポート（HTML）の保存先'));
  const file = join(server.tmp, 'report.html');
  await report.saveHtmlTo(file);
  await expect(page.getByText(`Report saved: ${file}`)).toBeVisible({ timeout: 30_000 });
  const html = readFileSync(file, 'utf8');
  expect(html).toContain('Transfer 96');
  expect(html).toContain('<svg');
  expect(html).toContain('data:image/png;base64');
  expect(html).not.toMatch(/src="\/media\//);
  const htmlPage = await page.context().newPage();
  await htmlPage.goto(`file://${file}`);
  await htmlPage.screenshot({ path: 'test-results/screens/runs-html-report-en.png', fullPage: true });
  await htmlPage.close();

  // The first finished run became the active model; it can be cleared and set again.
  await report.stopUsingAsActive();
  await expect.poll(async () => await api.getActiveModel()).toBeNull();
  await report.setActive();
  await expect(report.root).toContainText('Active model');
  await expect.poll(async () => (await api.getActiveModel())?.id).toBe(runA);

  // Export the model to a folder and import it back as a new run.
  const exportDir = join(server.tmp, 'export', 'transfer-96');
  await report.exportModel(exportDir);
  await expect(page.getByText(/Exported 3 files to/)).toBeVisible();
  expect(readFileSync(join(exportDir, 'kensa-model.json'), 'utf8')).toMatch(/"format": ?"kensa-model"/);
  await report.backToRuns();
  await runs.importModel(exportDir);
  await expect(runs.rows).toHaveCount(3);
  await expect(runs.rows.first()).toContainText('Imported');

  // Compare both trained runs.
  await runs.compareRuns(runA, runB);
  await expect(cmp.table).toContainText('Transfer 96');
  await expect(cmp.table).toContainText('Fine-tune 96');
  await expect(cmp.loss).toHaveAttribute('data-points', '3');
  await expect(cmp.lossSeries).toHaveCount(5);
  await shoot(app, 'compare', () => expect(cmp.root).toContainText('検証損失'));
  expect(page.url()).toContain(`#/runs/compare/${runA},${runB}`);

  // From the comparison to the second run's report, which is renamed.
  await cmp.openRun(`#${runB} Fine-tune 96`);
  await report.rename('Fine-tune 2 blocks');
  await expect(shell.heading(/Fine-tune 2 blocks/)).toBeVisible();
  await expect.poll(async () => (await api.listRuns()).find((r) => r.id === runB)?.name).toBe('Fine-tune 2 blocks');
});

test('the threshold slider moves the confusion matrix, and "use this threshold" changes Inspect’s verdicts', async ({ page }) => {
  const app = kensa(page, server);
  const { api, runs } = app;
  const { report } = runs;
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  const run = await api.getRun(runA);
  const samples = run.evaluations.find((e) => e.split === 'val')!.samples!;
  const ids = samples.map((x) => x.id);
  const nOk = samples.filter((x) => x.label === 0).length;
  const nDefect = samples.length - nOk;
  expect(nOk).toBeGreaterThan(0);
  expect(nDefect).toBeGreaterThan(0);
  const verdicts = async (): Promise<string[]> => {
    const snap = await api.startInspection({ imageIds: ids, runId: runA });
    let task: { state: string; result?: unknown } | undefined;
    await expect
      .poll(async () => {
        task = (await api.listTasks()).find((x) => x.id === snap.id);
        return task?.state;
      })
      .toBe('succeeded');
    const ins = await api.getInspection((task!.result as { inspectionId: string }).inspectionId);
    return ins.items.map((i) => i.verdict);
  };

  await runs.gotoReport(runA);
  await expect(report.confusionMatrix).toBeVisible();
  // The report opens at the stored threshold.
  await expect(report.thresholdValue).toHaveText(run.threshold!.toFixed(3));

  // Threshold 1: nothing is flagged; threshold 0: everything is. Matrix, recall and counts follow the slider.
  await report.setThreshold('1');
  await expect(report.cmCount(0, 0)).toHaveText(String(nOk));
  await expect(report.cmCount(1, 0)).toHaveText(String(nDefect));
  await expect(report.cmCount(1, 1)).toHaveText('0');
  await expect(report.opRecall).toHaveText('0.0 %');
  await report.setThreshold('0');
  await expect(report.cmCount(0, 1)).toHaveText(String(nOk));
  await expect(report.cmCount(1, 1)).toHaveText(String(nDefect));
  await expect(report.cmCount(0, 0)).toHaveText('0');
  await expect(report.opFar).toHaveText('100.0 %');
  await expect(report.opCounts).toContainText(`${nDefect} of ${nDefect} defects flagged, ${nOk} false alarms on ${nOk} OK`);
  await expect(report.evalAccuracy).toContainText(`${((100 * nDefect) / (nOk + nDefect)).toFixed(1)} % (`);

  // "Use this threshold" at 1 (everything passes), then at 0 (everything is NG): Inspect follows each time.
  await report.setThreshold('1');
  await report.useThreshold.click();
  await expect(report.opStored).toContainText('1.000');
  await expect(report.useThreshold).toBeDisabled();
  expect(new Set(await verdicts())).toEqual(new Set(['ok']));
  await report.setThreshold('0');
  await report.useThreshold.click();
  await expect(report.opStored).toContainText('0.000');
  expect(new Set(await verdicts())).toEqual(new Set(['ng']));

  // An aim moves the slider to the threshold chosen on validation; using it stores the aim with it.
  await report.aimAt('recall');
  const chosen = Number(await report.thresholdValue.textContent());
  await expect(report.opRecall).toHaveText('100.0 %');
  await report.useThreshold.click();
  await expect(report.opStored).toContainText('miss no defect');
  const after = await api.getRun(runA);
  expect(after.operatingPoint).toMatchObject({ aim: { kind: 'recall' }, basis: 'validation' });
  expect(after.threshold!.toFixed(3)).toBe(chosen.toFixed(3));
  // The locked test split is shown apart, at the stored threshold.
  await expect(report.testEvaluation).toContainText(after.threshold!.toFixed(3));
  await expect(report.testAccuracy).toHaveText(/\d+\.\d % \(\d+\.\d–\d+\.\d\)/);
  await report.operatingPoint.scrollIntoViewIfNeeded();
  await shoot(app, 'operating-point', () => expect(report.root).toContainText('判定しきい値'));
  await report.testEvaluation.scrollIntoViewIfNeeded();
  await shoot(app, 'test-split', () => expect(report.root).toContainText('ロックされたテストデータ'));
});

test('at 1440 px the runs table fits long names, and the report shows the three split sizes, full-size ROC / PR and units in Japanese', async ({
  page,
}) => {
  const { shell, api, runs } = kensa(page, server);
  const { report } = runs;
  await page.setViewportSize({ width: 1440, height: 900 });
  const long = 'MobileNet v1 0.25 96px FT2 · 12/02 09:41 — second try with fewer rotations and a longer schedule';
  await api.renameRun(runB, long);
  await shell.goto();
  await runs.open();
  const table = runs.table;
  await expect(runs.row(runB)).toContainText('second try');
  // No sideways scrolling: the table fits its card, and "Started" is inside the window.
  const fit = `(() => { const t = document.querySelector('[data-testid=runs-table]'); const w = t.parentElement;
    return [w.scrollWidth, w.clientWidth, t.querySelector('thead th:last-child').getBoundingClientRect().right]; })()`;
  for (const lang of ['en', 'ja'] as const) {
    await shell.setLanguage(lang);
    await expect(table).toContainText(lang === 'ja' ? '開始日時' : 'Started');
    const [scrollW, clientW, startedRight] = (await page.evaluate(fit)) as [number, number, number];
    expect(scrollW, lang).toBeLessThanOrEqual(clientW);
    expect(startedRight, lang).toBeLessThanOrEqual(1440);
    await shell.screenshot(`runs-list-1440-${lang}`);
  }
  await shell.setLanguage('en');

  await runs.openRun(/second try/);
  const run = await api.getRun(runB);
  expect(run.trainCount + run.valCount + run.testCount).toBe(20);
  await expect(report.images).toHaveText(`Images: ${run.trainCount} train · ${run.valCount} val · ${run.testCount} test`);
  // ROC and PR fill their grid cells (they were drawn at a fixed 260 px in a much wider box).
  for (const [id, curve] of [
    ['roc-curve', report.roc],
    ['pr-curve', report.pr],
  ] as const) {
    const box = await curve.locator('svg').boundingBox();
    expect(box!.width, id).toBeGreaterThan(300);
  }
  await shell.screenshot('runs-report-1440-en');
  await report.roc.scrollIntoViewIfNeeded();
  await shell.screenshot('runs-report-roc-1440-en');
  await shell.setLanguage('ja');
  await expect(report.images).toHaveText(`画像：学習 ${run.trainCount}・検証 ${run.valCount}・テスト ${run.testCount}`);
  // Durations in Japanese units (「2.3 秒」, never "2.3 s").
  await expect(report.chips).toContainText(/\d+(\.\d)? 秒/);
  await expect(report.chips).not.toContainText(/\d s\b/);
  await report.roc.scrollIntoViewIfNeeded();
  await shell.screenshot('runs-report-roc-1440-ja');
  await report.loss.scrollIntoViewIfNeeded();
  await shell.screenshot('runs-report-1440-ja');
  await shell.setLanguage('en');
});
