/**
 * One pointer gesture on the viewer's stage, from button down to up: pan, move or resize the selected region,
 * drag out a rectangle or paint a brush stroke. It shows its progress (draft, live box, cursor) and ends with
 * what to store; storing is the viewer's (viewer.svelte.ts), so this class never talks to the server.
 */
import type { Region } from '../../../../../src-main/shared/library-types.ts';
import type { Box } from '../mask.ts';
import type { Tool } from './keys.ts';
import type { Draft } from './overlay.ts';
import {
  hitHandle,
  hitRegion,
  hoverCursor,
  movedBox,
  normaliseBox,
  resizedBox,
  sameBox,
  tooSmallToKeep,
  type Handle,
} from './region-edit.ts';
import type { View } from './viewport.ts';
import type { Viewport } from './viewport.svelte.ts';

/** What the viewer the gesture runs in offers it. */
export interface GestureHost {
  readonly tool: Tool;
  readonly regions: readonly Region[];
  selected: number | null;
  readonly vp: Viewport;
  /** An image is shown and a type to draw as is chosen. */
  readonly canDraw: boolean;
}

/** What a finished gesture asks the viewer to store. */
export type GestureResult =
  { kind: 'rect'; box: Box } | { kind: 'brush'; stroke: { x: number; y: number }[] } | { kind: 'edit'; region: Region; box: Box };

type Mode = 'pan' | 'move' | 'resize' | 'rect' | 'brush';

export class Gesture {
  draft = $state.raw<Draft | null>(null);
  /** The selected region while it is moved or resized. */
  live = $state.raw<Box | null>(null);
  cursor = $state('default');
  /** Space held: the next drag pans whatever the tool. */
  spaceDown = $state(false);

  #mode: Mode | null = null;
  #start = { sx: 0, sy: 0, ix: 0, iy: 0, view: { scale: 1, tx: 0, ty: 0 } as View };
  #origin: Region | null = null;
  #handle: Handle | null = null;
  readonly #host: GestureHost;

  constructor(host: GestureHost) {
    this.#host = host;
  }

  /** A button is held down (a drag is under way). */
  get dragging(): boolean {
    return this.#mode !== null;
  }
  /** Something Escape would cancel: a drag or a drawing not stored yet. */
  get active(): boolean {
    return this.#mode !== null || this.draft !== null;
  }

  #selectedRegion(): Region | undefined {
    return this.#host.regions.find((x) => x.id === this.#host.selected);
  }

  /** Button down at stage point (sx, sy); `pan`: the middle button, which always pans. */
  down(sx: number, sy: number, pan: boolean): void {
    const h = this.#host;
    const { ix, iy } = h.vp.toImage(sx, sy);
    this.#start = { sx, sy, ix, iy, view: h.vp.view };
    if (pan || this.spaceDown) {
      this.#mode = 'pan';
      return;
    }
    if (h.tool === 'rect') {
      this.#mode = 'rect';
      this.draft = { box: { x: ix, y: iy, w: 0, h: 0 } };
      return;
    }
    if (h.tool === 'brush') {
      this.#mode = 'brush';
      this.draft = { stroke: [{ x: ix, y: iy }] };
      return;
    }
    const handle = hitHandle(this.#selectedRegion(), h.vp.view, sx, sy);
    if (handle) {
      this.#mode = 'resize';
      this.#handle = handle;
      this.#origin = this.#selectedRegion() ?? null;
      return;
    }
    const r = hitRegion(h.regions, ix, iy);
    if (r) {
      h.selected = r.id;
      this.#mode = 'move';
      this.#origin = r;
      return;
    }
    h.selected = null;
    this.#mode = 'pan';
  }

  /** The pointer at stage point (sx, sy), with or without a button held. */
  move(sx: number, sy: number): void {
    const h = this.#host;
    const { ix, iy } = h.vp.toImage(sx, sy);
    if (!this.#mode) {
      if (h.tool !== 'select' || this.spaceDown) this.cursor = this.spaceDown ? 'grab' : 'crosshair';
      else this.cursor = hoverCursor(hitHandle(this.#selectedRegion(), h.vp.view, sx, sy), !!hitRegion(h.regions, ix, iy));
      return;
    }
    const s = this.#start;
    const dx = ix - s.ix;
    const dy = iy - s.iy;
    const { w: imgW, h: imgH } = h.vp.image;
    if (this.#mode === 'pan') {
      h.vp.panFrom(s.view, sx - s.sx, sy - s.sy);
      this.cursor = 'grabbing';
    } else if (this.#mode === 'rect') {
      this.draft = { box: { x: s.ix, y: s.iy, w: dx, h: dy } };
    } else if (this.#mode === 'brush' && this.draft?.stroke) {
      this.draft = { stroke: [...this.draft.stroke, { x: ix, y: iy }] };
    } else if (this.#mode === 'move' && this.#origin) {
      this.live = movedBox(this.#origin, dx, dy, imgW, imgH);
    } else if (this.#mode === 'resize' && this.#origin && this.#handle) {
      this.live = resizedBox(this.#origin, this.#handle, dx, dy, imgW, imgH);
    }
  }

  /**
   * Button up: what to store, or null. The caller stores it before anything else runs (the live box is cleared
   * here, so the region must already be at its new place when the next frame draws).
   */
  up(): GestureResult | null {
    const m = this.#mode;
    if (!m) return null;
    this.#mode = null;
    const h = this.#host;
    let out: GestureResult | null = null;
    if (m === 'rect' && this.draft?.box && h.canDraw) {
      const b = normaliseBox(this.draft.box, h.vp.image.w, h.vp.image.h);
      this.draft = null;
      if (tooSmallToKeep(b, h.vp.scale)) return null;
      out = { kind: 'rect', box: b };
    } else if (m === 'brush' && this.draft?.stroke && h.canDraw) {
      out = { kind: 'brush', stroke: this.draft.stroke };
      this.draft = null;
    } else if ((m === 'move' || m === 'resize') && this.#origin && this.live) {
      const o = this.#origin;
      const b = this.live;
      this.#origin = null;
      if (sameBox(b, o)) {
        this.live = null;
        return null;
      }
      out = { kind: 'edit', region: o, box: b };
    }
    this.#origin = null;
    this.live = null;
    this.cursor = 'default';
    return out;
  }

  /** Drops the gesture without storing anything (Escape, a cancelled pointer). */
  cancel(): void {
    this.#mode = null;
    this.draft = null;
    this.live = null;
    this.#origin = null;
  }
}
