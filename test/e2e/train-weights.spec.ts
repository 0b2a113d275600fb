import { expect, test } from '@playwright/test';
import { cpSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createNeuProject } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

/**
 * Backbones without ImageNet weights in the training wizard: marked in the list, a warning that says which folder to
 * get and where it goes, and the folder picker to add a weights folder; once added, the mark and warning go.
 */
const MODELS = resolve(import.meta.dirname, '../../../shared/models');
let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  await createNeuProject(server, { ok: 'crazing', scratch: 'scratches' }, 4);
});
test.afterAll(async () => {
  await server.stop();
});

test('a backbone without weights is marked, says what to get, and a weights folder added with the picker fixes it', async ({ page }) => {
  const { shell, api, train, fileBrowser: fb } = kensa(page, server);
  // A weights folder the user was given, holding a model folder under the name a missing backbone looks for (real
  // tfjs layers-format files copied from ../shared/models).
  const given = join(server.tmp, 'weights from IT');
  mkdirSync(given, { recursive: true });
  const report = await api.listBackboneWeights();
  const missing = report.backbones.find((b) => b.dir === null && b.backbone.startsWith('mobilenet_v2'))!;
  expect(missing).toBeTruthy();
  cpSync(join(MODELS, 'mobilenet_v2_0.35_224_no_top'), join(given, missing.folderName), { recursive: true });

  await shell.goto();
  await train.open();
  await train.toModelStep();
  const alpha = missing.backbone.split('_').pop()!;
  const option = train.backboneOption(missing.backbone);
  await expect(option).toHaveText(`MobileNet v2 α=${alpha} (weights not found)`);
  await expect(train.backboneOption('mobilenet_v1_0.25')).toHaveText('MobileNet v1 α=0.25');
  await expect(train.weightsMissing).toHaveCount(0);
  await expect(train.weightsFound).toContainText('mobilenet_v1_0.25_224');

  await train.backbone.selectOption(missing.backbone);
  const warn = train.weightsMissing;
  await expect(warn).toContainText(`No ImageNet weights found for MobileNet v2 α=${alpha}`);
  await expect(warn).toContainText(missing.folderName);
  await shell.screenshot('train-weights-missing-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(option).toHaveText(`MobileNet v2 α=${alpha}（重みがありません）`);
  await expect(warn).toContainText('ImageNet重みが見つかりません');
  await shell.screenshot('train-weights-missing-ja', { fullPage: true });
  await shell.setLanguage('en');

  // Add the folder with the app's own folder browser (browser mode): it goes into Settings and is searched.
  await warn.getByTestId('weights-add-dir').click();
  await fb.goToUntilShown(`${given}/`, 'weights from IT');
  await fb.choose.click();
  await expect(warn).toHaveCount(0);
  await expect(option).toHaveText(`MobileNet v2 α=${alpha}`);
  await expect(train.weightsFound).toContainText(join(given, missing.folderName));
  expect((await api.getSettings()).weightsDirs).toContain(given);
  await shell.screenshot('train-weights-found-en', { fullPage: true });
});
