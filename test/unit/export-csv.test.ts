/**
 * The one CSV writer (src-main/services/csv.ts): spreadsheet formula neutralising and RFC 4180 quoting, checked by
 * parsing the output back with the strict RFC 4180 parser of test/helpers/rfc4180.ts.
 */
import { describe, expect, it } from 'vitest';
import { csvField, csvRow, neutralise, toCsv } from '../../src-main/services/csv.ts';
import { parseRfc4180 } from '../helpers/rfc4180.ts';

describe('CSV neutralising (formula injection)', () => {
  it('prefixes a quote to text starting with = + - @ tab or CR, and leaves other text alone', () => {
    for (const s of ['=1+2', '+SUM(A1:A9)', '-2+3', '@cmd', '\tx', '\rx', '=HYPERLINK("http://evil","click")', '-', '+'])
      expect(neutralise(s)).toBe(`'${s}`);
    for (const s of ['plain', 'a=b', ' =1', "'=already", '', '写真=1', 'scratch-01.jpg', '1-2']) expect(neutralise(s)).toBe(s);
  });

  it('keeps plain numbers numeric, as text or as numbers, but not number-like formulas', () => {
    for (const s of ['-0.5', '+3', '-12', '1e-7', '-1.5E+3', '.5', '-.5']) expect(csvField(s)).toBe(s);
    expect(csvField(-0.5)).toBe('-0.5');
    expect(csvField(0.000001)).toBe('0.000001');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(Number.NEGATIVE_INFINITY)).toBe('');
    for (const s of ['-1+2', '-0.5e', '+3,4', '-1;2', '--1', '-1 ']) expect(csvField(s).replace(/^"|"$/g, '').startsWith("'")).toBe(true);
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(true)).toBe('true');
  });
});

describe('CSV quoting (RFC 4180)', () => {
  it('quotes fields with comma, quote, CR or LF, doubles quotes, and ends every record with CRLF', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField('plain')).toBe('plain');
    expect(csvRow(['a', 1, null, 'b,c'])).toBe('a,1,,"b,c"');
    expect(
      toCsv([
        ['h1', 'h2'],
        ['x', 'y'],
      ]),
    ).toBe('h1,h2\r\nx,y\r\n');
  });

  it('round-trips hostile cells through a strict parser: same fields, formulas defused', () => {
    const cells = [
      '=cmd|"/C calc"!A0',
      '+1',
      '-2+3',
      '@SUM(1)',
      '\t=tab',
      '\r=cr',
      'line1\r\nline2',
      'comma, inside',
      'quote " inside',
      '"',
      '',
      '検査画像,傷.png',
      '-0.25',
      'C:\\Line3\\img 01.jpg',
    ];
    const rows = [['col', 'value'], ...cells.map((c, k) => [`c${k}`, c])];
    const text = toCsv(rows);
    const back = parseRfc4180(text);
    expect(back).toHaveLength(rows.length);
    back.slice(1).forEach(([name, value], k) => {
      const original = cells[k]!;
      expect(name).toBe(`c${k}`);
      const dangerous = /^[=+\-@\t\r]/.test(original) && !/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(original);
      expect(value).toBe(dangerous ? `'${original}` : original);
      // What a spreadsheet sees first is never a formula trigger.
      if (dangerous) expect(value![0]).toBe("'");
    });
  });

  it('the parser itself rejects what RFC 4180 does not allow', () => {
    expect(() => parseRfc4180('a,b\nc,d\n')).toThrow(/bare LF/);
    expect(() => parseRfc4180('a,b\r\nc,d')).toThrow(/no CRLF/);
    expect(() => parseRfc4180('a,b"c\r\n')).toThrow(/quote in an unquoted/);
    expect(() => parseRfc4180('"a"b\r\n')).toThrow(/after a closing quote/);
    expect(() => parseRfc4180('a,b\r\nc\r\n')).toThrow(/fields/);
    expect(parseRfc4180('"a,""b"""\r\n')).toEqual([['a,"b"']]);
  });
});
