import { expect, test, type Locator } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TrainConfigInput } from '../../src-main/shared/training-types.ts';
import { pct } from '../../src-renderer/src/lib/format.ts';
import { e2eApi, type E2eApi, createNeuProject, switchLanguage, trainRuns, waitForTask } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/**
 * Before / after in the runs comparison: a plain run and a run guided by the drawn regions on the same small NEU set
 * (64 px crops, the VOC boxes scaled with them). The view computes the missing CAM maps of both runs, its table shows
 * each run's pointing game and energy in region per defect type (the heatmap service's own figures), and its gallery
 * shows the same defect image under both runs.
 */
const VOC = resolve(import.meta.dirname, '../../../shared/datasets/neu-det/annotations');
const CROP = 64;
let server: RunningServer;
let api: E2eApi;
let plain = 0;
let guided = 0;

/** The VOC boxes of a NEU image (200 px frame), scaled to the crop. */
function vocBoxes(file: string): { x: number; y: number; w: number; h: number }[] {
  const m = /^(.*)_(\d+)\.jpg$/.exec(file);
  if (!m) return [];
  const xml = readFileSync(join(VOC, m[1]!, `${m[1]}_${m[2]}.xml`), 'utf8');
  const s = CROP / 200;
  return [...xml.matchAll(/<xmin>(\d+)<\/xmin>\s*<ymin>(\d+)<\/ymin>\s*<xmax>(\d+)<\/xmax>\s*<ymax>(\d+)<\/ymax>/g)].map((b) => {
    const [x0, y0, x1, y1] = b.slice(1, 5).map(Number) as [number, number, number, number];
    return {
      x: Math.floor(x0 * s),
      y: Math.floor(y0 * s),
      w: Math.max(1, Math.ceil((x1 - x0) * s)),
      h: Math.max(1, Math.ceil((y1 - y0) * s)),
    };
  });
}

test.beforeAll(async () => {
  test.setTimeout(300_000);
  server = await startServer(['--no-demo']);
  api = e2eApi(server);
  await createNeuProject(server, { ok: 'patches', scratch: 'scratches', dent: 'inclusion' }, 12);
  const types = await api.listDefectTypes();
  const page = await api.listImages({ limit: 1000 });
  let regions = 0;
  for (const img of page.items) {
    const type = types.find((t) => t.id === img.labelId);
    if (!type || type.isOk) continue;
    for (const b of vocBoxes(img.name)) {
      await api.addRegion(img.id, { defectTypeId: type.id, kind: 'rect', ...b });
      regions++;
    }
  }
  expect(regions).toBeGreaterThanOrEqual(24);
  const common: TrainConfigInput = {
    inputSize: 96,
    epochs: 12,
    patience: 0,
    batchSize: 4,
    augmentation: { mode: 'none' },
    split: { mode: 'random', valFraction: 0.4, testFraction: 0, seed: 3 },
  };
  [plain, guided] = (await trainRuns(server, [
    { ...common, name: 'Plain' },
    { ...common, name: 'Guided', guideRegions: true, guideWeight: 4 },
  ])) as [number, number];
});
test.afterAll(async () => {
  await server.stop();
});

const mapSrc = async (figure: Locator): Promise<string> => decodeURIComponent((await figure.locator('img').getAttribute('src')) ?? '');

test('before / after: both runs’ pointing and energy per defect type, and the same images under both', async ({ page }) => {
  test.setTimeout(240_000);
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  await page.goto(`${server.url}#/runs/compare/${guided},${plain}`);
  const sec = page.getByTestId('compare-localisation');
  // The plain run is "before" and the guided one "after", whatever order they were picked in.
  await expect(sec.getByTestId('compare-run-a')).toHaveValue(String(plain));
  await expect(sec.getByTestId('compare-run-b')).toHaveValue(String(guided));
  await expect(sec.getByTestId('compare-side-a')).toContainText('Not guided');
  await expect(sec.getByTestId('compare-side-b')).toContainText('Guided by regions');

  // No maps yet: the view offers to compute the missing ones, for both runs, and does.
  await expect(sec.getByTestId('compare-missing')).toContainText(`#${plain}, #${guided}`);
  await sec.getByTestId('compare-compute').click();
  await expect.poll(async () => (await api.listTasks()).filter((t) => t.kind === 'heatmaps').length).toBe(2);
  for (const t of (await api.listTasks()).filter((x) => x.kind === 'heatmaps'))
    expect((await waitForTask(server, t.id)).state).toBe('succeeded');
  await expect(sec.getByTestId('compare-missing')).toHaveCount(0);

  // The table: per defect type and overall, each run's figures as the heatmap service scores them.
  for (const [runId, side] of [
    [plain, 'a'],
    [guided, 'b'],
  ] as const) {
    const table = await api.getHeatmapScores(runId, { split: 'val', methods: ['cam'] });
    for (const key of ['scratch', 'dent', '*']) {
      const want = table.rows.find((r) => r.classKey === key && r.method === 'cam' && r.paramsKey === 'd');
      expect(want, `run ${runId} has CAM scores for ${key}`).toBeTruthy();
      const row = sec.locator(`[data-testid=compare-type-row][data-type="${key}"]`);
      await expect(row.getByTestId(`pointing-${side}`)).toHaveText(pct(want!.pointingAccuracy));
      await expect(row.getByTestId(`energy-${side}`)).toHaveText(pct(want!.meanEnergy));
      await expect(row.getByTestId(`recall-${side}`)).toHaveText(/^\d+ %$/);
    }
  }
  await expect(sec.locator('[data-testid=compare-type-row]').last()).toHaveAttribute('data-type', '*');

  // The gallery: each card is one image, its map under run A and under run B.
  const pairs = sec.getByTestId('compare-pair');
  await expect(pairs.first()).toBeVisible();
  const scored = (await api.getHeatmapScores(plain, { split: 'val', methods: ['cam'] })).rows.find((r) => r.classKey === '*')!;
  await expect(pairs).toHaveCount(Math.min(8, scored.count));
  const first = pairs.first();
  const imageId = await first.getAttribute('data-image-id');
  expect(await mapSrc(first.getByTestId('compare-map-a'))).toContain(`${plain}:${imageId}:cam:`);
  expect(await mapSrc(first.getByTestId('compare-map-b'))).toContain(`${guided}:${imageId}:cam:`);
  for (const side of ['a', 'b'])
    await expect
      .poll(() =>
        first
          .getByTestId(`compare-map-${side}`)
          .locator('img')
          .evaluate((e) => (e as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBeGreaterThan(0);
  await expect(first.getByTestId('compare-map-a')).toContainText(/% in region/);

  // Swapping puts the guided run first, and its figures move with it.
  const row = sec.locator('[data-testid=compare-type-row][data-type="*"]');
  const before = { a: await row.getByTestId('pointing-a').textContent(), b: await row.getByTestId('pointing-b').textContent() };
  await sec.getByTestId('compare-swap').click();
  await expect(row.getByTestId('pointing-a')).toHaveText(before.b ?? '');
  await expect(row.getByTestId('pointing-b')).toHaveText(before.a ?? '');
  await sec.getByTestId('compare-swap').click();

  // Tall enough for the whole section (the app scrolls inside its main pane, not the page).
  await page.setViewportSize({ width: 1400, height: 2000 });
  await page.waitForLoadState('networkidle');
  await sec.scrollIntoViewIfNeeded();
  await sec.screenshot({ path: 'test-results/screens/compare-before-after-en.png' });
  await page.screenshot({ path: 'test-results/screens/compare-page-en.png', fullPage: true });
  await switchLanguage(server, page, 'ja');
  await expect(sec).toContainText('改善前 (A)');
  await expect(sec.getByTestId('compare-side-b')).toContainText('欠陥領域で誘導');
  await page.waitForLoadState('networkidle');
  await sec.screenshot({ path: 'test-results/screens/compare-before-after-ja.png' });
  await page.screenshot({ path: 'test-results/screens/compare-page-ja.png', fullPage: true });
  await switchLanguage(server, page, 'en');

  // Every other method and filter is one click away: the Heatmaps screen in compare mode on the same two runs.
  await sec.getByTestId('compare-open-heatmaps').click();
  await expect(page.getByTestId('hm-run')).toHaveValue(String(plain));
  await expect(page.getByTestId('hm-compare')).toHaveValue(String(guided));
});
