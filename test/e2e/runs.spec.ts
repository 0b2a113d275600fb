import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiCall, createNeuProject, switchLanguage, trainRuns } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * Runs and reports on the real engine: two small runs trained through the API, then the list, a report
 * (confusion-matrix cell through to its images, threshold, HTML export, active model) and a comparison.
 */
let server: RunningServer;
let runA = 0;
let runB = 0;

const call = <T>(op: string, ...args: unknown[]): Promise<T> => apiCall<T>(server, op, ...args);

const setLanguage = (page: Page, lang: 'en' | 'ja'): Promise<void> => switchLanguage(server, page, lang);

async function shoot(page: Page, name: string, ready: () => Promise<void>): Promise<void> {
  await page.screenshot({ path: `test-results/screens/runs-${name}-en.png`, fullPage: true });
  await setLanguage(page, 'ja');
  await ready();
  await page.screenshot({ path: `test-results/screens/runs-${name}-ja.png`, fullPage: true });
  await setLanguage(page, 'en');
}

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  await createNeuProject(server, { ok: 'crazing', scratch: 'scratches' }, 10);
  const split = { mode: 'random', valFraction: 0.3, testFraction: 0.2, seed: 3 };
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
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  page.on('console', (m) => m.type() === 'error' && console.log('CONSOLE', m.text()));
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
  const table = page.getByTestId('runs-table');
  await expect(table.getByTestId(`run-row-${runA}`)).toContainText('Transfer 96');
  await expect(table.getByTestId(`run-row-${runB}`)).toContainText('Fine-tune 96');
  await expect(table.getByTestId(`run-row-${runB}`)).toContainText('Finished');
  await expect(table.getByTestId(`run-row-${runB}`).locator('td').nth(6)).toHaveText('2');
  await expect(table.getByTestId(`run-row-${runA}`)).toContainText('wasm');
  await shoot(page, 'list', () => expect(table).toContainText('完了'));

  // Report of the first run.
  await table.getByRole('button', { name: /Transfer 96/ }).click();
  const report = page.getByTestId('run-report');
  await expect(report.getByTestId('confusion-matrix')).toBeVisible();
  await expect(report.getByTestId('report-loss')).toHaveAttribute('data-points', /^[1-9]/);
  const run = await call<{ evaluations: { split: string; confusionImageIds: number[][][]; binary: { roc: unknown[] } | null }[] }>(
    'getRun',
    runA,
  );
  const val = run.evaluations.find((e) => e.split === 'val')!;
  // Click the first non-empty cell: its thumbnails are exactly that cell's images.
  let cell: [number, number] = [0, 0];
  val.confusionImageIds.forEach((row, a) =>
    row.forEach((ids, p) => ids.length && !val.confusionImageIds[cell[0]]![cell[1]]!.length && (cell = [a, p])),
  );
  const ids = val.confusionImageIds[cell[0]]![cell[1]]!;
  await shoot(page, 'report', () => expect(report).toContainText('混同行列'));
  await report.getByTestId(`cm-cell-${cell[0]}-${cell[1]}`).click();
  const thumbs = report.getByTestId('cell-thumbs').locator('[data-image-id]');
  await expect(thumbs).toHaveCount(ids.length);
  expect((await thumbs.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-image-id'))))).sort()).toEqual([...ids].sort());
  await expect(thumbs.first().locator('img')).toHaveJSProperty('complete', true);
  // Binary model: ROC / PR with a threshold slider.
  await expect(report.getByTestId('roc-curve')).toBeVisible();
  await report.getByTestId('threshold-slider').fill('0');
  await expect(report.getByTestId('op-recall')).toHaveText('100.0 %');
  await shoot(page, 'report-matrix', () => expect(report).toContainText('混同行列'));

  // Self-contained HTML report, saved where the user says (as every export; the project's exports folder suggested).
  await report.getByTestId('export-html').click();
  const save = page.getByTestId('report-html-save');
  await expect(save.locator('input[name=export-path]')).toHaveValue(/\/exports\/reports\/kensa-run-\d+-report\.html$/);
  await shoot(page, 'report-save', () => expect(save).toContainText('レポート（HTML）の保存先'));
  const file = join(server.tmp, 'report.html');
  await save.locator('input[name=export-path]').fill(file);
  await save.getByTestId('report-html-save-save').click();
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
  await report.getByRole('button', { name: 'Stop using as active model' }).click();
  await expect.poll(async () => await call<{ id: number } | null>('getActiveModel')).toBeNull();
  await report.getByTestId('set-active').click();
  await expect(report).toContainText('Active model');
  await expect.poll(async () => (await call<{ id: number } | null>('getActiveModel'))?.id).toBe(runA);

  // Export the model to a folder and import it back as a new run.
  const exportDir = join(server.tmp, 'export', 'transfer-96');
  await report.getByRole('button', { name: 'Export model…' }).click();
  await report.getByLabel('Export to folder').fill(exportDir);
  await report.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(page.getByText(/Exported 3 files to/)).toBeVisible();
  expect(readFileSync(join(exportDir, 'kensa-model.json'), 'utf8')).toMatch(/"format": ?"kensa-model"/);
  await report.getByRole('button', { name: /Runs/ }).click();
  await page.getByRole('button', { name: 'Import model…' }).click();
  await page.getByLabel(/Folder of an exported model/).fill(exportDir);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(table.locator('tbody tr')).toHaveCount(3);
  await expect(table.locator('tbody tr').first()).toContainText('Imported');

  // Compare both trained runs.
  await table.getByTestId(`run-row-${runA}`).getByRole('checkbox').check();
  await table.getByTestId(`run-row-${runB}`).getByRole('checkbox').check();
  await page.getByTestId('compare-runs').click();
  const cmp = page.getByTestId('runs-compare');
  await expect(cmp.getByTestId('compare-table')).toContainText('Transfer 96');
  await expect(cmp.getByTestId('compare-table')).toContainText('Fine-tune 96');
  await expect(cmp.getByTestId('compare-loss')).toHaveAttribute('data-points', '3');
  await expect(cmp.locator('[data-testid=compare-loss] .u-legend .u-series')).toHaveCount(5);
  await shoot(page, 'compare', () => expect(cmp).toContainText('検証損失'));
  expect(page.url()).toContain(`#/runs/compare/${runA},${runB}`);

  // From the comparison to the second run's report, which is renamed.
  await cmp.getByRole('button', { name: `#${runB} Fine-tune 96` }).click();
  await page.getByRole('button', { name: 'Rename run' }).click();
  await page.getByLabel('Rename run').fill('Fine-tune 2 blocks');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: /Fine-tune 2 blocks/ })).toBeVisible();
  await expect
    .poll(async () => (await call<{ id: number; name: string }[]>('listRuns')).find((r) => r.id === runB)?.name)
    .toBe('Fine-tune 2 blocks');
});

test('the threshold slider moves the confusion matrix, and "use this threshold" changes Inspect’s verdicts', async ({ page }) => {
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  type Ev = { split: string; samples: { id: number; label: number }[]; threshold: number | null };
  const run = await call<{ threshold: number | null; evaluations: Ev[] }>('getRun', runA);
  const val = run.evaluations.find((e) => e.split === 'val')!;
  const ids = val.samples.map((x) => x.id);
  const nOk = val.samples.filter((x) => x.label === 0).length;
  const nDefect = val.samples.length - nOk;
  expect(nOk).toBeGreaterThan(0);
  expect(nDefect).toBeGreaterThan(0);
  const verdicts = async (): Promise<string[]> => {
    const snap = await call<{ id: string }>('startInspection', { imageIds: ids, runId: runA });
    let task: { state: string; result?: { inspectionId: string } } | undefined;
    await expect
      .poll(async () => {
        task = (await call<{ id: string; state: string; result?: { inspectionId: string } }[]>('listTasks')).find((x) => x.id === snap.id);
        return task?.state;
      })
      .toBe('succeeded');
    const ins = await call<{ items: { verdict: string }[] }>('getInspection', task!.result!.inspectionId);
    return ins.items.map((i) => i.verdict);
  };

  await page.goto(`${server.url}#/runs/${runA}`);
  const report = page.getByTestId('run-report');
  const cm = report.getByTestId('confusion-matrix');
  await expect(cm).toBeVisible();
  const cellText = (a: number, p: number) => report.getByTestId(`cm-cell-${a}-${p}`).locator('strong');
  // The report opens at the stored threshold.
  await expect(report.getByTestId('threshold-value')).toHaveText(run.threshold!.toFixed(3));

  // Threshold 1: nothing is flagged; threshold 0: everything is. Matrix, recall and counts follow the slider.
  const slider = report.getByTestId('threshold-slider');
  await slider.fill('1');
  await expect(cellText(0, 0)).toHaveText(String(nOk));
  await expect(cellText(1, 0)).toHaveText(String(nDefect));
  await expect(cellText(1, 1)).toHaveText('0');
  await expect(report.getByTestId('op-recall')).toHaveText('0.0 %');
  await slider.fill('0');
  await expect(cellText(0, 1)).toHaveText(String(nOk));
  await expect(cellText(1, 1)).toHaveText(String(nDefect));
  await expect(cellText(0, 0)).toHaveText('0');
  await expect(report.getByTestId('op-far')).toHaveText('100.0 %');
  await expect(report.getByTestId('op-counts')).toContainText(`${nDefect} of ${nDefect} defects flagged, ${nOk} false alarms on ${nOk} OK`);
  await expect(report.getByTestId('eval-accuracy')).toContainText(`${((100 * nDefect) / (nOk + nDefect)).toFixed(1)} % (`);

  // "Use this threshold" at 1 (everything passes), then at 0 (everything is NG): Inspect follows each time.
  await slider.fill('1');
  await report.getByTestId('use-threshold').click();
  await expect(report.getByTestId('op-stored')).toContainText('1.000');
  await expect(report.getByTestId('use-threshold')).toBeDisabled();
  expect(new Set(await verdicts())).toEqual(new Set(['ok']));
  await slider.fill('0');
  await report.getByTestId('use-threshold').click();
  await expect(report.getByTestId('op-stored')).toContainText('0.000');
  expect(new Set(await verdicts())).toEqual(new Set(['ng']));

  // An aim moves the slider to the threshold chosen on validation; using it stores the aim with it.
  await report.getByTestId('aim-recall').check();
  const chosen = Number(await report.getByTestId('threshold-value').textContent());
  await expect(report.getByTestId('op-recall')).toHaveText('100.0 %');
  await report.getByTestId('use-threshold').click();
  await expect(report.getByTestId('op-stored')).toContainText('miss no defect');
  const after = await call<{ threshold: number; operatingPoint: { aim: { kind: string }; basis: string } }>('getRun', runA);
  expect(after.operatingPoint).toMatchObject({ aim: { kind: 'recall' }, basis: 'validation' });
  expect(after.threshold.toFixed(3)).toBe(chosen.toFixed(3));
  // The locked test split is shown apart, at the stored threshold.
  await expect(report.getByTestId('test-evaluation')).toContainText(after.threshold.toFixed(3));
  await expect(report.getByTestId('test-accuracy')).toHaveText(/\d+\.\d % \(\d+\.\d–\d+\.\d\)/);
  await report.getByTestId('operating-point').scrollIntoViewIfNeeded();
  await shoot(page, 'operating-point', () => expect(report).toContainText('判定しきい値'));
  await report.getByTestId('test-evaluation').scrollIntoViewIfNeeded();
  await shoot(page, 'test-split', () => expect(report).toContainText('ロックされたテストデータ'));
});

test('at 1440 px the runs table fits long names, and the report shows the three split sizes, full-size ROC / PR and units in Japanese', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  const long = 'MobileNet v1 0.25 96px FT2 · 12/02 09:41 — second try with fewer rotations and a longer schedule';
  await call('renameRun', runB, long);
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
  const table = page.getByTestId('runs-table');
  await expect(table.getByTestId(`run-row-${runB}`)).toContainText('second try');
  // No sideways scrolling: the table fits its card, and "Started" is inside the window.
  const fit = `(() => { const t = document.querySelector('[data-testid=runs-table]'); const w = t.parentElement;
    return [w.scrollWidth, w.clientWidth, t.querySelector('thead th:last-child').getBoundingClientRect().right]; })()`;
  for (const lang of ['en', 'ja'] as const) {
    await setLanguage(page, lang);
    await expect(table).toContainText(lang === 'ja' ? '開始日時' : 'Started');
    const [scrollW, clientW, startedRight] = (await page.evaluate(fit)) as [number, number, number];
    expect(scrollW, lang).toBeLessThanOrEqual(clientW);
    expect(startedRight, lang).toBeLessThanOrEqual(1440);
    await page.screenshot({ path: `test-results/screens/runs-list-1440-${lang}.png` });
  }
  await setLanguage(page, 'en');

  await table.getByRole('button', { name: /second try/ }).click();
  const report = page.getByTestId('run-report');
  const run = await call<{ trainCount: number; valCount: number; testCount: number }>('getRun', runB);
  expect(run.trainCount + run.valCount + run.testCount).toBe(20);
  await expect(report.getByTestId('report-images')).toHaveText(
    `Images: ${run.trainCount} train · ${run.valCount} val · ${run.testCount} test`,
  );
  // ROC and PR fill their grid cells (they were drawn at a fixed 260 px in a much wider box).
  for (const id of ['roc-curve', 'pr-curve']) {
    const box = await report.getByTestId(id).locator('svg').boundingBox();
    expect(box!.width, id).toBeGreaterThan(300);
  }
  await page.screenshot({ path: 'test-results/screens/runs-report-1440-en.png' });
  await report.getByTestId('roc-curve').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/runs-report-roc-1440-en.png' });
  await setLanguage(page, 'ja');
  await expect(report.getByTestId('report-images')).toHaveText(
    `画像：学習 ${run.trainCount}・検証 ${run.valCount}・テスト ${run.testCount}`,
  );
  // Durations in Japanese units (「2.3 秒」, never "2.3 s").
  await expect(report.locator('.chips')).toContainText(/\d+(\.\d)? 秒/);
  await expect(report.locator('.chips')).not.toContainText(/\d s\b/);
  await report.getByTestId('roc-curve').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/runs-report-roc-1440-ja.png' });
  await report.getByTestId('report-loss').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/runs-report-1440-ja.png' });
  await setLanguage(page, 'en');
});
