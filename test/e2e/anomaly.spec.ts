import { expect, test } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDemoPng } from '../../src-main/services/library/demo/populate.ts';
import { e2eApi, trainRuns, waitForTask } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

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

  const api = e2eApi(server);
  await api.createProject(join(server.tmp, 'project'), 'Line 2');
  const imp = await api.startImport({ paths: [src], labels: { from: 'folders' } });
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
  const { shell, api, inspect, runs } = kensa(page, server);
  const run = await api.getRun(runId);
  expect(run.task).toBe('anomaly');
  // Trained on OK images only: the labelled chips and scratches are all in validation.
  expect(run.evaluations.find((e) => e.split === 'val')?.count).toBeGreaterThanOrEqual(12);
  // The anomaly run (trained first) is the active model; the classifier only names types.
  expect((await api.getActiveModel())?.id).toBe(runId);

  await shell.goto();
  await inspect.open();
  await expect(inspect.model).toContainText('Good parts only');
  await inspect.inspectPaths(newPhotos);
  await expect(inspect.rows).toHaveCount(2, { timeout: 120_000 });
  const chipped = inspect.row('core-chipped.png');
  await expect(chipped).toHaveAttribute('data-verdict', 'ng');
  // The newest classifier names the NG core's defect type (or "unknown type" when unsure); the good core has none.
  await expect(inspect.typeKpi).toContainText('Defect types');
  const [latest] = await api.listInspections();
  const shown = await api.getInspection(latest!.id);
  const type = shown.items.find((i) => i.name === 'core-chipped.png')!.defectType!;
  await expect(chipped.getByTestId('inspect-type')).toHaveAttribute('data-type', type.known ? type.key : 'unknown');
  await expect(chipped.getByTestId('inspect-type')).toContainText(type.known ? type.key : 'Unknown type');
  const good = inspect.row('core-good.png');
  await expect(good).toHaveAttribute('data-verdict', 'ok');
  await expect(good.getByTestId('inspect-type')).not.toHaveAttribute('data-type');
  await chipped.getByRole('button', { name: 'core-chipped.png', exact: true }).click();
  const map = inspect.heatmapImg;
  await expect(map).toBeVisible({ timeout: 120_000 });
  expect(await map.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
  await expect(inspect.heatmap).toContainText('Anomaly map');
  // Which type the small classifier (6 chips, 6 scratches) names depends on the demo photos; the user relies on the
  // detail naming the classifier's own most likely type, whichever it is.
  const typeLabel = shown.typeRun?.classes.find((c) => c.key === type.key)?.nameEn || type.key;
  await expect(inspect.detailType).toContainText(type.known ? `Most likely ${typeLabel}` : 'The classifier is unsure');
  await shell.screenshot('anomaly-inspect-en', { fullPage: true });
  await shell.setLanguage('ja');
  await expect(inspect.heatmap).toContainText('異常度マップ');
  await expect(inspect.results).toContainText('欠陥種別');
  await shell.screenshot('anomaly-inspect-ja', { fullPage: true });
  await shell.setLanguage('en');

  await runs.gotoReport(runId);
  await expect(runs.report.anomalyHistogram).toBeVisible({ timeout: 30_000 });
  await expect(runs.report.anomalyFigures).toContainText('defects found');
  await runs.report.anomalyHistogram.scrollIntoViewIfNeeded();
  await shell.screenshot('anomaly-report-en');
  await shell.setLanguage('ja');
  await expect(runs.report.anomalyHistogram).toContainText('異常スコア');
  await shell.screenshot('anomaly-report-ja');
});

test('the type classifier can be chosen or left out, and the CSV names the type', async () => {
  const api = e2eApi(server);
  const inspect = async (req: { typeRunId: number | null }) => {
    const snap = await api.startInspection({ paths: [newPhotos], ...req });
    const done = await waitForTask(server, snap.id);
    expect(done.state).toBe('succeeded');
    return (done.result as { inspectionId: string }).inspectionId;
  };
  const withTypes = await inspect({ typeRunId });
  const ins = await api.getInspection(withTypes);
  expect(ins.typeRun?.id).toBe(typeRunId);
  // The type is the classifier's own most likely defect class, known from 50 %.
  const chippedPath = join(newPhotos, 'core-chipped.png');
  const own = await api.predict({ paths: [chippedPath] }, typeRunId);
  const probs = own.predictions[0]!.probabilities;
  const classes = ins.typeRun!.classes;
  const best = classes.reduce((b, c, i) => (!c.isOk && (b < 0 || probs[i]! > probs[b]!) ? i : b), -1);
  const item = ins.items.find((i) => i.name === 'core-chipped.png')!;
  expect(item.verdict).toBe('ng');
  expect(item.defectType).toEqual({ key: classes[best]!.key, probability: probs[best], known: probs[best]! >= 0.5 });
  expect(ins.items.find((i) => i.name === 'core-good.png')!.defectType).toBeNull();
  const csv = await api.inspectionCsv(withTypes);
  const [head, ...rows] = csv
    .trim()
    .split('\r\n')
    .map((r) => r.split(','));
  const chippedRow = rows.find((r) => r[head!.indexOf('name')] === 'core-chipped.png')!;
  expect(chippedRow[head!.indexOf('defect_type')]).toBe(item.defectType!.known ? item.defectType!.key : 'UNKNOWN');

  const without = await api.getInspection(await inspect({ typeRunId: null }));
  expect(without.typeRun).toBeNull();
  expect(without.items.every((i) => i.defectType === undefined)).toBe(true);
  // The anomaly run itself cannot name types: refused before anything runs, as a named error.
  const refused = api.startInspection({ paths: [newPhotos], typeRunId: runId });
  await expect(refused).rejects.toThrow(/cannot name defect types/);
  await expect(refused).rejects.toMatchObject({ name: 'ValidationError' });
});
