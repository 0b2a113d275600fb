import { expect, test } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { e2eApi } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

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
  await e2eApi(server).createProject(join(server.tmp, 'project'), 'Line 3 stators');
});
test.afterAll(async () => {
  await server.stop();
});

test('pick the import folder with the browser, import with labelme regions, see the regions in the report', async ({ page }) => {
  const { shell, api, library, fileBrowser: fb, settings } = kensa(page, server);
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await shell.goto();
  await library.open();
  const dialog = await library.openImport();

  // --- the folder browser: a typed path, then Tab completes "inc" to the folder and goes in
  await dialog.addFolder.click();
  await expect(fb.root).toBeVisible();
  await fb.goTo(`${server.tmp}/`);
  await expect(fb.option(/incoming/)).toBeVisible();
  await expect(fb.option(/other/)).toBeVisible();
  await fb.path.press('End');
  await fb.path.pressSequentially('inc');
  await expect(fb.option()).toHaveCount(1);
  await fb.path.press('Tab');
  await expect(fb.path).toHaveValue(`${importRoot}/`);
  await expect(fb.option(/scratch/)).toBeVisible();
  await expect(fb.crumbs).toContainText('incoming');
  await shell.screenshot('picker-browser-en');

  // --- keyboard in the list: Backspace goes up, type-ahead + Enter goes back in, then choose this folder
  await fb.path.press('ArrowDown');
  await page.keyboard.press('Backspace');
  await expect(fb.option(/other/)).toBeVisible();
  await page.keyboard.type('inc');
  await page.keyboard.press('Enter');
  await expect(fb.option(/scratch/)).toBeVisible();
  await expect(fb.picked).toHaveText(importRoot);
  await fb.choose.click();
  await expect(fb.root).toBeHidden();
  await expect(dialog.paths).toHaveValue(importRoot);

  // --- regions: labelme, the folder picked with the browser again (it reopens where it was left)
  await dialog.labelsFromFolders();
  await expect(dialog.mapping).toContainText('scratch');
  await dialog.regionsFormat.selectOption('labelme');
  await dialog.browseRegions('Folder…');
  await expect(fb.root).toBeVisible();
  await expect(fb.option(/scratch/)).toBeVisible();
  await fb.option(/scratch/).click();
  await expect(fb.choose).toHaveText('Choose “scratch”');
  await fb.choose.click();
  await expect(dialog.regionsPath).toHaveValue(join(importRoot, 'scratch'));
  await expect(dialog.regionsPreview).toContainText('3 regions in 2 files match the images to import');
  await expect(dialog.regionsPreview).toContainText('Annotation problems: 1');
  await dialog.regionsSection.scrollIntoViewIfNeeded();
  await shell.screenshot('picker-import-regions-en');

  await dialog.start();
  await expect(dialog.report).toBeVisible({ timeout: 30_000 });
  await expect(dialog.imported).toHaveText('4');
  // The JSON files beside the photos are annotations, not skipped "not an image" files.
  await expect(dialog.skippedCount).toHaveText('0');
  await expect(dialog.regionsCount).toHaveText('3');
  await expect(dialog.problemRow('core-03.json')).toContainText('Not valid JSON');
  await shell.screenshot('picker-import-report-en');
  const stats = await api.getLibraryStats();
  expect(stats.total).toBe(4);

  // --- Japanese: the same dialogs, worded in Japanese
  await shell.setLanguage('ja');
  await expect(dialog.regionProblems).toContainText('JSON として読めません');
  await shell.screenshot('picker-import-report-ja');
  await dialog.press('続けて取り込む');
  await dialog.regionsFormat.selectOption('labelme');
  await dialog.regionsPath.fill(join(importRoot, 'scratch'));
  await dialog.paths.fill(importRoot);
  await expect(dialog.regionsPreview).toContainText('取り込む画像に対応する領域: 2 ファイルに 3 件');
  await shell.screenshot('picker-import-regions-ja');
  // A file for COCO: only .json files are offered; click selects, Open chooses.
  await dialog.regionsFormat.selectOption('coco');
  await dialog.browseRegions('ファイル…');
  await expect(fb.root).toBeVisible();
  await fb.goTo(join(server.tmp, 'other') + '/');
  await expect(fb.option(/instances\.json/)).toBeVisible();
  await expect(fb.option(/notes\.txt/)).toHaveCount(0);
  await fb.option(/instances\.json/).click();
  await expect(fb.picked).toHaveText('instances.json');
  await shell.screenshot('picker-file-ja');
  await fb.choose.click();
  await expect(dialog.regionsPath).toHaveValue(join(server.tmp, 'other', 'instances.json'));
  await expect(dialog.regionsPreview).toContainText('取り込む画像に対応する領域: 画像 1 枚に 1 件');
  await expect(dialog.regionsPreview).toContainText('1 件のアノテーションは、取り込む画像 4 枚のどれにも対応しません。');
  await dialog.addFolder.click();
  await expect(fb.root).toBeVisible();
  await expect(fb.root).toContainText('このフォルダーを選択');
  await expect(fb.option(/scratch/)).toBeVisible();
  await shell.screenshot('picker-browser-ja');
  // A path that does not exist says so and keeps the listing.
  await fb.goTo(join(server.tmp, 'nowhere') + '/');
  await expect(fb.alert).toContainText('見つかりません');
  await expect(fb.option(/scratch/)).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(fb.root).toBeHidden();
  await expect(dialog.root).toBeVisible();

  // --- the same browser for the weights folders in Settings
  await page.keyboard.press('Escape');
  await expect(dialog.root).toBeHidden();
  await settings.openByAddress();
  await settings.addWeightsFolder('フォルダーを追加…');
  await expect(fb.root).toContainText('学習済み重みのフォルダーを選択');
  await fb.goTo(join(server.tmp, 'other') + '/');
  await expect(fb.picked).toHaveText(join(server.tmp, 'other'));
  await fb.choose.click();
  await expect(settings.weightsDirs).toHaveValue(new RegExp(`${join(server.tmp, 'other')}$`));
  await shell.screenshot('picker-settings-weights-ja');
});
