/**
 * What a contact sheet shows, before any pixel is drawn: the column heads (method display names; in compare mode one
 * column per run, headed by the run's number and name), each row's maps in column order (null where a map is not
 * computed yet, so a gap never shifts the next map into the wrong column) and the captions.
 */
import type { GalleryItem, HeatmapMethod, HeatmapRef } from '../../shared/heatmap-types.ts';

/** How methods are named on sheets and in the UI's English catalog (src-renderer/src/i18n/en/heatmaps.ts). */
export const METHOD_NAMES: Record<HeatmapMethod, string> = {
  cam: 'CAM',
  gradcam: 'Grad-CAM',
  saliency: 'Gradient',
  smoothgrad: 'SmoothGrad',
  anomaly: 'Anomaly',
};

export interface SheetRunInfo {
  id: number;
  name: string;
}

export interface SheetCell {
  runId: number;
  method: HeatmapMethod;
  ref: HeatmapRef | null;
}

export interface SheetPlanRow {
  item: GalleryItem;
  caption: string;
  /** One per column after the image, in column order. */
  cells: SheetCell[];
}

export interface SheetPlan {
  title: string;
  /** Column heads, the image first; a line break separates a run's name from the method. */
  columns: string[];
  rows: SheetPlanRow[];
}

export interface SheetFilter {
  trueLabel?: string | undefined;
  split?: string | undefined;
}

const pct = (v: number | null): string => `${Math.round((v ?? 0) * 100)}%`;

function predictionText(it: GalleryItem | undefined): string {
  return it?.predictedLabel ? `→ ${it.predictedLabel} ${pct(it.confidence)}` : '→ (not predicted yet)';
}

function scoreText(cells: SheetCell[], withRun: boolean): string {
  return cells
    .filter((c) => c.ref?.score)
    .map(
      (c) =>
        `${withRun ? `#${c.runId} ` : ''}${METHOD_NAMES[c.method]}: ${c.ref!.score!.pointing ? 'hit' : 'miss'} ${pct(c.ref!.score!.energy)}`,
    )
    .join(', ');
}

/**
 * The plan of a sheet over `items` (a gallery page of run `a`). Without `compare`: the image, then each of `methods`
 * of run `a`. With `compare`: the image, then `compare.method` of run `a` and of run `compare.run` side by side (the
 * compare run's items by image id; an image that run has no map for gets an empty cell).
 */
export function planContactSheet(
  a: SheetRunInfo,
  items: GalleryItem[],
  methods: HeatmapMethod[],
  filter: SheetFilter,
  compare: { run: SheetRunInfo; method: HeatmapMethod; items: Map<number, GalleryItem> } | null,
): SheetPlan {
  const what = `${filter.trueLabel ?? 'all labels'} · ${filter.split && filter.split !== 'all' ? filter.split : 'all splits'}`;
  if (!compare) {
    return {
      title: `Run #${a.id} ${a.name} · ${what}`,
      columns: ['Image', ...methods.map((m) => METHOD_NAMES[m])],
      rows: items.map((item) => {
        const cells = methods.map((method) => ({ runId: a.id, method, ref: item.maps.find((x) => x.method === method) ?? null }));
        const sc = scoreText(cells, false);
        return { item, cells, caption: `${item.fileName} (${item.trueLabel} ${predictionText(item)})${sc ? `\n${sc}` : ''}` };
      }),
    };
  }
  const m = compare.method;
  const b = compare.run;
  return {
    title: `Run #${a.id} ${a.name} vs run #${b.id} ${b.name} · ${METHOD_NAMES[m]} · ${what}`,
    columns: ['Image', `#${a.id} ${a.name}\n${METHOD_NAMES[m]}`, `#${b.id} ${b.name}\n${METHOD_NAMES[m]}`],
    rows: items.map((item) => {
      const other = compare.items.get(item.imageId);
      const cells: SheetCell[] = [
        { runId: a.id, method: m, ref: item.maps.find((x) => x.method === m) ?? null },
        { runId: b.id, method: m, ref: other?.maps.find((x) => x.method === m) ?? null },
      ];
      const sc = scoreText(cells, true);
      return {
        item,
        cells,
        caption: `${item.fileName} (${item.trueLabel}) #${a.id} ${predictionText(item)} · #${b.id} ${predictionText(other)}${sc ? `\n${sc}` : ''}`,
      };
    }),
  };
}
