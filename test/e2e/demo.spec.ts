import { expect, test } from '@playwright/test';
import { startServer, type RunningServer } from '../helpers/server.ts';

let server: RunningServer;
test.beforeAll(async () => {
  // No --no-demo: a first launch with no project opens the demo project.
  server = await startServer([]);
});
test.afterAll(async () => {
  await server.stop();
});

test('with no project, the app opens the demo project', async ({ page }) => {
  await page.goto(server.url);
  await expect(page.getByTestId('project-name')).toHaveText(/Demo/);
  // While it is being made (about 10 s) the library says so, with progress, instead of "No images yet".
  await expect(page.getByTestId('demo-progress')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Making the demo project…' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'No images yet' })).toHaveCount(0);
  // The demo is generated in the background: 72 synthetic motor-core photos, labelled, with regions.
  await expect(page.getByTestId('project-switcher')).toContainText('72 images', { timeout: 90_000 });
  await expect(page.getByText('sheet shift').first()).toBeVisible();
  await expect(page.locator('img[src^="/media/"][src*="/thumb/"]').first()).toBeVisible();
  await page.screenshot({ path: 'test-results/screens/demo-library-en.png' });
});
