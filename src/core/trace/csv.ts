/**
 * A small CSV reader (RFC 4180), for the CSV trace formats. Text in, rows with the line each starts
 * on out; never throws. The grammar (RFC 4180 §2, with LF accepted beside CRLF, as every CSV
 * written on Unix has it):
 *
 *   file        = record *( eol record ) [ eol ]
 *   record      = field *( "," field )
 *   field       = escaped / non-escaped
 *   escaped     = DQUOTE *( TEXTDATA / "," / CR / LF / 2DQUOTE ) DQUOTE
 *   non-escaped = *TEXTDATA
 *   TEXTDATA    = any character but "," DQUOTE CR LF
 *   eol         = CRLF / LF
 *
 * An escaped field may span lines; a row's `line` is the line it starts on (counted from 1). Blank
 * lines are skipped (a file often ends with one). A quote inside a non-escaped field, or a character
 * after an escaped field's closing quote other than "," or an eol, is a problem on its line.
 */

export interface CsvRow {
  /** 1-based line the row starts on */
  line: number;
  fields: string[];
}

export interface CsvResult {
  rows: CsvRow[];
  /** malformed rows: the line and why (such a row is not in `rows`) */
  problems: { line: number; message: string }[];
}

export function parseCsv(text: string): CsvResult {
  const rows: CsvRow[] = [];
  const problems: CsvResult['problems'] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let bad: string | undefined;
    // one record
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (!closed) bad ??= 'a quoted field is never closed';
        else if (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) bad ??= 'text after a closing quote (a quote inside a field is written "")';
      }
      while (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
        if (text[i] === '"') bad ??= 'a quote inside an unquoted field (quote the field and write "")';
        field += text[i];
        i++;
      }
      fields.push(field);
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    // the end of line
    if (text[i] === '\r') i++;
    if (text[i] === '\n') {
      i++;
      line++;
    }
    const blank = fields.length === 1 && fields[0]!.trim() === '';
    if (bad !== undefined) problems.push({ line: start, message: bad });
    else if (!blank) rows.push({ line: start, fields });
  }
  return { rows, problems };
}
