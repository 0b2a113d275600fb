/** Heatmap domain types (gallery, scores, exports): plain data shared by services, CLI and UI. */
import type { ClassInfo } from './training-types.ts';

/** Every heatmap method, in the order the UI and the score tables list them. */
/** 'anomaly': an anomaly model's patch distances to its bank of good patches (0.5 = its threshold); anomaly runs only. */
export const HEATMAP_METHODS = ['cam', 'gradcam', 'saliency', 'smoothgrad', 'anomaly'] as const;
export type HeatmapMethod = (typeof HEATMAP_METHODS)[number];
export type ColormapName = 'turbo' | 'jet' | 'grey';
export type HeatmapSplit = 'train' | 'val' | 'test';

export interface HeatmapParams {
  /** Grad-CAM layer name (default: the last conv features). */
  layer?: string;
  /** SmoothGrad copies (default 50) and noise as a fraction of the input range (default 0.1). */
  n?: number;
  sigma?: number;
}

/** A backbone layer Grad-CAM can run at (a block output), at the run's input size. */
export interface HeatmapLayer {
  name: string;
  /** Backbone block (1 = first block after the stem). */
  block: number;
  /** Input pixels per map cell (2, 4, … 32). */
  stride: number;
  /** Map side in cells at the run's input size. */
  resolution: number;
  channels: number;
  /** The layer Grad-CAM uses when none is given (the last conv features). */
  isDefault: boolean;
}

export interface HeatmapRequest {
  runId: number;
  /** Images to map (default: every image of the run's dataset in `splits`). */
  imageIds?: number[];
  splits?: HeatmapSplit[];
  /** Only images whose label (at training time) is one of these. */
  labels?: string[];
  methods: HeatmapMethod[];
  /** 'predicted': each image's predicted class; 'label': each image's true class; 'all': every class; or class keys. */
  classes: 'predicted' | 'label' | 'all' | string[];
  params?: HeatmapParams;
}

export interface HeatmapScore {
  /** The map's maximum lies in the defect region (within the tolerance). */
  pointing: boolean;
  /** Share of the map's mass inside the region. */
  energy: number;
  /** Region share of the image (the chance level of energy). */
  area: number;
}

export interface HeatmapRef {
  method: HeatmapMethod;
  classKey: string;
  /** Id for api.mediaUrl('heatmap', mediaId, {colormap, opacity, mode}). */
  mediaId: string;
  score: HeatmapScore | null;
}

export interface RegionBoxInfo {
  defectTypeKey: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface GalleryQuery {
  runId: number;
  split?: HeatmapSplit | 'all';
  trueLabel?: string;
  predictedLabel?: string;
  correct?: boolean;
  /** Confidence (probability of the predicted class) bounds, 0..1. */
  minConfidence?: number;
  maxConfidence?: number;
  /** Heatmaps listed per item (methods x class). Default cam + smoothgrad of the true label. */
  methods?: HeatmapMethod[];
  classKey?: string | 'label' | 'predicted';
  params?: HeatmapParams;
  offset?: number;
  limit?: number;
}

export interface GalleryItem {
  imageId: number;
  fileName: string;
  split: HeatmapSplit;
  trueLabel: string;
  /** Known once the image has been through the model (any heatmap computed). */
  predictedLabel: string | null;
  confidence: number | null;
  probabilities: number[] | null;
  correct: boolean | null;
  width: number;
  height: number;
  regions: RegionBoxInfo[];
  /** Cached maps for the query's methods and class (missing ones are not listed). */
  maps: HeatmapRef[];
}

export interface GalleryPage {
  runId: number;
  classes: ClassInfo[];
  total: number;
  /** Images of the query still without a prediction (compute heatmaps to fill in). */
  unscored: number;
  items: GalleryItem[];
}

export interface ScoreRow {
  method: HeatmapMethod;
  /** Parameters of the maps ('d': defaults; 'l-<layer>' for Grad-CAM at a layer; 'n50-s0.1' for SmoothGrad). */
  paramsKey: string;
  classKey: string;
  count: number;
  /** Share of maps whose maximum lies in the region. */
  pointingAccuracy: number;
  meanEnergy: number;
  /** Mean region share of the image (chance level of energy). */
  meanArea: number;
}

export interface ScoreTable {
  runId: number;
  /** Pointing-game tolerance in image pixels. */
  tolerance: number;
  rows: ScoreRow[];
}

export interface HeatmapExportOptions {
  colormap?: ColormapName;
  /** 0..1 (1: the map alone). */
  opacity?: number;
  /** Replace an existing file (default: refuse with FileExistsError). */
  overwrite?: boolean;
  /**
   * Contact sheet in compare mode: the other run's gallery query (same images); the sheet then shows the first
   * method of both runs side by side, with the run names as column heads.
   */
  compare?: GalleryQuery;
}
