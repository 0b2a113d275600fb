import type { Locator } from '@playwright/test';
import type { Shell } from './shell.ts';

/** The Settings screen: UI language and the folders searched for pretrained weights. */
export class SettingsPage {
  readonly shell: Shell;
  readonly language: Locator;
  readonly weightsDirs: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    this.language = shell.page.locator('select[name=language]');
    this.weightsDirs = shell.page.locator('textarea[name=weights-dirs]');
  }

  /** The Settings link under its name in the UI language. */
  link(name = 'Settings'): Locator {
    return this.shell.page.getByRole('link', { name });
  }

  /** Opens Settings by its address: the same link in every language. */
  async openByAddress(): Promise<void> {
    await this.shell.page.locator('a[href="#/settings"]').click();
  }

  async chooseLanguage(lang: 'en' | 'ja'): Promise<void> {
    await this.language.selectOption(lang);
  }

  /** "Add folder…" beside the weights folders (label in the UI language): opens the folder browser. */
  async addWeightsFolder(label = 'Add folder…'): Promise<void> {
    await this.shell.page.getByRole('button', { name: label }).click();
  }
}
