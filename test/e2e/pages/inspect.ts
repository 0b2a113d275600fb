import type { Locator } from '@playwright/test';
import type { Shell } from './shell.ts';

/** The Inspect screen: the model card, what to inspect, results (table, KPIs, filters), details, CSV, add to library. */
export class InspectPage {
  readonly shell: Shell;
  readonly model: Locator;
  readonly tta: Locator;
  readonly paths: Locator;
  readonly rows: Locator;
  readonly unreadableRows: Locator;
  readonly summary: Locator;
  readonly results: Locator;
  readonly skip: Locator;
  readonly speed: Locator;
  readonly countNg: Locator;
  readonly countUnreadable: Locator;
  readonly ttaKpi: Locator;
  readonly typeKpi: Locator;
  readonly detail: Locator;
  readonly detailType: Locator;
  readonly heatmap: Locator;
  readonly heatmapImg: Locator;
  readonly heatmapNote: Locator;
  readonly search: Locator;
  readonly threshold: Locator;
  readonly labelDiffers: Locator;
  readonly csvPath: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    const page = shell.page;
    this.model = page.getByTestId('inspect-model');
    this.tta = page.getByTestId('inspect-tta');
    this.paths = page.locator('textarea[name=inspect-paths]');
    this.rows = page.getByTestId('inspect-row');
    this.unreadableRows = page.getByTestId('inspect-unreadable-row');
    this.summary = page.getByTestId('inspect-summary');
    this.results = page.getByTestId('inspect-results');
    this.skip = page.getByTestId('inspect-skip');
    this.speed = page.getByTestId('inspect-speed');
    this.countNg = page.getByTestId('count-ng');
    this.countUnreadable = page.getByTestId('count-unreadable');
    this.ttaKpi = page.getByTestId('inspect-tta-kpi');
    this.typeKpi = page.getByTestId('inspect-type-kpi');
    this.detail = page.getByTestId('inspect-detail');
    this.detailType = page.getByTestId('inspect-detail-type');
    this.heatmap = page.getByTestId('inspect-heatmap');
    this.heatmapImg = page.getByTestId('inspect-heatmap-img');
    this.heatmapNote = page.getByTestId('inspect-heatmap-note');
    this.search = page.locator('input[type=search]');
    this.threshold = page.getByRole('slider', { name: 'NG threshold on P(defect)' });
    this.labelDiffers = page.getByTestId('filter-label-differs');
    this.csvPath = page.locator('input[name=csv-path]');
  }

  async open(): Promise<void> {
    await this.shell.openArea('Inspect');
  }

  /** Inspects the files and folders given, one per line. */
  async inspectPaths(...paths: string[]): Promise<void> {
    await this.paths.fill(paths.join('\n'));
    await this.start();
  }

  async start(): Promise<void> {
    await this.shell.page.getByTestId('start-inspect').click();
  }

  /** Images already in the library as what to inspect, with the split and label selects set. */
  async chooseLibrary(opts: { split: string; labels: string }): Promise<void> {
    const page = this.shell.page;
    await page.getByRole('tab', { name: 'Images in the library' }).click();
    await page.locator('select').filter({ hasText: 'All splits' }).selectOption(opts.split);
    await page.locator('select').filter({ hasText: 'Labelled only' }).selectOption(opts.labels);
  }

  /** A result row by file name. */
  row(name: string): Locator {
    return this.shell.page.locator(`tr[data-testid="inspect-row"][data-name="${name}"]`);
  }

  unreadableRow(name: string): Locator {
    return this.shell.page.locator(`tr[data-testid="inspect-unreadable-row"][data-name="${name}"]`);
  }

  /** One attribute of every result row, in table order. */
  async rowAttributes(name: string): Promise<string[]> {
    return this.rows.evaluateAll((els, n) => els.map((e) => e.getAttribute(n) ?? ''), name);
  }

  async sortBy(column: 'verdict'): Promise<void> {
    await this.shell.page.getByTestId(`sort-${column}`).click();
  }

  async filter(which: 'all' | 'ng' | 'unreadable'): Promise<void> {
    await this.shell.page.getByTestId(`filter-${which}`).click();
  }

  /** The label wrapping the "label differs from prediction" toggle (it carries the count). */
  labelDiffersLabel(): Locator {
    return this.shell.page.locator('label').filter({ has: this.labelDiffers });
  }

  /** Opens the detail panel of the first row shown. */
  async openFirstDetails(): Promise<void> {
    await this.rows
      .first()
      .getByRole('button', { name: /Details of/ })
      .click();
  }

  /** Sets the NG threshold slider the way a drag ends: the value, then one change event. */
  async setThreshold(value: string): Promise<void> {
    await this.threshold.evaluate((el, v) => {
      const input = el as unknown as { value: string; dispatchEvent(e: unknown): boolean };
      input.value = v;
      input.dispatchEvent(
        new (globalThis as unknown as { Event: new (t: string, o: object) => unknown }).Event('change', { bubbles: true }),
      );
    }, value);
  }

  /** Selects every row shown and adds those photos to the library with a label. */
  async addShownToLibrary(label: string): Promise<void> {
    const page = this.shell.page;
    await page.getByLabel('Select all shown').check();
    await page.getByTestId('add-label').selectOption({ label });
    await page.getByTestId('add-to-catalog').click();
  }

  /** Clicks "download CSV" (the caller waits for the download). */
  async downloadCsv(): Promise<void> {
    await this.shell.page.getByTestId('download-csv').click();
  }

  /** "Save CSV to…", then the path, then Save (named in the UI language). */
  async saveCsvTo(path: string): Promise<void> {
    const page = this.shell.page;
    await page.getByRole('button', { name: 'Save CSV to…' }).click();
    await this.csvPath.fill(path);
    await this.saveCsv();
  }

  async saveCsv(label = 'Save'): Promise<void> {
    await this.shell.page.getByRole('button', { name: label, exact: true }).click();
  }
}
