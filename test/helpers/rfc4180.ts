/**
 * A strict RFC 4180 parser for tests: it rejects bare CR or LF, a quote inside an unquoted field, text after a
 * closing quote, a missing CRLF after the last record and records of different lengths.
 */
/** RFC 4180, section 2, strictly: CRLF records (the last one too), fields quoted or not, "" inside quotes. */
export function parseRfc4180(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not RFC 4180 at ${i}: ${why} in ${JSON.stringify(text.slice(Math.max(0, i - 10), i + 10))}`);
  };
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) fail('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else field += text[i++];
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\r') fail('text after a closing quote');
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        if (text[i] === '"') fail('quote in an unquoted field');
        if (text[i] === '\n') fail('bare LF');
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') {
      i += 2;
      rows.push(row);
      row = [];
      continue;
    }
    fail(i >= text.length ? 'no CRLF after the last record' : 'bare CR');
  }
  if (row.length) fail('no CRLF after the last record');
  const width = rows[0]?.length ?? 0;
  rows.forEach((r, k) => r.length !== width && fail(`record ${k} has ${r.length} fields, not ${width}`));
  return rows;
}
