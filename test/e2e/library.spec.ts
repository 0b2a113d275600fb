import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { apiCall, switchLanguage } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * The library screen end to end against the real server and a real project: import (with a corrupt and an
 * empty file), keyboard labelling, bulk labelling, a drawn region, undo, and everything kept after a reload.
 */
let server: RunningServer;
let importRoot: string;

const call = <T>(op: string, ...args: unknown[]): Promise<T> => apiCall<T>(server, op, ...args);

/** A small grey core-like picture (ring on noise) so every file has distinct bytes. */
async function writeImage(file: string, seed: number, format: 'png' | 'jpeg'): Promise<void> {
  const w = 320;
  const h = 240;
  const ring = Buffer.from(
    `<svg width="${w}" height="${h}"><circle cx="${160 + (seed % 5) * 4}" cy="120" r="90" fill="none" stroke="#bbb" stroke-width="${18 + seed}"/><circle cx="160" cy="120" r="38" fill="#333"/></svg>`,
  );
  const img = sharp({
    create: {
      width: w,
      height: h,
      channels: 3,
      background: { r: 70 + seed * 7, g: 72 + seed * 7, b: 75 + seed * 7 },
      noise: { type: 'gaussian', mean: 90, sigma: 12 },
    },
  }).composite([{ input: ring }]);
  writeFileSync(file, await (format === 'png' ? img.png() : img.jpeg({ quality: 88 })).toBuffer());
}

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  importRoot = join(server.tmp, 'incoming');
  mkdirSync(join(importRoot, 'scratch'), { recursive: true });
  mkdirSync(join(importRoot, 'line3'), { recursive: true });
  await writeImage(join(importRoot, 'scratch', 'core-01.png'), 1, 'png');
  await writeImage(join(importRoot, 'scratch', 'core-02.jpg'), 2, 'jpeg');
  for (let i = 3; i <= 8; i++)
    await writeImage(join(importRoot, 'line3', `core-0${i}.${i % 2 ? 'jpg' : 'png'}`), i, i % 2 ? 'jpeg' : 'png');
  writeFileSync(join(importRoot, 'line3', 'broken.jpg'), Buffer.from('this is not a jpeg at all, just garbage bytes \x00\x01\x02'));
  writeFileSync(join(importRoot, 'line3', 'empty.png'), Buffer.alloc(0));
  await call('createProject', join(server.tmp, 'project'), 'Line 3 stators');
});
test.afterAll(async () => {
  await server.stop();
});

const cell = (page: Page, i: number) => page.locator(`[data-testid=library-grid] [data-index="${i}"]`);

/** A cell's image id, once its row has arrived (cells render as placeholders without one until their page loads). */
async function idOf(page: Page, i: number): Promise<number> {
  await expect(cell(page, i)).toHaveAttribute('data-id', /^\d+$/);
  return Number(await cell(page, i).getAttribute('data-id'));
}

const setLanguage = (page: Page, lang: 'en' | 'ja'): Promise<void> => switchLanguage(server, page, lang);

test('import, keyboard and bulk labelling, a region, undo, and everything kept after reload', async ({ page }) => {
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Library' }).click();
  await expect(page.getByRole('heading', { name: 'No images yet' })).toBeVisible();

  // --- import with folder labels: a corrupt and an empty file are reported and skipped
  await page.getByTestId('import-button').click();
  const dialog = page.getByTestId('import-dialog');
  await dialog.locator('textarea[name=import-paths]').fill(importRoot);
  await dialog.getByLabel('Labels from folder names').check();
  await dialog.getByRole('button', { name: 'Find folders' }).click();
  const mapping = dialog.getByTestId('folder-mapping');
  await expect(mapping).toContainText('scratch');
  await expect(mapping).toContainText('line3');
  await mapping.locator('tr', { hasText: 'line3' }).getByRole('combobox').selectOption('none');
  await page.screenshot({ path: 'test-results/screens/library-import-setup-en.png' });
  await dialog.getByTestId('import-start').click();
  const report = dialog.getByTestId('import-report');
  await expect(report).toBeVisible({ timeout: 30_000 });
  await expect(report.getByTestId('report-imported')).toHaveText('8');
  await expect(report.getByTestId('report-skipped')).toHaveText('2');
  const skipped = report.getByTestId('skipped-list');
  await expect(skipped.locator('tr', { hasText: 'broken.jpg' })).toContainText('Damaged image');
  await expect(skipped.locator('tr', { hasText: 'empty.png' })).toContainText('Empty file');
  await page.screenshot({ path: 'test-results/screens/library-import-report-en.png' });
  await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();

  // --- the grid, sorted by name for a fixed order
  await expect(page.getByTestId('grid-total')).toHaveText('8 images');
  await page.getByRole('combobox', { name: 'Sort by' }).selectOption('name');
  await expect(cell(page, 0)).toHaveAttribute('title', 'core-01.png');
  await expect(cell(page, 0)).toHaveAttribute('data-label', 'scratch');
  await expect(cell(page, 2)).toHaveAttribute('data-label', '');

  // --- keyboard: a type's key labels the focused image and moves to the next
  await cell(page, 2).click();
  await page.keyboard.press('0');
  await expect(cell(page, 2)).toHaveAttribute('data-label', 'ok');
  await expect(cell(page, 3)).toHaveClass(/focused/);
  await page.keyboard.press('3');
  await expect(cell(page, 3)).toHaveAttribute('data-label', 'chip');
  await page.keyboard.press('ArrowRight'); // skip core-05
  await page.keyboard.press('2');
  await expect(cell(page, 5)).toHaveAttribute('data-label', 'dent');

  // --- bulk: shift-click a range, ctrl-click one more, label them with a key
  await cell(page, 6).click();
  await cell(page, 7).click({ modifiers: ['Shift'] });
  await cell(page, 4).click({ modifiers: ['Control'] });
  await expect(page.getByTestId('selection-bar')).toContainText('3 selected');
  await page.keyboard.press('4');
  for (const i of [4, 6, 7]) await expect(cell(page, i)).toHaveAttribute('data-label', 'sheet_shift');
  // ...and relabel the same selection from the selection bar.
  await page.getByRole('combobox', { name: 'Label selection as' }).selectOption({ label: 'dent' });
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  for (const i of [4, 6, 7]) await expect(cell(page, i)).toHaveAttribute('data-label', 'dent');

  // --- rubber band: drag from the empty space after the last cell up into cell 1
  const c1 = (await cell(page, 1).boundingBox())!;
  const c7 = (await cell(page, 7).boundingBox())!;
  await page.mouse.move(c7.x + c7.width * 2.5, c7.y + c7.height / 2);
  await page.mouse.down();
  await page.mouse.move(c1.x + 40, c1.y + 40, { steps: 8 });
  await page.mouse.up();
  await expect(page.getByTestId('selection-bar')).toContainText('6 selected');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('selection-bar')).toBeHidden();

  // --- undo (Z) reverts the last bulk label through the server journal
  await page.getByTestId('library-grid').focus();
  await page.keyboard.press('z');
  for (const i of [4, 6, 7]) await expect(cell(page, i)).toHaveAttribute('data-label', 'sheet_shift');
  await expect(page.getByRole('status').filter({ hasText: 'Undone: label 3 images as dent' })).toBeVisible();
  await expect(page.getByTestId('saved-indicator')).toContainText('All changes saved');
  // The next undo is described in the UI language, types by their Japanese name.
  await setLanguage(page, 'ja');
  await expect(page.getByRole('button', { name: '元に戻す' })).toHaveAttribute('title', '3 枚を「板ずれ」にラベル付け');
  await setLanguage(page, 'en');
  const counts = page.getByTestId('label-counts');
  await expect(counts.locator('[data-key=sheet_shift]')).toContainText('3');
  await page.screenshot({ path: 'test-results/screens/library-grid-en.png' });

  // --- viewer: Enter opens it; draw a rectangle region
  await cell(page, 0).click();
  await page.keyboard.press('Enter');
  const viewer = page.getByTestId('viewer');
  await expect(viewer).toBeVisible();
  await viewer.getByTestId('tool-rect').click();
  const stage = viewer.getByTestId('viewer-stage');
  const box = (await stage.boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx - 120, cy - 80);
  await page.mouse.down();
  await page.mouse.move(cx - 20, cy, { steps: 5 });
  await page.mouse.move(cx + 60, cy + 50, { steps: 5 });
  await page.mouse.up();
  const regions = viewer.getByTestId('region-list');
  await expect(regions.locator('li')).toHaveCount(1);
  // A brush stroke as a second, mask region.
  await viewer.getByRole('radio', { name: 'Brush' }).click();
  await page.mouse.move(cx + 100, cy - 100);
  await page.mouse.down();
  await page.mouse.move(cx + 160, cy - 60, { steps: 6 });
  await page.mouse.up();
  await expect(regions.locator('li')).toHaveCount(2);
  // Undo removes the stroke, redo (Shift+Z) brings it back.
  await page.keyboard.press('z');
  await expect(regions.locator('li')).toHaveCount(1);
  await page.keyboard.press('Shift+Z');
  await expect(regions.locator('li')).toHaveCount(2);
  await viewer.getByRole('radio', { name: 'Select' }).click();
  // Select the box and move it by dragging; the move is saved.
  const imageId = await idOf(page, 0);
  const before = await call<{ regions: { kind: string; x: number; y: number }[] }>('getImage', imageId);
  const rectBefore = before.regions.find((r) => r.kind === 'rect')!;
  await page.mouse.move(cx - 70, cy - 40);
  await page.mouse.down();
  await page.mouse.move(cx - 40, cy - 10, { steps: 5 });
  await page.mouse.up();
  await expect(regions.locator('li.sel')).toHaveCount(1);
  await expect
    .poll(
      async () => (await call<{ regions: { kind: string; x: number }[] }>('getImage', imageId)).regions.find((r) => r.kind === 'rect')!.x,
    )
    .toBeGreaterThan(rectBefore.x + 5);
  await page.screenshot({ path: 'test-results/screens/library-viewer-en.png' });

  // --- reload: labels, the region and the undo are all kept
  await page.reload();
  await page.getByRole('combobox', { name: 'Sort by' }).selectOption('name');
  const expected = ['scratch', 'scratch', 'ok', 'chip', 'sheet_shift', 'dent', 'sheet_shift', 'sheet_shift'];
  for (const [i, key] of expected.entries()) await expect(cell(page, i)).toHaveAttribute('data-label', key);
  await expect(cell(page, 0).locator('.regions')).toContainText('2');
  const page0 = await call<{ items: { name: string; regionCount: number }[] }>('listImages', { sort: { by: 'name', dir: 'asc' } });
  expect(page0.items.map((x) => x.regionCount)).toEqual([2, 0, 0, 0, 0, 0, 0, 0]);

  // --- Japanese screens
  await setLanguage(page, 'ja');
  await expect(page.getByRole('heading', { name: 'ライブラリ' })).toBeVisible();
  await page.screenshot({ path: 'test-results/screens/library-grid-ja.png' });
  await cell(page, 0).dblclick();
  await expect(page.getByTestId('region-list').locator('li')).toHaveCount(2);
  await page.screenshot({ path: 'test-results/screens/library-viewer-ja.png' });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('viewer')).toBeHidden();
  await page.getByTestId('import-button').click();
  await page.getByTestId('import-dialog').locator('textarea[name=import-paths]').fill(importRoot);
  await page.getByTestId('import-start').click();
  await expect(page.getByTestId('import-report')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('skipped-list')).toContainText('破損した画像');
  await expect(page.getByTestId('skipped-list')).toContainText('0 バイトのファイルです');
  await page.screenshot({ path: 'test-results/screens/library-import-report-ja.png' });
  await setLanguage(page, 'en');
});

test('defect types: add with a hotkey, use it, delete it with a replacement; split: re-split', async ({ page }) => {
  await page.goto(`${server.url}#/library`);
  await page.getByRole('combobox', { name: 'Sort by' }).selectOption('name');
  await expect(cell(page, 5)).toHaveAttribute('title', 'core-06.png');

  // Labelling inside the "unlabelled" filter: each labelled image leaves the list and the focus stays on the next.
  const ids = [await idOf(page, 5), await idOf(page, 6)];
  await call('setLabel', ids, null);
  await page.getByTestId('label-counts').locator('[data-key="(unlabelled)"]').click();
  await expect(page.getByTestId('grid-total')).toHaveText('2 images');
  await cell(page, 0).click();
  await page.keyboard.press('0');
  await page.keyboard.press('0');
  await expect(page.getByRole('heading', { name: 'No images match these filters' })).toBeVisible();
  const after = await call<{ items: { id: number; labelId: number | null }[] }>('listImages', { filter: { labels: [1] } });
  expect(after.items.map((x) => x.id)).toEqual(expect.arrayContaining(ids));
  await page.getByRole('button', { name: 'Clear filters' }).first().click();
  await expect(page.getByTestId('grid-total')).toHaveText('8 images');

  await page.getByRole('button', { name: 'Defect types' }).click();
  const types = page.getByTestId('types-dialog');
  const newRow = types.locator('tr.new');
  await newRow.getByRole('textbox', { name: 'Name (English)' }).fill('burr');
  await newRow.getByRole('textbox', { name: 'Name (Japanese)' }).fill('バリ');
  await newRow.getByRole('textbox', { name: 'Key' }).fill('z');
  await newRow.getByRole('button', { name: 'Add type' }).click();
  await expect(types.getByRole('alert')).toContainText('Z is kept for the labelling screen');
  await newRow.getByRole('textbox', { name: 'Key' }).fill('5');
  await newRow.getByRole('button', { name: 'Add type' }).click();
  await expect(types.locator('tr[data-key=burr]')).toBeVisible();
  await page.screenshot({ path: 'test-results/screens/library-types-en.png' });
  await types.getByRole('button', { name: 'Close' }).last().click();

  await expect(page.getByTestId('hotkey-legend')).toContainText('burr');
  await cell(page, 1).click();
  await page.keyboard.press('5');
  await expect(cell(page, 1)).toHaveAttribute('data-label', 'burr');

  // Deleting a type in use asks what happens to its images.
  await page.getByRole('button', { name: 'Defect types' }).click();
  const row = types.locator('tr[data-key=burr]');
  await row.getByRole('button', { name: 'Delete…' }).click();
  await expect(types).toContainText('Used by 1 image and');
  await types.getByRole('combobox', { name: 'What happens to its images' }).selectOption({ label: 'relabelled as scratch' });
  await types.getByRole('button', { name: 'Delete type' }).click();
  await expect(types.locator('tr[data-key=burr]')).toHaveCount(0);
  await types.getByRole('button', { name: 'Close' }).last().click();
  await expect(cell(page, 1)).toHaveAttribute('data-label', 'scratch');

  // In the viewer a type's key labels the image shown and steps to the next one.
  await cell(page, 3).dblclick();
  await expect(page.getByTestId('viewer')).toContainText('4 / 8');
  await page.keyboard.press('2');
  await expect(page.getByTestId('viewer')).toContainText('5 / 8');
  await expect(page.getByTestId('viewer')).toContainText('core-05.jpg');
  // "Draw as" follows the label of the image shown: a region drawn on a dent image is a dent, on a scratch a scratch.
  const drawAs = page.getByTestId('viewer').getByRole('combobox', { name: 'Draw as' });
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('viewer')).toContainText('4 / 8');
  await expect(drawAs.locator('option:checked')).toHaveText('dent');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('viewer')).toContainText('2 / 8');
  await expect(drawAs.locator('option:checked')).toHaveText('scratch');
  await page.keyboard.press('Escape');
  await expect(cell(page, 3)).toHaveAttribute('data-label', 'dent');

  // Split: 60/30/10 with a test share, re-split, counts per split shown.
  await page.getByRole('button', { name: 'Split', exact: true }).click();
  const split = page.getByTestId('split-dialog');
  await split.locator('input[type=range]').nth(2).fill('10');
  await expect(split).toContainText('10%');
  await split.getByTestId('resplit').click();
  await expect(split).toContainText('images changed split');
  const stats = await call<{ perSplit: Record<'train' | 'val' | 'test', number>; total: number }>('getCatalogStats');
  expect(stats.perSplit.train + stats.perSplit.val + stats.perSplit.test).toBe(stats.total);
  await page.screenshot({ path: 'test-results/screens/library-split-en.png' });
});
