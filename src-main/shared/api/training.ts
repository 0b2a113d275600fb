/** Training operations (filled in by the training work; see the API pattern in app.ts). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TrainingApi {}

export const trainingOperations = [] as const satisfies readonly (keyof TrainingApi)[];

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TrainingEvents {}
