/**
 * The library's keys as data (grid and, for labels and undo, the viewer too): which action a key event asks for.
 * LibraryView applies it. The viewer's own keys (tools, zoom, regions) are in viewer/keys.ts and go first.
 */

export type LibraryKeyAction =
  | { kind: 'undo' }
  | { kind: 'redo' }
  | { kind: 'selectAll' }
  | { kind: 'label'; typeId: number }
  | { kind: 'clearLabel' }
  | { kind: 'focus'; to: number; how: 'range' | 'replace' }
  | { kind: 'open'; index: number }
  | { kind: 'toggle' }
  | { kind: 'clearSelection' }
  /** The key is the library's but does nothing now (a held label key repeating, Enter on an empty grid). */
  | { kind: 'swallow' };

/** The parts of a KeyboardEvent the key map reads. */
export interface LibraryKey {
  key: string;
  type: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  repeat: boolean;
}

export interface LibraryKeyContext {
  /** Label hotkeys (lower-case letter → defect type). */
  hotkeys: { get(key: string): { id: number } | undefined };
  viewerOpen: boolean;
  /** Grid columns and visible rows (arrow and page moves). */
  cols: number;
  rowsVisible: number;
  focus: number;
  total: number;
}

/** The action for one key event, or null when the library leaves it alone. */
export function libraryKeyAction(e: LibraryKey, ctx: LibraryKeyContext): LibraryKeyAction | null {
  if (e.type !== 'keydown') return null;
  const k = e.key.toLowerCase();
  const mod = e.ctrlKey || e.metaKey;
  // Undo / redo through the server's journal: Z and Shift+Z (with or without Ctrl), Ctrl+Y.
  if (k === 'z' && !e.shiftKey) return { kind: 'undo' };
  if ((k === 'z' && e.shiftKey) || (mod && k === 'y')) return { kind: 'redo' };
  if (mod && k === 'a') return { kind: 'selectAll' };
  if (mod || e.altKey) return null;
  const type = ctx.hotkeys.get(k);
  // A held key repeats: label once per press.
  if (type) return e.repeat ? { kind: 'swallow' } : { kind: 'label', typeId: type.id };
  if (e.key === 'Backspace' || e.key === 'Delete') return { kind: 'clearLabel' };
  if (ctx.viewerOpen) return null;
  const moves: Record<string, number> = {
    ArrowLeft: -1,
    ArrowRight: 1,
    ArrowUp: -ctx.cols,
    ArrowDown: ctx.cols,
    PageUp: -ctx.cols * ctx.rowsVisible,
    PageDown: ctx.cols * ctx.rowsVisible,
    Home: -Infinity,
    End: Infinity,
  };
  const d = moves[e.key];
  if (d !== undefined) {
    const to = d === -Infinity ? 0 : d === Infinity ? ctx.total - 1 : ctx.focus + d;
    return { kind: 'focus', to, how: e.shiftKey ? 'range' : 'replace' };
  }
  if (e.key === 'Enter') return ctx.total ? { kind: 'open', index: ctx.focus } : { kind: 'swallow' };
  if (e.key === ' ') return { kind: 'toggle' };
  if (e.key === 'Escape') return { kind: 'clearSelection' };
  return null;
}

/** The element a key went to takes text (the library's keys stay out of it); range, checkbox and button inputs do not. */
export function takesText(el: { tagName: string; isContentEditable: boolean; type?: string } | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable) return true;
  if (tag === 'INPUT') return !['range', 'checkbox', 'radio', 'button'].includes(el.type ?? '');
  return false;
}
