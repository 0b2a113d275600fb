/**
 * The viewer's zoom and pan as state: the stage's size, the view transform and whether the image follows the
 * stage (fitted) or was zoomed/panned by hand. The arithmetic is in viewport.ts.
 */
import {
  fitScale,
  fitView,
  panView,
  stepScale,
  toImagePoint,
  wheelScale,
  zoomPercent,
  zoomViewAt,
  type Size,
  type View,
} from './viewport.ts';

export class Viewport {
  stageW = $state(800);
  stageH = $state(600);
  scale = $state(1);
  tx = $state(0);
  ty = $state(0);
  /** Until the user zooms or pans, the image stays fitted (also when the window is resized). */
  autoFit = true;

  readonly #image: () => Size;

  /** `image`: the size of the image shown, read whenever the fit is computed. */
  constructor(image: () => Size) {
    this.#image = image;
  }

  get image(): Size {
    return this.#image();
  }
  get view(): View {
    return { scale: this.scale, tx: this.tx, ty: this.ty };
  }
  // $derived reads lazily, so the getter the constructor sets is there by the first read.
  readonly fitScale = $derived(fitScale({ w: this.stageW, h: this.stageH }, this.image));
  readonly zoomPct = $derived(zoomPercent(this.scale));

  #set(v: View): void {
    this.scale = v.scale;
    this.tx = v.tx;
    this.ty = v.ty;
  }

  fit = (): void => {
    this.autoFit = true;
    this.#set(fitView({ w: this.stageW, h: this.stageH }, this.image));
  };

  zoomAt(sx: number, sy: number, next: number): void {
    this.autoFit = false;
    this.#set(zoomViewAt(this.view, sx, sy, next, this.fitScale));
  }

  /** One zoom step in (1) or out (-1) about the stage's centre. */
  zoomStep(by: 1 | -1): void {
    this.zoomCentre(stepScale(this.scale, by));
  }

  zoomCentre(next: number): void {
    this.zoomAt(this.stageW / 2, this.stageH / 2, next);
  }

  /** A wheel event at stage point (sx, sy). */
  wheel(sx: number, sy: number, deltaY: number, deltaMode: number): void {
    this.zoomAt(sx, sy, wheelScale(this.scale, deltaY, deltaMode));
  }

  /** The view dragged by (dsx, dsy) screen pixels from `from`. */
  panFrom(from: View, dsx: number, dsy: number): void {
    this.autoFit = false;
    this.#set(panView(from, dsx, dsy));
  }

  toImage(sx: number, sy: number): { ix: number; iy: number } {
    return toImagePoint(this.view, sx, sy);
  }
}
