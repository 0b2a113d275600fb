import type { Language, LanguageSetting } from '../../../src-main/shared/types.ts';
import { en, ja, type MessageKey } from './catalogs.ts';
import { formatMessage } from './format.ts';
import { dateTimeIn, formatDurationIn, formatMsIn, numberIn } from '../lib/format.ts';

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

  /** Formats numbers, dates and durations for the current language (lib/format.ts holds the formatters). */
  number = (n: number, digits = 0): string => numberIn(this.lang, n, digits);
  date = (iso: string): string => dateTimeIn(this.lang, iso);
  /** "1 min 02 s" / 「1 分 02 秒」 from seconds; "–" when unknown. */
  duration = (seconds: number | null | undefined): string => formatDurationIn(this.lang, seconds);
  /** As duration, from milliseconds (run and phase durations). */
  durationMs = (ms: number | null | undefined): string => formatMsIn(this.lang, ms);
}

export const i18n = new I18n();
export const t = i18n.t;
export type { MessageKey };
