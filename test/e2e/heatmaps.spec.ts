import { expect, test } from '@playwright/test';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { SplitConfig } from '../../src-main/shared/training-types.ts';
import { e2eApi, trainRuns, waitForTask } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa, type Kensa } from './pages/index.ts';

/**
 * The Heatmaps screen on the real engine: NEU images with their VOC boxes, two tiny runs trained through the
 * API at 96 px; compute CAM + SmoothGrad, switch method and class, open the large view, compare the two runs.
 */
const NEU = resolve(import.meta.dirname, '../../../shared/datasets/neu-det');
const CLASSES = ['crazing', 'patches', 'scratches'];
let server: RunningServer;
let runA = 0;
let runB = 0;

/** A screenshot in English and in Japanese, each once the page's requests have settled. */
async function shoot(app: Kensa, name: string): Promise<void> {
  await app.shell.page.waitForLoadState('networkidle');
  await app.shell.screenshot(`heatmaps-${name}-en`);
  await app.shell.setLanguage('ja');
  await app.shell.page.waitForLoadState('networkidle');
  await app.shell.screenshot(`heatmaps-${name}-ja`);
  await app.shell.setLanguage('en');
}

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  const src = join(server.tmp, 'photos');
  for (const cls of CLASSES) {
    mkdirSync(join(src, cls), { recursive: true });
    for (let i = 1; i <= 8; i++) copyFileSync(join(NEU, 'images', cls, `${cls}_${i}.jpg`), join(src, cls, `${cls}_${i}.jpg`));
  }
  const api = e2eApi(server);
  await api.createProject(join(server.tmp, 'project'), 'Line 3');
  const imp = await api.startImport({
    paths: [src],
    labels: { from: 'folders', createUnknown: true },
    regions: { vocDir: join(NEU, 'annotations') },
  });
  expect((await waitForTask(server, imp.id)).state).toBe('succeeded');
  const split: SplitConfig = { mode: 'random', valFraction: 0.4, testFraction: 0, seed: 3 };
  [runA, runB] = (await trainRuns(server, [
    {
      name: 'Before',
      task: 'multiclass',
      inputSize: 96,
      epochs: 3,
      batchSize: 4,
      split,
    },
    {
      name: 'After',
      task: 'multiclass',
      inputSize: 96,
      epochs: 6,
      batchSize: 4,
      split,
    },
  ])) as [number, number];
});
test.afterAll(async () => {
  await server.stop();
});

test('gallery: compute, switch method and class, large view, compare two runs', async ({ page }) => {
  const app = kensa(page, server);
  const { shell, api, heatmaps: hm, fileBrowser: fb, overwrite } = app;
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await shell.goto();
  await hm.open();
  await hm.run.selectOption(String(runA));
  await hm.split.selectOption('all');
  await expect(hm.cards).toHaveCount(24);
  await expect(hm.maps).toHaveCount(0);

  // CAM + SmoothGrad (default pair) appear progressively.
  await hm.methodB.selectOption('smoothgrad');
  await hm.compute();
  await expect(hm.maps).toHaveCount(48, { timeout: 90_000 });
  await expect(hm.scores).toContainText('%');
  await shoot(app, 'gallery');
  // Cards name an image's label in the UI's language (the type's Japanese name), never by its key.
  await shell.setLanguage('ja');
  await expect(hm.trueLabels.filter({ hasText: /^傷$/ })).not.toHaveCount(0);
  await expect(hm.trueLabels.filter({ hasText: /^scratch$/ })).toHaveCount(0);
  await shell.setLanguage('en');

  // Per defect type, Grad-CAM on the right.
  await hm.onlyType(/scratch/i);
  await expect(hm.cards).toHaveCount(8);
  await hm.methodB.selectOption('gradcam');
  await hm.compute();
  await expect(hm.maps).toHaveCount(16, { timeout: 60_000 });

  // Grad-CAM at an earlier layer: its own maps, cached apart from the default layer's.
  const layers = await api.listHeatmapLayers(runA);
  const finer = layers[layers.length - 3]!.name;
  await expect(hm.layer).toHaveValue(layers.find((l) => l.isDefault)!.name);
  await expect(hm.layerHint).toBeVisible();
  await hm.layer.selectOption(finer);
  await hm.compute();
  await expect(hm.maps).toHaveCount(16, { timeout: 60_000 });
  await expect
    .poll(async () => (await hm.mapSources()).filter((u) => u.includes(`:gradcam:`) && u.includes(`:l-${finer}`)).length, {
      timeout: 60_000,
    })
    .toBe(8);
  // The compute task may still be finishing the last maps the page already shows.
  await expect
    .poll(async () => {
      const page1 = await api.listHeatmapGallery({
        runId: runA,
        split: 'all',
        limit: 100,
        methods: ['gradcam'],
        classKey: 'label',
        params: { layer: finer },
      });
      return page1.items.flatMap((i) => i.maps).filter((m) => m.mediaId.endsWith(`:l-${finer}`)).length;
    })
    .toBe(8);
  await shoot(app, 'layer');
  await hm.layer.selectOption(layers.find((l) => l.isDefault)!.name);

  // Another class's map (computed on demand by the media request).
  await hm.classChoice.selectOption({ index: 2 });
  await hm.compute();
  await expect(hm.maps).toHaveCount(16, { timeout: 60_000 });
  await hm.classChoice.selectOption('label');

  // Large view with regions and zoom.
  await hm.openFirstLarge();
  await expect(hm.large).toBeVisible();
  await expect(hm.large.locator('svg rect').first()).toBeAttached();
  // Fitted, the zoom reads as fitted at the photo's real scale (NEU photos are 200 px: shown larger than 100 %).
  await expect(hm.largeZoom).toHaveText(/^Fitted \(\d+ %\)$/);
  await hm.zoomIn();
  await expect(hm.largeZoom).toHaveText(/^\d+ %$/);
  await shoot(app, 'large');
  await hm.closeLarge();

  // Compare: the same images under both runs.
  await hm.compareWith.selectOption(String(runB));
  await hm.compute();
  await expect(hm.maps).toHaveCount(16, { timeout: 60_000 });
  await expect(hm.view).toContainText(`#${runB}`);
  await shoot(app, 'compare');

  // Contact sheet of the compare view: asks where to save (Browse… picks the folder, the name stays), then both runs'
  // maps side by side (image | run A | run B), and asks before replacing it.
  const sheets = join(server.tmp, 'shift reports');
  mkdirSync(sheets, { recursive: true });
  await hm.startSheetExport();
  await expect(hm.sheetPath).toHaveValue(new RegExp(`/exports/heatmaps/run${runA}-vs-run${runB}-[\\w-]+\\.png$`));
  const name = (await hm.sheetPath.inputValue()).split('/').pop()!;
  await hm.browseSheetFolder();
  await fb.goToUntilShown(`${sheets}/`, 'shift reports');
  await fb.choose.click();
  await expect(hm.sheetPath).toHaveValue(join(sheets, name));
  await hm.sheetForm.scrollIntoViewIfNeeded();
  await shoot(app, 'sheet-save');
  await hm.saveSheet();
  await expect(page.getByText(`Saved ${join(sheets, name)}`)).toBeVisible({ timeout: 60_000 });
  await expect(hm.sheetForm).toBeHidden();
  const sheetMeta = await sharp(join(sheets, name)).metadata();
  expect(sheetMeta.width).toBe(8 + 3 * (160 + 8));
  // The sheet itself (its text is English, like the CSV headers), kept beside the screenshots to look at.
  copyFileSync(join(sheets, name), 'test-results/screens/heatmaps-contact-sheet-compare.png');
  await hm.startSheetExport();
  await expect(hm.sheetPath).toHaveValue(join(sheets, name));
  await hm.saveSheet();
  await expect(overwrite.root).toBeVisible();
  await overwrite.cancel.click();
  await hm.cancelSheet();
  await expect(hm.sheetForm).toBeHidden();

  // The aggregate table is served for the run report.
  const table = await api.getHeatmapScores(runA);
  expect(table.rows.find((r) => r.method === 'cam' && r.classKey === '*')?.count).toBe(24);
});

test('run report: localisation scores, computed from the empty state', async ({ page }) => {
  const { shell, api, runs } = kensa(page, server);
  const { report } = runs;
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await api.clearHeatmapCache(runB);
  await runs.gotoReport(runB);
  const section = report.heatmapScores;
  await expect(section.getByTestId('report-heatmap-empty')).toContainText('No heatmaps have been computed');
  await expect(section.getByTestId('report-heatmaps-link')).toHaveAttribute('href', '#/heatmaps');
  await section.scrollIntoViewIfNeeded();
  await shell.screenshot('runs-heatmap-empty-en');
  await section.getByTestId('report-heatmap-compute').click();
  const table = section.getByTestId('report-heatmap-table');
  await expect(table).toBeVisible({ timeout: 90_000 });
  const scores = await api.getHeatmapScores(runB, { split: 'val' });
  expect(scores.rows.length).toBeGreaterThan(1);
  await expect(table.locator('tbody tr')).toHaveCount(scores.rows.length);
  await expect(table.locator('tbody tr').last()).toContainText('All defect types');
  await expect(table.locator('tbody tr').last()).toContainText(String(scores.rows.find((r) => r.classKey === '*')!.count));
  await section.scrollIntoViewIfNeeded();
  await shell.screenshot('runs-heatmap-scores-en');
  await shell.setLanguage('ja');
  await expect(section).toContainText('全欠陥種別');
  await shell.screenshot('runs-heatmap-scores-ja');
  await shell.setLanguage('en');

  // The HTML report carries the same table.
  await report.startHtmlExport();
  const file = join(server.tmp, 'report-hm.html');
  await report.saveHtmlTo(file);
  await expect(page.getByText(`Report saved: ${file}`)).toBeVisible({ timeout: 30_000 });
  const html = readFileSync(file, 'utf8');
  expect(html).toContain('Heatmap localisation');
  expect(html).toContain('All defect types');
});
