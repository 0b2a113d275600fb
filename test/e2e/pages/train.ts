import type { Locator } from '@playwright/test';
import type { Shell } from './shell.ts';

/** The training wizard: data step, model step, training options, the sweep panel; `live` is the live panel. */
export class TrainWizard {
  readonly shell: Shell;
  readonly stepData: Locator;
  readonly classCounts: Locator;
  readonly dataWarnings: Locator;
  readonly labelChoice: Locator;
  readonly resizeChoice: Locator;
  readonly resizeWhy: Locator;
  readonly useSquash: Locator;
  readonly blocksTrainable: Locator;
  readonly inputSize: Locator;
  readonly backbone: Locator;
  readonly weightsMissing: Locator;
  readonly weightsFound: Locator;
  readonly estimate: Locator;
  readonly fineTuneBlocks: Locator;
  readonly epochs: Locator;
  readonly fineTuneEpochs: Locator;
  readonly batchSize: Locator;
  readonly runName: Locator;
  readonly augmentPreview: Locator;
  readonly summaryEstimate: Locator;
  readonly longRunConfirm: Locator;
  /** Training guided by the drawn regions (training step). */
  readonly guideChoice: Locator;
  readonly sweep: SweepPanel;
  readonly live: LivePanel;

  constructor(shell: Shell) {
    this.shell = shell;
    const page = shell.page;
    this.stepData = page.getByTestId('step-data');
    this.classCounts = page.getByTestId('class-counts');
    this.dataWarnings = page.getByTestId('data-warnings');
    this.labelChoice = page.getByTestId('label-choice');
    this.resizeChoice = page.getByTestId('resize-choice');
    this.resizeWhy = page.getByTestId('resize-why');
    this.useSquash = page.getByTestId('use-squash');
    this.blocksTrainable = page.locator('[data-testid=blocks-diagram] rect[data-trainable=true]');
    this.inputSize = page.locator('input[name=inputSize]');
    this.backbone = page.locator('select[name=backbone]');
    this.weightsMissing = page.getByTestId('weights-missing');
    this.weightsFound = page.getByTestId('weights-found');
    this.estimate = page.getByTestId('estimate');
    this.fineTuneBlocks = page.locator('input[name=fineTuneBlocks]');
    this.epochs = page.locator('input[name=epochs]');
    this.fineTuneEpochs = page.locator('input[name=fineTuneEpochs]');
    this.batchSize = page.locator('select[name=batchSize]');
    this.runName = page.locator('input[name=run-name]');
    this.augmentPreview = page.locator('[data-testid=augment-preview] canvas');
    this.summaryEstimate = page.getByTestId('summary-estimate');
    this.longRunConfirm = page.getByTestId('long-run-confirm');
    this.guideChoice = page.getByTestId('guide-choice');
    this.sweep = new SweepPanel(shell);
    this.live = new LivePanel(shell);
  }

  async open(): Promise<void> {
    await this.shell.openArea('Train');
  }

  // Exact names: "Back" alone also matches the status bar's backend button and a preset that mentions it.
  async next(): Promise<void> {
    await this.shell.page.getByRole('button', { name: 'Next', exact: true }).click();
  }

  async back(): Promise<void> {
    await this.shell.page.getByRole('button', { name: 'Back', exact: true }).click();
  }

  async toModelStep(): Promise<void> {
    await this.shell.page.getByTestId('step-model-tab').click();
  }

  async toTrainingStep(): Promise<void> {
    await this.shell.page.getByTestId('step-training-tab').click();
  }

  async preset(name: 'study' | 'best' | 'quick'): Promise<void> {
    await this.shell.page.getByTestId(`preset-${name}`).click();
  }

  /** "Per defect type" on the data step: every type its own class, each with a tick box in the label choice. */
  async perDefectType(): Promise<void> {
    await this.shell.page.getByRole('radio', { name: /Per defect type/ }).check();
  }

  labelTick(name: RegExp): Locator {
    return this.labelChoice.getByRole('checkbox', { name });
  }

  /** The resize choice's radio for one mode. */
  resize(mode: 'squash' | 'letterbox' | 'tile'): Locator {
    return this.resizeChoice.locator(`input[value=${mode}]`);
  }

  backboneOption(value: string): Locator {
    return this.backbone.locator(`option[value="${value}"]`);
  }

  /** Transfer learning, then fine-tuning the last N blocks. */
  async chooseFineTuning(): Promise<void> {
    await this.shell.page.getByLabel('Transfer learning, then fine-tune the last N blocks').check();
  }

  earlyStopping(): Locator {
    return this.shell.page.getByLabel('Stop when validation loss has not improved, and keep the best epoch');
  }

  augmentation(label: string): Locator {
    return this.shell.page.getByLabel(label);
  }

  async start(): Promise<void> {
    await this.shell.page.getByTestId('start-training').click();
  }

  /** The live-training tab (enabled once a run is going). */
  liveTab(): Locator {
    return this.shell.page.getByRole('tab', { name: 'Live training' });
  }
}

/** The live panel of a run: state, epoch, phase, curves, localisation, pause / resume / cancel and their confirms. */
export class LivePanel {
  readonly shell: Shell;
  readonly root: Locator;
  readonly state: Locator;
  readonly epoch: Locator;
  readonly best: Locator;
  readonly phase: Locator;
  readonly lossChart: Locator;
  readonly progressbar: Locator;
  readonly localisationCard: Locator;
  readonly localisationSummary: Locator;
  readonly localisationWarning: Locator;
  readonly pause: Locator;
  readonly resume: Locator;
  readonly cancel: Locator;
  readonly cancelConfirm: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    const page = shell.page;
    this.root = page.getByTestId('live-panel');
    this.state = page.getByTestId('live-state');
    this.epoch = page.getByTestId('live-epoch');
    this.best = page.getByTestId('live-best');
    this.phase = page.getByTestId('live-phase');
    this.lossChart = page.getByTestId('chart-loss');
    this.progressbar = page.locator('[data-testid=live-panel] [role=progressbar]');
    this.localisationCard = page.getByTestId('localisation-card');
    this.localisationSummary = page.getByTestId('localisation-summary');
    this.localisationWarning = page.getByTestId('localisation-warning');
    this.pause = page.getByTestId('pause-training');
    this.resume = page.getByTestId('resume-training');
    this.cancel = page.getByTestId('cancel-training');
    this.cancelConfirm = page.getByTestId('cancel-confirm');
  }

  /** Points on the loss chart (its `data-points`). */
  async lossPoints(): Promise<number> {
    return Number(await this.lossChart.getAttribute('data-points'));
  }

  async newRun(): Promise<void> {
    await this.shell.page.getByRole('button', { name: 'New run' }).click();
  }
}

/** The wizard's sweep panel (sizes × fine-tuned blocks, one estimate for all, one start). */
export class SweepPanel {
  readonly shell: Shell;
  readonly root: Locator;
  readonly estimate: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    this.root = shell.page.getByTestId('sweep-panel');
    this.estimate = this.root.getByTestId('sweep-estimate');
  }

  async open(): Promise<void> {
    await this.shell.page.getByTestId('sweep-open').click();
  }

  size(px: number): Locator {
    return this.root.getByTestId(`sweep-size-${px}`);
  }

  blocks(n: number): Locator {
    return this.root.getByTestId(`sweep-blocks-${n}`);
  }

  async measure(): Promise<void> {
    await this.root.getByRole('button', { name: 'Estimate' }).click();
  }

  async start(): Promise<void> {
    await this.root.getByTestId('sweep-start').click();
  }
}
