import { expect, test } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { e2eApi } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

/**
 * The library screen end to end against the real server and a real project: import (with a corrupt and an
 * empty file), keyboard labelling, bulk labelling, a drawn region, undo, and everything kept after a reload.
 */
let server: RunningServer;
let importRoot: string;

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
  await e2eApi(server).createProject(join(server.tmp, 'project'), 'Line 3 stators');
});
test.afterAll(async () => {
  await server.stop();
});

test('import, keyboard and bulk labelling, a region, undo, and everything kept after reload', async ({ page }) => {
  const { shell, api, library } = kensa(page, server);
  const { viewer } = library;
  const cell = (i: number) => library.cell(i);
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await shell.goto();
  await library.open();
  await expect(shell.heading('No images yet', false)).toBeVisible();

  // --- import with folder labels: a corrupt and an empty file are reported and skipped
  const dialog = await library.openImport();
  await dialog.paths.fill(importRoot);
  await dialog.labelsFromFolders();
  await expect(dialog.mapping).toContainText('scratch');
  await expect(dialog.mapping).toContainText('line3');
  await dialog.mapFolder('line3', 'none');
  await shell.screenshot('library-import-setup-en');
  await dialog.start();
  await expect(dialog.report).toBeVisible({ timeout: 30_000 });
  await expect(dialog.imported).toHaveText('8');
  await expect(dialog.skippedCount).toHaveText('2');
  await expect(dialog.skippedRow('broken.jpg')).toContainText('Damaged image');
  await expect(dialog.skippedRow('empty.png')).toContainText('Empty file');
  await shell.screenshot('library-import-report-en');
  await dialog.close();

  // --- the grid, sorted by name for a fixed order
  await expect(library.total).toHaveText('8 images');
  await library.sortBy('name');
  await expect(cell(0)).toHaveAttribute('title', 'core-01.png');
  await expect(cell(0)).toHaveAttribute('data-label', 'scratch');
  await expect(cell(2)).toHaveAttribute('data-label', '');

  // --- keyboard: a type's key labels the focused image and moves to the next
  await cell(2).click();
  await library.pressKey('0');
  await expect(cell(2)).toHaveAttribute('data-label', 'ok');
  await expect(cell(3)).toHaveClass(/focused/);
  await library.pressKey('3');
  await expect(cell(3)).toHaveAttribute('data-label', 'chip');
  await library.pressKey('ArrowRight'); // skip core-05
  await library.pressKey('2');
  await expect(cell(5)).toHaveAttribute('data-label', 'dent');

  // --- bulk: shift-click a range, ctrl-click one more, label them with a key
  await cell(6).click();
  await cell(7).click({ modifiers: ['Shift'] });
  await cell(4).click({ modifiers: ['Control'] });
  await expect(library.selectionBar).toContainText('3 selected');
  await library.pressKey('4');
  for (const i of [4, 6, 7]) await expect(cell(i)).toHaveAttribute('data-label', 'sheet_shift');
  // ...and relabel the same selection from the selection bar.
  await library.labelSelectionAs('dent');
  for (const i of [4, 6, 7]) await expect(cell(i)).toHaveAttribute('data-label', 'dent');

  // --- rubber band: drag from the empty space after the last cell up into cell 1
  await library.dragSelect(7, 1);
  await expect(library.selectionBar).toContainText('6 selected');
  await library.pressKey('Escape');
  await expect(library.selectionBar).toBeHidden();

  // --- undo (Z) reverts the last bulk label through the server journal
  await library.grid.focus();
  await library.pressKey('z');
  for (const i of [4, 6, 7]) await expect(cell(i)).toHaveAttribute('data-label', 'sheet_shift');
  await expect(page.getByRole('status').filter({ hasText: 'Undone: label 3 images as dent' })).toBeVisible();
  await expect(library.savedIndicator).toContainText('All changes saved');
  // The next undo is described in the UI language, types by their Japanese name.
  await shell.setLanguage('ja');
  await expect(library.undoButton('元に戻す')).toHaveAttribute('title', '3 枚を「板ずれ」にラベル付け');
  await shell.setLanguage('en');
  await expect(library.labelCount('sheet_shift')).toContainText('3');
  await shell.screenshot('library-grid-en');

  // --- viewer: Enter opens it; draw a rectangle region
  await cell(0).click();
  await library.pressKey('Enter');
  await expect(viewer.root).toBeVisible();
  await viewer.useTool('rect');
  await viewer.stroke([
    [-120, -80],
    [-20, 0],
    [60, 50],
  ]);
  await expect(viewer.regions).toHaveCount(1);
  // A brush stroke as a second, mask region.
  await viewer.useTool('Brush');
  await viewer.stroke(
    [
      [100, -100],
      [160, -60],
    ],
    6,
  );
  await expect(viewer.regions).toHaveCount(2);
  // Undo removes the stroke, redo (Shift+Z) brings it back.
  await library.pressKey('z');
  await expect(viewer.regions).toHaveCount(1);
  await library.pressKey('Shift+Z');
  await expect(viewer.regions).toHaveCount(2);
  await viewer.useTool('Select');
  // Select the box and move it by dragging; the move is saved.
  const imageId = await library.idOf(0);
  const before = await api.getImage(imageId);
  const rectBefore = before.regions.find((r) => r.kind === 'rect')!;
  await viewer.stroke([
    [-70, -40],
    [-40, -10],
  ]);
  await expect(viewer.selectedRegions).toHaveCount(1);
  await expect.poll(async () => (await api.getImage(imageId)).regions.find((r) => r.kind === 'rect')!.x).toBeGreaterThan(rectBefore.x + 5);
  await shell.screenshot('library-viewer-en');

  // --- reload: labels, the region and the undo are all kept
  await page.reload();
  await library.sortBy('name');
  const expected = ['scratch', 'scratch', 'ok', 'chip', 'sheet_shift', 'dent', 'sheet_shift', 'sheet_shift'];
  for (const [i, key] of expected.entries()) await expect(cell(i)).toHaveAttribute('data-label', key);
  await expect(cell(0).locator('.regions')).toContainText('2');
  const page0 = await api.listImages({ sort: { by: 'name', dir: 'asc' } });
  expect(page0.items.map((x) => x.regionCount)).toEqual([2, 0, 0, 0, 0, 0, 0, 0]);

  // --- Japanese screens
  await shell.setLanguage('ja');
  await expect(shell.heading('ライブラリ', false)).toBeVisible();
  await shell.screenshot('library-grid-ja');
  await cell(0).dblclick();
  await expect(viewer.regions).toHaveCount(2);
  await shell.screenshot('library-viewer-ja');
  await library.pressKey('Escape');
  await expect(viewer.root).toBeHidden();
  await library.openImport();
  await dialog.paths.fill(importRoot);
  await dialog.start();
  await expect(dialog.report).toBeVisible({ timeout: 30_000 });
  await expect(dialog.skipped).toContainText('破損した画像');
  await expect(dialog.skipped).toContainText('0 バイトのファイルです');
  await shell.screenshot('library-import-report-ja');
  await shell.setLanguage('en');
});

test('defect types: add with a hotkey, use it, delete it with a replacement; split: re-split', async ({ page }) => {
  const { shell, api, library } = kensa(page, server);
  const { types, split, viewer } = library;
  const cell = (i: number) => library.cell(i);
  await shell.goto('/library');
  await library.sortBy('name');
  await expect(cell(5)).toHaveAttribute('title', 'core-06.png');

  // Labelling inside the "unlabelled" filter: each labelled image leaves the list and the focus stays on the next.
  const ids = [await library.idOf(5), await library.idOf(6)];
  await api.setLabel(ids, null);
  await library.labelCount('(unlabelled)').click();
  await expect(library.total).toHaveText('2 images');
  await cell(0).click();
  await library.pressKey('0');
  await library.pressKey('0');
  await expect(shell.heading('No images match these filters', false)).toBeVisible();
  const after = await api.listImages({ filter: { labels: [1] } });
  expect(after.items.map((x) => x.id)).toEqual(expect.arrayContaining(ids));
  await library.clearFilters();
  await expect(library.total).toHaveText('8 images');

  await types.open();
  await types.add({ nameEn: 'burr', nameJa: 'バリ', key: 'z' });
  await expect(types.root.getByRole('alert')).toContainText('Z is kept for the labelling screen');
  await types.add({ key: '5' });
  await expect(types.row('burr')).toBeVisible();
  await shell.screenshot('library-types-en');
  await types.close();

  await expect(library.hotkeyLegend).toContainText('burr');
  await cell(1).click();
  await library.pressKey('5');
  await expect(cell(1)).toHaveAttribute('data-label', 'burr');

  // Deleting a type in use asks what happens to its images.
  await types.open();
  await types.startDelete('burr');
  await expect(types.root).toContainText('Used by 1 image and');
  await types.confirmDelete('relabelled as scratch');
  await expect(types.row('burr')).toHaveCount(0);
  await types.close();
  await expect(cell(1)).toHaveAttribute('data-label', 'scratch');

  // In the viewer a type's key labels the image shown and steps to the next one.
  await cell(3).dblclick();
  await expect(viewer.root).toContainText('4 / 8');
  await library.pressKey('2');
  await expect(viewer.root).toContainText('5 / 8');
  await expect(viewer.root).toContainText('core-05.jpg');
  // "Draw as" follows the label of the image shown: a region drawn on a dent image is a dent, on a scratch a scratch.
  await library.pressKey('ArrowLeft');
  await expect(viewer.root).toContainText('4 / 8');
  await expect(viewer.drawAs.locator('option:checked')).toHaveText('dent');
  await library.pressKey('ArrowLeft');
  await library.pressKey('ArrowLeft');
  await expect(viewer.root).toContainText('2 / 8');
  await expect(viewer.drawAs.locator('option:checked')).toHaveText('scratch');
  await library.pressKey('Escape');
  await expect(cell(3)).toHaveAttribute('data-label', 'dent');

  // Split: 60/30/10 with a test share, re-split, counts per split shown.
  await split.open();
  await split.setTestShare(10);
  await expect(split.root).toContainText('10%');
  await split.resplit();
  await expect(split.root).toContainText('images changed split');
  const stats = await api.getLibraryStats();
  expect(stats.perSplit.train + stats.perSplit.val + stats.perSplit.test).toBe(stats.total);
  await shell.screenshot('library-split-en');
});
