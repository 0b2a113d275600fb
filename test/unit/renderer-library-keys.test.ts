import { describe, expect, it } from 'vitest';
import { libraryKeyAction, takesText, type LibraryKeyContext } from '../../src-renderer/src/views/library/library-keys.ts';

const key = (
  k: string,
  over: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean; shiftKey: boolean; repeat: boolean; type: string }> = {},
) => ({
  key: k,
  type: 'keydown',
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  repeat: false,
  ...over,
});
const ctx = (over: Partial<LibraryKeyContext> = {}): LibraryKeyContext => ({
  hotkeys: new Map([['c', { id: 4 }]]),
  viewerOpen: false,
  cols: 6,
  rowsVisible: 3,
  focus: 10,
  total: 100,
  ...over,
});

describe('library keys', () => {
  it('undoes with Z or Ctrl+Z, redoes with Shift+Z or Ctrl+Y, selects all with Ctrl+A', () => {
    expect(libraryKeyAction(key('z'), ctx())).toEqual({ kind: 'undo' });
    expect(libraryKeyAction(key('z', { ctrlKey: true }), ctx())).toEqual({ kind: 'undo' });
    expect(libraryKeyAction(key('Z', { shiftKey: true }), ctx())).toEqual({ kind: 'redo' });
    expect(libraryKeyAction(key('y', { metaKey: true }), ctx())).toEqual({ kind: 'redo' });
    expect(libraryKeyAction(key('y'), ctx())).toBeNull();
    expect(libraryKeyAction(key('a', { ctrlKey: true }), ctx())).toEqual({ kind: 'selectAll' });
    expect(libraryKeyAction(key('c', { altKey: true }), ctx())).toBeNull();
  });

  it('labels with a type hotkey once per press, clears with Backspace or Delete', () => {
    expect(libraryKeyAction(key('C'), ctx())).toEqual({ kind: 'label', typeId: 4 });
    expect(libraryKeyAction(key('c', { repeat: true }), ctx())).toEqual({ kind: 'swallow' });
    expect(libraryKeyAction(key('Backspace'), ctx())).toEqual({ kind: 'clearLabel' });
    expect(libraryKeyAction(key('Delete'), ctx({ viewerOpen: true }))).toEqual({ kind: 'clearLabel' });
    // Only keydown acts.
    expect(libraryKeyAction(key('c', { type: 'keyup' }), ctx())).toBeNull();
  });

  it('moves the focus by cells, rows, pages and to the ends; Shift extends the selection', () => {
    expect(libraryKeyAction(key('ArrowRight'), ctx())).toEqual({ kind: 'focus', to: 11, how: 'replace' });
    expect(libraryKeyAction(key('ArrowUp'), ctx())).toEqual({ kind: 'focus', to: 4, how: 'replace' });
    expect(libraryKeyAction(key('ArrowDown', { shiftKey: true }), ctx())).toEqual({ kind: 'focus', to: 16, how: 'range' });
    expect(libraryKeyAction(key('PageDown'), ctx())).toEqual({ kind: 'focus', to: 28, how: 'replace' });
    expect(libraryKeyAction(key('PageUp'), ctx())).toEqual({ kind: 'focus', to: -8, how: 'replace' });
    expect(libraryKeyAction(key('Home'), ctx())).toEqual({ kind: 'focus', to: 0, how: 'replace' });
    expect(libraryKeyAction(key('End', { shiftKey: true }), ctx())).toEqual({ kind: 'focus', to: 99, how: 'range' });
  });

  it('opens the focused image with Enter (nothing on an empty grid), toggles with Space, clears with Escape', () => {
    expect(libraryKeyAction(key('Enter'), ctx())).toEqual({ kind: 'open', index: 10 });
    expect(libraryKeyAction(key('Enter'), ctx({ total: 0 }))).toEqual({ kind: 'swallow' });
    expect(libraryKeyAction(key(' '), ctx())).toEqual({ kind: 'toggle' });
    expect(libraryKeyAction(key('Escape'), ctx())).toEqual({ kind: 'clearSelection' });
  });

  it('leaves grid moves to the viewer while it is open', () => {
    expect(libraryKeyAction(key('ArrowRight'), ctx({ viewerOpen: true }))).toBeNull();
    expect(libraryKeyAction(key('Enter'), ctx({ viewerOpen: true }))).toBeNull();
    expect(libraryKeyAction(key('z'), ctx({ viewerOpen: true }))).toEqual({ kind: 'undo' });
  });

  it('keeps out of text fields but not out of sliders, checkboxes and buttons', () => {
    const el = (tagName: string, type?: string, isContentEditable = false) => ({ tagName, type, isContentEditable });
    expect(takesText(el('TEXTAREA'))).toBe(true);
    expect(takesText(el('SELECT'))).toBe(true);
    expect(takesText(el('DIV', undefined, true))).toBe(true);
    expect(takesText(el('INPUT', 'text'))).toBe(true);
    expect(takesText(el('INPUT', 'search'))).toBe(true);
    expect(takesText(el('INPUT', 'range'))).toBe(false);
    expect(takesText(el('INPUT', 'checkbox'))).toBe(false);
    expect(takesText(el('BUTTON'))).toBe(false);
    expect(takesText(null)).toBe(false);
  });
});
