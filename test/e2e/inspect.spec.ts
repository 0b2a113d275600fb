import { expect, test } from '@playwright/test';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { e2eApi, NEU_IMAGES as NEU, trainRuns, waitForTask, writeNeuCrops } from '../helpers/e2e-api.ts';
import { parseRfc4180 } from '../helpers/rfc4180.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

/**
 * Inspecting a folder of new photos with the active model on the real engine: results, sorting and
 * filtering, a CSV download that matches the predictions, and adding photos to the library with a label.
 */
let server: RunningServer;
let newPhotos: string;

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

  const api = e2eApi(server);
  await api.createProject(join(server.tmp, 'project'), 'Line 3');
  const imp = await api.startImport({ paths: [src], labels: { from: 'folders' } });
  expect((await waitForTask(server, imp.id)).state).toBe('succeeded');
  await trainRuns(server, [{ name: 'Line 3 model', inputSize: 96, epochs: 3, batchSize: 4 }]);
});
test.afterAll(async () => {
  await server.stop();
});

test('inspect a folder of new photos, sort and filter, export a CSV that matches, add photos to the library', async ({ page }) => {
  const { shell, api, inspect } = kensa(page, server);
  const rows = inspect.rows;
  await shell.goto();
  await inspect.open();
  await expect(inspect.model).toContainText('Active model: #1 Line 3 model');
  await shell.screenshot('inspect-start-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(inspect.model).toContainText('使用中のモデル');
  await shell.screenshot('inspect-start-ja', { fullPage: true });
  await shell.setLanguage('en');

  await inspect.inspectPaths(newPhotos);
  await expect(rows).toHaveCount(6, { timeout: 60_000 });
  await expect(inspect.summary).toContainText('img/s');
  await expect(page.getByText('1 files that are not images were left out')).toBeVisible();
  await page.getByText('1 files that are not images were left out').click();
  await expect(inspect.skip).toHaveAttribute('data-code', 'not-an-image');
  await expect(inspect.skip).toContainText('Not an image');
  const speed = await inspect.speed.textContent();
  expect(Number.parseFloat(speed ?? '0')).toBeGreaterThan(0);

  // The table shows what the engine predicts for these files.
  const files = [0, 1, 2]
    .map((i) => join(newPhotos, `part-ok-${i}.jpg`))
    .concat([0, 1, 2].map((i) => join(newPhotos, 'camera2', `part-scr-${i}.png`)));
  const direct = await api.predict({ paths: files });
  const shown = await rows.evaluateAll((els) =>
    els.map((e) => [e.getAttribute('data-name'), e.getAttribute('data-predicted'), e.getAttribute('data-verdict')]),
  );
  for (const p of direct.predictions) {
    const name = p.path!.split('/').pop()!;
    const row = shown.find((r) => r[0] === name)!;
    expect(row[1]).toBe(p.predictedKey);
    expect(row[2]).toBe(p.predictedKey === 'ok' ? 'ok' : 'ng');
  }
  const ng = shown.filter((r) => r[2] === 'ng').length;
  await expect(inspect.countNg).toHaveText(String(ng));

  // Sorting by verdict puts NG first (descending) or OK first; filtering by NG shows only NG rows.
  await inspect.sortBy('verdict');
  await expect
    .poll(async () => {
      const v = await inspect.rowAttributes('data-verdict');
      return v.join() === [...v].sort().join();
    })
    .toBe(true);
  await inspect.filter('ng');
  await expect(rows).toHaveCount(ng);
  await inspect.filter('all');

  // Detail panel of one image (the heatmap slot stays empty until the heatmaps work registers it).
  await inspect.openFirstDetails();
  await expect(inspect.detail).toContainText('Probabilities');
  // The photo (first picture of the panel; the heatmap is the second).
  await expect(inspect.detail.locator('img').first()).toHaveJSProperty('complete', true);
  expect(
    await inspect.detail
      .locator('img')
      .first()
      .evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth),
  ).toBeGreaterThan(0);
  // A photo given by path is not in the library: its heatmap is computed from the file, over the photo in its shape.
  const outside = inspect.heatmapImg;
  await expect(outside).toBeVisible({ timeout: 60_000 });
  expect(await outside.getAttribute('src')).toContain('/inspect-heatmap/');
  expect(await outside.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBe(64);
  await expect(inspect.heatmapNote).toHaveCount(0);
  await inspect.heatmap.getByTestId('heatmap-legend').scrollIntoViewIfNeeded();
  await shell.screenshot('inspect-heatmap-outside-en');
  await shell.setLanguage('ja');
  await expect(inspect.heatmap).toContainText('予測クラス');
  await shell.screenshot('inspect-heatmap-outside-ja');
  await shell.setLanguage('en');
  await shell.screenshot('inspect-results-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(inspect.results).toContainText('予測クラス');
  await shell.screenshot('inspect-results-ja', { fullPage: true });
  await shell.setLanguage('en');

  // CSV download: one row per image, same classes and verdicts as the table.
  const download = page.waitForEvent('download');
  await inspect.downloadCsv();
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
  const before = (await api.getLibraryStats()).total;
  await inspect.search.fill('part-scr');
  await expect(rows).toHaveCount(3);
  await inspect.addShownToLibrary('scratch');
  await expect(page.getByText(/Added to the library: 3 new/)).toBeVisible();
  expect((await api.getLibraryStats()).total).toBe(before + 3);
  await expect(inspect.results).toContainText('scratch');

  // Now in the library, the detail panel shows the CAM of the predicted class over the photo.
  await inspect.openFirstDetails();
  const hm = inspect.heatmapImg;
  await expect(hm).toBeVisible({ timeout: 60_000 });
  expect(await hm.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
  await expect(inspect.heatmap).toContainText('CAM for the predicted class');
  await expect(page.getByText(/Added to the library/)).toBeHidden({ timeout: 10_000 });
  await inspect.heatmap.getByTestId('heatmap-legend').scrollIntoViewIfNeeded();
  await shell.screenshot('inspect-heatmap-en');
  await shell.setLanguage('ja');
  await expect(inspect.heatmap).toContainText('予測クラス');
  await shell.screenshot('inspect-heatmap-ja');
  await shell.setLanguage('en');
});

test('library photos: the filter "label differs from prediction" shows exactly those whose label disagrees', async ({ page }) => {
  const { shell, api, inspect } = kensa(page, server);
  const rows = inspect.rows;
  await shell.goto();
  await inspect.open();
  await inspect.chooseLibrary({ split: 'all', labels: 'labelled' });
  await inspect.start();
  await expect(inspect.summary).toContainText('img/s', { timeout: 60_000 });
  const total = await rows.count();
  expect(total).toBeGreaterThan(10);
  // A high threshold calls almost every part OK, so the defect-labelled photos now disagree with their label.
  await inspect.setThreshold('0.99');
  await expect(inspect.threshold).toHaveValue('0.99');
  const [latest] = await api.listInspections();
  const ins = await api.getInspection(latest!.id);
  const types = await api.listDefectTypes();
  const okIndex = ins.classes.findIndex((c) => c.isOk);
  const differs = ins.items
    .filter((it) => it.labelKey !== null && (types.find((t) => t.key === it.labelKey)?.isOk ? okIndex : 1 - okIndex) !== it.predicted)
    .map((it) => it.name)
    .sort();
  expect(differs.length).toBeGreaterThan(0);
  expect(differs.length).toBeLessThan(total);

  const toggle = inspect.labelDiffers;
  await expect(inspect.labelDiffersLabel()).toContainText(`Label differs from prediction (${differs.length})`);
  await toggle.check();
  await expect(rows).toHaveCount(differs.length);
  expect((await inspect.rowAttributes('data-name')).sort()).toEqual(differs);
  await expect(rows.locator('td[data-differs]')).toHaveCount(differs.length);
  await shell.screenshot('inspect-label-differs-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(inspect.labelDiffersLabel()).toContainText(`ラベルと予測が異なる（${differs.length}）`);
  await shell.screenshot('inspect-label-differs-ja', { fullPage: true });
  await shell.setLanguage('en');
  await toggle.uncheck();
  await expect(rows).toHaveCount(total);
});

test('unreadable files and a missing path are rows with reasons; saving over an existing CSV asks first', async ({ page }) => {
  const { shell, inspect, overwrite } = kensa(page, server);
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

  await shell.goto();
  await inspect.open();
  await inspect.inspectPaths(cam, missing);
  await expect(inspect.rows).toHaveCount(2, { timeout: 60_000 });
  const bad = inspect.unreadableRows;
  await expect(bad).toHaveCount(4);
  await expect(inspect.countUnreadable).toHaveText('4');
  const codes = await bad.evaluateAll((els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute('data-name'), e.getAttribute('data-code')])),
  );
  expect(codes['line3-cam6-not-mounted']).toBe('missing');
  expect(codes['empty.png']).toBe('empty');
  expect(codes['animation.jpg']).toBe('unsupported');
  expect(['corrupt', 'truncated']).toContain(codes['damaged.jpg']);
  const reasonOf = (name: string) => inspect.unreadableRow(name).getByTestId('unreadable-reason');
  await expect(reasonOf('line3-cam6-not-mounted')).toHaveText('File or folder not found');
  await expect(reasonOf('empty.png')).toHaveText('Empty file');
  await expect(reasonOf('animation.jpg')).toHaveText('Unsupported format');
  await inspect.filter('unreadable');
  await expect(inspect.rows).toHaveCount(0);
  await expect(bad).toHaveCount(4);
  await inspect.filter('all');
  await inspect.results.scrollIntoViewIfNeeded();
  await shell.screenshot('inspect-unreadable-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(reasonOf('line3-cam6-not-mounted')).toHaveText('ファイルまたはフォルダーが見つかりません');
  await expect(reasonOf('empty.png')).toHaveText('空のファイル');
  await expect(bad.first()).toContainText('読み込み不可');
  await shell.screenshot('inspect-unreadable-ja', { fullPage: true });
  await shell.setLanguage('en');

  // Saving the CSV over a file that is there: the app asks; Cancel keeps the file, Replace writes the results.
  const out = join(server.tmp, 'reports', 'cam5.csv');
  mkdirSync(join(server.tmp, 'reports'), { recursive: true });
  writeFileSync(out, 'yesterday’s report');
  await inspect.saveCsvTo(out);
  const dialog = overwrite.root;
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Replace the existing file?');
  await expect(overwrite.path).toHaveText(out);
  await shell.screenshot('inspect-overwrite-en');
  await overwrite.cancel.click();
  await expect(dialog).toBeHidden();
  expect(readFileSync(out, 'utf8')).toBe('yesterday’s report');

  await shell.setLanguage('ja');
  await inspect.saveCsv('保存');
  await expect(dialog).toContainText('既存のファイルを上書きしますか？');
  await shell.screenshot('inspect-overwrite-ja');
  await overwrite.replace.click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(/行を保存しました/)).toBeVisible();
  await shell.setLanguage('en');
  const text = readFileSync(out, 'utf8');
  expect(statSync(out).size).toBeGreaterThan(100);
  const rows = parseRfc4180(text.replace(/^\uFEFF/, ''));
  const head = rows[0]!;
  expect(rows).toHaveLength(1 + 2 + 4);
  const unreadable = rows.filter((r) => r[head.indexOf('verdict')] === 'UNREADABLE');
  expect(Object.fromEntries(unreadable.map((r) => [r[head.indexOf('name')], r[head.indexOf('reason_code')]]))).toEqual(codes);
});

test('test-time augmentation: the switch starts at the model’s setting; on, the results and the CSV say so', async ({ page }) => {
  const { shell, api, inspect } = kensa(page, server);
  await shell.goto();
  await inspect.open();
  // The model was trained without it: off by default.
  await expect(inspect.tta).not.toBeChecked();
  await expect(inspect.model).toContainText('Test-time augmentation (×3 views, slower)');
  await inspect.tta.check();
  await inspect.inspectPaths(newPhotos);
  await expect(inspect.rows).toHaveCount(6, { timeout: 60_000 });
  await expect(inspect.ttaKpi).toContainText('On (×3 views)');
  await shell.screenshot('inspect-tta-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(inspect.model).toContainText('テスト時拡張');
  await expect(inspect.ttaKpi).toContainText('オン');
  await shell.screenshot('inspect-tta-ja', { fullPage: true });
  await shell.setLanguage('en');

  const [latest] = await api.listInspections();
  expect((await api.getInspection(latest!.id)).tta).toBe(true);
  const rows = parseRfc4180(await api.inspectionCsv(latest!.id));
  const col = rows[0]!.indexOf('tta');
  expect(col).toBeGreaterThan(0);
  expect(rows.slice(1).map((r) => r[col])).toEqual(Array(6).fill('on'));
});
