/** Colour maps for heatmaps (value in [0, 1] → RGB bytes) and the overlay of a map on an image. */
import type { Grid } from './grid.ts';

export type ColormapName = 'turbo' | 'jet' | 'grey';
export const COLORMAPS: readonly ColormapName[] = ['turbo', 'jet', 'grey'];

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
const byte = (v: number): number => Math.round(clamp01(v) * 255);

/** Google's Turbo (polynomial approximation by A. Mikhailov, 2019). */
function turbo(t: number): [number, number, number] {
  const x = clamp01(t);
  const x2 = x * x;
  const x3 = x2 * x;
  const x4 = x3 * x;
  const x5 = x4 * x;
  const r = 0.13572138 + 4.6153926 * x - 42.66032258 * x2 + 132.13108234 * x3 - 152.94239396 * x4 + 59.28637943 * x5;
  const g = 0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 + 4.27729857 * x4 + 2.82956604 * x5;
  const b = 0.1066733 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 - 89.90310912 * x4 + 27.34824973 * x5;
  return [byte(r), byte(g), byte(b)];
}

/** MATLAB's jet. */
function jet(t: number): [number, number, number] {
  const x = clamp01(t);
  const r = clamp01(1.5 - Math.abs(4 * x - 3));
  const g = clamp01(1.5 - Math.abs(4 * x - 2));
  const b = clamp01(1.5 - Math.abs(4 * x - 1));
  return [byte(r), byte(g), byte(b)];
}

function grey(t: number): [number, number, number] {
  const v = byte(t);
  return [v, v, v];
}

const LUTS = new Map<ColormapName, Uint8Array>();

/** 256-entry RGB lookup table of a colour map. */
export function colormapLut(name: ColormapName): Uint8Array {
  let lut = LUTS.get(name);
  if (!lut) {
    const f = name === 'jet' ? jet : name === 'grey' ? grey : turbo;
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) lut.set(f(i / 255), i * 3);
    LUTS.set(name, lut);
  }
  return lut;
}

export function colorOf(name: ColormapName, t: number): [number, number, number] {
  const lut = colormapLut(name);
  const i = Math.round(clamp01(t) * 255) * 3;
  return [lut[i]!, lut[i + 1]!, lut[i + 2]!];
}

/** CSS linear-gradient stops for a legend. */
export function cssGradient(name: ColormapName, stops = 9): string {
  const parts: string[] = [];
  for (let i = 0; i < stops; i++) {
    const t = i / (stops - 1);
    const [r, g, b] = colorOf(name, t);
    parts.push(`rgb(${r},${g},${b}) ${Math.round(t * 100)}%`);
  }
  return `linear-gradient(to right, ${parts.join(', ')})`;
}

/**
 * Colours a normalised map and blends it over RGB pixels of the same size:
 * out = (1 − α)·image + α·colour(map). α = 1 gives the map alone.
 * @param rgb width × height × 3 bytes
 */
export function overlay(rgb: Uint8Array, map: Grid, name: ColormapName, opacity: number): Uint8Array {
  const lut = colormapLut(name);
  const a = clamp01(opacity);
  const n = map.width * map.height;
  if (rgb.length !== n * 3) throw new Error(`overlay: image is ${rgb.length / 3} pixels, map ${n}`);
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const i = Math.round(clamp01(map.data[p]!) * 255) * 3;
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round((1 - a) * rgb[p * 3 + c]! + a * lut[i + c]!);
  }
  return out;
}
