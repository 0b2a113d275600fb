import type { Locator } from '@playwright/test';
import type { Shell } from './shell.ts';

/** The import dialog: paths, labels from folders, regions (labelme / COCO / VOC), the report afterwards. */
export class ImportDialog {
  readonly shell: Shell;
  readonly root: Locator;
  readonly paths: Locator;
  readonly mapping: Locator;
  readonly report: Locator;
  readonly imported: Locator;
  readonly skippedCount: Locator;
  readonly skipped: Locator;
  readonly regionsCount: Locator;
  readonly regionProblems: Locator;
  readonly regionsFormat: Locator;
  readonly regionsPath: Locator;
  readonly regionsPreview: Locator;
  readonly regionsSection: Locator;
  readonly addFolder: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    this.root = shell.page.getByTestId('import-dialog');
    this.paths = this.root.locator('textarea[name=import-paths]');
    this.mapping = this.root.getByTestId('folder-mapping');
    this.report = this.root.getByTestId('import-report');
    this.imported = this.report.getByTestId('report-imported');
    this.skippedCount = this.report.getByTestId('report-skipped');
    this.skipped = this.report.getByTestId('skipped-list');
    this.regionsCount = this.report.getByTestId('report-regions');
    this.regionProblems = this.report.getByTestId('region-problems');
    this.regionsFormat = this.root.getByTestId('regions-format');
    this.regionsPath = this.root.getByTestId('regions-path');
    this.regionsPreview = this.root.getByTestId('regions-preview');
    this.regionsSection = this.root.getByTestId('import-regions');
    this.addFolder = this.root.getByTestId('import-add-folder');
  }

  /** Ticks "Labels from folder names" and lists the folders found under the paths. */
  async labelsFromFolders(): Promise<void> {
    await this.root.getByLabel('Labels from folder names').check();
    await this.root.getByRole('button', { name: 'Find folders' }).click();
  }

  /** What a found folder's images are labelled as (an option value, "none" for no label). */
  async mapFolder(folder: string, value: string): Promise<void> {
    await this.mapping.locator('tr', { hasText: folder }).getByRole('combobox').selectOption(value);
  }

  async start(): Promise<void> {
    await this.root.getByTestId('import-start').click();
  }

  /** The report's line for one skipped file. */
  skippedRow(name: string): Locator {
    return this.skipped.locator('tr', { hasText: name });
  }

  /** The report's line for one annotation file that could not be used. */
  problemRow(name: string): Locator {
    return this.regionProblems.locator('tr', { hasText: name });
  }

  /** Opens the folder browser for the regions (button named in the UI language: "Folder…", "ファイル…"). */
  async browseRegions(label: string): Promise<void> {
    await this.root.getByRole('button', { name: label, exact: true }).click();
  }

  /** Presses one of the dialog's buttons by its name in the UI language (e.g. "続けて取り込む"). */
  async press(name: string): Promise<void> {
    await this.root.getByRole('button', { name }).click();
  }

  /** Closes the dialog with its Close button (named in the UI language). */
  async close(name = 'Close'): Promise<void> {
    await this.root.getByRole('button', { name, exact: true }).last().click();
  }
}
