import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { apiCall, NEU_IMAGES as NEU, trainRuns, waitForTask, switchLanguage, writeNeuCrops } from '../helpers/e2e-api.ts';
import { parseRfc4180 } from '../helpers/rfc4180.ts';
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
  await expect(page.getByText('1 files that are not images were left out')).toBeVisible();
  await page.getByText('1 files that are not images were left out').click();
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
  // The photo (first picture of the panel; the heatmap is the second).
  await expect(page.getByTestId('inspect-detail').locator('img').first()).toHaveJSProperty('complete', true);
  expect(
    await page
      .getByTestId('inspect-detail')
      .locator('img')
      .first()
      .evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth),
  ).toBeGreaterThan(0);
  // A photo given by path is not in the library: its heatmap is computed from the file, over the photo in its shape.
  const outside = page.getByTestId('inspect-heatmap-img');
  await expect(outside).toBeVisible({ timeout: 60_000 });
  expect(await outside.getAttribute('src')).toContain('/inspect-heatmap/');
  expect(await outside.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBe(64);
  await expect(page.getByTestId('inspect-heatmap-note')).toHaveCount(0);
  await page.getByTestId('inspect-heatmap').getByTestId('heatmap-legend').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/inspect-heatmap-outside-en.png' });
  await setLanguage(page, 'ja');
  await expect(page.getByTestId('inspect-heatmap')).toContainText('予測クラス');
  await page.screenshot({ path: 'test-results/screens/inspect-heatmap-outside-ja.png' });
  await setLanguage(page, 'en');
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

test('library photos: the filter "label differs from prediction" shows exactly those whose label disagrees', async ({ page }) => {
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inspect' }).click();
  await page.getByRole('tab', { name: 'Images in the library' }).click();
  await page.locator('select').filter({ hasText: 'All splits' }).selectOption('all');
  await page.locator('select').filter({ hasText: 'Labelled only' }).selectOption('labelled');
  await page.getByTestId('start-inspect').click();
  const rows = page.getByTestId('inspect-row');
  await expect(page.getByTestId('inspect-summary')).toContainText('img/s', { timeout: 60_000 });
  const total = await rows.count();
  expect(total).toBeGreaterThan(10);
  // A high threshold calls almost every part OK, so the defect-labelled photos now disagree with their label.
  await page.getByRole('slider', { name: 'NG threshold on P(defect)' }).evaluate((el) => {
    const input = el as unknown as { value: string; dispatchEvent(e: unknown): boolean };
    input.value = '0.99';
    input.dispatchEvent(new (globalThis as unknown as { Event: new (t: string, o: object) => unknown }).Event('change', { bubbles: true }));
  });
  await expect(page.getByRole('slider', { name: 'NG threshold on P(defect)' })).toHaveValue('0.99');
  const [latest] = await call<{ id: string }[]>('listInspections');
  const ins = await call<{
    classes: { key: string; isOk: boolean }[];
    items: { name: string; labelKey: string | null; predicted: number }[];
  }>('getInspection', latest!.id);
  const types = await call<{ key: string; isOk: boolean }[]>('listDefectTypes');
  const okIndex = ins.classes.findIndex((c) => c.isOk);
  const differs = ins.items
    .filter((it) => it.labelKey !== null && (types.find((t) => t.key === it.labelKey)?.isOk ? okIndex : 1 - okIndex) !== it.predicted)
    .map((it) => it.name)
    .sort();
  expect(differs.length).toBeGreaterThan(0);
  expect(differs.length).toBeLessThan(total);

  const toggle = page.getByTestId('filter-label-differs');
  await expect(page.locator('label').filter({ has: toggle })).toContainText(`Label differs from prediction (${differs.length})`);
  await toggle.check();
  await expect(rows).toHaveCount(differs.length);
  expect((await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''))).sort()).toEqual(differs);
  await expect(rows.locator('td[data-differs]')).toHaveCount(differs.length);
  await page.screenshot({ path: 'test-results/screens/inspect-label-differs-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(page.locator('label').filter({ has: toggle })).toContainText(`ラベルと予測が異なる（${differs.length}）`);
  await page.screenshot({ path: 'test-results/screens/inspect-label-differs-ja.png', fullPage: true });
  await setLanguage(page, 'en');
  await toggle.uncheck();
  await expect(rows).toHaveCount(total);
});

test('unreadable files and a missing path are rows with reasons; saving over an existing CSV asks first', async ({ page }) => {
  // A camera folder with a damaged JPEG, an empty PNG and a GIF saved as .jpg, and a second folder that is not there.
  const cam = join(server.tmp, 'line3-cam5');
  mkdirSync(cam, { recursive: true });
  for (let i = 0; i < 2; i++)
    await sharp(join(NEU, 'crazing', `crazing_${170 + i}.jpg`))
      .resize(64, 64)
      .jpeg()
      .toFile(join(cam, `good-${i}.jpg`));
  const noise = Buffer.alloc(500, 0x5a);
  writeFileSync(join(cam, 'damaged.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), noise]));
  writeFileSync(join(cam, 'empty.png'), '');
  writeFileSync(join(cam, 'animation.jpg'), Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(30)]));
  const missing = join(server.tmp, 'line3-cam6-not-mounted');

  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inspect' }).click();
  await page.locator('textarea[name=inspect-paths]').fill(`${cam}\n${missing}`);
  await page.getByTestId('start-inspect').click();
  await expect(page.getByTestId('inspect-row')).toHaveCount(2, { timeout: 60_000 });
  const bad = page.getByTestId('inspect-unreadable-row');
  await expect(bad).toHaveCount(4);
  await expect(page.getByTestId('count-unreadable')).toHaveText('4');
  const codes = await bad.evaluateAll((els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute('data-name'), e.getAttribute('data-code')])),
  );
  expect(codes['line3-cam6-not-mounted']).toBe('missing');
  expect(codes['empty.png']).toBe('empty');
  expect(codes['animation.jpg']).toBe('unsupported');
  expect(['corrupt', 'truncated']).toContain(codes['damaged.jpg']);
  const reasonOf = (name: string) => page.locator(`tr[data-testid="inspect-unreadable-row"][data-name="${name}"]`);
  await expect(reasonOf('line3-cam6-not-mounted').getByTestId('unreadable-reason')).toHaveText('File or folder not found');
  await expect(reasonOf('empty.png').getByTestId('unreadable-reason')).toHaveText('Empty file');
  await expect(reasonOf('animation.jpg').getByTestId('unreadable-reason')).toHaveText('Unsupported format');
  await page.getByTestId('filter-unreadable').click();
  await expect(page.getByTestId('inspect-row')).toHaveCount(0);
  await expect(bad).toHaveCount(4);
  await page.getByTestId('filter-all').click();
  await page.getByTestId('inspect-results').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/inspect-unreadable-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(reasonOf('line3-cam6-not-mounted').getByTestId('unreadable-reason')).toHaveText('ファイルまたはフォルダーが見つかりません');
  await expect(reasonOf('empty.png').getByTestId('unreadable-reason')).toHaveText('空のファイル');
  await expect(bad.first()).toContainText('読み込み不可');
  await page.screenshot({ path: 'test-results/screens/inspect-unreadable-ja.png', fullPage: true });
  await setLanguage(page, 'en');

  // Saving the CSV over a file that is there: the app asks; Cancel keeps the file, Replace writes the results.
  const out = join(server.tmp, 'reports', 'cam5.csv');
  mkdirSync(join(server.tmp, 'reports'), { recursive: true });
  writeFileSync(out, 'yesterday’s report');
  await page.getByRole('button', { name: 'Save CSV to…' }).click();
  await page.locator('input[name=csv-path]').fill(out);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const dialog = page.getByTestId('overwrite-confirm');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Replace the existing file?');
  await expect(page.getByTestId('overwrite-path')).toHaveText(out);
  await page.screenshot({ path: 'test-results/screens/inspect-overwrite-en.png' });
  await page.getByTestId('overwrite-cancel').click();
  await expect(dialog).toBeHidden();
  expect(readFileSync(out, 'utf8')).toBe('yesterday’s report');

  await setLanguage(page, 'ja');
  await page.getByRole('button', { name: '保存', exact: true }).click();
  await expect(dialog).toContainText('既存のファイルを上書きしますか？');
  await page.screenshot({ path: 'test-results/screens/inspect-overwrite-ja.png' });
  await page.getByTestId('overwrite-replace').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(/行を保存しました/)).toBeVisible();
  await setLanguage(page, 'en');
  const text = readFileSync(out, 'utf8');
  expect(statSync(out).size).toBeGreaterThan(100);
  const rows = parseRfc4180(text.replace(/^\uFEFF/, ''));
  const head = rows[0]!;
  expect(rows).toHaveLength(1 + 2 + 4);
  const unreadable = rows.filter((r) => r[head.indexOf('verdict')] === 'UNREADABLE');
  expect(Object.fromEntries(unreadable.map((r) => [r[head.indexOf('name')], r[head.indexOf('reason_code')]]))).toEqual(codes);
});
