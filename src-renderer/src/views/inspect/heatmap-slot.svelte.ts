import type { Component } from 'svelte';
import type { InspectItem, Inspection } from '../../../../src-main/shared/api/inspect.ts';

/** What a heatmap view placed in the Inspect detail panel receives. */
export interface InspectHeatmapProps {
  item: InspectItem;
  inspection: Inspection;
}

/**
 * Slot for the per-image heatmap in the Inspect screen. The heatmaps work registers its component here
 * (`registerInspectHeatmap(MyHeatmap)`); the detail panel renders it for the image the user clicked.
 * Nothing is shown while no component is registered.
 */
export const inspectHeatmap = $state<{ component: Component<InspectHeatmapProps> | null }>({ component: null });

export function registerInspectHeatmap(component: Component<InspectHeatmapProps> | null): void {
  inspectHeatmap.component = component;
}
