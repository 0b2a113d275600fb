/**
 * Synthetic motor-core photos for the demo project and benchmarks, deterministic by seed: a stator
 * (annulus with slots and teeth) or a rotor (disc, shaft bore with keyway, closed slots), fine
 * concentric lamination lines and stacked-sheet banding, blue-lit monochrome look, and one defect
 * (scratch, dent, chip, sheet shift) with its pixel mask. Rendered with typed arrays.
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

function statorGeometry(size: number, rnd: () => number): Geometry {
  const outer = size * (0.42 + rnd() * 0.04);
  const inner = outer * (0.55 + rnd() * 0.06);
  const slots = [24, 36, 48][Math.floor(rnd() * 3)]!;
  const depth = (outer - inner) * (0.45 + rnd() * 0.12);
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
  const outer = size * (0.38 + rnd() * 0.05);
  const bore = outer * (0.18 + rnd() * 0.05);
  const slots = [18, 22, 28, 32][Math.floor(rnd() * 4)]!;
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

/** Renders one core photo (size x size). */
export function renderCore(opts: { seed: number; defect: DemoDefect; coreType?: 'stator' | 'rotor'; size?: number }): RenderedCore {
  const size = opts.size ?? 640;
  const rnd = mulberry32(opts.seed * 2654435761 + 17);
  const coreType = opts.coreType ?? (rnd() < 0.6 ? 'stator' : 'rotor');
  const g = coreType === 'stator' ? statorGeometry(size, rnd) : rotorGeometry(size, rnd);
  const cx = size / 2 + (rnd() - 0.5) * size * 0.04;
  const cy = size / 2 + (rnd() - 0.5) * size * 0.04;
  const n = size * size;
  const inside = new Uint8Array(n);
  const mask = new Uint8Array(n);
  const defect = opts.defect;

  // Sheet shift: one lamination band (annular sector) is rotated by a few degrees.
  let shift: { r0: number; r1: number; t0: number; span: number; delta: number } | null = null;
  if (defect === 'sheet_shift') {
    const bw = (g.outer - g.inner) * (0.25 + rnd() * 0.2);
    const r0 = g.inner + rnd() * (g.outer - g.inner - bw);
    shift = { r0, r1: r0 + bw, t0: rnd() * TAU, span: 0.6 + rnd() * 0.8, delta: (0.03 + rnd() * 0.04) * (rnd() < 0.5 ? -1 : 1) };
  }
  // Chip: a notch missing at the outer edge or at a slot / bore edge.
  let chip: { x: number; y: number; rad: number } | null = null;
  if (defect === 'chip') {
    const atOuter = rnd() < 0.6;
    const rad = 7 + rnd() * 9;
    for (let tries = 0; tries < 200 && !chip; tries++) {
      const th = rnd() * TAU;
      let r = atOuter ? g.outer : g.inner;
      if (!atOuter) {
        // Walk outwards from the bore to the first material pixel along this ray (a slot or bore edge).
        while (r < g.outer && !g.inside(r, th)) r += 0.5;
        if (r >= g.outer - 2) continue;
      }
      chip = { x: cx + Math.cos(th) * r, y: cy + Math.sin(th) * r, rad };
    }
  }

  // Geometry pass.
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
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
      if (inShift && (v || g.inside(r, th - shift!.delta))) mask[i] = 1;
      if (chip && v) {
        const cdx = x - chip.x;
        const cdy = y - chip.y;
        const jag = 1 + 0.25 * Math.sin(Math.atan2(cdy, cdx) * 5 + opts.seed);
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
  const lightA = rnd() * TAU;
  const lx = Math.cos(lightA);
  const ly = Math.sin(lightA);
  const linePeriod = 2.6 + rnd() * 1.2;
  const bandPeriod = 14 + rnd() * 12;
  const bandPhase = rnd() * TAU;
  const base = 0.5 + rnd() * 0.12;
  const noise = mulberry32(opts.seed ^ 0x5bd1e995);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const nz = (noise() + noise() - 1) * 0.05;
      if (!inside[i]) {
        const vig = 1 - Math.min(1, Math.sqrt(dx * dx + dy * dy) / (size * 0.75));
        lum[i] = 0.06 + 0.06 * vig + nz * 0.6;
        continue;
      }
      const r = Math.sqrt(dx * dx + dy * dy);
      const light = 0.8 + 0.25 * ((dx * lx + dy * ly) / g.outer);
      const lines = 0.06 * Math.sin((TAU * r) / linePeriod);
      const band = 0.07 * Math.sin((TAU * r) / bandPeriod + bandPhase + 0.6 * Math.sin(r * 0.013));
      let edge = 0;
      if (
        x > 1 &&
        y > 1 &&
        x < size - 2 &&
        y < size - 2 &&
        (!inside[i - 2] || !inside[i + 2] || !inside[i - 2 * size] || !inside[i + 2 * size])
      )
        edge = 0.22;
      lum[i] = (base + lines + band) * light + edge + nz;
    }
  }

  if (shift) {
    // The shifted band catches the light differently: a brightness step and bright leading edges.
    for (let i = 0; i < n; i++) if (mask[i] && inside[i]) lum[i]! += 0.09;
  }
  const scene: Scene = { size, cx, cy, g, inside, lum, mask, rnd };
  if (defect === 'scratch') drawScratch(scene);
  if (defect === 'dent') drawDent(scene);
  if (chip) {
    // A chip's broken face is a bright rim in the notch.
    for (let i = 0; i < n; i++) {
      if (!mask[i] || inside[i]) continue;
      const x = i % size;
      const y = (i - x) / size;
      if ((x > 0 && inside[i - 1]) || (x < size - 1 && inside[i + 1]) || (y > 0 && inside[i - size]) || (y < size - 1 && inside[i + size]))
        lum[i] = 0.75;
      else lum[i] = 0.07;
    }
  }

  // Blue-lit monochrome: luminance through a cold tint.
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const l = Math.max(0, Math.min(1, lum[i]!));
    rgb[i * 3] = Math.round(255 * Math.min(1, l * 0.62));
    rgb[i * 3 + 1] = Math.round(255 * Math.min(1, l * 0.82 + 0.01));
    rgb[i * 3 + 2] = Math.round(255 * Math.min(1, l * 1.05 + 0.04));
  }
  return { size, rgb, mask, coreType, defect };
}

/** What a defect is drawn into: the core's geometry and material mask, the luminance and defect-mask buffers. */
interface Scene {
  size: number;
  cx: number;
  cy: number;
  g: Geometry;
  inside: Uint8Array;
  lum: Float32Array;
  mask: Uint8Array;
  rnd: () => number;
}

function randomMaterialPoint({ size, cx, cy, g, inside, rnd }: Scene, margin: number): [number, number] {
  for (let t = 0; t < 500; t++) {
    const r = g.inner + margin + rnd() * Math.max(1, g.outer - g.inner - 2 * margin);
    const th = rnd() * TAU;
    const x = Math.round(cx + Math.cos(th) * r);
    const y = Math.round(cy + Math.sin(th) * r);
    if (x >= margin && y >= margin && x < size - margin && y < size - margin && inside[y * size + x]) return [x, y];
  }
  return [Math.round(cx + (g.inner + g.outer) / 2), Math.round(cy)];
}

function drawScratch(scene: Scene): void {
  const { size, inside, lum, mask, rnd } = scene;
  const [x0, y0] = randomMaterialPoint(scene, 8);
  const len = 50 + rnd() * 110;
  const a = rnd() * TAU;
  const x2 = x0 + Math.cos(a) * len;
  const y2 = y0 + Math.sin(a) * len;
  const bend = (rnd() - 0.5) * len * 0.3;
  const x1 = (x0 + x2) / 2 - Math.sin(a) * bend;
  const y1 = (y0 + y2) / 2 + Math.cos(a) * bend;
  const bright = rnd() < 0.5;
  const width = rnd() < 0.5 ? 1 : 1.6;
  const steps = Math.ceil(len * 2);
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    const px = (1 - t) * (1 - t) * x0 + 2 * (1 - t) * t * x1 + t * t * x2;
    const py = (1 - t) * (1 - t) * y0 + 2 * (1 - t) * t * y1 + t * t * y2;
    const fade = Math.min(1, t * 8, (1 - t) * 8);
    for (let oy = -3; oy <= 3; oy++) {
      for (let ox = -3; ox <= 3; ox++) {
        const x = Math.round(px) + ox;
        const y = Math.round(py) + oy;
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        const i = y * size + x;
        if (!inside[i]) continue;
        const d = Math.hypot(x - px, y - py);
        if (d <= width)
          lum[i] = bright ? Math.max(lum[i]!, 0.95 * fade + lum[i]! * (1 - fade)) : Math.min(lum[i]!, 0.12 * fade + lum[i]! * (1 - fade));
        if (d <= width + 1.5) mask[i] = 1;
      }
    }
  }
}

function drawDent(scene: Scene): void {
  const { size, inside, lum, mask, rnd } = scene;
  const rad = 6 + rnd() * 8;
  const [x0, y0] = randomMaterialPoint(scene, Math.ceil(rad * 2));
  const ha = rnd() * TAU;
  const hx = x0 + Math.cos(ha) * rad * 0.45;
  const hy = y0 + Math.sin(ha) * rad * 0.45;
  const R = Math.ceil(rad * 1.6);
  for (let y = y0 - R; y <= y0 + R; y++) {
    for (let x = x0 - R; x <= x0 + R; x++) {
      if (x < 0 || y < 0 || x >= size || y >= size) continue;
      const i = y * size + x;
      if (!inside[i]) continue;
      const d = Math.hypot(x - x0, y - y0) / rad;
      const dark = Math.exp(-d * d * 1.6);
      const hd = Math.hypot(x - hx, y - hy) / (rad * 0.35);
      const hl = d < 1 ? Math.exp(-hd * hd) : 0;
      lum[i] = lum[i]! * (1 - 0.7 * dark) + 0.55 * hl;
      if (d <= 1.15) mask[i] = 1;
    }
  }
}
