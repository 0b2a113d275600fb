import { describe, expect, it } from 'vitest';
import { imageIdFromHash, libraryImageHash, locateImage, type IdSlice } from '../../src-renderer/src/views/library/image-link.ts';

/** A grid list of `ids` served in slices, counting the requests. */
function list(ids: number[]): { slice: IdSlice; calls: [number, number][] } {
  const calls: [number, number][] = [];
  const slice: IdSlice = async (offset, limit) => {
    calls.push([offset, limit]);
    return { ids: ids.slice(offset, offset + limit), total: ids.length };
  };
  return { slice, calls };
}

describe('library image deep link (views/library/image-link.ts)', () => {
  it('writes and reads #/library/image/<id>', () => {
    expect(libraryImageHash(42)).toBe('#/library/image/42');
    expect(imageIdFromHash(libraryImageHash(42))).toBe(42);
    expect(imageIdFromHash('#library/image/7')).toBe(7);
  });

  it('reads no id from other hashes or ids that are not positive integers', () => {
    for (const h of [
      '',
      '#/library',
      '#/library/image',
      '#/library/image/',
      '#/runs/12',
      '#/library/image/0',
      '#/library/image/-3',
      '#/library/image/1.5',
      '#/library/image/12abc',
      '#/library/image/12/x',
      '#/library/foo/12',
      '#/library/image/99999999999999999999',
    ])
      expect(imageIdFromHash(h), h).toBeNull();
  });

  it('finds an image in the first slice with one request', async () => {
    const l = list([5, 9, 3, 12]);
    expect(await locateImage(3, l.slice)).toBe(2);
    expect(l.calls).toEqual([[0, 1000]]);
  });

  it('reads further slices until it finds the image, in list order (not id order)', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => 100 - i);
    const l = list(ids);
    expect(await locateImage(78, l.slice, 10)).toBe(22);
    expect(l.calls).toEqual([
      [0, 10],
      [10, 10],
      [20, 10],
    ]);
  });

  it('answers -1 when the list does not hold the image, stopping at the end', async () => {
    const exact = list(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await locateImage(99, exact.slice, 10)).toBe(-1);
    // A list of exactly two slices needs no third, empty request.
    expect(exact.calls).toHaveLength(2);
    expect(await locateImage(1, list([]).slice)).toBe(-1);
  });

  it('answers null when a request fails', async () => {
    let n = 0;
    const failing: IdSlice = async () => (n++ === 0 ? { ids: [1, 2], total: 4 } : null);
    expect(await locateImage(4, failing, 2)).toBeNull();
  });
});
