import type { Locator } from '@playwright/test';
import type { Shell } from './shell.ts';

/** The Projects screen and the project switcher's forms: create a project, open one by path, the recent list. */
export class ProjectsPage {
  readonly shell: Shell;
  readonly createForm: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    this.createForm = shell.page.getByRole('form', { name: 'New project' });
  }

  /** The "open project" form under its name in the UI language. */
  openForm(name = 'Open project'): Locator {
    return this.shell.page.getByRole('form', { name });
  }

  /** Opens the switcher (the Projects screen with the recent list and both forms). */
  async openSwitcher(): Promise<void> {
    await this.shell.projectSwitcher.click();
  }

  /** Fills the "new project" form (folder, then optionally a name) and presses Create. */
  async create(dir: string, name?: string): Promise<void> {
    await this.createForm.getByRole('textbox').first().fill(dir);
    if (name !== undefined) await this.createForm.getByRole('textbox').nth(1).fill(name);
    await this.createForm.getByRole('button', { name: 'Create', exact: true }).click();
  }

  /** Opens a project by its folder through the "open project" form (names given for the UI language). */
  async open(dir: string, words: { form: string; button: string } = { form: 'Open project', button: 'Open' }): Promise<void> {
    const form = this.openForm(words.form);
    await form.getByRole('textbox').fill(dir);
    await form.getByRole('button', { name: words.button, exact: true }).click();
  }

  /** A project in the recent list (a button named with the project). */
  recent(name: RegExp): Locator {
    return this.shell.page.getByRole('button', { name });
  }
}
