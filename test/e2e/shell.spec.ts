import { expect, test } from '@playwright/test';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { switchLanguage } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
});
test.afterAll(async () => {
  await server.stop();
});

test('the shell shows every screen with an honest empty state when no project is open', async ({ page }) => {
  await page.goto(server.url);
  await expect(page.getByRole('heading', { name: 'Projects', exact: true })).toBeVisible();
  for (const name of ['Library', 'Train', 'Runs', 'Heatmaps', 'Inspect']) {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();
    await expect(page.getByRole('heading', { name: 'Open a project first' })).toBeVisible();
  }
  await page.screenshot({ path: 'test-results/screens/shell-no-project-en.png' });
  await expect(page.getByTestId('backend-status')).toContainText(/training: (wasm|cpu|tfjs-node)/, { timeout: 60_000 });
});

test('create, open and switch projects end to end', async ({ page }) => {
  const a = join(server.tmp, 'line-a');
  const b = join(server.tmp, 'line-b');
  await page.goto(server.url);
  await page.screenshot({ path: 'test-results/screens/projects-en.png' });
  const create = page.getByRole('form', { name: 'New project' });
  await create.getByRole('textbox').first().fill(a);
  await create.getByRole('textbox').nth(1).fill('Line A');
  await create.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByTestId('project-name')).toHaveText('Line A');

  await page.getByTestId('project-switcher').click();
  await create.getByRole('textbox').first().fill(b);
  await create.getByRole('textbox').nth(1).fill('Line B');
  await create.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByTestId('project-name')).toHaveText('Line B');

  // Switch back through the recent list; the project survives a reload.
  await page.getByTestId('project-switcher').click();
  await page.getByRole('button', { name: /Line A/ }).click();
  await expect(page.getByTestId('project-name')).toHaveText('Line A');
  await page.reload();
  await expect(page.getByTestId('project-name')).toHaveText('Line A');

  // Open by path.
  await page.getByTestId('project-switcher').click();
  const open = page.getByRole('form', { name: 'Open project' });
  await open.getByRole('textbox').fill(b);
  await open.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.getByTestId('project-name')).toHaveText('Line B');
});

test('a service error is worded by its name in the UI language, with what to do and the server detail', async ({ page }) => {
  await page.goto(server.url);
  await page.getByTestId('project-switcher').click();
  const open = page.getByRole('form', { name: 'Open project' });
  await open.getByRole('textbox').fill(join(server.tmp, 'does-not-exist'));
  await open.getByRole('button', { name: 'Open', exact: true }).click();
  const alert = page.getByRole('alert');
  await expect(alert.locator('[data-error-name]')).toHaveAttribute('data-error-name', 'ProjectNotFoundError');
  await expect(alert).toContainText('Project folder not found');
  await expect(alert).toContainText('remove it from the list');
  await expect(alert).toContainText('does not exist');

  // A folder that is not a project gets its own error.
  const plain = join(server.tmp, 'just-a-folder');
  mkdirSync(plain, { recursive: true });
  await open.getByRole('textbox').fill(plain);
  await open.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'This folder is not a Kensa project' })).toBeVisible();

  if (process.getuid?.() !== 0) {
    // Root ignores permissions, so the read-only case only runs as a normal user.
    const ro = join(server.tmp, 'read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const create = page.getByRole('form', { name: 'New project' });
    await create.getByRole('textbox').first().fill(ro);
    await create.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Kensa cannot write to this folder' })).toBeVisible();
  }

  // In Japanese the same error reads in Japanese; the server's detail is kept beside it.
  const dismiss = page.getByRole('alert').getByRole('button');
  while ((await dismiss.count()) > 0) await dismiss.first().click();
  await switchLanguage(server, page, 'ja');
  const openJa = page.getByRole('form', { name: 'プロジェクトを開く' });
  await openJa.getByRole('textbox').fill(join(server.tmp, 'does-not-exist'));
  await openJa.getByRole('button', { name: '開く', exact: true }).click();
  const ja = page.getByRole('alert');
  await expect(ja).toContainText('プロジェクトフォルダーが見つかりません');
  await expect(ja).toContainText('一覧から削除してください');
  await expect(ja).toContainText('詳細');
  await expect(ja).toContainText('does not exist');
  await page.screenshot({ path: 'test-results/screens/error-ja.png' });
  await switchLanguage(server, page, 'en');
});

test('the UI switches to Japanese and back, and keeps the choice', async ({ page }) => {
  await page.goto(server.url);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.locator('select[name=language]').selectOption('ja');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'ライブラリ' })).toBeVisible();
  // Why the backend runs is said in Japanese too, in the status bar and its table.
  await expect(page.locator('footer.status')).toContainText(/スレッド|GPU で実行|CPU 上|常に利用可能/);
  await page.getByTestId('backend-status').click();
  await expect(page.getByRole('dialog', { name: 'TensorFlow バックエンド' })).toContainText(
    /未インストール|libtensorflow がありません|読み込み済み|不要/,
  );
  await page.getByTestId('backend-status').click();
  await page.screenshot({ path: 'test-results/screens/settings-ja.png' });
  await page.reload();
  await expect(page.getByRole('link', { name: '設定' })).toBeVisible();
  await page.locator('select[name=language]').selectOption('en');
  await expect(page.getByRole('link', { name: 'Settings' })).toBeVisible();
});
