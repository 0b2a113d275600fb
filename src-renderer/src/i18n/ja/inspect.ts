import type { inspect as en } from '../en/inspect.ts';

export const inspect: Record<keyof typeof en, string> = {
  'inspect.title': '検査',
};
