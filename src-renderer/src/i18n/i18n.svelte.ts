import type { Language, LanguageSetting } from '../../../src-main/shared/types.ts';
import { en, ja, type MessageKey } from './catalogs.ts';
import { formatMessage } from './format.ts';

const catalogs: Record<Language, Record<MessageKey, string>> = { en, ja };

export function languageFor(setting: LanguageSetting, systemLocale: string): Language {
  if (setting !== 'auto') return setting;
  return systemLocale.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

/** The UI language; every string goes through t() so switching re-renders everything. */
class I18n {
  lang = $state<Language>(languageFor('auto', navigator.language));

  t = (key: MessageKey, params?: Record<string, string | number>): string => {
    return formatMessage(catalogs[this.lang][key] ?? en[key] ?? key, params);
  };

  set(lang: Language): void {
    this.lang = lang;
    document.documentElement.lang = lang;
  }

  /** Formats numbers and dates for the current language. */
  number = (n: number, digits = 0): string => n.toLocaleString(this.lang, { maximumFractionDigits: digits, minimumFractionDigits: digits });
  date = (iso: string): string => new Date(iso).toLocaleString(this.lang);
}

export const i18n = new I18n();
export const t = i18n.t;
export type { MessageKey };
