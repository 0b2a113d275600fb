/**
 * The one API contract. Main (IPC handlers), preload, the browser bridge, the CLI and the renderer
 * all import these types; the operation lists are the only runtime values, used to generate one
 * named method per operation on each transport.
 */
import { appOperations, type AppApi, type AppEvents } from './app.ts';
import { libraryOperations, type LibraryApi, type LibraryEvents } from './library.ts';
import { heatmapsOperations, type HeatmapsApi, type HeatmapsEvents } from './heatmaps.ts';
import { inspectOperations, type InspectApi, type InspectEvents } from './inspect.ts';
import { trainingOperations, type TrainingApi, type TrainingEvents } from './training.ts';

export type KensaApi = AppApi & LibraryApi & TrainingApi & HeatmapsApi & InspectApi;
export type KensaEvents = AppEvents & LibraryEvents & TrainingEvents & HeatmapsEvents & InspectEvents;

export const apiOperations = [
  ...appOperations,
  ...libraryOperations,
  ...trainingOperations,
  ...heatmapsOperations,
  ...inspectOperations,
] as const;

export type OperationName = keyof KensaApi;
export type EventName = keyof KensaEvents;

// Compile-time guard: every operation in the contract is listed for the transports, and vice versa.
type Listed = (typeof apiOperations)[number];
type Unlisted = Exclude<OperationName, Listed>;
export const everyOperationListed: [Unlisted] extends [never] ? true : Unlisted = true;

export type OpArgs<K extends OperationName> = Parameters<KensaApi[K]>;
export type OpResult<K extends OperationName> = Awaited<ReturnType<KensaApi[K]>>;

/** What the renderer and CLI get: the API plus event subscription and media URLs. */
export interface KensaClient extends KensaApi {
  subscribe<E extends EventName>(event: E, listener: (payload: KensaEvents[E]) => void): () => void;
  /** URL for a project file the UI shows (thumbnails, images, heatmaps), per transport. */
  mediaUrl(kind: MediaKind, id: string, params?: Record<string, string | number>): string;
}

/** Files the renderer can display; resolved by services/media.ts on both transports. */
export type MediaKind = 'thumb' | 'image' | 'heatmap' | 'file' | 'inspect-heatmap';
