import { describe, expect, it } from 'vitest';
import { formatMessage } from '../../src-renderer/src/i18n/format.ts';
import { en, ja } from '../../src-renderer/src/i18n/catalogs.ts';

describe('catalog messages', () => {
  it('fill parameters and pick the English singular only for exactly one', () => {
    expect(formatMessage('{count} {count|image|images}', { count: 1 })).toBe('1 image');
    expect(formatMessage('{count} {count|image|images}', { count: 0 })).toBe('0 images');
    expect(formatMessage('{count} {count|image|images}', { count: 12 })).toBe('12 images');
    expect(formatMessage('Used by {images} {images|image|images} and {regions} {regions|region|regions}', { images: 1, regions: 3 })).toBe(
      'Used by 1 image and 3 regions',
    );
    // A form whose parameter is not given stays visible rather than guessing.
    expect(formatMessage('{n|a|b}', { m: 1 })).toBe('{n|a|b}');
    expect(formatMessage('no params')).toBe('no params');
  });

  it('leave no plural form or placeholder unfilled in any catalog message given its parameters', () => {
    for (const catalog of [en, ja] as Record<string, string>[]) {
      for (const [key, msg] of Object.entries(catalog)) {
        const names = [...msg.matchAll(/\{(\w+)(?:\|[^{}]*)?\}/g)].map((m) => m[1]!);
        const params = Object.fromEntries(names.map((n) => [n, 2]));
        expect(formatMessage(msg, params), key).not.toMatch(/\{\w+(\|[^{}]*)?\}/);
      }
    }
  });
});
