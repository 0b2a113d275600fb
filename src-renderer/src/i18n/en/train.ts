/** Strings of the train screen. */
export const train = {
  'train.title': 'Train',
} as const;
