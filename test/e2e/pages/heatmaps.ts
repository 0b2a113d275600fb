import type { Locator } from '@playwright/test';
import type { Shell } from './shell.ts';

/** The Heatmaps screen: run / split / methods / layer / class / compare choices, the gallery, large view, sheet. */
export class HeatmapsPage {
  readonly shell: Shell;
  readonly view: Locator;
  readonly run: Locator;
  readonly split: Locator;
  readonly methodB: Locator;
  readonly layer: Locator;
  readonly layerHint: Locator;
  readonly classChoice: Locator;
  readonly compareWith: Locator;
  readonly cards: Locator;
  readonly maps: Locator;
  readonly scores: Locator;
  readonly trueLabels: Locator;
  readonly large: Locator;
  readonly largeZoom: Locator;
  readonly sheetForm: Locator;
  readonly sheetPath: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    this.view = shell.page.getByTestId('heatmaps-view');
    this.run = this.view.getByTestId('hm-run');
    this.split = this.view.getByTestId('hm-split');
    this.methodB = this.view.getByTestId('hm-method-b');
    this.layer = this.view.getByTestId('hm-layer');
    this.layerHint = this.view.getByTestId('hm-layer-hint');
    this.classChoice = this.view.getByTestId('hm-class');
    this.compareWith = this.view.getByTestId('hm-compare');
    this.cards = this.view.getByTestId('heatmap-card');
    this.maps = this.view.getByTestId('heatmap-img');
    this.scores = this.view.getByTestId('hm-scores');
    this.trueLabels = this.view.getByTestId('true-label');
    this.large = shell.page.getByTestId('heatmap-large');
    this.largeZoom = this.large.getByTestId('heatmap-zoom');
    this.sheetForm = this.view.getByTestId('hm-sheet-save');
    this.sheetPath = this.sheetForm.locator('input[name=export-path]');
  }

  async open(): Promise<void> {
    await this.shell.openArea('Heatmaps');
  }

  async compute(): Promise<void> {
    await this.view.getByTestId('hm-compute').click();
  }

  /** Narrows the gallery to one defect type (its chip). */
  async onlyType(name: RegExp): Promise<void> {
    await this.view.getByTestId('hm-type').filter({ hasText: name }).first().click();
  }

  /** The decoded `src` of every map on screen (media ids name method, class and layer). */
  async mapSources(): Promise<string[]> {
    return this.maps.evaluateAll((els) => els.map((e) => decodeURIComponent(e.getAttribute('src') ?? '')));
  }

  /** Opens the first card's first map in the large view. */
  async openFirstLarge(): Promise<void> {
    await this.cards.first().getByTestId('heatmap-img').first().click();
  }

  async zoomIn(): Promise<void> {
    await this.large.getByRole('button', { name: '+', exact: true }).click();
  }

  async closeLarge(): Promise<void> {
    await this.large.getByRole('button', { name: 'Close' }).click();
  }

  /** Opens "save the contact sheet": the path box comes with the suggested place. */
  async startSheetExport(): Promise<void> {
    await this.view.getByTestId('hm-export-sheet').click();
  }

  async browseSheetFolder(): Promise<void> {
    await this.sheetForm.getByTestId('hm-sheet-save-browse').click();
  }

  async saveSheet(): Promise<void> {
    await this.sheetForm.getByTestId('hm-sheet-save-save').click();
  }

  async cancelSheet(): Promise<void> {
    await this.sheetForm.getByRole('button', { name: 'Cancel' }).click();
  }
}
