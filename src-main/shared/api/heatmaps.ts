/** Heatmaps operations (filled in by the heatmaps work; see the API pattern in app.ts). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface HeatmapsApi {}

export const heatmapsOperations = [] as const satisfies readonly (keyof HeatmapsApi)[];

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface HeatmapsEvents {}
