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
 */
/** How a photo becomes the model's square input (the geometry lives in services/training/data/geometry.ts). */
export type ResizeMode = 'squash' | 'letterbox';

/** Mean aspects of two classes this far apart (ratio) count as "differ" (the wizard's warning uses the same bound). */
export const ASPECT_SPREAD = 1.1;
/** Photos whose mean aspect is this far from 1 (either way) count as "far from square". */
export const FAR_FROM_SQUARE = 1.5;

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
    case 'similar':
      return `${c.mode}: every class's photos have about the same shape (mean aspect ${f(r.aspect)})`;
    case 'noData':
      return `${c.mode}: no photos to judge their shape from`;
  }
}
