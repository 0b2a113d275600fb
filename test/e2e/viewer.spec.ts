import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { e2eApi, type E2eApi, NEU_IMAGES as NEU, waitForTask } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * The image viewer's gestures and keys end to end: zoom by keys, buttons and wheel, fit, pan, a box drawn and
 * then resized by its corner handle (stored), Escape peeling gesture → selection → viewer, Delete on a region.
 * Complements library.spec (draw, brush, move, undo).
 */
let server: RunningServer;
let api: E2eApi;

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  api = e2eApi(server);
  const src = join(server.tmp, 'photos', 'scratch');
  mkdirSync(src, { recursive: true });
  // Three 200×200 NEU photos at full size, so image pixels and screen pixels differ visibly when fitted.
  for (let i = 1; i <= 3; i++) await sharp(join(NEU, 'scratches', `scratches_${i}.jpg`)).toFile(join(src, `scratches_${i}.jpg`));
  await api.createProject(join(server.tmp, 'project'), 'Viewer');
  const snap = await api.startImport({ paths: [join(server.tmp, 'photos')], labels: { from: 'folders' } });
  expect((await waitForTask(server, snap.id)).state).toBe('succeeded');
});
test.afterAll(async () => {
  await server.stop();
});

const zoom = (page: Page): Promise<number> =>
  page
    .getByTestId('zoom')
    .textContent()
    .then((s) => Number(s!.replace('%', '')));

test('viewer: zoom, fit and pan; draw a box and resize it by its handle; Escape and Delete', async ({ page }) => {
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Library' }).click();
  await page.getByRole('combobox', { name: 'Sort by' }).selectOption('name');
  const first = page.locator('[data-testid=library-grid] [data-index="0"]');
  await expect(first).toHaveAttribute('data-id', /^\d+$/);
  const imageId = Number(await first.getAttribute('data-id'));
  await first.dblclick();
  const viewer = page.getByTestId('viewer');
  await expect(viewer).toBeVisible();
  const stage = viewer.getByTestId('viewer-stage');
  const sb = (await stage.boundingBox())!;
  // Fitted: the 200 px image fills 96 % of the stage's shorter side.
  const fitted = Math.round((Math.min(sb.width, sb.height) / 200) * 0.96 * 100);
  await expect.poll(() => zoom(page)).toBe(fitted);

  // --- zoom by keys, buttons and wheel; F fits again
  await page.keyboard.press('+');
  await expect.poll(() => zoom(page)).toBe(Math.round(fitted * 1.25));
  await page.keyboard.press('-');
  await expect.poll(() => zoom(page)).toBe(fitted);
  await viewer.getByRole('button', { name: '1:1' }).click();
  await expect.poll(() => zoom(page)).toBe(100);
  await viewer.getByRole('button', { name: 'Zoom in' }).click();
  await expect.poll(() => zoom(page)).toBe(125);
  await page.mouse.move(sb.x + sb.width / 2, sb.y + sb.height / 2);
  await page.mouse.wheel(0, -200);
  await expect.poll(() => zoom(page)).toBeGreaterThan(125);
  await page.keyboard.press('f');
  await expect.poll(() => zoom(page)).toBe(fitted);

  // --- pan: dragging empty ground with the select tool moves the picture, not the zoom
  const img = viewer.locator('img');
  const before = (await img.boundingBox())!;
  await page.mouse.move(sb.x + 10, sb.y + 10);
  await page.mouse.down();
  await page.mouse.move(sb.x + 70, sb.y + 40, { steps: 4 });
  await page.mouse.up();
  await expect.poll(async () => Math.round((await img.boundingBox())!.x - before.x)).toBe(60);
  expect(await zoom(page)).toBe(fitted);
  await page.keyboard.press('f');

  // --- draw a box with R, in image pixels from the fitted transform
  await page.keyboard.press('r');
  await expect(viewer.getByRole('radio', { name: 'Rectangle' })).toHaveAttribute('aria-checked', 'true');
  const scale = (Math.min(sb.width, sb.height) / 200) * 0.96;
  const ox = sb.x + (sb.width - 200 * scale) / 2;
  const oy = sb.y + (sb.height - 200 * scale) / 2;
  const at = (ix: number, iy: number): [number, number] => [ox + ix * scale, oy + iy * scale];
  await page.mouse.move(...at(40, 50));
  await page.mouse.down();
  await page.mouse.move(...at(80, 80), { steps: 4 });
  await page.mouse.move(...at(100, 110), { steps: 4 });
  await page.mouse.up();
  const list = viewer.getByTestId('region-list');
  await expect(list.locator('li')).toHaveCount(1);
  const drawn = (await api.getImage(imageId)).regions[0]!;
  expect(Math.abs(drawn.x - 40)).toBeLessThanOrEqual(1);
  expect(Math.abs(drawn.w - 60)).toBeLessThanOrEqual(1);
  // The new region is selected.
  await expect(list.locator('li.sel')).toHaveCount(1);

  // --- resize by the south-east handle with the select tool: the stored box grows, its corner stays
  await page.keyboard.press('v');
  await page.mouse.move(...at(drawn.x + drawn.w, drawn.y + drawn.h));
  await page.mouse.down();
  await page.mouse.move(...at(drawn.x + drawn.w + 20, drawn.y + drawn.h + 10), { steps: 5 });
  await page.mouse.up();
  await expect
    .poll(async () => {
      const r = (await api.getImage(imageId)).regions[0]!;
      return [r.x, r.y, Math.round((r.w - drawn.w) / 5), Math.round((r.h - drawn.h) / 5)];
    })
    .toEqual([drawn.x, drawn.y, 4, 2]);
  await expect(list).toContainText(`${drawn.w + 20}×${drawn.h + 10}`);

  // --- Escape: first a drawing under way (nothing stored), then the selection, then the viewer
  await page.keyboard.press('r');
  await page.mouse.move(...at(120, 120));
  await page.mouse.down();
  await page.mouse.move(...at(160, 160), { steps: 4 });
  await page.keyboard.press('Escape');
  await page.mouse.up();
  await expect(list.locator('li')).toHaveCount(1);
  await expect(list.locator('li.sel')).toHaveCount(1);
  await page.keyboard.press('v');
  await page.keyboard.press('Escape');
  await expect(list.locator('li.sel')).toHaveCount(0);
  await expect(viewer).toBeVisible();
  await list.locator('li button.pick').first().click();
  await expect(list.locator('li.sel')).toHaveCount(1);
  await page.keyboard.press('Delete');
  await expect(list.locator('li')).toHaveCount(0);
  // Only the resized box was ever stored (the cancelled drawing was not), and Delete removed it.
  await expect.poll(async () => (await api.getImage(imageId)).regions.length).toBe(0);
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();
});
