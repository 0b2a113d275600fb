/** Strings of the runs screen. */
export const runs = {
  'runs.title': 'Runs',
} as const;
