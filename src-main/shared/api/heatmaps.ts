/** Heatmaps operations: per-defect class activation / gradient maps of a run's images, scores, exports. */
import type {
  GalleryPage,
  GalleryQuery,
  HeatmapExportOptions,
  HeatmapLayer,
  HeatmapMethod,
  HeatmapRequest,
  ScoreTable,
} from '../heatmap-types.ts';
import type { TaskSnapshot } from '../types.ts';

export interface HeatmapsApi {
  /** Images of a run's dataset with their predictions and the cached heatmaps of the query's methods and class. */
  listHeatmapGallery(query: GalleryQuery): Promise<GalleryPage>;
  /**
   * Computes the missing heatmaps as a cancellable background task (kind 'heatmaps', queue 'heatmaps');
   * each map is announced by a `heatmapReady` event as it lands in the cache.
   */
  computeHeatmaps(req: HeatmapRequest): Promise<TaskSnapshot>;
  /** Localisation scores (pointing game, energy in region) aggregated per defect type and method. */
  getHeatmapScores(runId: number, opts?: { split?: 'train' | 'val' | 'test' | 'all'; methods?: HeatmapMethod[] }): Promise<ScoreTable>;
  /** Writes one heatmap (by media id) as a PNG overlay with a legend; returns the file written. */
  exportHeatmapPng(mediaId: string, file: string, opts?: HeatmapExportOptions): Promise<{ path: string }>;
  /** Writes a contact sheet (PNG) of a gallery page: original + the query's maps per image, with a legend. */
  exportContactSheet(query: GalleryQuery, file: string, opts?: HeatmapExportOptions): Promise<{ path: string; images: number }>;
  /** Layers Grad-CAM can run at for a run's backbone (block outputs, first to last; the default is flagged). */
  listHeatmapLayers(runId: number): Promise<HeatmapLayer[]>;
  /** Deletes a run's cached heatmaps and scores. */
  clearHeatmapCache(runId: number): Promise<void>;
}

export const heatmapsOperations = [
  'listHeatmapGallery',
  'computeHeatmaps',
  'getHeatmapScores',
  'exportHeatmapPng',
  'exportContactSheet',
  'listHeatmapLayers',
  'clearHeatmapCache',
] as const satisfies readonly (keyof HeatmapsApi)[];

export interface HeatmapsEvents {
  /** A heatmap landed in the cache (reload its media URL). */
  heatmapReady: { runId: number; imageId: number; method: HeatmapMethod; classKey: string; mediaId: string; taskId: string };
}
