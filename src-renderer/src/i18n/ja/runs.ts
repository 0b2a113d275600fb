import type { runs as en } from '../en/runs.ts';

export const runs: Record<keyof typeof en, string> = {
  'runs.title': '学習結果',
};
