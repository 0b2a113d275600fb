import type { Locator } from '@playwright/test';
import type { Shell } from './shell.ts';

/** The Runs screen: the runs table, model import, comparing runs; `report`, `compare` and `sweep` are its views. */
export class RunsPage {
  readonly shell: Shell;
  readonly table: Locator;
  readonly rows: Locator;
  readonly report: RunReport;
  readonly compare: RunsCompare;
  readonly sweep: SweepView;

  constructor(shell: Shell) {
    this.shell = shell;
    this.table = shell.page.getByTestId('runs-table');
    this.rows = this.table.locator('tbody tr');
    this.report = new RunReport(shell);
    this.compare = new RunsCompare(shell);
    this.sweep = new SweepView(shell);
  }

  async open(): Promise<void> {
    await this.shell.openArea('Runs');
  }

  /** Loads the app straight at a run's report. */
  async gotoReport(runId: number): Promise<void> {
    await this.shell.goto(`/runs/${runId}`);
  }

  row(runId: number): Locator {
    return this.table.getByTestId(`run-row-${runId}`);
  }

  /** Opens a run's report from the table by its name. */
  async openRun(name: RegExp): Promise<void> {
    await this.table.getByRole('button', { name }).click();
  }

  /** Imports an exported model folder as a new run. */
  async importModel(dir: string): Promise<void> {
    const page = this.shell.page;
    await page.getByRole('button', { name: 'Import model…' }).click();
    await page.getByLabel(/Folder of an exported model/).fill(dir);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
  }

  /** Ticks runs in the table and opens their comparison. */
  async compareRuns(...runIds: number[]): Promise<void> {
    for (const id of runIds) await this.row(id).getByRole('checkbox').check();
    await this.shell.page.getByTestId('compare-runs').click();
  }

  sweepLink(sweepId: string): Locator {
    return this.shell.page.getByTestId(`open-sweep-${sweepId}`);
  }
}

/** One run's report: curves, evaluation, confusion matrix, operating point, test split, exports, active model. */
export class RunReport {
  readonly shell: Shell;
  readonly root: Locator;
  readonly confusionMatrix: Locator;
  readonly cellThumbs: Locator;
  readonly loss: Locator;
  readonly images: Locator;
  readonly chips: Locator;
  readonly roc: Locator;
  readonly pr: Locator;
  readonly thresholdSlider: Locator;
  readonly thresholdValue: Locator;
  readonly operatingPoint: Locator;
  readonly opRecall: Locator;
  readonly opFar: Locator;
  readonly opCounts: Locator;
  readonly opStored: Locator;
  readonly useThreshold: Locator;
  readonly evalAccuracy: Locator;
  readonly testEvaluation: Locator;
  readonly testAccuracy: Locator;
  readonly htmlSave: Locator;
  readonly htmlSavePath: Locator;
  readonly heatmapScores: Locator;
  readonly anomalyHistogram: Locator;
  readonly anomalyFigures: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    const page = shell.page;
    this.root = page.getByTestId('run-report');
    this.confusionMatrix = this.root.getByTestId('confusion-matrix');
    this.cellThumbs = this.root.getByTestId('cell-thumbs').locator('[data-image-id]');
    this.loss = this.root.getByTestId('report-loss');
    this.images = this.root.getByTestId('report-images');
    this.chips = this.root.locator('.chips');
    this.roc = this.root.getByTestId('roc-curve');
    this.pr = this.root.getByTestId('pr-curve');
    this.thresholdSlider = this.root.getByTestId('threshold-slider');
    this.thresholdValue = this.root.getByTestId('threshold-value');
    this.operatingPoint = this.root.getByTestId('operating-point');
    this.opRecall = this.root.getByTestId('op-recall');
    this.opFar = this.root.getByTestId('op-far');
    this.opCounts = this.root.getByTestId('op-counts');
    this.opStored = this.root.getByTestId('op-stored');
    this.useThreshold = this.root.getByTestId('use-threshold');
    this.evalAccuracy = this.root.getByTestId('eval-accuracy');
    this.testEvaluation = this.root.getByTestId('test-evaluation');
    this.testAccuracy = this.root.getByTestId('test-accuracy');
    this.htmlSave = page.getByTestId('report-html-save');
    this.htmlSavePath = this.htmlSave.locator('input[name=export-path]');
    this.heatmapScores = page.getByTestId('report-heatmap-scores');
    this.anomalyHistogram = page.getByTestId('anomaly-histogram');
    this.anomalyFigures = page.getByTestId('anomaly-figures');
  }

  /** A confusion-matrix cell (actual row, predicted column). */
  cmCell(actual: number, predicted: number): Locator {
    return this.root.getByTestId(`cm-cell-${actual}-${predicted}`);
  }

  /** The count shown in a confusion-matrix cell. */
  cmCount(actual: number, predicted: number): Locator {
    return this.cmCell(actual, predicted).locator('strong');
  }

  /** Sets the threshold slider (0…1). */
  async setThreshold(value: string): Promise<void> {
    await this.thresholdSlider.fill(value);
  }

  async aimAt(aim: 'recall'): Promise<void> {
    await this.root.getByTestId(`aim-${aim}`).check();
  }

  /** Opens "save the HTML report": the path box comes with the suggested place. */
  async startHtmlExport(): Promise<void> {
    await this.shell.page.getByTestId('export-html').click();
  }

  /** Saves the HTML report at `file` (after {@link startHtmlExport}). */
  async saveHtmlTo(file: string): Promise<void> {
    await this.htmlSavePath.fill(file);
    await this.htmlSave.getByTestId('report-html-save-save').click();
  }

  async stopUsingAsActive(): Promise<void> {
    await this.root.getByRole('button', { name: 'Stop using as active model' }).click();
  }

  async setActive(): Promise<void> {
    await this.root.getByTestId('set-active').click();
  }

  async exportModel(dir: string): Promise<void> {
    await this.root.getByRole('button', { name: 'Export model…' }).click();
    await this.root.getByLabel('Export to folder').fill(dir);
    await this.root.getByRole('button', { name: 'Export', exact: true }).click();
  }

  async backToRuns(): Promise<void> {
    await this.root.getByRole('button', { name: /Runs/ }).click();
  }

  async rename(name: string): Promise<void> {
    const page = this.shell.page;
    await page.getByRole('button', { name: 'Rename run' }).click();
    await page.getByLabel('Rename run').fill(name);
    await page.getByRole('button', { name: 'Save' }).click();
  }
}

/** The comparison of runs: table, loss chart and the buttons to each run. */
export class RunsCompare {
  readonly shell: Shell;
  readonly root: Locator;
  readonly table: Locator;
  readonly loss: Locator;
  readonly lossSeries: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    this.root = shell.page.getByTestId('runs-compare');
    this.table = this.root.getByTestId('compare-table');
    this.loss = this.root.getByTestId('compare-loss');
    this.lossSeries = this.root.locator('[data-testid=compare-loss] .u-legend .u-series');
  }

  async openRun(label: string): Promise<void> {
    await this.root.getByRole('button', { name: label }).click();
  }
}

/** A sweep's view in Runs: both charts, the best run, "use as active model" per run. */
export class SweepView {
  readonly root: Locator;
  readonly best: Locator;
  readonly sizeChart: Locator;
  readonly blocksChart: Locator;

  constructor(shell: Shell) {
    this.root = shell.page.getByTestId('sweep-view');
    this.best = this.root.getByTestId('sweep-best');
    this.sizeChart = this.root.getByTestId('sweep-chart-size');
    this.blocksChart = this.root.getByTestId('sweep-chart-blocks');
  }

  row(runId: number): Locator {
    return this.root.getByTestId(`sweep-row-${runId}`);
  }

  async activate(runId: number): Promise<void> {
    await this.root.getByTestId(`sweep-activate-${runId}`).click();
  }

  async backToRuns(): Promise<void> {
    await this.root.getByRole('button', { name: /Back to runs/ }).click();
  }
}

/**
 * From a thumbnail on a runs screen (report, confusion-matrix cell, cross-validation card) to the library viewer:
 * the thumbnail opens the photo large, its "Open in library" leaves for the library. Appended by DEEPLINK.
 */
export async function openThumbInLibrary(shell: Shell, thumbs: Locator, imageId: number): Promise<void> {
  await thumbs.and(shell.page.locator(`[data-image-id="${imageId}"]`)).click();
  await shell.page.getByRole('dialog').getByTestId('open-in-library').click();
}
