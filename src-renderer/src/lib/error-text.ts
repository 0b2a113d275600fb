import { isKnownErrorName } from '../../../src-main/shared/errors.ts';
import { t } from '../i18n/i18n.svelte.ts';

export interface ErrorText {
  /** In the UI language: what happened. */
  title: string;
  /** In the UI language: what to do; null for errors Kensa did not name (a bug, or a system error). */
  hint: string | null;
  /** The server's own sentence (English: paths, values, the engine's words), shown as detail. */
  detail: string;
}

/** Words an error by its name in the UI language; the message stays as detail. */
export function errorText(e: { name: string; message: string }): ErrorText {
  if (!isKnownErrorName(e.name))
    return { title: t('error.title'), hint: null, detail: e.name === 'Error' ? e.message : `${e.name}: ${e.message}` };
  return { title: t(`error.${e.name}`), hint: t(`error.${e.name}.hint`), detail: e.message };
}
