/** Strings of the library screen. */
export const library = {
  'library.title': 'Library',
} as const;
