import type { Locator } from '@playwright/test';
import type { Shell } from './shell.ts';

/** "Replace the existing file?" asked by every export that would write over a file. */
export class OverwriteConfirm {
  readonly root: Locator;
  readonly path: Locator;
  readonly cancel: Locator;
  readonly replace: Locator;

  constructor(shell: Shell) {
    this.root = shell.page.getByTestId('overwrite-confirm');
    this.path = shell.page.getByTestId('overwrite-path');
    this.cancel = shell.page.getByTestId('overwrite-cancel');
    this.replace = shell.page.getByTestId('overwrite-replace');
  }
}
