/**
 * Path arithmetic of the folder browser on the strings the server lists (POSIX or Windows, whichever it runs
 * on): separators, leaf names, parents, breadcrumbs and the path field's filter and Tab completion.
 * Pure, so it is tested under Node for both kinds of path.
 */
import type { DirectoryEntry } from '../../../../src-main/shared/files-types.ts';

/** `p` ending in a separator (`sep` added when it has none). */
export function withSep(p: string, sep: string): string {
  return p.endsWith('/') || p.endsWith('\\') ? p : p + sep;
}

/** The last name in a path ('' for a root). */
export function leaf(p: string): string {
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? '';
}

/** The folder above `p`; null above a root. A Windows drive's parent keeps its backslash (C:\). */
export function parentOf(p: string): string | null {
  const trimmed = p.replace(/[\\/]+$/, '');
  const i = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  if (i < 0) return null;
  if (i === 0) return trimmed.length > 1 ? '/' : null;
  const up = trimmed.slice(0, i);
  return /^[a-zA-Z]:$/.test(up) ? up + '\\' : up;
}

/** Breadcrumbs from the root down to `path`; `parent` is the server's word for the first step up. */
export function crumbsOf(path: string, parent: string | null): { name: string; path: string }[] {
  const seen: string[] = [];
  let p: string | null = path;
  for (let n = 0; p && n < 64; n++) {
    seen.unshift(p);
    p = p === path ? parent : parentOf(p);
  }
  return seen.map((q) => ({ name: leaf(q) || q, path: q }));
}

/** What the path field holds past the listed folder: it filters the list ('' when it names another folder). */
export function typedFilter(listed: string, typed: string, sep: string): string {
  const base = withSep(listed, sep);
  return typed.startsWith(base) ? typed.slice(base.length) : '';
}

/** The entries whose names start with `filter`, ignoring case. */
export function matchingEntries(entries: readonly DirectoryEntry[], filter: string): readonly DirectoryEntry[] {
  const f = filter.toLowerCase();
  return f ? entries.filter((e) => e.name.toLowerCase().startsWith(f)) : entries;
}

/** The longest start the names share, ignoring case (spelt as the first name spells it). */
export function commonPrefix(names: readonly string[]): string {
  let pre = names[0] ?? '';
  for (const n of names) while (!n.toLowerCase().startsWith(pre.toLowerCase())) pre = pre.slice(0, -1);
  return pre;
}

/**
 * Tab in the path field: the field completed to the matches' common start, or to the one match's whole name
 * (a folder with its separator, and `enter` set so the browser lists it).
 */
export function complete(listed: string, matches: readonly DirectoryEntry[], sep: string): { typed: string; enter: DirectoryEntry | null } {
  const one = matches.length === 1 ? matches[0]! : undefined;
  const typed = withSep(listed, sep) + (one ? one.name + (one.isDir ? sep : '') : commonPrefix(matches.map((e) => e.name)));
  return { typed, enter: one?.isDir ? one : null };
}

/** The folder part of what is typed (up to and with its last separator); null when there is none. */
export function typedFolder(typed: string): string | null {
  const cut = Math.max(typed.lastIndexOf('/'), typed.lastIndexOf('\\'));
  return cut < 0 ? null : typed.slice(0, cut + 1);
}
