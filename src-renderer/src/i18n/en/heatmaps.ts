/** Strings of the heatmaps screen. */
export const heatmaps = {
  'heatmaps.title': 'Heatmaps',
} as const;
