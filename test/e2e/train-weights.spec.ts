import { expect, test, type Page } from '@playwright/test';
import { cpSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { apiCall, createNeuProject, switchLanguage } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * Backbones without ImageNet weights in the training wizard: marked in the list, a warning that says which folder to
 * get and where it goes, and the folder picker to add a weights folder; once added, the mark and warning go.
 */
const MODELS = resolve(import.meta.dirname, '../../../shared/models');
let server: RunningServer;

const call = <T>(op: string, ...args: unknown[]): Promise<T> => apiCall<T>(server, op, ...args);
const setLanguage = (page: Page, lang: 'en' | 'ja'): Promise<void> => switchLanguage(server, page, lang);

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  await createNeuProject(server, { ok: 'crazing', scratch: 'scratches' }, 4);
});
test.afterAll(async () => {
  await server.stop();
});

test('a backbone without weights is marked, says what to get, and a weights folder added with the picker fixes it', async ({ page }) => {
  // A weights folder the user was given, holding a model folder under the name a missing backbone looks for (real
  // tfjs layers-format files copied from ../shared/models).
  const given = join(server.tmp, 'weights from IT');
  mkdirSync(given, { recursive: true });
  const report = await call<{ backbones: { backbone: string; dir: string | null; folderName: string }[] }>('listBackboneWeights');
  const missing = report.backbones.find((b) => b.dir === null && b.backbone.startsWith('mobilenet_v2'))!;
  expect(missing).toBeTruthy();
  cpSync(join(MODELS, 'mobilenet_v2_0.35_224_no_top'), join(given, missing.folderName), { recursive: true });

  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Train' }).click();
  await page.getByTestId('step-model-tab').click();
  const select = page.locator('select[name=backbone]');
  const alpha = missing.backbone.split('_').pop()!;
  const option = select.locator(`option[value="${missing.backbone}"]`);
  await expect(option).toHaveText(`MobileNet v2 α=${alpha} (weights not found)`);
  await expect(select.locator('option[value="mobilenet_v1_0.25"]')).toHaveText('MobileNet v1 α=0.25');
  await expect(page.getByTestId('weights-missing')).toHaveCount(0);
  await expect(page.getByTestId('weights-found')).toContainText('mobilenet_v1_0.25_224');

  await select.selectOption(missing.backbone);
  const warn = page.getByTestId('weights-missing');
  await expect(warn).toContainText(`No ImageNet weights found for MobileNet v2 α=${alpha}`);
  await expect(warn).toContainText(missing.folderName);
  await page.screenshot({ path: 'test-results/screens/train-weights-missing-en.png', fullPage: true });
  await setLanguage(page, 'ja');
  await expect(option).toHaveText(`MobileNet v2 α=${alpha}（重みがありません）`);
  await expect(warn).toContainText('ImageNet重みが見つかりません');
  await page.screenshot({ path: 'test-results/screens/train-weights-missing-ja.png', fullPage: true });
  await setLanguage(page, 'en');

  // Add the folder with the app's own folder browser (browser mode): it goes into Settings and is searched.
  await warn.getByTestId('weights-add-dir').click();
  const fb = page.getByTestId('file-browser');
  // Typed while the browser still opens at its start folder, the path may be overtaken: type it until it holds.
  await expect(async () => {
    await fb.getByTestId('file-browser-path').fill(`${given}/`);
    await fb.getByTestId('file-browser-path').press('Enter');
    await expect(fb.getByTestId('file-browser-crumbs')).toContainText('weights from IT', { timeout: 2000 });
  }).toPass({ timeout: 20_000 });
  await fb.getByTestId('file-browser-choose').click();
  await expect(warn).toHaveCount(0);
  await expect(option).toHaveText(`MobileNet v2 α=${alpha}`);
  await expect(page.getByTestId('weights-found')).toContainText(join(given, missing.folderName));
  expect((await call<{ weightsDirs: string[] }>('getSettings')).weightsDirs).toContain(given);
  await page.screenshot({ path: 'test-results/screens/train-weights-found-en.png', fullPage: true });
});
