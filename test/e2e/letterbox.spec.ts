import { expect, test } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { e2eApi, NEU_IMAGES as NEU, waitForTask } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

/**
 * Photo shapes that differ between classes: the wizard's data step says so and keeps squash by default (measured:
 * letterbox's padding shows the shape to the model more than squashing does, see shared/resize-choice.ts), saying
 * why, and offers squash again when letterbox is chosen by hand.
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
  const api = e2eApi(server);
  await api.createProject(join(server.tmp, 'project'), 'Shapes');
  const snap = await api.startImport({ paths: [src], labels: { from: 'folders' } });
  expect((await waitForTask(server, snap.id)).state).toBe('succeeded');
});
test.afterAll(async () => {
  await server.stop();
});

test('the data step warns when photo shapes differ between classes and keeps squash by default', async ({ page }) => {
  const { shell, train } = kensa(page, server);
  await shell.goto();
  await train.open();
  const warnings = train.dataWarnings;
  await expect(warnings).toContainText('Photo shapes differ between classes');
  await expect(warnings).toContainText('3:1');
  await expect(warnings).toContainText('Crop or photograph every class the same way');
  // The default follows the data (shared/resize-choice.ts): squash, with the reason in one line.
  await expect(train.resize('squash')).toBeChecked();
  await expect(train.resizeWhy).toContainText('Squash suggested from the data: the photos of scratch (aspect 0.33) and OK (3.00)');
  await expect(train.useSquash).toHaveCount(0);
  // Letterbox by hand: the warning offers squash again.
  await train.resize('letterbox').check();
  await expect(train.resize('letterbox')).toBeChecked();
  await warnings.scrollIntoViewIfNeeded();
  await shell.screenshot('train-letterbox-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(warnings).toContainText('縦横比が異なります');
  await expect(train.useSquash).toHaveText('引き伸ばしにする（形が手がかりになりにくい）');
  await expect(train.resizeWhy).toContainText('データから推奨：引き伸ばし');
  await warnings.scrollIntoViewIfNeeded();
  await shell.screenshot('train-letterbox-ja', { fullPage: true });
  await shell.setLanguage('en');
  // The choice by hand holds: the data does not take it back, neither after a language switch nor on coming back
  // to the step.
  await expect(train.resize('letterbox')).toBeChecked();
  await train.next();
  await expect(train.stepData).toHaveCount(0);
  await train.back();
  await expect(train.resize('letterbox')).toBeChecked();

  await train.useSquash.click();
  await expect(train.resize('squash')).toBeChecked();
  await expect(train.useSquash).toHaveCount(0);
  // Back to letterbox by hand: the offer comes back.
  await train.resize('letterbox').check();
  await expect(train.useSquash).toBeVisible();
});
