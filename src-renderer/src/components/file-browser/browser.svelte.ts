/**
 * The folder browser's state: the folder listed, the path field, the active row and what is picked, and the
 * moves between folders (`go`, newest request wins). The dialog (file-browser.svelte) and its list
 * (EntryList.svelte) read and drive it; the server lists folders through `listDirectory`.
 */
import type { DirectoryEntry, DirectoryListing } from '../../../../src-main/shared/files-types.ts';
import { t } from '../../i18n/i18n.svelte.ts';
import { api } from '../../lib/api.ts';
import { complete, crumbsOf, matchingEntries, typedFilter, typedFolder, withSep } from './paths.ts';

export interface BrowseMode {
  /** 'dir': choose a folder; 'file': choose one file (or several with `multiple`). */
  mode: 'dir' | 'file';
  multiple: boolean;
  /** File extensions offered in 'file' mode (no dot); empty = every file. */
  extensions: string[];
}

/** After typing in the path field, the folder it names is listed once typing pauses this long. */
const TYPING_PAUSE_MS = 200;

export class Browser {
  listing = $state.raw<DirectoryListing | null>(null);
  showHidden = $state(false);
  /** The path field. */
  typed = $state('');
  active = $state(0);
  /** 'file' mode: the files picked. */
  selected = $state.raw<string[]>([]);
  /** 'dir' mode: a folder clicked (or Space) in the list; choosing takes it instead of the folder listed. */
  selectedDir = $state<DirectoryEntry | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);

  readonly opts: BrowseMode;
  #seq = 0;
  #typingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: BrowseMode) {
    this.opts = opts;
  }

  readonly sep = $derived(this.listing?.sep ?? '/');
  /** The part of the path field after the listed folder: it filters the list. */
  readonly filter = $derived(this.listing ? typedFilter(this.listing.path, this.typed, this.sep) : '');
  readonly shown = $derived(matchingEntries(this.listing?.entries ?? [], this.filter));
  readonly crumbs = $derived(this.listing ? crumbsOf(this.listing.path, this.listing.parent) : []);
  readonly activeEntry = $derived<DirectoryEntry | undefined>(this.shown[this.active]);
  // A getter (not $derived) as it reads `opts`, which the constructor sets after the field initialisers run.
  get canChoose(): boolean {
    const l = this.listing;
    if (!l || l.denied) return false;
    return this.opts.mode === 'dir' || this.selected.length > 0 || (!!this.activeEntry && !this.activeEntry.isDir);
  }

  isPicked(e: DirectoryEntry): boolean {
    return this.selected.includes(e.path) || this.selectedDir?.path === e.path;
  }

  /** Lists `path` (null: home); false when it cannot be listed (the message is in `error`) or a newer go won. */
  async go(path: string | null, keepTyped = false): Promise<boolean> {
    const my = ++this.#seq;
    this.loading = true;
    try {
      const r = await api.listDirectory(path, { kind: this.opts.mode, extensions: this.opts.extensions, showHidden: this.showHidden });
      if (my !== this.#seq) return false;
      this.listing = r;
      this.error = null;
      this.active = 0;
      this.selectedDir = null;
      if (!keepTyped) this.typed = withSep(r.path, r.sep);
      return true;
    } catch (err) {
      if (my !== this.#seq) return false;
      const e = err as Error;
      this.error = e.name === 'PathNotFoundError' ? t('files.notFound', { path: path ?? '' }) : e.message;
      return false;
    } finally {
      if (my === this.#seq) this.loading = false;
    }
  }

  /** Space or a click: pick the entry (or drop it again); several files only with `multiple`. */
  toggle(e: DirectoryEntry): void {
    if (this.opts.mode === 'dir') {
      if (e.isDir && e.readable) this.selectedDir = this.selectedDir?.path === e.path ? null : e;
      return;
    }
    if (e.isDir) return;
    if (!this.opts.multiple) this.selected = [e.path];
    else this.selected = this.selected.includes(e.path) ? this.selected.filter((p) => p !== e.path) : [...this.selected, e.path];
  }

  /** What the Choose button returns: the folder picked or listed, or the files picked (or the active file). */
  chosen(): string[] | null {
    const l = this.listing;
    if (!l) return null;
    if (this.opts.mode === 'dir') return [this.selectedDir?.path ?? l.path];
    if (this.selected.length) return this.selected;
    if (this.activeEntry && !this.activeEntry.isDir) return [this.activeEntry.path];
    return null;
  }

  /** The path field changed: when what is typed leaves the listed folder, list the folder it names (after a pause). */
  typedChanged(): void {
    this.active = 0;
    clearTimeout(this.#typingTimer);
    const dir = typedFolder(this.typed);
    if (dir === null) return;
    if (this.listing && withSep(this.listing.path, this.sep) === dir) return;
    this.#typingTimer = setTimeout(() => void this.go(dir, true), TYPING_PAUSE_MS);
  }

  /** Enter in the path field: stop waiting for the pause. */
  stopTyping(): void {
    clearTimeout(this.#typingTimer);
  }

  /** Tab in the path field: complete what is typed; a folder completed to one name is listed. */
  async completeTyped(): Promise<void> {
    if (!this.listing) return;
    const c = complete(this.listing.path, this.shown, this.sep);
    this.typed = c.typed;
    if (c.enter) await this.go(c.enter.path, true);
  }
}
