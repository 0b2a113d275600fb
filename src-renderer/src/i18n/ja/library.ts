import type { library as en } from '../en/library.ts';

export const library: Record<keyof typeof en, string> = {
  'library.title': 'ライブラリ',
};
