/**
 * The demo photos (library/demo/render.ts) as the model sees them: the same photo for a seed; OK and defect photos
 * framed alike (framing is no cue for the class); every defect big enough at 224 px, the classifier's input, for a
 * 7 x 7 class activation map to point at it (dents and chips cover a cell centre, a scratch is 2 px wide or more);
 * masks that lie on the defect's pixels.
 */
import { describe, expect, it } from 'vitest';
import { renderCore, type DemoDefect, type RenderedCore } from '../../src-main/services/library/demo/render.ts';

const SEEDS = [11, 12, 13, 14, 15, 16];
const DEFECTS: DemoDefect[] = ['scratch', 'dent', 'chip', 'sheet_shift'];
const renders = new Map<DemoDefect, RenderedCore[]>();
const of = (d: DemoDefect) => {
  let list = renders.get(d);
  if (!list) renders.set(d, (list = SEEDS.map((seed) => renderCore({ seed, defect: d, size: 640 }))));
  return list;
};

/** Share of the frame that is lit steel (green channel above the dark background's level, about 20). */
function materialShare(img: RenderedCore): number {
  let lit = 0;
  for (let i = 0; i < img.size * img.size; i++) if (img.rgb[i * 3 + 1]! > 32) lit++;
  return lit / (img.size * img.size);
}

/** Whether the mask holds (within 4 px, the pointing game's tolerance) the centre of a 7 x 7 grid cell. */
function coversCellCentre(img: RenderedCore): boolean {
  const s = img.size;
  for (let a = 0; a < 7; a++)
    for (let b = 0; b < 7; b++) {
      const cx = Math.floor((s * (a + 0.5)) / 7);
      const cy = Math.floor((s * (b + 0.5)) / 7);
      for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) if (img.mask[(cy + dy) * s + cx + dx]) return true;
    }
  return false;
}

describe('demo photos', () => {
  it('are the same for a seed', () => {
    const a = renderCore({ seed: 7, defect: 'scratch', size: 320 });
    const b = renderCore({ seed: 7, defect: 'scratch', size: 320 });
    expect(Buffer.from(a.rgb).equals(Buffer.from(b.rgb))).toBe(true);
    expect(Buffer.from(a.mask).equals(Buffer.from(b.mask))).toBe(true);
    expect(Buffer.from(renderCore({ seed: 8, defect: 'scratch', size: 320 }).rgb).equals(Buffer.from(a.rgb))).toBe(false);
  });

  it('frame OK and defect photos alike: a close-up of part of the core, the same share of steel', () => {
    const okShares = SEEDS.map((seed) => materialShare(renderCore({ seed, defect: 'ok', size: 640 })));
    const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
    // A close-up: steel and the background beside the core's edge and in its slots share the frame.
    expect(mean(okShares)).toBeGreaterThan(0.2);
    expect(mean(okShares)).toBeLessThan(0.85);
    for (const d of DEFECTS) expect(Math.abs(mean(of(d).map(materialShare)) - mean(okShares))).toBeLessThan(0.03);
    for (const seed of SEEDS) expect(renderCore({ seed, defect: 'ok', size: 640 }).mask.every((v) => v === 0)).toBe(true);
  });

  it('draw every defect large enough for the 224 px input and its 7 x 7 map', () => {
    for (const d of DEFECTS) {
      for (const img of of(d)) {
        const area = img.mask.reduce((a, v) => a + v, 0) / (640 * 640);
        // At least 0.4 % of the frame (0.05-0.2 % before the close-up), at most a fifth of it.
        expect(area, `${d} area`).toBeGreaterThan(0.004);
        expect(area, `${d} area`).toBeLessThan(0.2);
      }
      if (d === 'dent' || d === 'chip' || d === 'sheet_shift')
        expect(of(d).filter(coversCellCentre).length, `${d} covering a cell centre`).toBeGreaterThanOrEqual(SEEDS.length - 1);
    }
    // A scratch's groove is dark (or bright) and at least 2 px wide at 224 px: its extreme pixels, counted along
    // rows and columns, outnumber what a 1-px line of its length would leave.
    for (const img of of('scratch')) {
      const small = new Float32Array(224 * 224);
      for (let y = 0; y < 640; y++)
        for (let x = 0; x < 640; x++)
          small[Math.floor((y * 224) / 640) * 224 + Math.floor((x * 224) / 640)]! += img.rgb[(y * 640 + x) * 3 + 1]!;
      let extreme = 0;
      for (const v of small) if (v / (640 / 224) ** 2 < 40 || v / (640 / 224) ** 2 > 215) extreme++;
      let extent = 0;
      for (let i = 0; i < img.mask.length; i++) if (img.mask[i]) extent++;
      // Mask pixels at 224 over its width (groove + lips + margins, about 21 px at 640): the scratch's length at 224.
      const length224 = extent / (21 * (640 / 224));
      expect(extreme / length224, 'scratch width at 224 px').toBeGreaterThanOrEqual(2);
    }
  });

  it('keep masks on the defect: a dent lies on steel, a chip where steel is missing next to steel', () => {
    for (const img of of('dent')) {
      let onSteel = 0;
      let total = 0;
      for (let i = 0; i < img.mask.length; i++)
        if (img.mask[i]) {
          total++;
          if (img.rgb[i * 3 + 1]! > 40) onSteel++;
        }
      expect(onSteel / total).toBeGreaterThan(0.6);
    }
    for (const img of of('chip')) {
      let dark = 0;
      let total = 0;
      for (let i = 0; i < img.mask.length; i++)
        if (img.mask[i]) {
          total++;
          if (img.rgb[i * 3 + 1]! < 40) dark++;
        }
      // The notch shows the dark background through it, framed by its bright broken face and the steel's edge.
      expect(dark / total).toBeGreaterThan(0.2);
      expect(dark / total).toBeLessThan(0.9);
    }
  });
});
