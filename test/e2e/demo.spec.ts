import { expect, test } from '@playwright/test';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

let server: RunningServer;
test.beforeAll(async () => {
  // No --no-demo: a first launch with no project opens the demo project.
  server = await startServer([]);
});
test.afterAll(async () => {
  await server.stop();
});

test('with no project, the app opens the demo project', async ({ page }) => {
  const { shell, library } = kensa(page, server);
  await shell.goto();
  await expect(shell.projectName).toHaveText(/Demo/);
  // While it is being made (about 10 s) the library says so, with progress, instead of "No images yet".
  await expect(library.demoProgress).toBeVisible();
  await expect(shell.heading('Making the demo project…', false)).toBeVisible();
  await expect(shell.heading('No images yet', false)).toHaveCount(0);
  // The demo is generated in the background: 150 synthetic motor-core photos, labelled, with regions.
  await expect(shell.projectSwitcher).toContainText('150 images', { timeout: 90_000 });
  await expect(page.getByText('sheet shift').first()).toBeVisible();
  await expect(library.thumbnails.first()).toBeVisible();
  await shell.screenshot('demo-library-en');
});
