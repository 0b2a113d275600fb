/** How the folder browser shows an entry's size and modification time, in the UI language. */
import type { DirectoryEntry } from '../../../../src-main/shared/files-types.ts';
import { numberIn, type FormatLang } from '../../lib/format.ts';

/** File size in B, KB or MB (1,024 steps) with one decimal from KB on; folders show none. */
export function entrySizeIn(lang: FormatLang, e: DirectoryEntry): string {
  if (e.isDir) return '';
  if (e.size < 1024) return `${numberIn(lang, e.size)} B`;
  if (e.size < 1024 * 1024) return `${numberIn(lang, e.size / 1024, 1)} KB`;
  return `${numberIn(lang, e.size / 1024 / 1024, 1)} MB`;
}

/** Modification time as a medium date and a short time ('' when the server could not read it). */
export function entryModifiedIn(lang: FormatLang, iso: string | null): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });
}
