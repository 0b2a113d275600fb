import { expect, test } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { apiCall, switchLanguage } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * Browser mode has no native dialog: the folder is picked with the app's own browser (typed path with Tab
 * completion, keyboard in the list, choose), then the import takes labelme regions from JSON files beside the photos
 * and its report counts the regions and lists the one broken JSON.
 */
let server: RunningServer;
let importRoot: string;

async function photo(file: string, seed: number): Promise<void> {
  const img = sharp({
    create: { width: 160, height: 120, channels: 3, background: { r: 60 + seed * 9, g: 64 + seed * 9, b: 70 + seed * 9 } },
  });
  writeFileSync(file, await img.jpeg({ quality: 85 }).toBuffer());
}

function labelme(file: string, image: string, shapes: { label: string; shape_type: string; points: number[][] }[]): void {
  writeFileSync(file, JSON.stringify({ version: '5.4.1', imagePath: image, imageWidth: 160, imageHeight: 120, shapes }));
}

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  importRoot = join(server.tmp, 'incoming');
  const dir = join(importRoot, 'scratch');
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(server.tmp, 'other'), { recursive: true });
  // COCO: one file elsewhere, a polygon on core-04 and a box on a photo that is not imported.
  writeFileSync(
    join(server.tmp, 'other', 'instances.json'),
    JSON.stringify({
      images: [
        { id: 4, file_name: 'core-04.jpg', width: 160, height: 120 },
        { id: 9, file_name: 'elsewhere.jpg', width: 160, height: 120 },
      ],
      categories: [{ id: 1, name: 'chip' }],
      annotations: [
        { id: 1, image_id: 4, category_id: 1, segmentation: [[20, 20, 60, 20, 60, 50, 20, 50]], bbox: [20, 20, 40, 30] },
        { id: 2, image_id: 9, category_id: 1, bbox: [1, 1, 5, 5] },
      ],
    }),
  );
  writeFileSync(join(server.tmp, 'other', 'notes.txt'), 'not offered when choosing a JSON file');
  for (let i = 1; i <= 4; i++) await photo(join(dir, `core-0${i}.jpg`), i);
  labelme(join(dir, 'core-01.json'), 'core-01.jpg', [
    {
      label: 'scratch',
      shape_type: 'rectangle',
      points: [
        [10, 10],
        [60, 30],
      ],
    },
    {
      label: 'dent',
      shape_type: 'polygon',
      points: [
        [80, 40],
        [120, 40],
        [100, 90],
      ],
    },
  ]);
  labelme(join(dir, 'core-02.json'), '..\\scratch\\core-02.jpg', [
    {
      label: 'Scratches',
      shape_type: 'rectangle',
      points: [
        [5, 5],
        [25, 100],
      ],
    },
  ]);
  writeFileSync(join(dir, 'core-03.json'), '{"shapes": [ {"label": ');
  await apiCall(server, 'createProject', join(server.tmp, 'project'), 'Line 3 stators');
});
test.afterAll(async () => {
  await server.stop();
});

test('pick the import folder with the browser, import with labelme regions, see the regions in the report', async ({ page }) => {
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Library' }).click();
  await page.getByTestId('import-button').click();
  const dialog = page.getByTestId('import-dialog');

  // --- the folder browser: a typed path, then Tab completes "inc" to the folder and goes in
  await dialog.getByTestId('import-add-folder').click();
  const fb = page.getByTestId('file-browser');
  await expect(fb).toBeVisible();
  const path = fb.getByTestId('file-browser-path');
  await path.fill(`${server.tmp}/`);
  await path.press('Enter');
  const list = fb.getByTestId('file-browser-list');
  await expect(list.getByRole('option', { name: /incoming/ })).toBeVisible();
  await expect(list.getByRole('option', { name: /other/ })).toBeVisible();
  await path.press('End');
  await path.pressSequentially('inc');
  await expect(list.getByRole('option')).toHaveCount(1);
  await path.press('Tab');
  await expect(path).toHaveValue(`${importRoot}/`);
  await expect(list.getByRole('option', { name: /scratch/ })).toBeVisible();
  await expect(fb.getByTestId('file-browser-crumbs')).toContainText('incoming');
  await page.screenshot({ path: 'test-results/screens/picker-browser-en.png' });

  // --- keyboard in the list: Backspace goes up, type-ahead + Enter goes back in, then choose this folder
  await path.press('ArrowDown');
  await page.keyboard.press('Backspace');
  await expect(list.getByRole('option', { name: /other/ })).toBeVisible();
  await page.keyboard.type('inc');
  await page.keyboard.press('Enter');
  await expect(list.getByRole('option', { name: /scratch/ })).toBeVisible();
  await expect(fb.getByTestId('file-browser-picked')).toHaveText(importRoot);
  await fb.getByTestId('file-browser-choose').click();
  await expect(fb).toBeHidden();
  await expect(dialog.locator('textarea[name=import-paths]')).toHaveValue(importRoot);

  // --- regions: labelme, the folder picked with the browser again (it reopens where it was left)
  await dialog.getByLabel('Labels from folder names').check();
  await dialog.getByRole('button', { name: 'Find folders' }).click();
  await expect(dialog.getByTestId('folder-mapping')).toContainText('scratch');
  await dialog.getByTestId('regions-format').selectOption('labelme');
  await dialog.getByRole('button', { name: 'Folder…', exact: true }).click();
  await expect(fb).toBeVisible();
  await expect(list.getByRole('option', { name: /scratch/ })).toBeVisible();
  await list.getByRole('option', { name: /scratch/ }).click();
  await expect(fb.getByTestId('file-browser-choose')).toHaveText('Choose “scratch”');
  await fb.getByTestId('file-browser-choose').click();
  await expect(dialog.getByTestId('regions-path')).toHaveValue(join(importRoot, 'scratch'));
  const preview = dialog.getByTestId('regions-preview');
  await expect(preview).toContainText('3 regions in 2 files match the images to import');
  await expect(preview).toContainText('Annotation problems: 1');
  await dialog.getByTestId('import-regions').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/picker-import-regions-en.png' });

  await dialog.getByTestId('import-start').click();
  const report = dialog.getByTestId('import-report');
  await expect(report).toBeVisible({ timeout: 30_000 });
  await expect(report.getByTestId('report-imported')).toHaveText('4');
  // The JSON files beside the photos are annotations, not skipped "not an image" files.
  await expect(report.getByTestId('report-skipped')).toHaveText('0');
  await expect(report.getByTestId('report-regions')).toHaveText('3');
  await expect(report.getByTestId('region-problems').locator('tr', { hasText: 'core-03.json' })).toContainText('Not valid JSON');
  await page.screenshot({ path: 'test-results/screens/picker-import-report-en.png' });
  const stats = await apiCall<{ total: number }>(server, 'getCatalogStats');
  expect(stats.total).toBe(4);

  // --- Japanese: the same dialogs, worded in Japanese
  await switchLanguage(server, page, 'ja');
  await expect(report.getByTestId('region-problems')).toContainText('JSON として読めません');
  await page.screenshot({ path: 'test-results/screens/picker-import-report-ja.png' });
  await dialog.getByRole('button', { name: '続けて取り込む' }).click();
  await dialog.getByTestId('regions-format').selectOption('labelme');
  await dialog.getByTestId('regions-path').fill(join(importRoot, 'scratch'));
  await dialog.locator('textarea[name=import-paths]').fill(importRoot);
  await expect(dialog.getByTestId('regions-preview')).toContainText('取り込む画像に対応する領域: 2 ファイルに 3 件');
  await page.screenshot({ path: 'test-results/screens/picker-import-regions-ja.png' });
  // A file for COCO: only .json files are offered; click selects, Open chooses.
  await dialog.getByTestId('regions-format').selectOption('coco');
  await dialog.getByRole('button', { name: 'ファイル…', exact: true }).click();
  await expect(fb).toBeVisible();
  await fb.getByTestId('file-browser-path').fill(join(server.tmp, 'other') + '/');
  await fb.getByTestId('file-browser-path').press('Enter');
  await expect(list.getByRole('option', { name: /instances\.json/ })).toBeVisible();
  await expect(list.getByRole('option', { name: /notes\.txt/ })).toHaveCount(0);
  await list.getByRole('option', { name: /instances\.json/ }).click();
  await expect(fb.getByTestId('file-browser-picked')).toHaveText('instances.json');
  await page.screenshot({ path: 'test-results/screens/picker-file-ja.png' });
  await fb.getByTestId('file-browser-choose').click();
  await expect(dialog.getByTestId('regions-path')).toHaveValue(join(server.tmp, 'other', 'instances.json'));
  await expect(dialog.getByTestId('regions-preview')).toContainText('取り込む画像に対応する領域: 画像 1 枚に 1 件');
  await expect(dialog.getByTestId('regions-preview')).toContainText('1 件のアノテーションは、取り込む画像 4 枚のどれにも対応しません。');
  await dialog.getByTestId('import-add-folder').click();
  await expect(fb).toBeVisible();
  await expect(fb).toContainText('このフォルダーを選択');
  await expect(list.getByRole('option', { name: /scratch/ })).toBeVisible();
  await page.screenshot({ path: 'test-results/screens/picker-browser-ja.png' });
  // A path that does not exist says so and keeps the listing.
  await fb.getByTestId('file-browser-path').fill(join(server.tmp, 'nowhere') + '/');
  await fb.getByTestId('file-browser-path').press('Enter');
  await expect(fb.getByRole('alert')).toContainText('見つかりません');
  await expect(list.getByRole('option', { name: /scratch/ })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(fb).toBeHidden();
  await expect(dialog).toBeVisible();

  // --- the same browser for the weights folders in Settings
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await page.locator('a[href="#/settings"]').click();
  await page.getByRole('button', { name: 'フォルダーを追加…' }).click();
  await expect(fb).toContainText('学習済み重みのフォルダーを選択');
  await fb.getByTestId('file-browser-path').fill(join(server.tmp, 'other') + '/');
  await fb.getByTestId('file-browser-path').press('Enter');
  await expect(fb.getByTestId('file-browser-picked')).toHaveText(join(server.tmp, 'other'));
  await fb.getByTestId('file-browser-choose').click();
  await expect(page.locator('textarea[name=weights-dirs]')).toHaveValue(new RegExp(`${join(server.tmp, 'other')}$`));
  await page.screenshot({ path: 'test-results/screens/picker-settings-weights-ja.png' });
});
