import { describe, expect, it } from 'vitest';
import { BRUSH_MAX, BRUSH_MIN, stepBrush, viewerKeyAction, type KeyContext } from '../../src-renderer/src/views/library/viewer/keys.ts';

const down = (key: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({
  key,
  type: 'keydown',
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});
const up = (key: string) => ({ ...down(key), type: 'keyup' });
const ctx = (over: Partial<KeyContext> = {}): KeyContext => ({ gesture: false, selected: false, hotkeys: new Set<string>(), ...over });

describe('viewer keys', () => {
  it('peels Escape one layer at a time: gesture, selection, viewer', () => {
    expect(viewerKeyAction(down('Escape'), ctx({ gesture: true, selected: true }))).toEqual({ kind: 'cancelGesture' });
    expect(viewerKeyAction(down('Escape'), ctx({ selected: true }))).toEqual({ kind: 'deselect' });
    expect(viewerKeyAction(down('Escape'), ctx())).toEqual({ kind: 'close' });
    // The keyup of the press that dropped the selection does not close the viewer as well.
    expect(viewerKeyAction(up('Escape'), ctx())).toBeNull();
  });

  it('tracks Space both down and up (held Space pans)', () => {
    expect(viewerKeyAction(down(' '), ctx())).toEqual({ kind: 'space', down: true });
    expect(viewerKeyAction(up(' '), ctx())).toEqual({ kind: 'space', down: false });
    // Other keys act on keydown only.
    expect(viewerKeyAction(up('f'), ctx())).toBeNull();
  });

  it('deletes the selected region with Delete or Backspace, and leaves Backspace to the library otherwise', () => {
    expect(viewerKeyAction(down('Delete'), ctx({ selected: true }))).toEqual({ kind: 'deleteRegion' });
    expect(viewerKeyAction(down('Backspace'), ctx({ selected: true }))).toEqual({ kind: 'deleteRegion' });
    // Without a selection Backspace clears the image's label, which LibraryView does.
    expect(viewerKeyAction(down('Backspace'), ctx())).toBeNull();
  });

  it('steps images with arrows and page keys, zooms with + = -', () => {
    expect(viewerKeyAction(down('ArrowRight'), ctx())).toEqual({ kind: 'step', by: 1 });
    expect(viewerKeyAction(down('PageDown'), ctx())).toEqual({ kind: 'step', by: 1 });
    expect(viewerKeyAction(down('ArrowLeft'), ctx())).toEqual({ kind: 'step', by: -1 });
    expect(viewerKeyAction(down('PageUp'), ctx())).toEqual({ kind: 'step', by: -1 });
    expect(viewerKeyAction(down('+'), ctx())).toEqual({ kind: 'zoom', by: 1 });
    expect(viewerKeyAction(down('='), ctx())).toEqual({ kind: 'zoom', by: 1 });
    expect(viewerKeyAction(down('-'), ctx())).toEqual({ kind: 'zoom', by: -1 });
  });

  it('switches tools and fits with letters, either case, unless a defect type uses the letter', () => {
    expect(viewerKeyAction(down('v'), ctx())).toEqual({ kind: 'tool', tool: 'select' });
    expect(viewerKeyAction(down('R'), ctx())).toEqual({ kind: 'tool', tool: 'rect' });
    expect(viewerKeyAction(down('b'), ctx())).toEqual({ kind: 'tool', tool: 'brush' });
    expect(viewerKeyAction(down('f'), ctx())).toEqual({ kind: 'fit' });
    expect(viewerKeyAction(down('['), ctx())).toEqual({ kind: 'brush', by: -2 });
    expect(viewerKeyAction(down(']'), ctx())).toEqual({ kind: 'brush', by: 2 });
    // R labels "rust" here: the library applies the label instead.
    expect(viewerKeyAction(down('r'), ctx({ hotkeys: new Set(['r']) }))).toBeNull();
    expect(viewerKeyAction(down('x'), ctx())).toBeNull();
  });

  it('leaves modified letters to the library (Ctrl+A, Ctrl+Z) but still zooms with Ctrl+=', () => {
    expect(viewerKeyAction(down('r', { ctrlKey: true }), ctx())).toBeNull();
    expect(viewerKeyAction(down('f', { metaKey: true }), ctx())).toBeNull();
    expect(viewerKeyAction(down('v', { altKey: true }), ctx())).toBeNull();
    expect(viewerKeyAction(down('=', { ctrlKey: true }), ctx())).toEqual({ kind: 'zoom', by: 1 });
  });

  it('keeps the brush radius within its bounds', () => {
    expect(stepBrush(8, 2)).toBe(10);
    expect(stepBrush(BRUSH_MIN, -2)).toBe(BRUSH_MIN);
    expect(stepBrush(BRUSH_MAX - 1, 2)).toBe(BRUSH_MAX);
  });
});
