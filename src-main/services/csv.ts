/**
 * The one CSV writer of every export (inspection results, labels, CLI): RFC 4180 fields and CRLF line ends, and
 * cells neutralised against spreadsheet formula injection, since engineers open these files in Excel.
 *
 * Neutralising (OWASP "CSV injection"): a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
 * return gets a single quote in front, so Excel and LibreOffice show it as text instead of running it. A text cell
 * that is a plain decimal number (`-0.5`, `+3`, `1e-7`) is left as it is, and values that are JS numbers are
 * written as numbers (finite only; NaN and ±Infinity become an empty cell): neither can start a formula, and
 * probabilities, thresholds and ids stay numeric for sums and charts.
 */

export type CsvValue = string | number | boolean | null | undefined;

/** UTF-8 byte order mark: Excel on Windows needs it to read Japanese file names in a CSV. */
export const CSV_BOM = '\uFEFF';

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NEEDS_QUOTES = /[",\r\n]/;

/** A text cell made safe to open in a spreadsheet (see the module comment). */
export function neutralise(text: string): string {
  return FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
}

/** One field: neutralised, then quoted (quotes doubled) when it holds a comma, quote, CR or LF. */
export function csvField(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = neutralise(String(v));
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One record (no line end). */
export function csvRow(cells: readonly CsvValue[]): string {
  return cells.map(csvField).join(',');
}

/** A whole file: every record, the last one included, ends with CRLF. */
export function toCsv(rows: readonly (readonly CsvValue[])[]): string {
  return rows.map((r) => `${csvRow(r)}\r\n`).join('');
}
