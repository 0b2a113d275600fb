import type { heatmaps as en } from '../en/heatmaps.ts';

export const heatmaps: Record<keyof typeof en, string> = {
  'heatmaps.title': 'ヒートマップ',
};
