/**
 * The deep link to one library image, `#/library/image/<id>`: any screen (run report, cross-validation card,
 * heatmaps, Inspect) sets it, and the library screen opens its viewer at that image. Pure, so that the parsing and
 * the search for the image's place in the grid are unit-tested under Node.
 */

/** The hash that opens the library viewer at an image. */
export function libraryImageHash(imageId: number): string {
  return `#/library/image/${imageId}`;
}

/** The image id of a `#/library/image/<id>` hash, else null (any other hash, or an id that is not a positive integer). */
export function imageIdFromHash(hash: string): number | null {
  const parts = hash.replace(/^#\/?/, '').split('/');
  if (parts[0] !== 'library' || parts[1] !== 'image' || parts.length !== 3) return null;
  const raw = parts[2] ?? '';
  if (!/^[1-9][0-9]*$/.test(raw)) return null;
  const id = Number(raw);
  return Number.isSafeInteger(id) ? id : null;
}

/** One slice of the grid's list, in the grid's filter and sort: its ids and the list's length. */
export type IdSlice = (offset: number, limit: number) => Promise<{ ids: number[]; total: number } | null>;

/** Rows asked for per request while looking for an image (the API's largest page). */
export const LOCATE_CHUNK = 1000;

/**
 * The image's position in the grid's list, read slice by slice from the start (the list has no "position of id"
 * query; at 1,000 rows a slice a 50,000-image library is 50 cheap requests, a typical one 1-2).
 * Returns -1 when the list does not hold it (the filter hides it) and null when a request failed.
 */
export async function locateImage(imageId: number, slice: IdSlice, chunk = LOCATE_CHUNK): Promise<number | null> {
  for (let offset = 0; ; offset += chunk) {
    const s = await slice(offset, chunk);
    if (!s) return null;
    const i = s.ids.indexOf(imageId);
    if (i >= 0) return offset + i;
    // A short slice is the end of the list; so is an offset past its length (the list may shrink meanwhile).
    if (s.ids.length < chunk || offset + chunk >= s.total) return -1;
  }
}
