/** Long-lived state of the Heatmaps screen: the chosen run(s), filters, display options and the current page. */
import type {
  ColormapName,
  GalleryItem,
  GalleryPage,
  GalleryQuery,
  HeatmapLayer,
  HeatmapMethod,
  HeatmapParams,
  HeatmapSplit,
  ScoreTable,
} from '../../../../src-main/shared/heatmap-types.ts';
import { HEATMAP_METHODS } from '../../../../src-main/shared/heatmap-types.ts';
import type { RunSummary } from '../../../../src-main/shared/training-types.ts';
import type { DefectType } from '../../../../src-main/shared/library-types.ts';
import { i18n } from '../../i18n/i18n.svelte.ts';
import { api } from '../../lib/api.ts';
import { app } from '../../state/app.svelte.ts';

export const METHODS = HEATMAP_METHODS;
export const COLORMAPS: ColormapName[] = ['turbo', 'jet', 'grey'];
export const PAGE_SIZE = 24;

class HeatmapsState {
  runs = $state.raw<RunSummary[]>([]);
  runId = $state<number | null>(null);
  compareRunId = $state<number | null>(null);
  methodA = $state<HeatmapMethod>('cam');
  methodB = $state<HeatmapMethod>('smoothgrad');
  classKey = $state<string>('label');
  /** Grad-CAM layers of the run's backbone and the chosen one ('': the service's default). */
  layers = $state.raw<HeatmapLayer[]>([]);
  layer = $state<string>('');
  private layersRunId: number | null = null;
  colormap = $state<ColormapName>('turbo');
  opacity = $state(0.5);
  type = $state<string>('');
  split = $state<HeatmapSplit | 'all'>('val');
  predicted = $state<string>('');
  correct = $state<'' | 'correct' | 'incorrect'>('');
  minConfidence = $state(0);
  offset = $state(0);
  page = $state.raw<GalleryPage | null>(null);
  /** Compare run's items by image id. */
  compareItems = $state.raw<Map<number, GalleryItem>>(new Map());
  scores = $state.raw<ScoreTable | null>(null);
  compareScores = $state.raw<ScoreTable | null>(null);
  taskIds = $state<string[]>([]);
  loading = $state(false);
  /** Bumped when maps land, so media URLs reload. */
  version = $state(0);
  private unsub: (() => void) | null = null;
  private reloadTimer: ReturnType<typeof setTimeout> | null = null;

  init(): void {
    if (this.unsub) return;
    const offReady = api.subscribe('heatmapReady', (e) => {
      if (e.runId === this.runId || e.runId === this.compareRunId) this.scheduleReload();
    });
    const offRun = api.subscribe('trainingRun', () => void this.loadRuns());
    this.unsub = () => {
      offReady();
      offRun();
    };
  }

  scheduleReload(): void {
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      this.version++;
      void this.load();
    }, 600);
  }

  get usableRuns(): RunSummary[] {
    return this.runs.filter((r) => r.hasModel);
  }

  /** The catalog's defect types, to name an image's own label (a type key such as sheet_shift) in the UI's language. */
  types = $state.raw<DefectType[]>([]);

  /** A class or label key worded for the screen: the run's classes first, then the catalog's types. */
  labelName(key: string): string {
    const named = this.page?.classes.find((c) => c.key === key) ?? this.types.find((c) => c.key === key);
    if (!named) return key;
    return (i18n.lang === 'ja' ? named.nameJa || named.nameEn : named.nameEn) || key;
  }

  async loadRuns(): Promise<void> {
    const [runs, types] = await Promise.all([app.guard(() => api.listRuns()), app.guard(() => api.listDefectTypes())]);
    if (types) this.types = types;
    if (!runs) return;
    this.runs = runs;
    const usable = this.usableRuns;
    if (this.runId === null || !usable.some((r) => r.id === this.runId)) {
      this.runId = (usable.find((r) => r.isActive) ?? usable[0])?.id ?? null;
    }
  }

  /** Either shown map uses Grad-CAM (the layer choice matters). */
  get usesGradCam(): boolean {
    return this.methodA === 'gradcam' || (this.compareRunId === null && this.methodB === 'gradcam');
  }

  /** Map parameters for `runId`: the chosen Grad-CAM layer unless it is the default (cached as such) or not in that run. */
  params(runId: number): HeatmapParams | undefined {
    const l = this.layers.find((x) => x.name === this.layer);
    if (!l || l.isDefault) return undefined;
    const backbone = (id: number | null) => this.runs.find((r) => r.id === id)?.backbone;
    return runId === this.runId || backbone(runId) === backbone(this.runId) ? { layer: l.name } : undefined;
  }

  /** Parameters key of a method's maps (as the score rows carry it). */
  paramsKey(m: HeatmapMethod): string {
    if (m === 'smoothgrad') return 'n50-s0.1';
    const layer = this.runId === null ? undefined : this.params(this.runId)?.layer;
    return m === 'gradcam' && layer ? `l-${layer}` : 'd';
  }

  async loadLayers(runId: number): Promise<void> {
    const layers = await app.guard(() => api.listHeatmapLayers(runId));
    if (runId !== this.runId) return;
    this.layersRunId = runId;
    this.layers = layers ?? [];
    if (!this.layers.some((l) => l.name === this.layer)) this.layer = this.layers.find((l) => l.isDefault)?.name ?? '';
  }

  query(runId: number, forCompare = false): GalleryQuery {
    const q: GalleryQuery = {
      runId,
      split: this.split,
      methods: forCompare ? [this.methodA] : [this.methodA, this.methodB],
      classKey: this.classKey,
      offset: forCompare ? 0 : this.offset,
      limit: forCompare ? 500 : PAGE_SIZE,
    };
    const params = this.params(runId);
    if (params) q.params = params;
    if (this.type) q.trueLabel = this.type;
    if (!forCompare) {
      if (this.predicted) q.predictedLabel = this.predicted;
      if (this.correct) q.correct = this.correct === 'correct';
      if (this.minConfidence > 0) q.minConfidence = this.minConfidence / 100;
    }
    return q;
  }

  async load(): Promise<void> {
    const runId = this.runId;
    if (runId === null) {
      this.page = null;
      return;
    }
    this.loading = true;
    try {
      if (this.layersRunId !== runId) await this.loadLayers(runId);
      const page = await app.guard(() => api.listHeatmapGallery(this.query(runId)));
      if (page && runId === this.runId) this.page = page;
      const scores = await app.guard(() => api.getHeatmapScores(runId, { split: this.split }));
      if (scores && runId === this.runId) this.scores = scores;
      const cmp = this.compareRunId;
      if (cmp !== null && cmp !== runId) {
        const other = await app.guard(() => api.listHeatmapGallery(this.query(cmp, true)));
        this.compareItems = new Map((other?.items ?? []).map((i) => [i.imageId, i]));
        this.compareScores = (await app.guard(() => api.getHeatmapScores(cmp, { split: this.split }))) ?? null;
      } else {
        this.compareItems = new Map();
        this.compareScores = null;
      }
    } finally {
      this.loading = false;
    }
  }

  /** Starts the heatmap tasks for the current filter (and the compare run). */
  async compute(): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    const base = {
      classes: this.classKey === 'label' || this.classKey === 'predicted' ? this.classKey : [this.classKey],
      splits: this.split === 'all' ? (['train', 'val', 'test'] as HeatmapSplit[]) : [this.split],
      ...(this.type ? { labels: [this.type] } : {}),
    } as const;
    const ids: string[] = [];
    const pa = this.params(runId);
    const a = await app.guard(() =>
      api.computeHeatmaps({ runId, methods: [...new Set([this.methodA, this.methodB])], ...base, ...(pa ? { params: pa } : {}) }),
    );
    if (a) ids.push(a.id);
    const cmp = this.compareRunId;
    if (cmp !== null && cmp !== runId) {
      const pb = this.params(cmp);
      const b = await app.guard(() => api.computeHeatmaps({ runId: cmp, methods: [this.methodA], ...base, ...(pb ? { params: pb } : {}) }));
      if (b) ids.push(b.id);
    }
    this.taskIds = ids;
  }

  async cancel(): Promise<void> {
    for (const id of this.taskIds) await app.guard(() => api.cancelTask(id));
  }

  mapUrl(mediaId: string): string {
    return api.mediaUrl('heatmap', mediaId, { colormap: this.colormap, opacity: Math.round(this.opacity * 100) / 100, v: this.version });
  }
}

export const heatmapsState = new HeatmapsState();
