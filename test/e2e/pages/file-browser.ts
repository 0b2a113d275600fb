import { expect, type Locator } from '@playwright/test';
import type { Shell } from './shell.ts';

/** The app's own folder / file browser (browser mode has no native dialog), wherever it is opened from. */
export class FileBrowser {
  readonly root: Locator;
  readonly path: Locator;
  readonly list: Locator;
  readonly crumbs: Locator;
  readonly picked: Locator;
  readonly choose: Locator;
  readonly alert: Locator;

  constructor(shell: Shell) {
    this.root = shell.page.getByTestId('file-browser');
    this.path = this.root.getByTestId('file-browser-path');
    this.list = this.root.getByTestId('file-browser-list');
    this.crumbs = this.root.getByTestId('file-browser-crumbs');
    this.picked = this.root.getByTestId('file-browser-picked');
    this.choose = this.root.getByTestId('file-browser-choose');
    this.alert = this.root.getByRole('alert');
  }

  /** An entry of the listing (folders and files are options of a listbox). */
  option(name?: RegExp): Locator {
    return name ? this.list.getByRole('option', { name }) : this.list.getByRole('option');
  }

  /** Types a path into the path box and goes there. */
  async goTo(path: string): Promise<void> {
    await this.path.fill(path);
    await this.path.press('Enter');
  }

  /**
   * Goes to `path` until the crumbs show `crumb`: typed while the browser still opens at its start folder, the path
   * may be overtaken, so it is typed again until it holds.
   */
  async goToUntilShown(path: string, crumb: string): Promise<void> {
    await expect(async () => {
      await this.goTo(path);
      await expect(this.crumbs).toContainText(crumb, { timeout: 2000 });
    }).toPass({ timeout: 20_000 });
  }
}
