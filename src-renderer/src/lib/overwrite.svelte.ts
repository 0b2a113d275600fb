import { app } from '../state/app.svelte.ts';

export interface OverwriteQuestion {
  /** The file (or folder) that is there already. */
  path: string;
  answer: (replace: boolean) => void;
}

/**
 * Export with a question before replacing a file: the export runs with `overwrite: false`; when the service answers
 * FileExistsError the user is asked (ExportOverwrite dialog) and, on yes, it runs again with `overwrite: true`.
 * Other errors are shown as usual. One per screen; render `<ExportOverwrite confirm={...} />` beside it.
 */
export class OverwriteConfirm {
  question = $state<OverwriteQuestion | null>(null);

  async run<T>(write: (overwrite: boolean) => Promise<T>): Promise<T | undefined> {
    try {
      return await write(false);
    } catch (err) {
      if ((err as Error).name !== 'FileExistsError') {
        app.showError(err);
        return undefined;
      }
      const detail = (err as { detail?: { path?: unknown } }).detail;
      const path = typeof detail?.path === 'string' ? detail.path : '';
      const replace = await new Promise<boolean>((answer) => (this.question = { path, answer }));
      this.question = null;
      return replace ? app.guard(() => write(true)) : undefined;
    }
  }
}
