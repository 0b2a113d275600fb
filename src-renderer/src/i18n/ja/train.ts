import type { train as en } from '../en/train.ts';

export const train: Record<keyof typeof en, string> = {
  'train.title': '学習',
};
