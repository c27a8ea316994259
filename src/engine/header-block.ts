/**
 * http-parser-js (autocannon's response parser, 0.5.x) reads a response's header lines one at a time:
 * for each, a loop over its bytes to the line feed and one `chunk.toString('ascii', …)`, a call into
 * C++ per line, before its regex. When a read holds the whole header block, as nearly every response
 * on loopback and most on a network do, this reads it with one loop over its bytes and one
 * `toString`, then hands each line, sliced from that one string, to the parser's own `parseHeader`
 * (its regex, its errors, its continuation lines); the empty line that ends the block is left to the
 * parser's own HEADER, which completes the headers as before.
 *
 * Exactly the parser's reading (test/engine/header-block.test.ts holds the two side by side over
 * generated responses cut into random reads):
 *
 *   line      = bytes up to a line feed (0x0a, the byte: 'ascii' decoding maps 0x8a to "\n" too,
 *               so lines are found in the bytes, never in the text), one trailing CR dropped
 *   block     = the lines from the parser's position up to the first empty line (or lone CR), all in
 *               this read; a block that goes on into the next read, or a header line begun in an
 *               earlier read, is the parser's own to read line by line
 *   decoding  = 'ascii', as the parser's (7 bits: 0xe9 reads as "i")
 *
 * A line `parseHeader` throws on (a CR inside it) leaves the parser past that line, as its own
 * reading does. Lines beyond MAX_LINES in one block are left to the parser (the offsets table is
 * fixed).
 */

/** The parts of an http-parser-js 0.5 parser this reads and writes. */
export interface LineParser {
  chunk: Buffer | null;
  offset: number;
  end: number;
  line: string;
  info: { headers: string[] };
  parseHeader(line: string, headers: string[]): void;
  HEADER(): unknown;
}

const MAX_LINES = 256;
/** each header line's end (its line feed's position) in the read, for the block being read */
const lineEnds = new Int32Array(MAX_LINES);

/**
 * Puts the block reading in place on one parser (an own HEADER over its prototype's); false, and the
 * parser left alone, when it does not have the methods and fields this relies on.
 */
export function readHeaderBlocks(parser: object): boolean {
  const p = parser as Partial<LineParser>;
  const header = p.HEADER;
  if (typeof header !== 'function' || typeof p.parseHeader !== 'function' || typeof p.line !== 'string' || typeof p.info?.headers !== 'object') return false;
  (parser as LineParser).HEADER = function (this: LineParser) {
    return headerBlock(this, header);
  };
  return true;
}

function headerBlock(p: LineParser, header: () => unknown): unknown {
  const chunk = p.chunk;
  if (p.line !== '' || chunk === null) return header.call(p);
  const start = p.offset;
  const end = p.end;
  let lineStart = start;
  let lines = 0;
  let blockEnd = -1;
  for (let i = start; i < end; i++) {
    if (chunk[i] !== 0x0a) continue;
    const len = i - lineStart;
    // the parser's empty line is empty once decoded and one trailing CR dropped ('ascii': 0x8d is a CR too)
    if (len === 0 || (len === 1 && ((chunk[lineStart] as number) & 0x7f) === 0x0d)) {
      blockEnd = lineStart;
      break;
    }
    if (lines === MAX_LINES) break;
    lineEnds[lines++] = i;
    lineStart = i + 1;
  }
  // no whole block here, or none of its lines to read: the parser's own reading
  if (blockEnd < 0 || lines === 0) return header.call(p);
  const text = chunk.toString('ascii', start, blockEnd);
  const headers = p.info.headers;
  let from = 0;
  for (let k = 0; k < lines; k++) {
    const lf = (lineEnds[k] as number) - start;
    const to = lf > from && text.charCodeAt(lf - 1) === 0x0d ? lf - 1 : lf;
    p.offset = start + lf + 1;
    p.parseHeader(text.slice(from, to), headers);
    from = lf + 1;
  }
  return header.call(p);
}
