/** Inspect operations (filled in by the inspect work; see the API pattern in app.ts). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InspectApi {}

export const inspectOperations = [] as const satisfies readonly (keyof InspectApi)[];

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InspectEvents {}
