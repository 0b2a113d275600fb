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
  // The demo is generated in the background: 72 synthetic motor-core photos, labelled, with regions.
  await expect(page.getByTestId('project-switcher')).toContainText('72 images', { timeout: 90_000 });
  await expect(page.getByText('sheet shift').first()).toBeVisible();
  await expect(page.locator('img[src*="/media/thumb/"]').first()).toBeVisible();
  await page.screenshot({ path: 'test-results/screens/demo-library-en.png' });
});
