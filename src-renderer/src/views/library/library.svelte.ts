/* eslint-disable svelte/prefer-svelte-reactivity -- collections here are immutable values in $state.raw (replaced
   whole on change, never mutated), which keeps a 50,000-id selection or the page cache cheap; locals are plain. */
import type {
  LibraryStats,
  DefectType,
  EditResult,
  EditWhat,
  ImageFilter,
  ImageListItem,
  ImageSortKey,
  ImportBatch,
  UndoState,
} from '../../../../src-main/shared/library-types.ts';
import { api } from '../../lib/api.ts';
import { mediaScope } from '../../lib/media-scope.svelte.ts';
import { app } from '../../state/app.svelte.ts';
import { i18n, t } from '../../i18n/i18n.svelte.ts';
import { describeEdit } from './edit-text.ts';
import { locateImage } from './image-link.ts';

/** Rows fetched per request; the grid asks only for the pages it shows (plus one either side). */
export const PAGE_SIZE = 120;
/** Keys the labelling screen keeps for itself; a defect type cannot take them as its hotkey. */
export const RESERVED_HOTKEYS = ['z', 'y', 'a', 'f', ' '];

interface CachedPage {
  gen: number;
  items: ImageListItem[];
}

/**
 * Long-lived state of the library screen: defect types, filter and sort, the paged image list behind the
 * virtual grid, selection and focus, undo state, counts and the "saved" indicator. Everything the user
 * changes goes straight to the API (one transaction per edit); the cache is refreshed from `libraryChanged`.
 */
export class LibraryState {
  types = $state.raw<DefectType[]>([]);
  stats = $state.raw<LibraryStats | null>(null);
  batches = $state.raw<ImportBatch[]>([]);
  filter = $state.raw<ImageFilter>({});
  sort = $state.raw<{ by: ImageSortKey; dir: 'asc' | 'desc' }>({ by: 'importedAt', dir: 'asc' });
  total = $state(0);
  loaded = $state(false);
  /** Cached pages by page number; reassigned on change so the grid re-renders. */
  pages = $state.raw(new Map<number, CachedPage>());
  /** The media key of the project the cached pages belong to. */
  private pagesKey = mediaScope.projectKey;
  selection = $state.raw(new Set<number>());
  focus = $state(0);
  anchor = $state(0);
  undoState = $state.raw<UndoState>({
    canUndo: false,
    canRedo: false,
    undoSummary: null,
    redoSummary: null,
    undoWhat: null,
    redoWhat: null,
  });
  pending = $state(0);
  savedAt = $state<Date | null>(null);
  viewerOpen = $state(false);
  /** Bumped when the grid should scroll the focused cell into view. */
  scrollRequest = $state(0);

  private gen = 0;
  /** Edits go to the server one after another, in the order they were made. */
  private queue: Promise<void> = Promise.resolve();
  /** The id under the focus, so the focus stays on the same image when the list shifts after an edit. */
  private focusId: number | null = null;
  private inflight = new Map<number, number>();
  private unsub: (() => void)[] = [];
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private visible: [number, number] = [0, 0];

  typeById = $derived(new Map(this.types.map((d) => [d.id, d])));
  hotkeys = $derived(new Map(this.types.filter((d) => d.hotkey).map((d) => [d.hotkey!.toLowerCase(), d])));

  typeName = (d: DefectType | undefined | null): string =>
    !d ? t('library.unlabelled') : i18n.lang === 'ja' ? d.nameJa || d.nameEn : d.nameEn;

  /** An edit in the UI language (types by their current name). */
  describe = (what: EditWhat | null, summary: string | null): string =>
    describeEdit(what, summary, (id) => (this.typeById.has(id) ? this.typeName(this.typeById.get(id)) : null));

  start(): void {
    this.unsub.push(
      api.subscribe('libraryChanged', (e) => {
        if (e.reason === 'defectTypes' || e.reason === 'import' || e.reason === 'demo') void this.loadMeta();
        this.scheduleRefresh();
      }),
      api.subscribe('project', () => {
        // Another project's rows must not stay on screen under this project's pictures (media URLs follow the project).
        if (mediaScope.projectKey !== this.pagesKey) this.pages = new Map();
        this.pagesKey = mediaScope.projectKey;
        this.selection = new Set();
        this.focus = 0;
        this.anchor = 0;
        void this.reloadAll();
      }),
    );
    void this.reloadAll();
  }

  stop(): void {
    for (const u of this.unsub.splice(0)) u();
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
  }

  async reloadAll(): Promise<void> {
    if (!app.project) return;
    // The first page and the type colours first; the slower counts (a scan of the catalog) after them, so
    // the single-threaded server answers the grid before it starts counting.
    const types = app.guard(() => api.listDefectTypes()).then((t) => t && (this.types = t));
    await Promise.all([types, this.invalidate()]);
    this.loaded = true;
    await this.loadMeta();
  }

  async loadMeta(): Promise<void> {
    const r = await app.guard(() =>
      Promise.all([api.listDefectTypes(), api.getLibraryStats(), api.listImportBatches(), api.getUndoState()]),
    );
    if (!r) return;
    [this.types, this.stats, this.batches, this.undoState] = r;
  }

  /** Debounced refresh after a change event: counts, and the pages on screen (stale pages stay shown meanwhile). */
  scheduleRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.invalidate();
      void app.guard(async () => {
        [this.types, this.stats, this.undoState] = await Promise.all([api.listDefectTypes(), api.getLibraryStats(), api.getUndoState()]);
      });
    }, 60);
  }

  /** Marks every cached page stale and refetches the visible ones. */
  async invalidate(): Promise<void> {
    this.gen++;
    this.inflight.clear();
    await this.ensureRange(this.visible[0], this.visible[1]);
  }

  setFilter(f: ImageFilter): void {
    this.filter = f;
    this.resetList();
  }

  setSort(by: ImageSortKey, dir: 'asc' | 'desc'): void {
    this.sort = { by, dir };
    this.resetList();
  }

  private resetList(): void {
    this.pages = new Map();
    this.selection = new Set();
    this.focus = 0;
    this.anchor = 0;
    this.scrollRequest++;
    void this.invalidate();
  }

  /** Called by the grid with the index range on screen (overscan included). */
  async ensureRange(from: number, to: number): Promise<void> {
    this.visible = [from, to];
    const first = Math.floor(Math.max(0, from) / PAGE_SIZE);
    const last = Math.floor(Math.max(0, to) / PAGE_SIZE);
    const jobs: Promise<void>[] = [];
    for (let p = first; p <= last; p++) {
      const c = this.pages.get(p);
      if ((c && c.gen === this.gen) || this.inflight.get(p) === this.gen) continue;
      jobs.push(this.fetchPage(p));
    }
    if (!jobs.length && first === 0 && !this.pages.has(0)) jobs.push(this.fetchPage(0));
    await Promise.all(jobs);
  }

  private async fetchPage(p: number): Promise<void> {
    const gen = this.gen;
    this.inflight.set(p, gen);
    const page = await app.guard(() => api.listImages({ filter: this.filter, sort: this.sort, offset: p * PAGE_SIZE, limit: PAGE_SIZE }));
    if (this.inflight.get(p) === gen) this.inflight.delete(p);
    if (!page || gen !== this.gen) return;
    const next = new Map(this.pages);
    next.set(p, { gen, items: page.items });
    // A shorter list leaves pages past the end behind.
    if (page.total !== this.total) for (const k of next.keys()) if (k * PAGE_SIZE >= page.total) next.delete(k);
    this.pages = next;
    this.total = page.total;
    // Keep the focus (and a single selection) on the same image when rows before it left the filter.
    if (this.focusId !== null && this.item(this.focus)?.id !== this.focusId) {
      const i = this.indexOf(this.focusId, this.focus);
      if (i >= 0) this.focus = i;
      else if (this.item(this.focus)) {
        this.focusId = this.item(this.focus)!.id;
        if (this.selection.size <= 1) this.selection = new Set([this.focusId]);
      }
    }
    if (this.focus >= this.total) this.focus = Math.max(0, this.total - 1);
  }

  item(index: number): ImageListItem | undefined {
    return this.pages.get(Math.floor(index / PAGE_SIZE))?.items[index % PAGE_SIZE];
  }

  focusedItem = $derived.by(() => this.item(this.focus));

  /** Index of an id among the cached rows near `near` (the list can shift by a few after an edit). */
  indexOf(id: number, near: number): number {
    for (let d = 0; d <= PAGE_SIZE; d++) {
      for (const i of [near - d, near + d]) if (i >= 0 && this.item(i)?.id === id) return i;
    }
    return -1;
  }

  /**
   * Focuses one image and opens the viewer on it (the `#/library/image/<id>` deep link). When the grid's filter
   * hides it, the filter is cleared and a line says so; an image no longer in the library is said in one line too.
   */
  async openImage(imageId: number): Promise<void> {
    try {
      await api.getImage(imageId);
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') app.flash(t('library.deeplink.missing', { id: imageId }));
      else app.showError(err);
      return;
    }
    let index = await this.locate(imageId);
    if (index === -1 && Object.keys(this.filter).length) {
      this.setFilter({});
      app.flash(t('library.deeplink.filterCleared'));
      index = await this.locate(imageId);
    }
    if (index === null) return;
    if (index < 0) {
      app.flash(t('library.deeplink.missing', { id: imageId }));
      return;
    }
    // Its page must be cached for the focus to land on it; a refresh that raced the fetch is fetched again.
    const p = Math.floor(index / PAGE_SIZE);
    for (let tries = 0; tries < 2 && this.item(index)?.id !== imageId; tries++) await this.fetchPage(p);
    if (this.item(index)?.id !== imageId) return;
    this.setFocus(index);
    this.viewerOpen = true;
  }

  private locate(imageId: number): Promise<number | null> {
    const { filter, sort } = this;
    return locateImage(imageId, async (offset, limit) => {
      const page = await app.guard(() => api.listImages({ filter, sort, offset, limit }));
      return page ? { ids: page.items.map((x) => x.id), total: page.total } : null;
    });
  }

  // ---- selection -------------------------------------------------------------------------------

  setFocus(index: number, mode: 'replace' | 'toggle' | 'range' | 'keep' = 'replace'): void {
    if (this.total === 0) return;
    const i = Math.max(0, Math.min(this.total - 1, index));
    this.focus = i;
    this.scrollRequest++;
    const it = this.item(i);
    this.focusId = it?.id ?? null;
    if (mode === 'replace') {
      this.anchor = i;
      this.selection = it ? new Set([it.id]) : new Set();
    } else if (mode === 'toggle') {
      this.anchor = i;
      if (!it) return;
      const s = new Set(this.selection);
      if (s.has(it.id)) s.delete(it.id);
      else s.add(it.id);
      this.selection = s;
    } else if (mode === 'range') {
      void this.selectRange(this.anchor, i);
    }
  }

  /** Selects every image between two list positions (fetching ids that are not cached). */
  async selectRange(a: number, b: number, add = false): Promise<void> {
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    const ids: number[] = [];
    let missing = false;
    for (let i = lo; i <= hi; i++) {
      const it = this.item(i);
      if (!it) {
        missing = true;
        break;
      }
      ids.push(it.id);
    }
    if (missing) {
      ids.length = 0;
      for (let off = lo; off <= hi; off += 1000) {
        const page = await app.guard(() =>
          api.listImages({ filter: this.filter, sort: this.sort, offset: off, limit: Math.min(1000, hi - off + 1) }),
        );
        if (!page) return;
        ids.push(...page.items.map((x) => x.id));
      }
    }
    this.selection = new Set(add ? [...this.selection, ...ids] : ids);
  }

  async selectAllInFilter(): Promise<void> {
    const ids = await app.guard(() => api.listImageIds(this.filter));
    if (ids) this.selection = new Set(ids);
  }

  clearSelection(): void {
    const it = this.focusedItem;
    this.selection = it ? new Set([it.id]) : new Set();
  }

  // ---- edits -----------------------------------------------------------------------------------

  /** Runs one edit through the API with the saved indicator; returns its result. */
  async edit<T>(fn: () => Promise<T>): Promise<T | undefined> {
    this.pending++;
    const turn = this.queue;
    let release = (): void => {};
    this.queue = new Promise<void>((ok) => (release = ok));
    try {
      await turn;
      const r = await app.guard(fn);
      if (r !== undefined) this.savedAt = new Date();
      const e = r as unknown as EditResult | { edit?: EditResult } | null;
      const undo = e && ('undo' in e ? e.undo : 'edit' in e ? e.edit?.undo : undefined);
      if (undo) this.undoState = undo;
      return r;
    } finally {
      release();
      this.pending--;
    }
  }

  /** The targets of a label key: the selection when several are selected, else the focused image. */
  targets(): number[] {
    const it = this.focusedItem;
    if (this.selection.size > 1) return [...this.selection];
    return it ? [it.id] : [];
  }

  /**
   * Labels the targets; a single image advances the focus to the next one at once (optimistically), so fast
   * typing never waits for the server. Edits are sent in order; the refresh after the change event confirms them.
   */
  async applyLabel(typeId: number | null): Promise<void> {
    const ids = this.targets();
    if (!ids.length) return;
    this.patchCached(ids, { labelId: typeId, reviewState: typeId === null ? 'unlabelled' : 'labelled' });
    if (ids.length === 1) this.setFocus(Math.min(this.focus + 1, this.total - 1));
    const r = await this.edit(() => api.setLabel(ids, typeId));
    if (!r) void this.invalidate();
    else if (ids.length > 1)
      app.flash(t('library.bulkLabelled', { count: ids.length, label: this.typeName(typeId === null ? null : this.typeById.get(typeId)) }));
  }

  patchCached(ids: number[], patch: Partial<ImageListItem>): void {
    const set = new Set(ids);
    const next = new Map<number, CachedPage>();
    for (const [k, v] of this.pages) next.set(k, { gen: v.gen, items: v.items.map((x) => (set.has(x.id) ? { ...x, ...patch } : x)) });
    this.pages = next;
  }

  async undo(): Promise<void> {
    const r = await this.edit(() => api.undo());
    if (r === null) app.flash(t('library.nothingToUndo'));
    else if (r) app.flash(t('library.undone', { what: this.describe(r.what, r.summary) }));
    await this.refreshUndo();
  }

  async redo(): Promise<void> {
    const r = await this.edit(() => api.redo());
    if (r === null) app.flash(t('library.nothingToRedo'));
    else if (r) app.flash(t('library.redone', { what: this.describe(r.what, r.summary) }));
    await this.refreshUndo();
  }

  async refreshUndo(): Promise<void> {
    const u = await app.guard(() => api.getUndoState());
    if (u) this.undoState = u;
  }
}
