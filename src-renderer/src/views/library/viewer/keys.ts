/**
 * The viewer's keys as data: which action a key event asks for, given what the viewer is doing. The viewer
 * applies the action; LibraryView handles what this returns null for (label hotkeys, undo, ...).
 */
export type Tool = 'select' | 'rect' | 'brush';

export type ViewerKeyAction =
  | { kind: 'cancelGesture' }
  | { kind: 'deselect' }
  | { kind: 'close' }
  | { kind: 'space'; down: boolean }
  | { kind: 'deleteRegion' }
  | { kind: 'step'; by: 1 | -1 }
  | { kind: 'zoom'; by: 1 | -1 }
  | { kind: 'fit' }
  | { kind: 'tool'; tool: Tool }
  | { kind: 'brush'; by: number };

/** The parts of a KeyboardEvent the key map reads (so tests can pass plain objects). */
export interface KeyLike {
  key: string;
  type: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

export interface KeyContext {
  /** A drag or a draft drawing is under way. */
  gesture: boolean;
  /** A region is selected. */
  selected: boolean;
  /** The letters defect types use as label hotkeys (lower case): they label, so they never switch tools. */
  hotkeys: { has(key: string): boolean };
}

export const BRUSH_MIN = 1;
export const BRUSH_MAX = 200;
/** One press of [ or ]. */
export const BRUSH_STEP = 2;

const TOOL_KEYS: Record<string, Tool> = { v: 'select', r: 'rect', b: 'brush' };

/** The action for one key event, or null when the viewer leaves the key to the library. */
export function viewerKeyAction(e: KeyLike, ctx: KeyContext): ViewerKeyAction | null {
  // Space held pans: its keyup matters as much as its keydown.
  if (e.key === ' ') return { kind: 'space', down: e.type === 'keydown' };
  if (e.type !== 'keydown') return null;
  // Escape peels one layer a press: the gesture, then the selection, then the viewer itself. (Keydown only: acting
  // on its keyup too closed the viewer on the same press that dropped the selection.)
  if (e.key === 'Escape') {
    if (ctx.gesture) return { kind: 'cancelGesture' };
    if (ctx.selected) return { kind: 'deselect' };
    return { kind: 'close' };
  }
  if ((e.key === 'Delete' || e.key === 'Backspace') && ctx.selected) return { kind: 'deleteRegion' };
  if (e.key === 'ArrowRight' || e.key === 'PageDown') return { kind: 'step', by: 1 };
  if (e.key === 'ArrowLeft' || e.key === 'PageUp') return { kind: 'step', by: -1 };
  if (e.key === '+' || e.key === '=') return { kind: 'zoom', by: 1 };
  if (e.key === '-') return { kind: 'zoom', by: -1 };
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  const k = e.key.toLowerCase();
  if (ctx.hotkeys.has(k)) return null;
  if (k === 'f') return { kind: 'fit' };
  const tool = TOOL_KEYS[k];
  if (tool) return { kind: 'tool', tool };
  if (k === '[') return { kind: 'brush', by: -BRUSH_STEP };
  if (k === ']') return { kind: 'brush', by: BRUSH_STEP };
  return null;
}

/** The brush radius after a [ or ] press, kept within BRUSH_MIN..BRUSH_MAX. */
export function stepBrush(brush: number, by: number): number {
  return Math.max(BRUSH_MIN, Math.min(BRUSH_MAX, brush + by));
}
