import { expect, test } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDemoPng } from '../../src-main/services/catalog/demo/populate.ts';
import type { Inspection } from '../../src-main/shared/api/inspect.ts';
import type { PredictResult, RunDetail } from '../../src-main/shared/training-types.ts';
import { apiCall, switchLanguage, trainRuns, waitForTask } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * Anomaly detection on the real engine: a run that learns from demo OK cores only (a few labelled chips just set
 * the threshold) flags a new chipped core in Inspect as NG and shows its anomaly map; the report shows the score
 * histogram of good vs defect images. With a classifier trained as well, the NG core also gets its defect type (or
 * "unknown type") in the table, the details and the CSV.
 */
let server: RunningServer;
let newPhotos: string;
let runId: number;
let typeRunId: number;

const call = <T>(op: string, ...args: unknown[]): Promise<T> => apiCall<T>(server, op, ...args);

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  const src = join(server.tmp, 'cores');
  for (const [folder, defect, n, seed] of [
    ['ok', 'ok', 36, 100],
    ['chip', 'chip', 6, 300],
    ['scratch', 'scratch', 6, 500],
  ] as const) {
    mkdirSync(join(src, folder), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(src, folder, `${folder}-${i}.png`), (await renderDemoPng(seed + i, defect, 192)).png);
  }
  newPhotos = join(server.tmp, 'line2-today');
  mkdirSync(newPhotos, { recursive: true });
  writeFileSync(join(newPhotos, 'core-good.png'), (await renderDemoPng(900, 'ok', 192)).png);
  writeFileSync(join(newPhotos, 'core-chipped.png'), (await renderDemoPng(901, 'chip', 192)).png);

  await call('createProject', join(server.tmp, 'project'), 'Line 2');
  const imp = await call<{ id: string }>('startImport', { paths: [src], labels: { from: 'folders' } });
  expect((await waitForTask(server, imp.id)).state).toBe('succeeded');
  [runId, typeRunId] = (await trainRuns(server, [
    {
      name: 'Good parts only',
      task: 'anomaly',
      inputSize: 224,
      split: { mode: 'random', valFraction: 0.34, testFraction: 0, seed: 1 },
    },
    {
      name: 'Defect types',
      task: 'multiclass',
      inputSize: 128,
      epochs: 8,
      fineTuneEpochs: 0,
      batchSize: 16,
      split: { mode: 'random', valFraction: 0.2, testFraction: 0, seed: 1 },
    },
  ])) as [number, number];
});
test.afterAll(async () => {
  await server.stop();
});

test('an anomaly run trained on OK cores flags a chipped core in Inspect and shows its map', async ({ page }) => {
  const run = await call<RunDetail>('getRun', runId);
  expect(run.task).toBe('anomaly');
  // Trained on OK images only: the labelled chips and scratches are all in validation.
  expect(run.evaluations.find((e) => e.split === 'val')?.count).toBeGreaterThanOrEqual(12);
  // The anomaly run (trained first) is the active model; the classifier only names types.
  expect((await call<{ id: number } | null>('getActiveModel'))?.id).toBe(runId);

  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inspect' }).click();
  await expect(page.getByTestId('inspect-model')).toContainText('Good parts only');
  await page.locator('textarea[name=inspect-paths]').fill(newPhotos);
  await page.getByTestId('start-inspect').click();
  await expect(page.getByTestId('inspect-row')).toHaveCount(2, { timeout: 120_000 });
  const chipped = page.locator('tr[data-testid="inspect-row"][data-name="core-chipped.png"]');
  await expect(chipped).toHaveAttribute('data-verdict', 'ng');
  // The newest classifier names the NG core's defect type (or "unknown type" when unsure); the good core has none.
  await expect(page.getByTestId('inspect-type-kpi')).toContainText('Defect types');
  const [latest] = await call<{ id: string }[]>('listInspections');
  const shown = await call<Inspection>('getInspection', latest!.id);
  const type = shown.items.find((i) => i.name === 'core-chipped.png')!.defectType!;
  await expect(chipped.getByTestId('inspect-type')).toHaveAttribute('data-type', type.known ? type.key : 'unknown');
  await expect(chipped.getByTestId('inspect-type')).toContainText(type.known ? type.key : 'Unknown type');
  const good = page.locator('tr[data-testid="inspect-row"][data-name="core-good.png"]');
  await expect(good).toHaveAttribute('data-verdict', 'ok');
  await expect(good.getByTestId('inspect-type')).not.toHaveAttribute('data-type');
  await chipped.getByRole('button', { name: 'core-chipped.png', exact: true }).click();
  const map = page.getByTestId('inspect-heatmap-img');
  await expect(map).toBeVisible({ timeout: 120_000 });
  expect(await map.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
  await expect(page.getByTestId('inspect-heatmap')).toContainText('Anomaly map');
  await expect(page.getByTestId('inspect-detail-type')).toContainText(type.known ? 'Most likely chip' : 'The classifier is unsure');
  await page.screenshot({ path: 'test-results/screens/anomaly-inspect-en.png', fullPage: true });
  await switchLanguage(server, page, 'ja');
  await expect(page.getByTestId('inspect-heatmap')).toContainText('異常度マップ');
  await expect(page.getByTestId('inspect-results')).toContainText('欠陥種別');
  await page.screenshot({ path: 'test-results/screens/anomaly-inspect-ja.png', fullPage: true });
  await switchLanguage(server, page, 'en');

  await page.goto(`${server.url}#/runs/${runId}`);
  await expect(page.getByTestId('anomaly-histogram')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('anomaly-figures')).toContainText('defects found');
  await page.getByTestId('anomaly-histogram').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/screens/anomaly-report-en.png' });
  await switchLanguage(server, page, 'ja');
  await expect(page.getByTestId('anomaly-histogram')).toContainText('異常スコア');
  await page.screenshot({ path: 'test-results/screens/anomaly-report-ja.png' });
});

test('the type classifier can be chosen or left out, and the CSV names the type', async () => {
  const inspect = async (req: Record<string, unknown>) => {
    const snap = await call<{ id: string }>('startInspection', { paths: [newPhotos], ...req });
    const done = (await waitForTask(server, snap.id)) as { state: string; result?: { inspectionId: string } };
    expect(done.state).toBe('succeeded');
    return done.result!.inspectionId;
  };
  const withTypes = await inspect({ typeRunId });
  const ins = await call<Inspection>('getInspection', withTypes);
  expect(ins.typeRun?.id).toBe(typeRunId);
  // The type is the classifier's own most likely defect class, known from 50 %.
  const chippedPath = join(newPhotos, 'core-chipped.png');
  const own = await call<PredictResult>('predict', { paths: [chippedPath] }, typeRunId);
  const probs = own.predictions[0]!.probabilities;
  const classes = ins.typeRun!.classes;
  const best = classes.reduce((b, c, i) => (!c.isOk && (b < 0 || probs[i]! > probs[b]!) ? i : b), -1);
  const item = ins.items.find((i) => i.name === 'core-chipped.png')!;
  expect(item.verdict).toBe('ng');
  expect(item.defectType).toEqual({ key: classes[best]!.key, probability: probs[best], known: probs[best]! >= 0.5 });
  expect(ins.items.find((i) => i.name === 'core-good.png')!.defectType).toBeNull();
  const csv = await call<string>('inspectionCsv', withTypes);
  const [head, ...rows] = csv
    .trim()
    .split('\r\n')
    .map((r) => r.split(','));
  const chippedRow = rows.find((r) => r[head!.indexOf('name')] === 'core-chipped.png')!;
  expect(chippedRow[head!.indexOf('defect_type')]).toBe(item.defectType!.known ? item.defectType!.key : 'UNKNOWN');

  const without = await call<Inspection>('getInspection', await inspect({ typeRunId: null }));
  expect(without.typeRun).toBeNull();
  expect(without.items.every((i) => i.defectType === undefined)).toBe(true);
  // The anomaly run itself cannot name types: refused before anything runs.
  await expect(call('startInspection', { paths: [newPhotos], typeRunId: runId })).rejects.toThrow(/cannot name defect types/);
});
