/**
 * The open image in the viewer: its detail and regions, the tool and view settings, and every edit made from
 * the viewer (label, review state, core type, note, regions). Edits show at once and are stored through
 * LibraryState.edit, which counts them for the "saving" indicator and the undo journal.
 */
import type {
  CoreType,
  DefectType,
  ImageDetail,
  ImageListItem,
  Region,
  ReviewState,
} from '../../../../../src-main/shared/library-types.ts';
import { api } from '../../../lib/api.ts';
import { app } from '../../../state/app.svelte.ts';
import type { LibraryState } from '../library.svelte.ts';
import { encodeRle, rasterStroke } from '../mask.ts';
import { Gesture, type GestureResult } from './gesture.svelte.ts';
import { stepBrush, viewerKeyAction, type KeyLike, type Tool } from './keys.ts';
import { boxPatch } from './region-edit.ts';
import { Viewport } from './viewport.svelte.ts';

/** The note is stored this long after the last keystroke (and on blur, and when the image changes). */
const NOTE_SAVE_MS = 800;

export class ViewerState {
  detail = $state.raw<ImageDetail | null>(null);
  regions = $state.raw<Region[]>([]);
  selected = $state<number | null>(null);
  tool = $state<Tool>('select');
  drawType = $state<number | null>(null);
  brush = $state(8);
  brightness = $state(100);
  contrast = $state(100);
  note = $state('');

  readonly lib: LibraryState;
  readonly vp: Viewport;
  readonly gesture: Gesture;

  #noteDirty = false;
  #noteTimer: ReturnType<typeof setTimeout> | null = null;
  #loadToken = 0;
  #fittedFor = -1;
  #drawFollowed = '';

  constructor(lib: LibraryState) {
    this.lib = lib;
    this.vp = new Viewport(() => ({ w: this.imgW, h: this.imgH }));
    this.gesture = new Gesture(this);
  }

  // Getters over state that is already derived (cheap lookups), so nothing here needs `lib` before the constructor.
  get item(): ImageListItem | undefined {
    return this.lib.focusedItem;
  }
  get imgW(): number {
    return this.detail?.width ?? this.item?.width ?? 1;
  }
  get imgH(): number {
    return this.detail?.height ?? this.item?.height ?? 1;
  }
  /** The image's own label, when it has one. */
  get label(): DefectType | undefined {
    return this.detail?.labelId != null ? this.lib.typeById.get(this.detail.labelId) : undefined;
  }

  get canDraw(): boolean {
    return this.item !== undefined && this.drawType !== null;
  }

  /**
   * Drawing type: follows the image's own label whenever the image or its label changes (a region drawn on an
   * image labelled inclusion is an inclusion); on an OK or unlabelled image the last choice stays, else the first
   * defect type. Run from an effect: it reads the detail and the types.
   */
  followLabel(): void {
    const d = this.detail;
    const own = d?.labelId != null ? this.lib.typeById.get(d.labelId) : undefined;
    const key = `${d?.id ?? ''}:${d?.labelId ?? ''}`;
    if (own && !own.isOk && key !== this.#drawFollowed) this.drawType = own.id;
    this.#drawFollowed = key;
    if (this.drawType !== null && this.lib.typeById.has(this.drawType)) return;
    this.drawType = this.lib.types.filter((t) => !t.isOk)[0]?.id ?? this.lib.types[0]?.id ?? null;
  }

  /** The focused image changed to `id`: store the last one's note, load this one, warm the next. */
  show(id: number): void {
    void this.saveNote();
    this.#noteDirty = false;
    void this.load(id);
    // Warm the next image so stepping through feels instant.
    const next = this.lib.item(this.lib.focus + 1);
    if (next) new Image().src = api.mediaUrl('image', String(next.id));
  }

  /** (Re)loads image `id`; a newer load wins. A new image starts fitted with nothing selected. */
  async load(id: number): Promise<void> {
    const token = ++this.#loadToken;
    const d = await app.guard(() => api.getImage(id));
    if (token !== this.#loadToken || !d) return;
    this.detail = d;
    this.regions = d.regions;
    if (this.selected !== null && !d.regions.some((r) => r.id === this.selected)) this.selected = null;
    if (!this.#noteDirty) this.note = d.note;
    if (this.#fittedFor !== id) {
      this.#fittedFor = id;
      this.selected = null;
      this.vp.fit();
    }
  }

  /** Stores what a finished gesture made; the region shows before the server answers. */
  async commit(g: GestureResult): Promise<void> {
    const id = this.item?.id;
    const drawType = this.drawType;
    if (g.kind === 'edit') {
      const o = g.region;
      const patch = boxPatch(o, g.box);
      this.regions = this.regions.map((r) => (r.id === o.id ? { ...r, ...patch } : r));
      const r = await this.lib.edit(() => api.updateRegion(o.id, patch));
      if (r) this.regions = this.regions.map((x) => (x.id === o.id ? r.region : x));
      return;
    }
    if (id === undefined || drawType === null) return;
    let added;
    if (g.kind === 'rect') {
      added = await this.lib.edit(() => api.addRegion(id, { defectTypeId: drawType, kind: 'rect', ...g.box }));
    } else {
      const mask = rasterStroke(g.stroke, this.brush, this.imgW, this.imgH);
      if (!mask) return;
      const { bitmap, ...box } = mask;
      added = await this.lib.edit(() => api.addRegion(id, { defectTypeId: drawType, kind: 'mask', ...box, rle: encodeRle(bitmap) }));
    }
    if (added) {
      this.regions = [...this.regions, added.region];
      this.selected = added.region.id;
    }
  }

  async deleteRegion(id: number): Promise<void> {
    this.regions = this.regions.filter((r) => r.id !== id);
    if (this.selected === id) this.selected = null;
    await this.lib.edit(() => api.deleteRegion(id));
  }
  async setRegionType(r: Region, typeId: number): Promise<void> {
    this.regions = this.regions.map((x) => (x.id === r.id ? { ...x, defectTypeId: typeId } : x));
    await this.lib.edit(() => api.updateRegion(r.id, { defectTypeId: typeId }));
  }
  async setLabel(typeId: number | null): Promise<void> {
    if (!this.detail) return;
    const id = this.detail.id;
    this.detail = { ...this.detail, labelId: typeId, reviewState: typeId === null ? 'unlabelled' : 'labelled' };
    this.lib.patchCached([id], { labelId: typeId, reviewState: this.detail.reviewState });
    await this.lib.edit(() => api.setLabel([id], typeId));
  }
  async setCore(c: CoreType): Promise<void> {
    if (!this.detail) return;
    const id = this.detail.id;
    this.detail = { ...this.detail, coreType: c };
    await this.lib.edit(() => api.setCoreType([id], c));
  }
  async setReview(s: ReviewState): Promise<void> {
    if (!this.detail) return;
    const id = this.detail.id;
    this.detail = { ...this.detail, reviewState: s };
    await this.lib.edit(() => api.setReviewState([id], s));
  }

  saveNote = async (): Promise<void> => {
    if (!this.#noteDirty || !this.detail) return;
    this.#noteDirty = false;
    const id = this.detail.id;
    const text = this.note;
    await this.lib.edit(() => api.setNote(id, text));
  };
  /** The note was typed in: store it once typing pauses. */
  noteInput = (): void => {
    this.#noteDirty = true;
    if (this.#noteTimer) clearTimeout(this.#noteTimer);
    this.#noteTimer = setTimeout(() => void this.saveNote(), NOTE_SAVE_MS);
  };

  /** Keys while the viewer is open; true when handled (the caller then prevents the default). */
  handleKey(e: KeyLike, onclose: () => void): boolean {
    const a = viewerKeyAction(e, { gesture: this.gesture.active, selected: this.selected !== null, hotkeys: this.lib.hotkeys });
    if (!a) return false;
    switch (a.kind) {
      case 'cancelGesture':
        this.gesture.cancel();
        break;
      case 'deselect':
        this.selected = null;
        break;
      case 'close':
        onclose();
        break;
      case 'space':
        this.gesture.spaceDown = a.down;
        break;
      case 'deleteRegion':
        if (this.selected !== null) void this.deleteRegion(this.selected);
        break;
      case 'step':
        this.lib.setFocus(this.lib.focus + a.by);
        break;
      case 'zoom':
        this.vp.zoomStep(a.by);
        break;
      case 'fit':
        this.vp.fit();
        break;
      case 'tool':
        this.tool = a.tool;
        break;
      case 'brush':
        this.brush = stepBrush(this.brush, a.by);
        break;
    }
    return true;
  }
}
