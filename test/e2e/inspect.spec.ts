import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { apiCall, NEU_IMAGES as NEU, trainRuns, waitForTask, switchLanguage, writeNeuCrops } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * Inspecting a folder of new photos with the active model on the real engine: results, sorting and
 * filtering, a CSV download that matches the predictions, and adding photos to the library with a label.
 */
let server: RunningServer;
let newPhotos: string;

const call = <T>(op: string, ...args: unknown[]): Promise<T> => apiCall<T>(server, op, ...args);

const waitTask = (id: string): Promise<{ state: string }> => waitForTask(server, id);

const setLanguage = (page: Page, lang: 'en' | 'ja'): Promise<void> => switchLanguage(server, page, lang);

function parseCsv(text: string): string[][] {
  // The export quotes only cells with commas or quotes; names here have neither.
  return text
    .replace(/^\uFEFF/, '')
    .trimEnd()
    .split(/\r\n/)
    .map((l) => l.split(','));
}

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  const src = join(server.tmp, 'photos');
  await writeNeuCrops(src, { ok: 'crazing', scratch: 'scratches' }, 8);
  // Tomorrow's photos: new files from the same line, one in a sub-folder, one not an image.
  newPhotos = join(server.tmp, 'line3-2026-11-24');
  mkdirSync(join(newPhotos, 'camera2'), { recursive: true });
  for (let i = 0; i < 3; i++)
    await sharp(join(NEU, 'crazing', `crazing_${150 + i}.jpg`))
      .resize(64, 64)
      .jpeg()
      .toFile(join(newPhotos, `part-ok-${i}.jpg`));
  for (let i = 0; i < 3; i++)
    await sharp(join(NEU, 'scratches', `scratches_${150 + i}.jpg`))
      .resize(64, 64)
      .png()
      .toFile(join(newPhotos, 'camera2', `part-scr-${i}.png`));
  writeFileSync(join(newPhotos, 'readme.txt'), 'shift log');

  await call('createProject', join(server.tmp, 'project'), 'Line 3');
  const imp = await call<{ id: string }>('startImport', { paths: [src], labels: { from: 'folders' } });
  expect((await waitTask(imp.id)).state).toBe('succeeded');
  await trainRuns(server, [{ name: 'Line 3 model', inputSize: 96, epochs: 3, batchSize: 4 }]);
});
test.afterAll(async () => {
  await server.stop();
});

test('inspect a folder of new photos, sort and filter, export a CSV that matches, add photos to the library', async ({ page }) => {
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inspect' }).click();
  await expect(page.getByTestId('inspect-model')).toContainText('Active model: #1 Line 3 model');
  await page.screenshot({ path: 'test-results/screens/inspect-start-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(page.getByTestId('inspect-model')).toContainText('使用中のモデル');
  await page.screenshot({ path: 'test-results/screens/inspect-start-ja.png', fullPage: true });
  await setLanguage(page, 'en');

  await page.locator('textarea[name=inspect-paths]').fill(newPhotos);
  await page.getByTestId('start-inspect').click();
  const rows = page.getByTestId('inspect-row');
  await expect(rows).toHaveCount(6, { timeout: 60_000 });
  await expect(page.getByTestId('inspect-summary')).toContainText('img/s');
  await expect(page.getByText('1 files were skipped')).toBeVisible();
  await page.getByText('1 files were skipped').click();
  await expect(page.getByTestId('inspect-skip')).toHaveAttribute('data-code', 'not-an-image');
  await expect(page.getByTestId('inspect-skip')).toContainText('Not an image');
  const speed = await page.getByTestId('inspect-speed').textContent();
  expect(Number.parseFloat(speed ?? '0')).toBeGreaterThan(0);

  // The table shows what the engine predicts for these files.
  const files = [0, 1, 2]
    .map((i) => join(newPhotos, `part-ok-${i}.jpg`))
    .concat([0, 1, 2].map((i) => join(newPhotos, 'camera2', `part-scr-${i}.png`)));
  const direct = await call<{ predictions: { path: string; predictedKey: string }[] }>('predict', { paths: files });
  const shown = await rows.evaluateAll((els) =>
    els.map((e) => [e.getAttribute('data-name'), e.getAttribute('data-predicted'), e.getAttribute('data-verdict')]),
  );
  for (const p of direct.predictions) {
    const name = p.path.split('/').pop()!;
    const row = shown.find((r) => r[0] === name)!;
    expect(row[1]).toBe(p.predictedKey);
    expect(row[2]).toBe(p.predictedKey === 'ok' ? 'ok' : 'ng');
  }
  const ng = shown.filter((r) => r[2] === 'ng').length;
  await expect(page.getByTestId('count-ng')).toHaveText(String(ng));

  // Sorting by verdict puts NG first (descending) or OK first; filtering by NG shows only NG rows.
  await page.getByTestId('sort-verdict').click();
  const verdicts = () => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict') ?? ''));
  await expect
    .poll(async () => {
      const v = await verdicts();
      return v.join() === [...v].sort().join();
    })
    .toBe(true);
  await page.getByTestId('filter-ng').click();
  await expect(rows).toHaveCount(ng);
  await page.getByTestId('filter-all').click();

  // Detail panel of one image (the heatmap slot stays empty until the heatmaps work registers it).
  await rows
    .first()
    .getByRole('button', { name: /Details of/ })
    .click();
  await expect(page.getByTestId('inspect-detail')).toContainText('Probabilities');
  await expect(page.getByTestId('inspect-detail').locator('img')).toHaveJSProperty('complete', true);
  expect(
    await page
      .getByTestId('inspect-detail')
      .locator('img')
      .evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth),
  ).toBeGreaterThan(0);
  // A photo given by path is not in the catalog: no heatmap, and the panel says why.
  await expect(page.getByTestId('inspect-heatmap-note')).toContainText('library images only');
  await page.getByTestId('inspect-heatmap-note').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/inspect-heatmap-note-en.png' });
  await page.screenshot({ path: 'test-results/screens/inspect-results-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(page.getByTestId('inspect-results')).toContainText('予測クラス');
  await page.screenshot({ path: 'test-results/screens/inspect-results-ja.png', fullPage: true });
  await setLanguage(page, 'en');

  // CSV download: one row per image, same classes and verdicts as the table.
  const download = page.waitForEvent('download');
  await page.getByTestId('download-csv').click();
  const csvFile = join(server.tmp, 'inspection.csv');
  await (await download).saveAs(csvFile);
  const csv = parseCsv(readFileSync(csvFile, 'utf8'));
  const head = csv[0]!;
  expect(head.slice(0, 10)).toEqual([
    'index',
    'name',
    'path',
    'image_id',
    'label',
    'predicted',
    'confidence',
    'p_defect',
    'verdict',
    'threshold',
  ]);
  expect(csv).toHaveLength(7);
  for (const line of csv.slice(1)) {
    const p = direct.predictions.find((x) => x.path === line[2])!;
    expect(line[5]).toBe(p.predictedKey);
    expect(line[8]).toBe(p.predictedKey === 'ok' ? 'OK' : 'NG');
    expect(shown.find((r) => r[0] === line[1])?.[2]).toBe(line[8]!.toLowerCase());
  }

  // Add the scratched parts to the library as "scratch".
  const before = (await call<{ total: number }>('getCatalogStats')).total;
  await page.locator('input[type=search]').fill('part-scr');
  await expect(rows).toHaveCount(3);
  await page.getByLabel('Select all shown').check();
  await page.getByTestId('add-label').selectOption({ label: 'scratch' });
  await page.getByTestId('add-to-catalog').click();
  await expect(page.getByText(/Added to the library: 3 new/)).toBeVisible();
  expect((await call<{ total: number }>('getCatalogStats')).total).toBe(before + 3);
  await expect(page.getByTestId('inspect-results')).toContainText('scratch');

  // Now in the library, the detail panel shows the CAM of the predicted class over the photo.
  await rows
    .first()
    .getByRole('button', { name: /Details of/ })
    .click();
  const hm = page.getByTestId('inspect-heatmap-img');
  await expect(hm).toBeVisible({ timeout: 60_000 });
  expect(await hm.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
  await expect(page.getByTestId('inspect-heatmap')).toContainText('CAM for the predicted class');
  await expect(page.getByText(/Added to the library/)).toBeHidden({ timeout: 10_000 });
  await page.getByTestId('inspect-heatmap').getByTestId('heatmap-legend').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/inspect-heatmap-en.png' });
  await setLanguage(page, 'ja');
  await expect(page.getByTestId('inspect-heatmap')).toContainText('予測クラス');
  await page.screenshot({ path: 'test-results/screens/inspect-heatmap-ja.png' });
  await setLanguage(page, 'en');
});
