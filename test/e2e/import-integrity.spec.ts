import { expect, test } from '@playwright/test';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { e2eApi } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

/**
 * What a quality engineer sees when a folder is not what it seems: a folder that links to itself is imported once with
 * the link listed, a GIF named .jpg is said to be a GIF, in English and Japanese; and a settings file with a wrong
 * value no longer stops the app: it starts, says the file was set aside, and works.
 */
let server: RunningServer;
let importRoot: string;

test.beforeAll(async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kensa-e2e-integrity-'));
  mkdirSync(join(tmp, 'config'), { recursive: true });
  // The file that used to make every start crash.
  writeFileSync(join(tmp, 'config', 'settings.json'), JSON.stringify({ language: 'en', recentProjects: 'x' }));
  server = await startServer(['--no-demo'], { tmp });
  importRoot = join(server.tmp, 'incoming');
  mkdirSync(join(importRoot, 'stators'), { recursive: true });
  for (let i = 0; i < 2; i++) {
    const img = sharp({ create: { width: 96, height: 72, channels: 3, background: { r: 60 + i * 40, g: 70, b: 80 } } });
    writeFileSync(join(importRoot, 'stators', `core-${i}.png`), await img.png().toBuffer());
  }
  symlinkSync(importRoot, join(importRoot, 'stators', 'back-to-top'));
  writeFileSync(join(importRoot, 'stators', 'really-a-gif.jpg'), Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(40, 1)]));
  await e2eApi(server).createProject(join(server.tmp, 'project'), 'Line 5');
});
test.afterAll(async () => {
  await server.stop();
});

test('a self-linking folder is imported once with the link reported; a GIF named .jpg is a GIF (en + ja)', async ({ page }) => {
  const { shell, api, library } = kensa(page, server);
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await shell.goto();
  // The settings file was set aside at start: said once, with what to do; the app works.
  await expect(page.getByText('The settings file could not be read and was set aside')).toBeVisible();
  expect(readdirSync(server.configDir).some((f) => f.startsWith('settings.json.bad-'))).toBe(true);
  await shell.screenshot('settings-set-aside-en');
  await page.getByRole('button', { name: 'Dismiss' }).click();
  await library.open();

  for (const lang of ['en', 'ja'] as const) {
    await shell.setLanguage(lang);
    const dialog = await library.openImport();
    await dialog.paths.fill(importRoot);
    await dialog.start();
    await expect(dialog.report).toBeVisible({ timeout: 30_000 });
    if (lang === 'en') {
      await expect(dialog.imported).toHaveText('2');
      await expect(dialog.skippedCount).toHaveText('2');
      await expect(dialog.skippedRow('back-to-top')).toContainText('Link to a folder already included');
      await expect(dialog.skippedRow('really-a-gif.jpg')).toContainText('GIF is not supported');
    } else {
      // The same import again: nothing new, the same two lines, in Japanese.
      await expect(dialog.imported).toHaveText('0');
      await expect(dialog.skippedRow('back-to-top')).toContainText('取り込み済みフォルダーへのリンク');
      await expect(dialog.skippedRow('really-a-gif.jpg')).toContainText('GIF 形式には対応していません');
    }
    await shell.screenshot(`library-import-links-${lang}`);
    await dialog.close(lang === 'en' ? 'Close' : '閉じる');
    await expect(dialog.root).toBeHidden();
  }
  await shell.setLanguage('en');
  expect((await api.getLibraryStats()).total).toBe(2);
});
