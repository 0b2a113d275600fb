import { expect, test, type Page } from '@playwright/test';
import { createNeuProject, e2eApi, trainRuns, waitForTask } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';
import { openThumbInLibrary } from './pages/runs.ts';
import { viewerFileName } from './pages/viewer.ts';

/**
 * "Open in library" (`#/library/image/<id>`): from a confusion-matrix cell's photo in a run report and from a
 * cross-validation card's always-wrong photo to the library viewer at that image, even when the grid's filter hid
 * it (the filter is cleared and a line says so); a link to an image no longer in the library says so too.
 */
let server: RunningServer;
const notice = (page: Page, text: string) => page.getByRole('status').filter({ hasText: text });
let runId: number;
let cvId: string;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  server = await startServer(['--no-demo']);
  await createNeuProject(server, { ok: 'crazing', scratch: 'scratches' }, 10);
  const api = e2eApi(server);
  // Two scratch photos labelled as good parts: wrong whenever they are held out, so the CV card shows them.
  const types = await api.listDefectTypes();
  const ok = types.find((d) => d.isOk)!;
  const scratch = types.find((d) => !d.isOk && d.imageCount > 0)!;
  const scratches = (await api.listImages({ filter: { labels: [scratch.id] }, limit: 100 })).items.map((i) => i.id);
  await api.setLabel(scratches.slice(0, 2), ok.id);
  [runId] = (await trainRuns(server, [
    { name: 'Transfer 96', inputSize: 96, epochs: 3, batchSize: 4, split: { mode: 'random', valFraction: 0.3, testFraction: 0, seed: 3 } },
  ])) as [number];
  const cv = await api.startCrossValidation(
    { name: 'CV 96', inputSize: 96, epochs: 20, batchSize: 4 },
    { folds: 3, repeats: 1, groupBy: 'none', seed: 1 },
  );
  expect((await waitForTask(server, cv.taskId)).state).toBe('succeeded');
  cvId = cv.id;
});
test.afterAll(async () => {
  await server.stop();
});

test('open in library from a confusion-matrix photo and a cross-validation photo', async ({ page }) => {
  test.setTimeout(120_000);
  const { shell, api, library, runs } = kensa(page, server);
  const { report } = runs;
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  const all = (await api.listImages({ limit: 1000 })).items;
  const nameOf = new Map(all.map((i) => [i.id, i.name]));
  const ok = (await api.listDefectTypes()).find((d) => d.isOk)!;
  const okIds = new Set(all.filter((i) => i.labelId === ok.id).map((i) => i.id));

  // A confusion-matrix cell's photo (a scratch one: the library's filter below hides it).
  await shell.goto(`/runs/${runId}`);
  await expect(report.confusionMatrix).toBeVisible();
  const val = (await api.getRun(runId)).evaluations.find((e) => e.split === 'val')!;
  const cells = val.confusionImageIds.flatMap((row, a) => row.map((ids, p) => ({ a, p, id: ids.find((x) => !okIds.has(x)) })));
  const target = cells.find((c) => c.id !== undefined);
  expect(target).toBeDefined();
  const { a, p } = target!;
  const id = target!.id!;
  await report.cmCell(a, p).click();
  await report.cellThumbs.and(page.locator(`[data-image-id="${id}"]`)).click();
  const open = page.getByRole('dialog').getByTestId('open-in-library');
  await expect(open).toHaveText('Open in library ↗');
  await shell.screenshot('deeplink-open-in-library-en');
  await shell.setLanguage('ja');
  await expect(open).toHaveText('ライブラリで開く ↗');
  await shell.screenshot('deeplink-open-in-library-ja');
  await shell.setLanguage('en');
  await open.click();

  await expect(library.viewer.root).toBeVisible();
  await expect(viewerFileName(library.viewer)).toHaveText(nameOf.get(id)!);
  // The link is used up: the hash is the library's again, so the same link works a second time.
  expect(new URL(page.url()).hash).toBe('#/library');
  await shell.screenshot('deeplink-viewer-en');

  // The cross-validation card's always-wrong photos lead to the same viewer.
  const group = await api.getCrossValidation(cvId);
  const wrong = group.summary.alwaysWrong;
  expect(wrong.length).toBeGreaterThan(0);
  await shell.goto(`/runs/cv/${encodeURIComponent(cvId)}`);
  const thumbs = page.locator('[data-testid=cv-always-wrong] [data-image-id]');
  await expect(thumbs).toHaveCount(wrong.length);
  const last = wrong[wrong.length - 1]!;
  await openThumbInLibrary(shell, thumbs, last);
  await expect(viewerFileName(library.viewer)).toHaveText(nameOf.get(last)!);

  // A link followed while the library's filter hides the image: the filter is cleared, and a line says so.
  await page.keyboard.press('Escape');
  await expect(library.viewer.root).toBeHidden();
  await library.labelCount(ok.key).click();
  await expect(library.total).toHaveText(`${okIds.size} images`);
  // As a link in another screen would (the e2e tsconfig has no DOM types, hence the string).
  await page.evaluate(`location.hash = '#/library/image/${id}'`);
  await expect(viewerFileName(library.viewer)).toHaveText(nameOf.get(id)!);
  await expect(notice(page, 'Filters cleared to show the image you opened.')).toBeVisible();
  await expect(library.total).toHaveText(`${all.length} images`);

  // Loading the app at the link opens the viewer too; an image deleted since says so in one line.
  await page.goto('about:blank');
  await shell.goto(`/library/image/${id}`);
  await expect(viewerFileName(library.viewer)).toHaveText(nameOf.get(id)!);
  await shell.goto('/library/image/999999');
  await expect(notice(page, 'Image #999999 is no longer in the library.')).toBeVisible();
  await expect(library.viewer.root).toBeHidden();
});

test('open in library from an Inspect row and its details', async ({ page }) => {
  test.setTimeout(120_000);
  const { shell, api, library, inspect } = kensa(page, server);
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  const all = (await api.listImages({ limit: 1000 })).items;
  await shell.goto();
  await inspect.open();
  await inspect.chooseLibrary({ split: 'all', labels: 'labelled' });
  await inspect.start();
  await expect(inspect.summary).toContainText('img/s', { timeout: 60_000 });
  await expect(inspect.rows).toHaveCount(all.length);
  const name = all[3]!.name;
  const row = inspect.row(name);
  await expect(row.getByTestId('open-in-library')).toHaveAccessibleName('Open in library');
  await row.getByRole('button', { name, exact: true }).click();
  await expect(inspect.detail.getByTestId('open-in-library')).toHaveText('Open in library ↗');
  await shell.screenshot('deeplink-inspect-en');
  await shell.setLanguage('ja');
  await expect(inspect.detail.getByTestId('open-in-library')).toHaveText('ライブラリで開く ↗');
  await shell.screenshot('deeplink-inspect-ja');
  await shell.setLanguage('en');
  await row.getByTestId('open-in-library').click();
  await expect(viewerFileName(library.viewer)).toHaveText(name);

  // And from the details panel, for another row.
  await inspect.open();
  const other = all[7]!.name;
  await inspect.row(other).getByRole('button', { name: other, exact: true }).click();
  await inspect.detail.getByTestId('open-in-library').click();
  await expect(viewerFileName(library.viewer)).toHaveText(other);
});

test('open in library from the heatmap gallery’s large view', async ({ page }) => {
  test.setTimeout(120_000);
  const { shell, api, library, heatmaps: hm } = kensa(page, server);
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  const task = await api.computeHeatmaps({ runId, splits: ['val'], methods: ['cam'], classes: 'label' });
  expect((await waitForTask(server, task.id)).state).toBe('succeeded');
  await shell.goto();
  await hm.open();
  await hm.run.selectOption(String(runId));
  await hm.split.selectOption('val');
  await expect(hm.maps.first()).toBeVisible({ timeout: 30_000 });
  await hm.openFirstLarge();
  await expect(hm.large).toBeVisible();
  const name = (await hm.large.getByRole('heading', { level: 2 }).textContent())!.trim();
  const open = hm.large.getByTestId('open-in-library');
  await expect(open).toHaveText('Open in library ↗');
  await shell.screenshot('deeplink-heatmap-large-en');
  await shell.setLanguage('ja');
  await expect(open).toHaveText('ライブラリで開く ↗');
  await shell.screenshot('deeplink-heatmap-large-ja');
  await shell.setLanguage('en');
  await open.click();
  await expect(hm.large).toBeHidden();
  await expect(viewerFileName(library.viewer)).toHaveText(name);
});
