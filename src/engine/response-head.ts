/**
 * A response's head (status line and header block) read in one pass when one read holds all of it,
 * as nearly every response on loopback does. http-parser-js (autocannon's parser, 0.5.x) reads the
 * status line with a line loop, a `toString` and a regex, then each header line the same way
 * (header-block.ts batches those), then lower-cases every header name to find its framing. Here, an
 * own RESPONSE_LINE checks the head's bytes in one loop, decodes them with one `toString`, slices
 * the status message and each name and value from that string, and finds the framing headers by
 * their bytes; then it does what the parser's HEADER does at the empty line, in its order.
 *
 * Only the plain head is read here; anything else goes to the parser's own RESPONSE_LINE, untouched,
 * before any of it is read (so the parser's reading, errors and all, is kept exactly):
 *
 *   head     = status-line *header-line empty-line, all in this read, with the parser at a message start
 *   status   = "HTTP/" DIGIT "." DIGIT SP 3DIGIT [ SP reason ] [CR] LF
 *              the code not 1xx, 204 or 304 (the parser's own rules for those: no body, informational)
 *   header   = name ":" *( SP / HTAB ) value [CR] LF
 *   name     = 1*( %x21-39 / %x3B-7E )             ; no colon, space, control or high byte
 *   reason, value = *( %x20-7E / HTAB )             ; no CR inside, no control, no high byte
 *   framing  = exactly one Content-Length of 1*15 DIGIT; no Transfer-Encoding, no Upgrade
 *
 * Bytes under 0x80 decode the same in 'latin1' and the parser's 'ascii', so the strings are the
 * parser's. A value is the parser's `[ \t]*((?:.*[^ \t])|)`: SP and HTAB dropped at both ends.
 * test/engine/response-head.test.ts holds this beside the parser's own reading over generated
 * responses cut into random reads.
 */
import type { LineParser } from './header-block.js';

/** The parts of an http-parser-js 0.5 parser this reads and writes, besides LineParser's. */
interface HeadParser extends LineParser {
  state: string;
  body_bytes: number | null;
  isChunked: boolean;
  connection: string;
  isUserCall: boolean;
  info: LineParser['info'] & { versionMajor?: number; versionMinor?: number; statusCode?: number; statusMessage?: string; upgrade?: boolean; shouldKeepAlive?: boolean };
  shouldKeepAlive(): boolean;
  nextRequest(): void;
  RESPONSE_LINE(): unknown;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

const MAX_LINES = 256;
/** per header line of the head being read: where its name starts and ends, its value starts and ends (in the read) */
const nameStarts = new Int32Array(MAX_LINES);
const nameEnds = new Int32Array(MAX_LINES);
const valueStarts = new Int32Array(MAX_LINES);
const valueEnds = new Int32Array(MAX_LINES);
/** and which framing header it is (framingOf) */
const kinds = new Uint8Array(MAX_LINES);

/** the framing header a name is, by its bytes in any case: the parser lower-cases every name to find these */
const OTHER = 0;
const CONTENT_LENGTH = 1;
const CONNECTION = 2;
const REFUSED = 3; // Transfer-Encoding, Upgrade: the parser's own reading

/**
 * Puts the head reading in place on one parser (an own RESPONSE_LINE over its prototype's); false,
 * and the parser left alone, when it does not have what this relies on.
 */
export function readResponseHeads(parser: object): boolean {
  const p = parser as Partial<HeadParser> & Record<number, unknown>;
  const kOnHeadersComplete = (parser.constructor as { kOnHeadersComplete?: unknown }).kOnHeadersComplete;
  const own = p.RESPONSE_LINE;
  if (typeof own !== 'function' || typeof kOnHeadersComplete !== 'number' || typeof p.shouldKeepAlive !== 'function' || typeof p.nextRequest !== 'function') return false;
  if (typeof p.line !== 'string' || typeof p.info?.headers !== 'object' || typeof p.connection !== 'string' || typeof p.isUserCall !== 'boolean') return false;
  (parser as HeadParser).RESPONSE_LINE = function (this: HeadParser) {
    return responseHead(this, own, kOnHeadersComplete);
  };
  return true;
}

/**
 * http-parser-js reads a body of `+Content-Length` bytes, or `parseInt(size, 16)` for a chunk, and
 * moves on by that much: a negative length ("-5") moves it back over what it read, and it reads the
 * same bytes again, for ever (its list of headers grows until the process dies), and a fraction
 * leaves it between bytes. With this on a parser, a body or chunk length that is not a whole number
 * ≥ 0 is the parser's error (HPE_INVALID_CONTENT_LENGTH, as Node's own parser calls it), from the
 * read that would use it: the request then fails, never the run.
 */
export function refuseBadLengths(parser: object): boolean {
  const p = parser as Partial<Record<'BODY_SIZED' | 'BODY_CHUNK', () => unknown>> & { body_bytes?: unknown };
  const sized = p.BODY_SIZED;
  const chunk = p.BODY_CHUNK;
  if (typeof sized !== 'function' || typeof chunk !== 'function') return false;
  p.BODY_SIZED = function (this: { body_bytes: unknown }) {
    checkLength(this.body_bytes);
    return sized.call(this);
  };
  p.BODY_CHUNK = function (this: { body_bytes: unknown }) {
    checkLength(this.body_bytes);
    return chunk.call(this);
  };
  return true;
}

function checkLength(n: unknown): void {
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return;
  throw Object.assign(new Error('Parse Error'), { code: 'HPE_INVALID_CONTENT_LENGTH' });
}

/** the byte may be in a reason phrase or a header value */
function isText(c: number): boolean {
  return (c >= SP && c < 0x7f) || c === HTAB;
}

/** the bytes at [s, e) spell `lower` in any case (letters and "-") */
function isNamed(b: Buffer, s: number, e: number, lower: string): boolean {
  if (e - s !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) if (((b[s + k] as number) | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

/** the framing header the name at [s, e) is, if any: by its length first (a name of another length is none) */
function framingOf(b: Buffer, s: number, e: number): number {
  switch (e - s) {
    case 14:
      return isNamed(b, s, e, 'content-length') ? CONTENT_LENGTH : OTHER;
    case 10:
      return isNamed(b, s, e, 'connection') ? CONNECTION : OTHER;
    case 17:
      return isNamed(b, s, e, 'transfer-encoding') ? REFUSED : OTHER;
    case 7:
      return isNamed(b, s, e, 'upgrade') ? REFUSED : OTHER;
    default:
      return OTHER;
  }
}

/** The end of the line that starts at i (its LF's position), −1 when a byte in it is not text or the read ends first; one CR before the LF is let be. */
function textLineEnd(b: Buffer, i: number, end: number): number {
  for (; i < end; i++) {
    const c = b[i] as number;
    if (isText(c)) continue;
    if (c === LF) return i;
    if (c === CR && i + 1 < end && b[i + 1] === LF) return i + 1;
    return -1;
  }
  return -1;
}

/** the line ending at the LF at `lf` without its one trailing CR: where it ends */
function lineEnd(b: Buffer, from: number, lf: number): number {
  return lf > from && b[lf - 1] === CR ? lf - 1 : lf;
}

function responseHead(p: HeadParser, own: () => unknown, kOnHeadersComplete: number): unknown {
  const b = p.chunk;
  if (p.line !== '' || b === null) return own.call(p);
  const start = p.offset;
  const end = p.end;
  // "HTTP/" DIGIT "." DIGIT SP 3DIGIT
  if (end - start < 14 || b[start] !== 0x48 || b[start + 1] !== 0x54 || b[start + 2] !== 0x54 || b[start + 3] !== 0x50 || b[start + 4] !== 0x2f) return own.call(p);
  const major = (b[start + 5] as number) - 0x30;
  const minor = (b[start + 7] as number) - 0x30;
  const d0 = (b[start + 9] as number) - 0x30;
  const d1 = (b[start + 10] as number) - 0x30;
  const d2 = (b[start + 11] as number) - 0x30;
  if (!(major >= 0 && major <= 9 && b[start + 6] === 0x2e && minor >= 0 && minor <= 9 && b[start + 8] === SP)) return own.call(p);
  if (!(d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) return own.call(p);
  const status = d0 * 100 + d1 * 10 + d2;
  if (d0 === 1 || status === 204 || status === 304) return own.call(p);
  // [ SP reason ] [CR] LF
  let reasonStart = start + 12;
  const after = b[reasonStart] as number;
  if (after === SP) reasonStart++;
  else if (after !== LF && after !== CR) return own.call(p);
  const statusLf = textLineEnd(b, reasonStart, end);
  if (statusLf < 0) return own.call(p);
  const reasonEnd = lineEnd(b, reasonStart, statusLf);

  let lines = 0;
  let lengths = 0;
  let i = statusLf + 1;
  for (;;) {
    if (i >= end) return own.call(p);
    // the empty line: LF, or CR LF
    if (b[i] === LF) break;
    if (b[i] === CR && i + 1 < end && b[i + 1] === LF) {
      i++;
      break;
    }
    if (lines === MAX_LINES) return own.call(p);
    const ls = i;
    for (; i < end; i++) {
      const c = b[i] as number;
      if (c === COLON || c <= SP || c >= 0x7f) break;
    }
    if (i === ls || i >= end || b[i] !== COLON) return own.call(p);
    const nameEnd = i;
    i++;
    while (i < end && (b[i] === SP || b[i] === HTAB)) i++;
    const vs = i;
    const lf = textLineEnd(b, i, end);
    if (lf < 0) return own.call(p);
    let ve = lineEnd(b, vs, lf);
    while (ve > vs && (b[ve - 1] === SP || b[ve - 1] === HTAB)) ve--;
    const kind = framingOf(b, ls, nameEnd);
    if (kind === REFUSED) return own.call(p);
    if (kind === CONTENT_LENGTH) {
      lengths++;
      if (ve - vs < 1 || ve - vs > 15) return own.call(p);
      for (let k = vs; k < ve; k++) if ((b[k] as number) < 0x30 || (b[k] as number) > 0x39) return own.call(p);
    }
    kinds[lines] = kind;
    nameStarts[lines] = ls;
    nameEnds[lines] = nameEnd;
    valueStarts[lines] = vs;
    valueEnds[lines] = ve;
    lines++;
    i = lf + 1;
  }
  // without one Content-Length the body is read to the connection's end, or it is ambiguous
  if (lengths !== 1) return own.call(p);
  const headEnd = i + 1;
  return completeHead(p, b, start, headEnd, { major, minor, status, reasonStart, reasonEnd, lines }, kOnHeadersComplete);
}

interface Head {
  major: number;
  minor: number;
  status: number;
  reasonStart: number;
  reasonEnd: number;
  lines: number;
}

/**
 * The head read: its strings cut from one decoding, then the parser's HEADER at the empty line, in
 * its order (framing, keep-alive, the headers-complete callback flagged as the user's, then the body
 * state or the message's end).
 */
function completeHead(p: HeadParser, b: Buffer, start: number, headEnd: number, h: Head, kOnHeadersComplete: number): unknown {
  const text = b.toString('latin1', start, headEnd);
  const info = p.info;
  info.versionMajor = h.major;
  info.versionMinor = h.minor;
  info.statusCode = h.status;
  info.statusMessage = text.slice(h.reasonStart - start, h.reasonEnd - start);
  const headers = info.headers;
  for (let k = 0; k < h.lines; k++) {
    const ns = nameStarts[k] as number;
    const ne = nameEnds[k] as number;
    const value = text.slice((valueStarts[k] as number) - start, (valueEnds[k] as number) - start);
    headers.push(text.slice(ns - start, ne - start), value);
    if (kinds[k] === CONNECTION) p.connection += value.toLowerCase();
    else if (kinds[k] === CONTENT_LENGTH) p.body_bytes = Number(value);
  }
  p.state = 'HEADER';
  p.offset = headEnd;
  info.upgrade = false; // the parser's `info.method === method_connect`: a response has no method
  info.shouldKeepAlive = p.shouldKeepAlive();
  p.isUserCall = true;
  const skipBody = (p as unknown as Record<number, (i: unknown) => unknown>)[kOnHeadersComplete]!(info);
  p.isUserCall = false;
  // the parser's branches as it has them: the callback may have reset the parser
  if (skipBody === 2) {
    p.nextRequest();
    return true;
  } else if (p.isChunked && !skipBody) p.state = 'BODY_CHUNKHEAD';
  else if (skipBody || p.body_bytes === 0) {
    p.nextRequest();
    return info.upgrade;
  } else if (p.body_bytes === null) p.state = 'BODY_RAW';
  else p.state = 'BODY_SIZED';
  return undefined;
}
