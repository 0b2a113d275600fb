/**
 * The resize mode a training run gets when nobody chose one, decided from the photos' shapes (no TensorFlow here:
 * the wizard and `kensa train` share it).
 *
 * When the classes' photos differ in mean aspect the shape is a cue that is not the defect, whichever mode is used:
 * measured on NEU cropped to a different aspect per class (`npm run bench -- letterbox-mask`, v1 0.25 @ 224, two
 * seeds), validation accuracy was the same (97.6 %), but with the photos' shapes swapped between classes squash kept
 * 75 / 74 % while letterbox fell to 17 / 12 % (grey pooled) and 31 / 25 % (padding masked): the padding bands show
 * the shape, squashing hides most of it. So squash stays the default there and the wizard says to crop or photograph
 * every class alike. Letterbox when all photos are far from square (squashing would stretch every defect by half or
 * more); squash otherwise: it keeps every input pixel for the photo, and it is what every earlier run did.
 *
 * Tiles when the photos are elongated (ELONGATED, 2.5 : 1 or more): measured on elpv strips of three 300 px cells
 * (900 x 300, a defect strip holds one defect cell; `npm run bench -- tile`, 300 strips, 120 validation, v1 0.25 @ 224,
 * 30 transfer epochs, no regions given, seeds 1 / 2), tiles gave validation accuracy 75.8 / 70.8 % (AUC 0.80 / 0.71,
 * CAM pointing on the defect cell 65 / 67 %), letterbox 73.3 / 57.5 % (AUC 0.71 / 0.58, pointing 47 / 53 %), squash
 * 65.8 / 64.2 % (AUC 0.67 / 0.63, pointing 49 / 45 %), logistic regression on the squashed strip's frozen features
 * 63.3 / 64.2 %; chance pointing is 33 %. Fine-tuned too (`--finetune-epochs 3`, last 2 blocks, 200 strips, seed 1):
 * tile 70.0 % (AUC 0.77), letterbox 58.8 % (0.51), squash 56.3 % (0.52), the baseline 56.3 %. Between FAR_FROM_SQUARE
 * and ELONGATED letterbox stays (not measured with tiles; two tiles overlap by most of a side there).
 */
/** How a photo becomes the model's square input (the geometry lives in services/training/data/geometry.ts). */
export type ResizeMode = 'squash' | 'letterbox' | 'tile';

/** Mean aspects of two classes this far apart (ratio) count as "differ" (the wizard's warning uses the same bound). */
export const ASPECT_SPREAD = 1.1;
/** Photos whose mean aspect is this far from 1 (either way) count as "far from square". */
export const FAR_FROM_SQUARE = 1.5;
/** Photos whose mean aspect is this far from 1 (either way) count as "elongated": tiles (see above). */
export const ELONGATED = 2.5;

/** One class's photos, as the catalog statistics give them. */
export interface LabelAspect {
  key: string;
  /** Images of the class. */
  total: number;
  /** Mean width / height of its photos (null or absent without images). */
  aspect?: number | null;
}

export type ResizeReason =
  /** Two classes' mean aspects differ by ASPECT_SPREAD or more. */
  | { kind: 'aspectDiffers'; narrow: string; narrowAspect: number; wide: string; wideAspect: number }
  /** The photos' mean aspect (geometric, weighted by images) is FAR_FROM_SQUARE or more from 1. */
  | { kind: 'farFromSquare'; aspect: number }
  /** The photos' mean aspect is ELONGATED or more from 1: tiles. */
  | { kind: 'elongated'; aspect: number }
  /** Every class about the same shape, near enough to square. */
  | { kind: 'similar'; aspect: number }
  /** No class with photos: nothing to decide from. */
  | { kind: 'noData' };

export interface ResizeChoice {
  mode: ResizeMode;
  reason: ResizeReason;
}

/** The default resize mode for the classes that take part, and why. */
export function chooseResize(labels: readonly LabelAspect[]): ResizeChoice {
  const known = labels.filter((l): l is LabelAspect & { aspect: number } => l.total > 0 && typeof l.aspect === 'number' && l.aspect > 0);
  if (!known.length) return { mode: 'squash', reason: { kind: 'noData' } };
  const narrow = known.reduce((a, b) => (b.aspect < a.aspect ? b : a));
  const wide = known.reduce((a, b) => (b.aspect > a.aspect ? b : a));
  if (wide.aspect / narrow.aspect >= ASPECT_SPREAD)
    return {
      mode: 'squash',
      reason: { kind: 'aspectDiffers', narrow: narrow.key, narrowAspect: narrow.aspect, wide: wide.key, wideAspect: wide.aspect },
    };
  // Geometric mean: a 2:1 and a 1:2 class are both far from square, their arithmetic mean (1.25) would hide it.
  const n = known.reduce((a, l) => a + l.total, 0);
  const aspect = Math.exp(known.reduce((a, l) => a + l.total * Math.log(l.aspect), 0) / n);
  if (Math.max(aspect, 1 / aspect) >= ELONGATED) return { mode: 'tile', reason: { kind: 'elongated', aspect } };
  if (Math.max(aspect, 1 / aspect) >= FAR_FROM_SQUARE) return { mode: 'letterbox', reason: { kind: 'farFromSquare', aspect } };
  return { mode: 'squash', reason: { kind: 'similar', aspect } };
}

/** One line for the terminal on what was chosen and why (the UI words it from the reason itself). */
export function describeResizeChoice(c: ResizeChoice, nameOf: (key: string) => string = (k) => k): string {
  const r = c.reason;
  const f = (v: number) => v.toFixed(2);
  switch (r.kind) {
    case 'aspectDiffers':
      return `${c.mode}: the photos of ${nameOf(r.narrow)} (aspect ${f(r.narrowAspect)}) and ${nameOf(r.wide)} (${f(r.wideAspect)}) differ in shape: letterboxed, the padding would show the shape (a cue that is not the defect) more than squashing does; crop or photograph every class alike`;
    case 'farFromSquare':
      return `${c.mode}: the photos are far from square (mean aspect ${f(r.aspect)}), so squashing would stretch the defects`;
    case 'elongated':
      return `${c.mode}: the photos are elongated (mean aspect ${f(r.aspect)}): square tiles across the short side keep the defects at full detail, the photo judged by its worst tile`;
    case 'similar':
      return `${c.mode}: every class's photos have about the same shape (mean aspect ${f(r.aspect)})`;
    case 'noData':
      return `${c.mode}: no photos to judge their shape from`;
  }
}

/**
 * The default for an anomaly run (issue 16), from the photos' mean aspect alone: tiles when the photos are elongated
 * (ELONGATED or more from 1), squash otherwise. Measured on elpv strips of three 300 px cells (900 x 300; a defect strip
 * holds one cell of defect probability >= 2/3 between good ones; `npm run bench -- anomaly --strips`, v2 1.0 @ 224, the
 * anomaly defaults): image AUROC tile 0.826 / 0.833, squash 0.749 / 0.738, letterbox 0.729 / 0.695 (seed 1: 150
 * good strips fitted, 100 + 100 scored; seed 2: 60, 40 + 40), at 3-5x squash's scoring time (three inputs a strip
 * and a fuller bank). On two-cell strips (600 x 300, `--cells 2`, seed 1, 60 / 40 + 40) the three were alike (squash
 * 0.775, letterbox 0.769, tile 0.770; tiles 3.7x the time), so below ELONGATED squash stays. Letterbox is never the default: it shrinks the whole photo into the square, so an elongated
 * photo loses the most detail. The classes' shapes do not count here as they do for a classifier (which can learn a
 * class from its shape): the model learns from good photos only, and a tile is a uniform scale of the photo.
 */
export function chooseAnomalyResize(labels: readonly LabelAspect[]): ResizeChoice {
  const known = labels.filter((l): l is LabelAspect & { aspect: number } => l.total > 0 && typeof l.aspect === 'number' && l.aspect > 0);
  if (!known.length) return { mode: 'squash', reason: { kind: 'noData' } };
  const n = known.reduce((a, l) => a + l.total, 0);
  const aspect = Math.exp(known.reduce((a, l) => a + l.total * Math.log(l.aspect), 0) / n);
  if (Math.max(aspect, 1 / aspect) >= ELONGATED) return { mode: 'tile', reason: { kind: 'elongated', aspect } };
  return { mode: 'squash', reason: { kind: 'similar', aspect } };
}
