import { expect, test } from '@playwright/test';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pageApi } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
});
test.afterAll(async () => {
  await server.stop();
});

test('the shell shows every screen with an honest empty state when no project is open', async ({ page }) => {
  const { shell } = kensa(page, server);
  await shell.goto();
  await expect(shell.heading('Projects')).toBeVisible();
  for (const name of ['Library', 'Train', 'Runs', 'Heatmaps', 'Inspect'] as const) {
    await shell.openArea(name);
    await expect(shell.heading('Open a project first', false)).toBeVisible();
  }
  await shell.screenshot('shell-no-project-en');
  await expect(shell.backendStatus).toContainText(/training: (wasm|cpu|tfjs-node)/, { timeout: 60_000 });
});

test('create, open and switch projects end to end', async ({ page }) => {
  const { shell, projects } = kensa(page, server);
  const a = join(server.tmp, 'line-a');
  const b = join(server.tmp, 'line-b');
  await shell.goto();
  await shell.screenshot('projects-en');
  await projects.create(a, 'Line A');
  await expect(shell.projectName).toHaveText('Line A');

  await projects.openSwitcher();
  await projects.create(b, 'Line B');
  await expect(shell.projectName).toHaveText('Line B');

  // Switch back through the recent list; the project survives a reload.
  await projects.openSwitcher();
  await projects.recent(/Line A/).click();
  await expect(shell.projectName).toHaveText('Line A');
  await page.reload();
  await expect(shell.projectName).toHaveText('Line A');

  // Open by path.
  await projects.openSwitcher();
  await projects.open(b);
  await expect(shell.projectName).toHaveText('Line B');
});

test('a service error is worded by its name in the UI language, with what to do and the server detail', async ({ page }) => {
  const { shell, api, projects } = kensa(page, server);
  await shell.goto();
  await projects.openSwitcher();
  await projects.open(join(server.tmp, 'does-not-exist'));
  const alert = shell.alerts;
  await expect(alert.locator('[data-error-name]')).toHaveAttribute('data-error-name', 'ProjectNotFoundError');
  await expect(alert).toContainText('Project folder not found');
  await expect(alert).toContainText('remove it from the list');
  await expect(alert).toContainText('does not exist');
  // The same refusal through the API helper: thrown under the server's error name, from Node and from the page.
  await expect(api.openProject(join(server.tmp, 'does-not-exist'))).rejects.toMatchObject({ name: 'ProjectNotFoundError' });
  await expect(pageApi(page).call('openProject', join(server.tmp, 'does-not-exist'))).rejects.toMatchObject({
    name: 'ProjectNotFoundError',
  });

  // A folder that is not a project gets its own error.
  const plain = join(server.tmp, 'just-a-folder');
  mkdirSync(plain, { recursive: true });
  await projects.open(plain);
  await expect(shell.alert('This folder is not a Kensa project')).toBeVisible();

  if (process.getuid?.() !== 0) {
    // Root ignores permissions, so the read-only case only runs as a normal user.
    const ro = join(server.tmp, 'read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    await projects.create(ro);
    await expect(shell.alert('Kensa cannot write to this folder')).toBeVisible();
  }

  // In Japanese the same error reads in Japanese; the server's detail is kept beside it.
  await shell.dismissAlerts();
  await shell.setLanguage('ja');
  await projects.open(join(server.tmp, 'does-not-exist'), { form: 'プロジェクトを開く', button: '開く' });
  const ja = shell.alerts;
  await expect(ja).toContainText('プロジェクトフォルダーが見つかりません');
  await expect(ja).toContainText('一覧から削除してください');
  await expect(ja).toContainText('詳細');
  await expect(ja).toContainText('does not exist');
  await shell.screenshot('error-ja');
  await shell.setLanguage('en');
});

test('the UI switches to Japanese and back, and keeps the choice', async ({ page }) => {
  const { shell, settings } = kensa(page, server);
  await shell.goto();
  await settings.link().click();
  await settings.chooseLanguage('ja');
  await expect(shell.navLink('ライブラリ')).toBeVisible();
  // Why the backend runs is said in Japanese too, in the status bar and its table.
  await expect(shell.statusBar).toContainText(/スレッド|GPU で実行|CPU 上|常に利用可能/);
  await shell.backendStatus.click();
  await expect(page.getByRole('dialog', { name: 'TensorFlow バックエンド' })).toContainText(
    /未インストール|libtensorflow がありません|読み込み済み|不要/,
  );
  await shell.backendStatus.click();
  await shell.screenshot('settings-ja');
  await page.reload();
  await expect(settings.link('設定')).toBeVisible();
  await settings.chooseLanguage('en');
  await expect(settings.link()).toBeVisible();
});
