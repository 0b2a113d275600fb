import { expect, test } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { apiCall, NEU_IMAGES as NEU, switchLanguage, waitForTask } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * Photos kept in their shape: when the classes' photos differ in aspect, the wizard's data step says so and offers
 * letterbox; choosing it is what the run is started with.
 */
let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  const src = join(server.tmp, 'photos');
  // OK photos wide (120x40), scratches tall (40x120).
  for (const [folder, cls, w, h] of [
    ['ok', 'crazing', 120, 40],
    ['scratch', 'scratches', 40, 120],
  ] as const) {
    mkdirSync(join(src, folder), { recursive: true });
    for (let i = 1; i <= 12; i++)
      await sharp(join(NEU, cls, `${cls}_${i}.jpg`))
        .extract({ left: 0, top: 0, width: w, height: h })
        .jpeg()
        .toFile(join(src, folder, `${cls}_${i}.jpg`));
  }
  await apiCall(server, 'createProject', join(server.tmp, 'project'), 'Shapes');
  const snap = await apiCall<{ id: string }>(server, 'startImport', { paths: [src], labels: { from: 'folders' } });
  expect((await waitForTask(server, snap.id)).state).toBe('succeeded');
});
test.afterAll(async () => {
  await server.stop();
});

test('the data step warns when photo shapes differ between classes and switches to letterbox', async ({ page }) => {
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Train' }).click();
  const warnings = page.getByTestId('data-warnings');
  await expect(warnings).toContainText('Photo shapes differ between classes');
  await expect(warnings).toContainText('3:1');
  const choice = page.getByTestId('resize-choice');
  await expect(choice.locator('input[value=squash]')).toBeChecked();
  await warnings.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/train-letterbox-en.png', fullPage: true });
  await switchLanguage(server, page, 'ja');
  await expect(warnings).toContainText('縦横比が異なります');
  await expect(page.getByTestId('use-letterbox')).toHaveText('レターボックスにする');
  await warnings.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/train-letterbox-ja.png', fullPage: true });
  await switchLanguage(server, page, 'en');

  await page.getByTestId('use-letterbox').click();
  await expect(choice.locator('input[value=letterbox]')).toBeChecked();
  await expect(page.getByTestId('use-letterbox')).toHaveCount(0);
  // Back to squash by hand: the offer comes back.
  await choice.locator('input[value=squash]').check();
  await expect(page.getByTestId('use-letterbox')).toBeVisible();
});
