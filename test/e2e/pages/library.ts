import { expect, type Locator } from '@playwright/test';
import { ImportDialog } from './import-dialog.ts';
import type { Shell } from './shell.ts';
import { ViewerPanel } from './viewer.ts';

/** The Library screen: the image grid, filters by label, selection and bulk labels, undo, defect types and splits. */
export class LibraryPage {
  readonly shell: Shell;
  readonly grid: Locator;
  readonly total: Locator;
  readonly sort: Locator;
  readonly selectionBar: Locator;
  readonly labelCounts: Locator;
  readonly savedIndicator: Locator;
  readonly hotkeyLegend: Locator;
  readonly importButton: Locator;
  readonly demoProgress: Locator;
  /** Thumbnails served from the media route of the open project. */
  readonly thumbnails: Locator;
  readonly importDialog: ImportDialog;
  readonly viewer: ViewerPanel;
  readonly types: TypesDialog;
  readonly split: SplitDialog;

  constructor(shell: Shell) {
    this.shell = shell;
    const page = shell.page;
    this.grid = page.getByTestId('library-grid');
    this.total = page.getByTestId('grid-total');
    this.sort = page.getByRole('combobox', { name: 'Sort by' });
    this.selectionBar = page.getByTestId('selection-bar');
    this.labelCounts = page.getByTestId('label-counts');
    this.savedIndicator = page.getByTestId('saved-indicator');
    this.hotkeyLegend = page.getByTestId('hotkey-legend');
    this.importButton = page.getByTestId('import-button');
    this.demoProgress = page.getByTestId('demo-progress');
    this.thumbnails = page.locator('img[src^="/media/"][src*="/thumb/"]');
    this.importDialog = new ImportDialog(shell);
    this.viewer = new ViewerPanel(shell);
    this.types = new TypesDialog(shell);
    this.split = new SplitDialog(shell);
  }

  async open(): Promise<void> {
    await this.shell.openArea('Library');
  }

  /** The grid cell at a position (cells render as placeholders until their page of rows has arrived). */
  cell(i: number): Locator {
    return this.grid.locator(`[data-index="${i}"]`);
  }

  /** A cell's image id, once its row has arrived. */
  async idOf(i: number): Promise<number> {
    await expect(this.cell(i)).toHaveAttribute('data-id', /^\d+$/);
    return Number(await this.cell(i).getAttribute('data-id'));
  }

  async sortBy(by: string): Promise<void> {
    await this.sort.selectOption(by);
  }

  /** The count of one label (by type key, or "(unlabelled)") in the label panel; clicking it filters the grid. */
  labelCount(key: string): Locator {
    return this.labelCounts.locator(`[data-key="${key}"]`);
  }

  /** Labels the focused image with a type's key (which moves the focus on). */
  async pressKey(key: string): Promise<void> {
    await this.shell.page.keyboard.press(key);
  }

  /** Relabels the selection from the selection bar. */
  async labelSelectionAs(label: string): Promise<void> {
    await this.shell.page.getByRole('combobox', { name: 'Label selection as' }).selectOption({ label });
    await this.shell.page.getByRole('button', { name: 'Apply', exact: true }).click();
  }

  /** Rubber-band selection: drag from the empty space after cell `from` (2.5 cells to its right) into cell `to`. */
  async dragSelect(from: number, to: number): Promise<void> {
    const a = (await this.cell(from).boundingBox())!;
    const b = (await this.cell(to).boundingBox())!;
    const mouse = this.shell.page.mouse;
    await mouse.move(a.x + a.width * 2.5, a.y + a.height / 2);
    await mouse.down();
    await mouse.move(b.x + 40, b.y + 40, { steps: 8 });
    await mouse.up();
  }

  /** The undo button under its name in the UI language (its title says what the next undo reverts). */
  undoButton(name: string): Locator {
    return this.shell.page.getByRole('button', { name });
  }

  async openImport(): Promise<ImportDialog> {
    await this.importButton.click();
    return this.importDialog;
  }

  async clearFilters(): Promise<void> {
    await this.shell.page.getByRole('button', { name: 'Clear filters' }).first().click();
  }
}

/** The defect types dialog: add a type with its names and hotkey, delete one (with what happens to its images). */
export class TypesDialog {
  readonly shell: Shell;
  readonly root: Locator;
  readonly newRow: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    this.root = shell.page.getByTestId('types-dialog');
    this.newRow = this.root.locator('tr.new');
  }

  async open(): Promise<void> {
    await this.shell.page.getByRole('button', { name: 'Defect types' }).click();
  }

  row(key: string): Locator {
    return this.root.locator(`tr[data-key=${key}]`);
  }

  /** Fills the new-type row; `key` alone retypes just the hotkey. Then presses "Add type". */
  async add(fields: { nameEn?: string; nameJa?: string; key: string }): Promise<void> {
    if (fields.nameEn !== undefined) await this.newRow.getByRole('textbox', { name: 'Name (English)' }).fill(fields.nameEn);
    if (fields.nameJa !== undefined) await this.newRow.getByRole('textbox', { name: 'Name (Japanese)' }).fill(fields.nameJa);
    await this.newRow.getByRole('textbox', { name: 'Key' }).fill(fields.key);
    await this.newRow.getByRole('button', { name: 'Add type' }).click();
  }

  async startDelete(key: string): Promise<void> {
    await this.row(key).getByRole('button', { name: 'Delete…' }).click();
  }

  /** Confirms the deletion, choosing what happens to the type's images (an option's label). */
  async confirmDelete(imagesBecome: string): Promise<void> {
    await this.root.getByRole('combobox', { name: 'What happens to its images' }).selectOption({ label: imagesBecome });
    await this.root.getByRole('button', { name: 'Delete type' }).click();
  }

  async close(): Promise<void> {
    await this.root.getByRole('button', { name: 'Close' }).last().click();
  }
}

/** The split dialog: train / val / test shares and re-splitting. */
export class SplitDialog {
  readonly shell: Shell;
  readonly root: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    this.root = shell.page.getByTestId('split-dialog');
  }

  async open(): Promise<void> {
    await this.shell.page.getByRole('button', { name: 'Split', exact: true }).click();
  }

  /** Sets the test share (the third slider) in percent. */
  async setTestShare(percent: number): Promise<void> {
    await this.root.locator('input[type=range]').nth(2).fill(String(percent));
  }

  async resplit(): Promise<void> {
    await this.root.getByTestId('resplit').click();
  }
}
