/**
 * Keyboard moves in the folder browser's list, as pure functions: where the active row goes on arrow, page,
 * Home and End keys, and type-ahead (letters typed within a second jump to the first name starting with them).
 */
import type { DirectoryEntry } from '../../../../src-main/shared/files-types.ts';

/** Rows one Page Up / Page Down moves. */
export const PAGE_ROWS = 10;
/** Letters typed further apart than this start a new type-ahead search. */
export const SEEK_PAUSE_MS = 1000;

const MOVE_KEYS = new Set(['ArrowDown', 'ArrowUp', 'Home', 'End', 'PageDown', 'PageUp']);

/** True for the keys that move the active row (the list takes them even when empty). */
export function isMoveKey(key: string): boolean {
  return MOVE_KEYS.has(key);
}

/** The active row after a move key, in a list of `n` rows (n > 0). */
export function moveActive(key: string, active: number, n: number): number {
  const step = key === 'PageDown' || key === 'PageUp' ? PAGE_ROWS : 1;
  if (key === 'Home') return 0;
  if (key === 'End') return n - 1;
  if (key === 'ArrowDown' || key === 'PageDown') return Math.min(n - 1, active + step);
  return Math.max(0, active - step);
}

/** Type-ahead: the letters typed so far, restarted after a pause. */
export class TypeAhead {
  #seek = '';
  #at = -Infinity;

  /** Adds `key` typed at time `now` (ms) and returns the index of the first entry it reaches, or -1. */
  type(key: string, now: number, entries: readonly DirectoryEntry[]): number {
    this.#seek = now - this.#at > SEEK_PAUSE_MS ? key.toLowerCase() : this.#seek + key.toLowerCase();
    this.#at = now;
    const seek = this.#seek;
    return entries.findIndex((e) => e.name.toLowerCase().startsWith(seek));
  }
}
