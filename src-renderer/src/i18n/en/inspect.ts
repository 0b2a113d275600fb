/** Strings of the inspect screen. */
export const inspect = {
  'inspect.title': 'Inspect',
} as const;
