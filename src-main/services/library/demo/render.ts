/**
 * Synthetic motor-core photos for the demo project and benchmarks, deterministic by seed: a close-up (about a
 * quarter of the core, as in the study's photos) of a stator (annulus with slots and teeth) or a rotor (disc, shaft
 * bore with keyway, closed slots), fine concentric lamination lines and stacked-sheet banding, blue-lit monochrome
 * look under a ring light that falls off towards the frame's edges, and one defect (scratch, dent, chip, sheet
 * shift) with its pixel mask. Rendered with typed arrays.
 */
import type { CoreType } from '../../../shared/library-types.ts';

export type DemoDefect = 'ok' | 'scratch' | 'dent' | 'chip' | 'sheet_shift';
export const DEMO_DEFECTS: readonly DemoDefect[] = ['ok', 'scratch', 'dent', 'chip', 'sheet_shift'];

export interface RenderedCore {
  size: number;
  /** RGB, size*size*3. */
  rgb: Uint8Array;
  /** 1 = defect pixel (all 0 for OK). */
  mask: Uint8Array;
  coreType: Exclude<CoreType, 'unknown'>;
  defect: DemoDefect;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TAU = Math.PI * 2;

/**
 * Value noise in [-1, 1] with features `cell` pixels across, the same for a seed: the rough, granular surface of
 * damaged steel (a broken face, crushed laminations, a burr), unlike the smooth rolled sheet around it.
 */
function grain(seed: number, cell: number): (x: number, y: number) => number {
  const at = (i: number, j: number) => {
    let h = Math.imul(i, 374761393) ^ Math.imul(j, 668265263) ^ Math.imul(seed, 2246822519);
    h = Math.imul(h ^ (h >>> 13), 1274126177);
    return ((h ^ (h >>> 16)) >>> 0) / 2147483648 - 1;
  };
  return (x, y) => {
    const u = x / cell;
    const v = y / cell;
    const i = Math.floor(u);
    const j = Math.floor(v);
    const fu = u - i;
    const fv = v - j;
    const top = at(i, j) * (1 - fu) + at(i + 1, j) * fu;
    const bot = at(i, j + 1) * (1 - fu) + at(i + 1, j + 1) * fu;
    return top * (1 - fv) + bot * fv;
  };
}

function angDist(a: number, b: number): number {
  let d = (a - b) % TAU;
  if (d < -Math.PI) d += TAU;
  if (d > Math.PI) d -= TAU;
  return Math.abs(d);
}

interface Geometry {
  inside(r: number, th: number): boolean;
  inner: number;
  outer: number;
}

/*
 * One stator and one rotor design, as on a production line that stamps one part number each: photos differ in how
 * the core lies under the camera (its turn, a little offset), its lighting and its lamination pattern, not in its
 * drawing. With a new design per photo (slot count, radii), 100-odd photos taught a frozen-feature head the designs
 * rather than the defects, and its maps pointed at the core's outline.
 */
function statorGeometry(size: number, rnd: () => number): Geometry {
  const outer = size * 0.44;
  const inner = outer * 0.58;
  const slots = 36;
  const depth = (outer - inner) * 0.5;
  const pitch = TAU / slots;
  const halfW = pitch * 0.22;
  const opening = pitch * 0.08;
  const phase = rnd() * pitch;
  return {
    inner,
    outer,
    inside(r, th) {
      if (r < inner || r > outer) return false;
      if (r > inner + depth) return true;
      const k = Math.round((th - phase) / pitch);
      const d = angDist(th, phase + k * pitch);
      const half = r < inner + 4 ? opening : halfW * (0.85 + (0.3 * (r - inner)) / depth);
      if (d < half && r < inner + depth - (half - d) * r * 0.4) return false;
      return true;
    },
  };
}

function rotorGeometry(size: number, rnd: () => number): Geometry {
  const outer = size * 0.41;
  const bore = outer * 0.2;
  const slots = 28;
  const slotR = outer * 0.86;
  const slotA = (outer - slotR) * 0.55 + 3;
  const slotB = ((TAU * slotR) / slots) * 0.22;
  const pitch = TAU / slots;
  const phase = rnd() * pitch;
  const keyW = bore * 0.25;
  return {
    inner: bore,
    outer,
    inside(r, th) {
      if (r > outer) return false;
      if (r < bore) return false;
      // Keyway at angle 0 of the bore.
      if (r < bore + keyW && Math.abs(r * Math.sin(th)) < keyW * 0.5 && Math.cos(th) > 0) return false;
      const k = Math.round((th - phase) / pitch);
      const d = angDist(th, phase + k * pitch) * r;
      const dr = r - slotR;
      if ((dr * dr) / (slotA * slotA) + (d * d) / (slotB * slotB) < 1) return false;
      // Ventilation holes between bore and slots.
      const vr = (bore + slotR) / 2;
      const vk = Math.round((th - phase) / (TAU / 6));
      const vd = angDist(th, phase + (vk * TAU) / 6) * r;
      const vdr = r - vr;
      return vdr * vdr + vd * vd > (outer * 0.07) ** 2;
    },
  };
}

/**
 * Renders one core photo (size x size): a close-up of part of the core, as an inspector photographs a defect.
 *
 * Why a close-up and defects of these sizes: the classifier sees the photo at 224 px and its class activation map
 * has 7 x 7 cells there (one cell = 91 px of a 640 px photo). A whole core with a 1-px scratch or a 10-px dent
 * (0.05-0.2 % of the photo, as this demo first drew them) leaves sub-pixel marks at 224 px that frozen features do
 * not see, and puts a defect inside a cell without reaching any cell centre, so no map, however right, can point
 * at it. Real inspection photos frame the defect (on a real motor-part set the defects cover about 8 % of the photo).
 * OK photos are framed the same way, so framing is no cue for the class.
 */
export function renderCore(opts: { seed: number; defect: DemoDefect; coreType?: 'stator' | 'rotor'; size?: number }): RenderedCore {
  const size = opts.size ?? 640;
  /** Photo pixels per pixel of the whole-core geometry (which is laid out for a size x size frame). */
  const k = size / 640;
  const rnd = mulberry32(opts.seed * 2654435761 + 17);
  const coreType = opts.coreType ?? (rnd() < 0.6 ? 'stator' : 'rotor');
  const g = coreType === 'stator' ? statorGeometry(size, rnd) : rotorGeometry(size, rnd);
  // An inspection station's camera: fixed in place, zoomed in about 1.9x on the middle of the core's ring (its
  // upper right quarter, the core turned at random under it), so the frame shows a sector with background beside it.
  // Fixed framing and lighting, as on a station, leave the defect as the main difference between photos: with a
  // random view and light per photo, frozen ImageNet features of 100-200 photos carried no linear sign of a
  // scratch, dent or sheet shift at all. (vx, vy): the view centre, in core coordinates (origin at the centre).
  const zoom = 1.9 + rnd() * 0.1;
  const va = -Math.PI / 4 + (rnd() - 0.5) * 0.2;
  const vrad = g.inner + (0.45 + rnd() * 0.1) * (g.outer - g.inner);
  const vx = Math.cos(va) * vrad;
  const vy = Math.sin(va) * vrad;
  const half = size / 2;
  const view: View = {
    zoom,
    toCore: (x, y) => [(x + 0.5 - half) / zoom + vx, (y + 0.5 - half) / zoom + vy],
    toPixel: (X, Y) => [(X - vx) * zoom + half - 0.5, (Y - vy) * zoom + half - 0.5],
  };
  const n = size * size;
  const inside = new Uint8Array(n);
  const mask = new Uint8Array(n);
  const defect = opts.defect;
  /** A random point of the frame, at least `margin` pixels from its edges. */
  const framePoint = (margin: number): [number, number] => [margin + rnd() * (size - 2 * margin), margin + rnd() * (size - 2 * margin)];

  // Sheet shift: one lamination band (annular sector) is rotated by a few degrees; centred in the frame.
  let shift: { r0: number; r1: number; t0: number; span: number; delta: number } | null = null;
  if (defect === 'sheet_shift') {
    const bw = (g.outer - g.inner) * (0.3 + rnd() * 0.2);
    const [X, Y] = view.toCore(...framePoint(size * 0.3));
    const rc = Math.min(g.outer - bw / 2, Math.max(g.inner + bw / 2, Math.hypot(X, Y)));
    const span = 0.35 + rnd() * 0.3;
    shift = {
      r0: rc - bw / 2,
      r1: rc + bw / 2,
      t0: Math.atan2(Y, X) - span / 2,
      span,
      delta: (0.06 + rnd() * 0.04) * (rnd() < 0.5 ? -1 : 1),
    };
  }
  // Chip: a notch broken out of the outer edge or of a slot / bore edge, well inside the frame (a chip cut by the
  // frame's edge is a photo the inspector takes again).
  let chip: { x: number; y: number; rad: number } | null = null;
  if (defect === 'chip') {
    const atOuter = rnd() < 0.6;
    const rad = (27 + rnd() * 12) * k;
    for (let tries = 0; tries < 400 && !chip; tries++) {
      const [X, Y] = view.toCore(...framePoint(size * 0.2));
      const th = Math.atan2(Y, X);
      let r = atOuter || tries > 200 ? g.outer : Math.hypot(X, Y) * 0.5;
      if (r < g.outer) {
        // Walk outwards to the first material pixel along this ray (a slot or bore edge).
        while (r < g.outer && !g.inside(r, th)) r += 0.5;
        if (r >= g.outer - 2) continue;
      }
      // A bite out of the steel: the break's centre lies a third of its radius inside the edge, so most of the
      // break is missing steel rather than background beyond the outline.
      const rc = r < g.outer ? r + rad * 0.35 : r - rad * 0.35;
      const [px, py] = view.toPixel(Math.cos(th) * rc, Math.sin(th) * rc);
      const m = Math.max(rad * zoom + 16 * k, size * 0.15);
      if (px > m && py > m && px < size - m && py < size - m) chip = { x: Math.cos(th) * rc, y: Math.sin(th) * rc, rad };
    }
  }

  // Geometry pass (in core coordinates).
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // view.toCore, inlined: this loop runs for every pixel of every demo photo.
      const dx = (x + 0.5 - half) / zoom + vx;
      const dy = (y + 0.5 - half) / zoom + vy;
      const r = Math.sqrt(dx * dx + dy * dy);
      if (r > g.outer + 2 || r < g.inner - 40) continue;
      let th = Math.atan2(dy, dx);
      let inShift = false;
      if (shift && r >= shift.r0 && r < shift.r1 && angDist(th, shift.t0 + shift.span / 2) < shift.span / 2) {
        inShift = true;
        th += shift.delta;
      }
      let v = g.inside(r, th);
      const i = y * size + x;
      // The mask is the shifted band's whole sector (with the slot openings inside it), as an inspector outlines it.
      if (inShift) mask[i] = 1;
      if (chip && v) {
        const cdx = dx - chip.x;
        const cdy = dy - chip.y;
        const ca = Math.atan2(cdy, cdx);
        // An irregular break, not a round bite.
        const jag = 1 + 0.14 * Math.sin(ca * 3 + opts.seed) + 0.08 * Math.sin(ca * 7 + opts.seed * 1.7);
        if (cdx * cdx + cdy * cdy < (chip.rad * jag) ** 2) {
          v = false;
          mask[i] = 1;
        }
      }
      inside[i] = v ? 1 : 0;
    }
  }

  // Shading pass: lighting, lamination lines, banding, edge highlights, noise.
  const lum = new Float32Array(n);
  const lightA = 3.9 + (rnd() - 0.5) * 0.4;
  const lx = Math.cos(lightA);
  const ly = Math.sin(lightA);
  // One design, one sheet thickness: the lamination lines and the banding of the stack keep their pitch from photo
  // to photo (only where the banding starts varies). Lines 3 px apart at 640 px blur to a faint grain at 224.
  const linePeriod = 3.2;
  const bandPeriod = 20;
  const bandPhase = rnd() * TAU;
  const base = 0.54 + rnd() * 0.04;
  const noise = mulberry32(opts.seed ^ 0x5bd1e995);
  const edgeW = Math.max(2, Math.round(2 * k * zoom));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const dx = (x + 0.5 - half) / zoom + vx;
      const dy = (y + 0.5 - half) / zoom + vy;
      const nz = (noise() + noise() - 1) * 0.05;
      if (!inside[i]) {
        const ex = x + 0.5 - half;
        const ey = y + 0.5 - half;
        const vig = 1 - Math.min(1, Math.sqrt(ex * ex + ey * ey) / (size * 0.75));
        lum[i] = 0.06 + 0.06 * vig + nz * 0.6;
        continue;
      }
      const r = Math.sqrt(dx * dx + dy * dy);
      const light = 0.8 + 0.25 * ((dx * lx + dy * ly) / g.outer);
      const lines = 0.04 * Math.sin((TAU * r) / linePeriod);
      const band = 0.05 * Math.sin((TAU * r) / bandPeriod + bandPhase + 0.6 * Math.sin(r * 0.013));
      let edge = 0;
      if (
        x >= edgeW &&
        y >= edgeW &&
        x < size - edgeW &&
        y < size - edgeW &&
        (!inside[i - edgeW] || !inside[i + edgeW] || !inside[i - edgeW * size] || !inside[i + edgeW * size])
      )
        edge = 0.22;
      lum[i] = (base + lines + band) * light + edge + nz;
    }
  }

  if (shift) {
    // The shifted band catches the light differently (a brightness step), and a dark gap opens along its borders
    // where its sheets left their neighbours.
    const gap = Math.max(1, 2.5 * k);
    for (let i = 0; i < n; i++) {
      if (!mask[i] || !inside[i]) continue;
      const x = i % size;
      const y = (i - x) / size;
      let border = false;
      for (let d = 1; d <= gap && !border; d++)
        border =
          (x >= d && !mask[i - d]) ||
          (x < size - d && !mask[i + d]) ||
          (y >= d && !mask[i - d * size]) ||
          (y < size - d && !mask[i + d * size]);
      lum[i] = border ? 0.1 : lum[i]! + 0.18;
    }
  }
  const scene: Scene = { size, k, inside, lum, mask, rnd, light: [lx, ly] };
  if (defect === 'scratch') drawScratch(scene);
  if (defect === 'dent') drawDent(scene);
  if (chip) {
    // A chip's broken face is a rough, bright rim in the notch.
    const rough = grain(opts.seed ^ 0x2c1b3c6d, 3 * k);
    const rimW = Math.max(2, Math.round(4 * k * zoom));
    for (let i = 0; i < n; i++) {
      if (!mask[i] || inside[i]) continue;
      const x = i % size;
      const y = (i - x) / size;
      let rim = false;
      for (let d = 1; d <= rimW && !rim; d++)
        rim =
          (x >= d && !!inside[i - d]) ||
          (x < size - d && !!inside[i + d]) ||
          (y >= d && !!inside[i - d * size]) ||
          (y < size - d && !!inside[i + d * size]);
      lum[i] = rim ? 0.5 + 0.35 * rough(x, y) : 0.07;
    }
    // The material's new edge along the notch is part of the break: into the mask (2 marks it while growing).
    for (let i = 0; i < n; i++) {
      if (mask[i] || !inside[i]) continue;
      const x = i % size;
      const y = (i - x) / size;
      for (let d = 1; d <= edgeW; d++)
        if (
          (x >= d && mask[i - d] === 1) ||
          (x < size - d && mask[i + d] === 1) ||
          (y >= d && mask[i - d * size] === 1) ||
          (y < size - d && mask[i + d * size] === 1)
        ) {
          mask[i] = 2;
          break;
        }
    }
    for (let i = 0; i < n; i++) if (mask[i] === 2) mask[i] = 1;
  }

  // The station's ring light falls off towards the frame's edges, where the core's outline leaves the frame.
  const vignette = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    const e = Math.min(x + 0.5, size - x - 0.5) / (size * 0.22);
    vignette[x] = e >= 1 ? 1 : 0.25 + 0.75 * e * e * (3 - 2 * e);
  }
  // Blue-lit monochrome: luminance through a cold tint.
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const x = i % size;
    const l = Math.max(0, Math.min(1, lum[i]! * vignette[x]! * vignette[(i - x) / size]!));
    rgb[i * 3] = Math.round(255 * Math.min(1, l * 0.62));
    rgb[i * 3 + 1] = Math.round(255 * Math.min(1, l * 0.82 + 0.01));
    rgb[i * 3 + 2] = Math.round(255 * Math.min(1, l * 1.05 + 0.04));
  }
  return { size, rgb, mask, coreType, defect };
}

/** The camera's view of the core: pixel centre <-> core coordinates (origin at the core's centre). */
interface View {
  zoom: number;
  toCore(x: number, y: number): [number, number];
  toPixel(X: number, Y: number): [number, number];
}

/** What a defect is drawn into (in photo pixels): the material mask, the luminance and defect-mask buffers. */
interface Scene {
  size: number;
  /** size / 640: defect sizes are given for a 640 px photo. */
  k: number;
  inside: Uint8Array;
  lum: Float32Array;
  mask: Uint8Array;
  rnd: () => number;
  light: [number, number];
}

/** A random material pixel at least `margin` pixels from the frame's edges (the frame centre when none is found). */
function randomMaterialPoint({ size, inside, rnd }: Scene, margin: number): [number, number] {
  for (let t = 0; t < 2000; t++) {
    const x = Math.round(margin + rnd() * (size - 2 * margin));
    const y = Math.round(margin + rnd() * (size - 2 * margin));
    if (inside[y * size + x]) return [x, y];
  }
  return [Math.round(size / 2), Math.round(size / 2)];
}

/**
 * A scratch: a long curved groove 8-11 px wide on a 640 px photo (3-4 px at 224, the model's input), dark in the
 * middle with a bright burr along both lips (or, burnished, bright with dark lips), only on the material (it stops
 * at slots). Its mask is the groove and its lips plus 5 px, as an inspector draws it with a fine brush.
 */
function drawScratch(scene: Scene): void {
  const { size, k, inside, lum, mask, rnd } = scene;
  const [x0, y0] = randomMaterialPoint(scene, size * 0.2);
  const len = (300 + rnd() * 160) * k;
  const a = rnd() * TAU;
  // Keep the far end inside the frame: aim back towards the centre when it would leave.
  let x2 = x0 + Math.cos(a) * len;
  let y2 = y0 + Math.sin(a) * len;
  if (x2 < 0 || y2 < 0 || x2 >= size || y2 >= size) {
    x2 = x0 - Math.cos(a) * len;
    y2 = y0 - Math.sin(a) * len;
  }
  x2 = Math.max(4, Math.min(size - 5, x2));
  y2 = Math.max(4, Math.min(size - 5, y2));
  const dl = Math.hypot(x2 - x0, y2 - y0);
  const bend = (rnd() - 0.5) * dl * 0.3;
  const x1 = (x0 + x2) / 2 - ((y2 - y0) / dl) * bend;
  const y1 = (y0 + y2) / 2 + ((x2 - x0) / dl) * bend;
  const bright = rnd() < 0.3;
  const width = (8 + rnd() * 3) * k;
  const lip = 2.5 * k;
  const pad = 5 * k;
  const reach = Math.ceil(width + lip + pad);
  const steps = Math.ceil(dl * 2);
  const groove = bright ? 0.95 : 0.08;
  const rough = grain(Math.floor(rnd() * 1e9), 2.5 * k);
  const rim = bright ? 0.12 : 0.9;
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    const px = (1 - t) * (1 - t) * x0 + 2 * (1 - t) * t * x1 + t * t * x2;
    const py = (1 - t) * (1 - t) * y0 + 2 * (1 - t) * t * y1 + t * t * y2;
    // The groove narrows at its two ends.
    const taper = Math.min(1, t * 12, (1 - t) * 12);
    const w = width * (0.4 + 0.6 * taper);
    for (let oy = -reach; oy <= reach; oy++) {
      for (let ox = -reach; ox <= reach; ox++) {
        const x = Math.round(px) + ox;
        const y = Math.round(py) + oy;
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        const i = y * size + x;
        if (!inside[i]) continue;
        const d = Math.hypot(x - px, y - py);
        if (d <= w / 2) lum[i] = bright ? Math.max(lum[i]!, groove) : Math.min(lum[i]!, groove);
        else if (d <= w / 2 + lip && mask[i] !== 2) lum[i] = rim + 0.3 * rough(x, y);
        if (d <= w / 2) mask[i] = 2;
        else if (d <= w / 2 + lip + pad && !mask[i]) mask[i] = 1;
      }
    }
  }
  // Mask value 2 only kept the groove from being overdrawn by a neighbouring step's lip.
  for (let i = 0; i < mask.length; i++) if (mask[i] === 2) mask[i] = 1;
}

/**
 * A dent: a shallow bowl 110-160 px across on a 640 px photo, dark inside, its wall facing the light bright and the
 * opposite wall in shadow. The mask is the bowl's rim.
 */
function drawDent(scene: Scene): void {
  const { size, k, inside, lum, mask, rnd, light } = scene;
  const rad = (56 + rnd() * 24) * k;
  const [x0, y0] = randomMaterialPoint(scene, Math.ceil(rad * 1.3));
  const rough = grain(Math.floor(rnd() * 1e9), 4 * k);
  const R = Math.ceil(rad * 1.3);
  for (let y = y0 - R; y <= y0 + R; y++) {
    for (let x = x0 - R; x <= x0 + R; x++) {
      if (x < 0 || y < 0 || x >= size || y >= size) continue;
      const i = y * size + x;
      if (!inside[i]) continue;
      const ddx = x - x0;
      const ddy = y - y0;
      const d = Math.hypot(ddx, ddy) / rad;
      if (d > 1.25) continue;
      // Slope of the bowl towards the light: + on the far wall (lit), - on the near wall (shadow).
      const facing = d > 0 ? (-(ddx * light[0] + ddy * light[1]) / (d * rad)) * Math.sin(Math.min(1, d) * Math.PI) : 0;
      const depth = Math.exp(-d * d * 1.3);
      const crushed = d < 1 ? 0.25 * rough(x, y) * (1 - d * d) : 0;
      lum[i] = lum[i]! * (1 - 0.6 * depth) + 0.4 * facing * (d < 1 ? 1 : Math.max(0, (1.25 - d) * 4)) + crushed;
      if (d <= 1.1) mask[i] = 1;
    }
  }
}
