import { mount } from 'svelte';
import App from './App.svelte';
import HeatmapInspect from './components/heatmap-inspect.svelte';
import './styles.css';
import { registerInspectHeatmap } from './views/inspect/heatmap-slot.svelte.ts';

// The Inspect detail panel shows the image's CAM through its heatmap slot.
registerInspectHeatmap(HeatmapInspect);

mount(App, { target: document.getElementById('app')! });
