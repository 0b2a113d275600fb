import { expect, test, type Page } from '@playwright/test';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { apiCall, trainRuns, waitForTask, switchLanguage } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * The Heatmaps screen on the real engine: NEU images with their VOC boxes, two tiny runs trained through the
 * API at 96 px; compute CAM + SmoothGrad, switch method and class, open the large view, compare the two runs.
 */
const NEU = resolve(import.meta.dirname, '../../../shared/datasets/neu-det');
const CLASSES = ['crazing', 'patches', 'scratches'];
let server: RunningServer;
let runA = 0;
let runB = 0;

const call = <T>(op: string, ...args: unknown[]): Promise<T> => apiCall<T>(server, op, ...args);

const waitTask = (id: string): Promise<{ state: string }> => waitForTask(server, id);

const setLanguage = (page: Page, lang: 'en' | 'ja'): Promise<void> => switchLanguage(server, page, lang);

async function shoot(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: `test-results/screens/heatmaps-${name}-en.png` });
  await setLanguage(page, 'ja');
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: `test-results/screens/heatmaps-${name}-ja.png` });
  await setLanguage(page, 'en');
}

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  const src = join(server.tmp, 'photos');
  for (const cls of CLASSES) {
    mkdirSync(join(src, cls), { recursive: true });
    for (let i = 1; i <= 8; i++) copyFileSync(join(NEU, 'images', cls, `${cls}_${i}.jpg`), join(src, cls, `${cls}_${i}.jpg`));
  }
  await call('createProject', join(server.tmp, 'project'), 'Line 3');
  const imp = await call<{ id: string }>('startImport', {
    paths: [src],
    labels: { from: 'folders', createUnknown: true },
    regions: { vocDir: join(NEU, 'annotations') },
  });
  expect((await waitTask(imp.id)).state).toBe('succeeded');
  const split = { mode: 'random', valFraction: 0.4, testFraction: 0, seed: 3 };
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
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Heatmaps' }).click();
  const view = page.getByTestId('heatmaps-view');
  await view.getByTestId('hm-run').selectOption(String(runA));
  await view.getByTestId('hm-split').selectOption('all');
  await expect(view.getByTestId('heatmap-card')).toHaveCount(24);
  await expect(view.getByTestId('heatmap-img')).toHaveCount(0);

  // CAM + SmoothGrad (default pair) appear progressively.
  await view.getByTestId('hm-method-b').selectOption('smoothgrad');
  await view.getByTestId('hm-compute').click();
  await expect(view.getByTestId('heatmap-img')).toHaveCount(48, { timeout: 90_000 });
  await expect(view.getByTestId('hm-scores')).toContainText('%');
  await shoot(page, 'gallery');
  // Cards name an image's label in the UI's language (the type's Japanese name), never by its key.
  await setLanguage(page, 'ja');
  await expect(view.getByTestId('true-label').filter({ hasText: /^傷$/ })).not.toHaveCount(0);
  await expect(view.getByTestId('true-label').filter({ hasText: /^scratch$/ })).toHaveCount(0);
  await setLanguage(page, 'en');

  // Per defect type, Grad-CAM on the right.
  await view
    .getByTestId('hm-type')
    .filter({ hasText: /scratch/i })
    .first()
    .click();
  await expect(view.getByTestId('heatmap-card')).toHaveCount(8);
  await view.getByTestId('hm-method-b').selectOption('gradcam');
  await view.getByTestId('hm-compute').click();
  await expect(view.getByTestId('heatmap-img')).toHaveCount(16, { timeout: 60_000 });

  // Grad-CAM at an earlier layer: its own maps, cached apart from the default layer's.
  const layers = await call<{ name: string; isDefault: boolean }[]>('listHeatmapLayers', runA);
  const finer = layers[layers.length - 3]!.name;
  await expect(view.getByTestId('hm-layer')).toHaveValue(layers.find((l) => l.isDefault)!.name);
  await expect(view.getByTestId('hm-layer-hint')).toBeVisible();
  await view.getByTestId('hm-layer').selectOption(finer);
  await view.getByTestId('hm-compute').click();
  await expect(view.getByTestId('heatmap-img')).toHaveCount(16, { timeout: 60_000 });
  const srcs = () => view.getByTestId('heatmap-img').evaluateAll((els) => els.map((e) => decodeURIComponent(e.getAttribute('src') ?? '')));
  await expect
    .poll(async () => (await srcs()).filter((u) => u.includes(`:gradcam:`) && u.includes(`:l-${finer}`)).length, { timeout: 60_000 })
    .toBe(8);
  // The compute task may still be finishing the last maps the page already shows.
  await expect
    .poll(async () => {
      const page1 = await call<{ items: { maps: { method: string; mediaId: string }[] }[] }>('listHeatmapGallery', {
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
  await shoot(page, 'layer');
  await view.getByTestId('hm-layer').selectOption(layers.find((l) => l.isDefault)!.name);

  // Another class's map (computed on demand by the media request).
  await view.getByTestId('hm-class').selectOption({ index: 2 });
  await view.getByTestId('hm-compute').click();
  await expect(view.getByTestId('heatmap-img')).toHaveCount(16, { timeout: 60_000 });
  await view.getByTestId('hm-class').selectOption('label');

  // Large view with regions and zoom.
  await view.getByTestId('heatmap-card').first().getByTestId('heatmap-img').first().click();
  const large = page.getByTestId('heatmap-large');
  await expect(large).toBeVisible();
  await expect(large.locator('svg rect').first()).toBeAttached();
  // Fitted, the zoom reads as fitted at the photo's real scale (NEU photos are 200 px: shown larger than 100 %).
  await expect(large.getByTestId('heatmap-zoom')).toHaveText(/^Fitted \(\d+ %\)$/);
  await large.getByRole('button', { name: '+', exact: true }).click();
  await expect(large.getByTestId('heatmap-zoom')).toHaveText(/^\d+ %$/);
  await shoot(page, 'large');
  await large.getByRole('button', { name: 'Close' }).click();

  // Compare: the same images under both runs.
  await view.getByTestId('hm-compare').selectOption(String(runB));
  await view.getByTestId('hm-compute').click();
  await expect(view.getByTestId('heatmap-img')).toHaveCount(16, { timeout: 60_000 });
  await expect(view).toContainText(`#${runB}`);
  await shoot(page, 'compare');

  // Contact sheet of the compare view: asks where to save (Browse… picks the folder, the name stays), then both runs'
  // maps side by side (image | run A | run B), and asks before replacing it.
  const sheets = join(server.tmp, 'shift reports');
  mkdirSync(sheets, { recursive: true });
  await view.getByTestId('hm-export-sheet').click();
  const form = view.getByTestId('hm-sheet-save');
  const sheetPath = form.locator('input[name=export-path]');
  await expect(sheetPath).toHaveValue(new RegExp(`/exports/heatmaps/run${runA}-vs-run${runB}-[\\w-]+\\.png$`));
  const name = (await sheetPath.inputValue()).split('/').pop()!;
  await form.getByTestId('hm-sheet-save-browse').click();
  const fb = page.getByTestId('file-browser');
  // Typed while the browser still opens at its start folder, the path may be overtaken: type it until it holds.
  await expect(async () => {
    await fb.getByTestId('file-browser-path').fill(`${sheets}/`);
    await fb.getByTestId('file-browser-path').press('Enter');
    await expect(fb.getByTestId('file-browser-crumbs')).toContainText('shift reports', { timeout: 2000 });
  }).toPass({ timeout: 20_000 });
  await fb.getByTestId('file-browser-choose').click();
  await expect(sheetPath).toHaveValue(join(sheets, name));
  await form.scrollIntoViewIfNeeded();
  await shoot(page, 'sheet-save');
  await form.getByTestId('hm-sheet-save-save').click();
  await expect(page.getByText(`Saved ${join(sheets, name)}`)).toBeVisible({ timeout: 60_000 });
  await expect(form).toBeHidden();
  const sheetMeta = await sharp(join(sheets, name)).metadata();
  expect(sheetMeta.width).toBe(8 + 3 * (160 + 8));
  // The sheet itself (its text is English, like the CSV headers), kept beside the screenshots to look at.
  copyFileSync(join(sheets, name), 'test-results/screens/heatmaps-contact-sheet-compare.png');
  await view.getByTestId('hm-export-sheet').click();
  await expect(sheetPath).toHaveValue(join(sheets, name));
  await form.getByTestId('hm-sheet-save-save').click();
  await expect(page.getByTestId('overwrite-confirm')).toBeVisible();
  await page.getByTestId('overwrite-cancel').click();
  await form.getByRole('button', { name: 'Cancel' }).click();
  await expect(form).toBeHidden();

  // The aggregate table is served for the run report.
  const table = await call<{ rows: { method: string; classKey: string; count: number }[] }>('getHeatmapScores', runA);
  expect(table.rows.find((r) => r.method === 'cam' && r.classKey === '*')?.count).toBe(24);
});

test('run report: localisation scores, computed from the empty state', async ({ page }) => {
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await call('clearHeatmapCache', runB);
  await page.goto(`${server.url}#/runs/${runB}`);
  const section = page.getByTestId('report-heatmap-scores');
  await expect(section.getByTestId('report-heatmap-empty')).toContainText('No heatmaps have been computed');
  await expect(section.getByTestId('report-heatmaps-link')).toHaveAttribute('href', '#/heatmaps');
  await section.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/runs-heatmap-empty-en.png' });
  await section.getByTestId('report-heatmap-compute').click();
  const table = section.getByTestId('report-heatmap-table');
  await expect(table).toBeVisible({ timeout: 90_000 });
  const scores = await call<{ rows: { method: string; classKey: string; count: number }[] }>('getHeatmapScores', runB, { split: 'val' });
  expect(scores.rows.length).toBeGreaterThan(1);
  await expect(table.locator('tbody tr')).toHaveCount(scores.rows.length);
  await expect(table.locator('tbody tr').last()).toContainText('All defect types');
  await expect(table.locator('tbody tr').last()).toContainText(String(scores.rows.find((r) => r.classKey === '*')!.count));
  await section.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/runs-heatmap-scores-en.png' });
  await setLanguage(page, 'ja');
  await expect(section).toContainText('全欠陥種別');
  await page.screenshot({ path: 'test-results/screens/runs-heatmap-scores-ja.png' });
  await setLanguage(page, 'en');

  // The HTML report carries the same table.
  await page.getByTestId('export-html').click();
  const file = join(server.tmp, 'report-hm.html');
  await page.getByTestId('report-html-save').locator('input[name=export-path]').fill(file);
  await page.getByTestId('report-html-save-save').click();
  await expect(page.getByText(`Report saved: ${file}`)).toBeVisible({ timeout: 30_000 });
  const html = readFileSync(file, 'utf8');
  expect(html).toContain('Heatmap localisation');
  expect(html).toContain('All defect types');
});
