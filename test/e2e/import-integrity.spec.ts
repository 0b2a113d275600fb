import { expect, test } from '@playwright/test';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { apiCall, switchLanguage } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * What a quality engineer sees when a folder is not what it seems: a folder that links to itself is imported once with
 * the link listed, a GIF named .jpg is said to be a GIF, in English and Japanese; and a settings file with a wrong
 * value no longer stops the app: it starts, says the file was set aside, and works.
 */
let server: RunningServer;
let importRoot: string;

const call = <T>(op: string, ...args: unknown[]): Promise<T> => apiCall<T>(server, op, ...args);

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
  await call('createProject', join(server.tmp, 'project'), 'Line 5');
});
test.afterAll(async () => {
  await server.stop();
});

test('a self-linking folder is imported once with the link reported; a GIF named .jpg is a GIF (en + ja)', async ({ page }) => {
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await page.goto(server.url);
  // The settings file was set aside at start: said once, with what to do; the app works.
  await expect(page.getByText('The settings file could not be read and was set aside')).toBeVisible();
  expect(readdirSync(server.configDir).some((f) => f.startsWith('settings.json.bad-'))).toBe(true);
  await page.screenshot({ path: 'test-results/screens/settings-set-aside-en.png' });
  await page.getByRole('button', { name: 'Dismiss' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Library' }).click();

  for (const lang of ['en', 'ja'] as const) {
    await switchLanguage(server, page, lang);
    await page.getByTestId('import-button').click();
    const dialog = page.getByTestId('import-dialog');
    await dialog.locator('textarea[name=import-paths]').fill(importRoot);
    await dialog.getByTestId('import-start').click();
    const report = dialog.getByTestId('import-report');
    await expect(report).toBeVisible({ timeout: 30_000 });
    const skipped = report.getByTestId('skipped-list');
    if (lang === 'en') {
      await expect(report.getByTestId('report-imported')).toHaveText('2');
      await expect(report.getByTestId('report-skipped')).toHaveText('2');
      await expect(skipped.locator('tr', { hasText: 'back-to-top' })).toContainText('Link to a folder already included');
      await expect(skipped.locator('tr', { hasText: 'really-a-gif.jpg' })).toContainText('GIF is not supported');
    } else {
      // The same import again: nothing new, the same two lines, in Japanese.
      await expect(report.getByTestId('report-imported')).toHaveText('0');
      await expect(skipped.locator('tr', { hasText: 'back-to-top' })).toContainText('取り込み済みフォルダーへのリンク');
      await expect(skipped.locator('tr', { hasText: 'really-a-gif.jpg' })).toContainText('GIF 形式には対応していません');
    }
    await page.screenshot({ path: `test-results/screens/library-import-links-${lang}.png` });
    await dialog
      .getByRole('button', { name: lang === 'en' ? 'Close' : '閉じる', exact: true })
      .last()
      .click();
    await expect(dialog).toBeHidden();
  }
  await switchLanguage(server, page, 'en');
  expect((await call<{ total: number }>('getCatalogStats')).total).toBe(2);
});
