/**
 * Localisation of class activation maps against defect regions, cheap enough to run every epoch.
 *
 * The heatmap service scores a map by normalising it (ReLU, divide by the maximum), upsampling it bilinearly onto
 * the image's pixel grid and comparing it with the region mask there (pointing game with a 4-pixel tolerance,
 * energy in region). Bilinear upsampling is linear in the map's values, so the energy inside the regions is a dot
 * product of the coarse map with per-node weights (how much of each node's interpolated mass falls inside the
 * mask), and the maximum of a bilinear interpolation lies on a node. `prepareTarget` computes those weights once
 * per image (O(image pixels)); `scoreCam` then costs O(map nodes): 49 multiply-adds at 7x7.
 *
 * TF-free (plain typed arrays): used by the trainer in the engine and by tests.
 */
import { nearMask } from '../../heatmaps/scoring.ts';
import { suppressPadding } from '../data/geometry.ts';

/** Same tolerance as the heatmap service's scores (POINTING_TOLERANCE_PX in heatmaps/scoring.ts). */
export const POINTING_TOLERANCE_PX = 4;

/** What one validation image's regions look like on a map grid of gw x gh nodes. */
export interface LocalisationTarget {
  gw: number;
  gh: number;
  /** Per node: the interpolated mass of a unit value at that node that falls inside the regions. */
  inside: Float32Array;
  /** Per node: the interpolated mass of a unit value at that node over the whole image. */
  total: Float32Array;
  /** Per node: 1 when the node's pixel lies within the tolerance of a region pixel (the pointing game's hit). */
  hit: Uint8Array;
  /**
   * Where the upsampled map's peak pixel can lie when node j is the map's maximum: two candidate pixels per axis
   * (the last one at or before the node's centre, the first one at or after it; on a clamped border the first
   * pixel of the plateau, as the service's row-major scan picks it), with their bilinear weights and hit bits.
   */
  peak: { x: AxisCandidates; y: AxisCandidates; hit: Uint8Array };
  /** Share of the image the regions cover (chance level of energy in region). */
  area: number;
  /** Share of the nodes that count as a hit (chance level of the pointing game for a peak drawn at random). */
  pointingChance: number;
}

/** Two candidate pixels per node along one axis: pixel, and the bilinear weights at it (i0, i1, w1). */
export interface AxisCandidates {
  px: Int32Array;
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
}

function axisCandidates(g: number, n: number, a: { i0: Int32Array; i1: Int32Array; w1: Float32Array }): AxisCandidates {
  const c: AxisCandidates = {
    px: new Int32Array(2 * g),
    i0: new Int32Array(2 * g),
    i1: new Int32Array(2 * g),
    w1: new Float32Array(2 * g),
  };
  const pos = (p: number) => a.i0[p]! + a.w1[p]!;
  for (let j = 0; j < g; j++) {
    let before = -1;
    let after = -1;
    for (let p = 0; p < n; p++) {
      const f = pos(p);
      if (f <= j && (before < 0 || f > pos(before))) before = p;
      if (f >= j && after < 0) after = p;
    }
    if (before < 0) before = after;
    if (after < 0) after = before;
    [before, after].forEach((p, k) => {
      c.px[2 * j + k] = p;
      c.i0[2 * j + k] = a.i0[p]!;
      c.i1[2 * j + k] = a.i1[p]!;
      c.w1[2 * j + k] = a.w1[p]!;
    });
  }
  return c;
}

/** Bilinear weights (pixel centres aligned, as resizeBilinear in services/heatmaps/grid.ts) of n pixels onto g nodes. */
function axisWeights(g: number, n: number): { i0: Int32Array; i1: Int32Array; w1: Float32Array } {
  const i0 = new Int32Array(n);
  const i1 = new Int32Array(n);
  const w1 = new Float32Array(n);
  const s = g / n;
  for (let p = 0; p < n; p++) {
    const f = Math.min(g - 1, Math.max(0, (p + 0.5) * s - 0.5));
    const a = Math.floor(f);
    i0[p] = a;
    i1[p] = Math.min(g - 1, a + 1);
    w1[p] = f - a;
  }
  return { i0, i1, w1 };
}

/** The pixel of an n-pixel axis closest to node j of g (the inverse of the upsampling's centre alignment). */
function nodePixel(j: number, g: number, n: number): number {
  return Math.min(n - 1, Math.max(0, Math.round(((j + 0.5) * n) / g - 0.5)));
}

/**
 * Prepares the scoring of gw x gh maps of one image against its region mask (width x height, 1 = inside).
 * Null when the mask is empty (nothing to score against).
 */
export function prepareTarget(
  mask: Uint8Array,
  width: number,
  height: number,
  gw: number,
  gh: number,
  tolerance = POINTING_TOLERANCE_PX,
): LocalisationTarget | null {
  if (mask.length !== width * height) throw new Error(`prepareTarget: mask has ${mask.length} pixels, frame ${width * height}`);
  const ax = axisWeights(gw, width);
  const ay = axisWeights(gh, height);
  const inside = new Float32Array(gw * gh);
  const colSum = new Float64Array(gw);
  const rowSum = new Float64Array(gh);
  for (let x = 0; x < width; x++) {
    colSum[ax.i0[x]!]! += 1 - ax.w1[x]!;
    colSum[ax.i1[x]!]! += ax.w1[x]!;
  }
  for (let y = 0; y < height; y++) {
    rowSum[ay.i0[y]!]! += 1 - ay.w1[y]!;
    rowSum[ay.i1[y]!]! += ay.w1[y]!;
  }
  let area = 0;
  for (let y = 0; y < height; y++) {
    const y0 = ay.i0[y]!;
    const y1 = ay.i1[y]!;
    const wy1 = ay.w1[y]!;
    const wy0 = 1 - wy1;
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      area++;
      const x0 = ax.i0[x]!;
      const x1 = ax.i1[x]!;
      const wx1 = ax.w1[x]!;
      const wx0 = 1 - wx1;
      inside[y0 * gw + x0]! += wy0 * wx0;
      inside[y0 * gw + x1]! += wy0 * wx1;
      inside[y1 * gw + x0]! += wy1 * wx0;
      inside[y1 * gw + x1]! += wy1 * wx1;
    }
  }
  if (area === 0) return null;
  const total = new Float32Array(gw * gh);
  const hit = new Uint8Array(gw * gh);
  const cx = axisCandidates(gw, width, ax);
  const cy = axisCandidates(gh, height, ay);
  const peakHit = new Uint8Array(gw * gh * 4);
  let hits = 0;
  for (let j = 0; j < gh; j++)
    for (let i = 0; i < gw; i++) {
      total[j * gw + i] = rowSum[j]! * colSum[i]!;
      if (nearMask(mask, width, height, nodePixel(i, gw, width), nodePixel(j, gh, height), tolerance)) {
        hit[j * gw + i] = 1;
        hits++;
      }
      for (let k = 0; k < 4; k++) {
        const x = cx.px[2 * i + (k & 1)]!;
        const y = cy.px[2 * j + (k >> 1)]!;
        peakHit[(j * gw + i) * 4 + k] = nearMask(mask, width, height, x, y, tolerance) ? 1 : 0;
      }
    }
  return {
    gw,
    gh,
    inside,
    total,
    hit,
    peak: { x: cx, y: cy, hit: peakHit },
    area: area / (width * height),
    pointingChance: hits / (gw * gh),
  };
}

/**
 * The class activation map of class k from one image's last conv features: M = Σ_c W[c, k] f_c (no bias, as CAM).
 * @param feats [gh * gw * C] features (row-major, channels last), from offset
 * @param kernel [C * K] the dense head's kernel
 */
export function camOf(
  feats: Float32Array,
  offset: number,
  nodes: number,
  C: number,
  kernel: Float32Array,
  K: number,
  k: number,
  out = new Float32Array(nodes),
): Float32Array {
  for (let p = 0; p < nodes; p++) {
    let s = 0;
    const o = offset + p * C;
    for (let c = 0; c < C; c++) s += feats[o + c]! * kernel[c * K + k]!;
    out[p] = s;
  }
  return out;
}

export interface CamScore {
  pointing: boolean;
  /** Share of the (ReLU'd, upsampled) map's mass inside the regions; 0 for a map with no positive value. */
  energy: number;
}

/**
 * Scores one raw CAM (gw x gh values) against a prepared target, as the heatmap service would score it: ReLU
 * (or, for a map with no positive value, min-max as `normalise` does), then pointing and energy in region.
 */
export function scoreCam(map: ArrayLike<number>, t: LocalisationTarget): CamScore {
  let best = -Infinity;
  let lo = Infinity;
  let bi = 0;
  for (let j = 0; j < t.hit.length; j++) {
    const v = map[j]!;
    if (v > best) {
      best = v;
      bi = j;
    }
    if (v < lo) lo = v;
  }
  const shift = best > 0 ? 0 : lo;
  let inside = 0;
  let total = 0;
  for (let j = 0; j < t.hit.length; j++) {
    const v = map[j]! - shift;
    if (v > 0) {
      inside += v * t.inside[j]!;
      total += v * t.total[j]!;
    }
  }
  return { pointing: peakHits(map, t, bi), energy: total > 0 ? inside / total : 0 };
}

/** Whether the upsampled map's peak pixel (near node bi, the first in row-major order on ties) is a hit. */
function peakHits(map: ArrayLike<number>, t: LocalisationTarget, bi: number): boolean {
  const { gw } = t;
  const i = bi % gw;
  const j = (bi - i) / gw;
  const { x, y, hit } = t.peak;
  let best = -Infinity;
  let bk = 0;
  let bx = 0;
  let by = 0;
  // Candidates in row-major order of their pixels (y first, then x), so ties go to the first, as in the service.
  const order = [0, 1, 2, 3].sort(
    (a, b) => y.px[2 * j + (a >> 1)]! - y.px[2 * j + (b >> 1)]! || x.px[2 * i + (a & 1)]! - x.px[2 * i + (b & 1)]!,
  );
  for (const k of order) {
    const xi = 2 * i + (k & 1);
    const yi = 2 * j + (k >> 1);
    const wx = x.w1[xi]!;
    const wy = y.w1[yi]!;
    const r0 = y.i0[yi]! * gw;
    const r1 = y.i1[yi]! * gw;
    const c0 = x.i0[xi]!;
    const c1 = x.i1[xi]!;
    const v = (1 - wy) * ((1 - wx) * map[r0 + c0]! + wx * map[r0 + c1]!) + wy * ((1 - wx) * map[r1 + c0]! + wx * map[r1 + c1]!);
    const px = x.px[xi]!;
    const py = y.px[yi]!;
    if (v > best || (v === best && (py < by || (py === by && px < bx)))) {
      best = v;
      bk = k;
      bx = px;
      by = py;
    }
  }
  return hit[bi * 4 + bk] === 1;
}

/** Running sums of scores over one validation pass, overall and per class. */
export class LocalisationTally {
  private n = 0;
  private hits = 0;
  private energy = 0;
  private area = 0;
  private chance = 0;
  private readonly byClass = new Map<number, { n: number; hits: number; energy: number }>();
  /** Time spent measuring (ms): reading maps back and scoring them. */
  ms = 0;

  add(label: number, s: CamScore, t: LocalisationTarget): void {
    this.n++;
    if (s.pointing) this.hits++;
    this.energy += s.energy;
    this.area += t.area;
    this.chance += t.pointingChance;
    const c = this.byClass.get(label) ?? { n: 0, hits: 0, energy: 0 };
    c.n++;
    if (s.pointing) c.hits++;
    c.energy += s.energy;
    this.byClass.set(label, c);
  }

  get count(): number {
    return this.n;
  }

  /** The epoch's localisation figures (null when no validation image had regions). */
  result(classes: string[]): EpochLocalisation | null {
    if (!this.n) return null;
    const perClass: EpochLocalisation['valPointingByClass'] = {};
    for (const [label, c] of [...this.byClass].sort((a, b) => a[0] - b[0]))
      perClass[classes[label] ?? String(label)] = { count: c.n, pointing: c.hits / c.n, energy: c.energy / c.n };
    return {
      valPointing: this.hits / this.n,
      valEnergy: this.energy / this.n,
      valRegionArea: this.area / this.n,
      valPointingChance: this.chance / this.n,
      valLocalisedCount: this.n,
      valPointingByClass: perClass,
      valLocalisationMs: this.ms,
    };
  }
}

/** The optional localisation fields of an epoch's metrics (see EpochMetrics). */
export interface EpochLocalisation {
  valPointing: number;
  valEnergy: number;
  valRegionArea: number;
  valPointingChance: number;
  valLocalisedCount: number;
  valPointingByClass: Record<string, { count: number; pointing: number; energy: number }>;
  valLocalisationMs: number;
}

/**
 * Scores every localised image of a batch: `feats` holds n images' gh x gw x C features, `targetOf(j)` the target
 * of the batch's j-th image (null: no regions), `labelOf(j)` its true class (the class whose CAM is scored).
 */
export function scoreBatch(
  tally: LocalisationTally,
  feats: Float32Array,
  n: number,
  nodes: number,
  C: number,
  kernel: Float32Array,
  K: number,
  labelOf: (j: number) => number,
  targetOf: (j: number) => LocalisationTarget | null,
  /** Letterbox with masked padding: sample j's photo cells (1) on the map's grid, so the padding never holds the maximum. */
  cellsOf?: (j: number) => ArrayLike<number> | null,
): void {
  const map = new Float32Array(nodes);
  const columns = new Map<number, Float32Array>();
  for (let j = 0; j < n; j++) {
    const t = targetOf(j);
    if (!t) continue;
    if (t.hit.length !== nodes) throw new Error(`scoreBatch: target has ${t.hit.length} nodes, map ${nodes}`);
    const label = labelOf(j);
    let col = columns.get(label);
    if (!col) {
      col = new Float32Array(C);
      for (let c = 0; c < C; c++) col[c] = kernel[c * K + label]!;
      columns.set(label, col);
    }
    camOf(feats, j * nodes * C, nodes, C, col, 1, 0, map);
    const cells = cellsOf?.(j);
    if (cells) suppressPadding(map, cells);
    tally.add(label, scoreCam(map, t), t);
  }
}
