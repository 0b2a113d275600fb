import { expect, test } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { e2eApi, NEU_IMAGES as NEU, waitForTask } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

/**
 * Elongated photos (every class 3:1): the wizard's data step suggests tiles from the data (shared/resize-choice.ts,
 * measured on elpv strips), says why in one line, in English and Japanese.
 */
let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  const src = join(server.tmp, 'photos');
  // Three NEU photos side by side: 600 x 200 strips of one surface.
  for (const [folder, cls] of [
    ['ok', 'crazing'],
    ['scratch', 'scratches'],
  ] as const) {
    mkdirSync(join(src, folder), { recursive: true });
    for (let i = 1; i <= 8; i++) {
      const cells = await Promise.all(
        [i, i + 8, i + 16].map((k) =>
          sharp(join(NEU, cls, `${cls}_${k}.jpg`))
            .greyscale()
            .raw()
            .toBuffer(),
        ),
      );
      const strip = Buffer.alloc(600 * 200);
      for (let y = 0; y < 200; y++) cells.forEach((c, k) => c.copy(strip, y * 600 + k * 200, y * 200, (y + 1) * 200));
      await sharp(strip, { raw: { width: 600, height: 200, channels: 1 } })
        .jpeg()
        .toFile(join(src, folder, `${cls}_strip_${i}.jpg`));
    }
  }
  const api = e2eApi(server);
  await api.createProject(join(server.tmp, 'project'), 'Strips');
  const snap = await api.startImport({ paths: [src], labels: { from: 'folders' } });
  expect((await waitForTask(server, snap.id)).state).toBe('succeeded');
});
test.afterAll(async () => {
  await server.stop();
});

test('the data step suggests tiles for elongated photos and says why', async ({ page }) => {
  const { shell, train } = kensa(page, server);
  await shell.goto();
  await train.open();
  await expect(train.resize('tile')).toBeChecked();
  await expect(train.resizeWhy).toContainText('Tiles suggested from the data: the photos are elongated (aspect 3.00)');
  await expect(train.resizeChoice).toContainText('the photo’s score is its worst tile');
  await train.resizeChoice.scrollIntoViewIfNeeded();
  await shell.screenshot('train-tile-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(train.resizeWhy).toContainText('データから推奨：タイル分割');
  await expect(train.resizeChoice).toContainText('タイル分割（大きい画像・細長い画像）');
  await train.resizeChoice.scrollIntoViewIfNeeded();
  await shell.screenshot('train-tile-ja', { fullPage: true });
  await shell.setLanguage('en');
  // Squash by hand holds.
  await train.resize('squash').check();
  await expect(train.resize('squash')).toBeChecked();
  await expect(train.resize('tile')).not.toBeChecked();
});
