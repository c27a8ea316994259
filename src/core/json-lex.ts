/**
 * The tokens of JSON (RFC 8259, as JSON.parse accepts them) read from UTF-8 bytes, for the two
 * scanners that check a JSON text without building it: body-scan.ts (a response body's usage) and
 * stream-scan.ts (a stream event). Each reads one token from its first byte and returns the
 * position after it, or −1 when it is not a valid token; none reads a byte at or past `end`.
 *
 *   string  = quote *( unescaped / backslash escape ) quote
 *             escape: one of  " \ / b f n r t, or u and 4 hex digits
 *             unescaped: any byte but a control character (< 0x20), quote or backslash (bytes of
 *             invalid UTF-8 decode to U+FFFD, which is legal inside a string)
 *   number  = -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 *   literal = true / false / null
 */
/** JSON's structural bytes, shared by the scanners built on these lexers */
export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const OPEN_OBJ = 0x7b;
export const CLOSE_OBJ = 0x7d;
export const OPEN_ARR = 0x5b;
export const CLOSE_ARR = 0x5d;
const BACKSLASH = 0x5c;

/** hex digit → 1 */
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;
/** a byte that stands for itself inside a string: not a control character, quote or backslash */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 256; c++) PLAIN[c] = c === QUOTE || c === BACKSLASH ? 0 : 1;
/** the characters allowed after a backslash besides u */
const ESCAPES = new Uint8Array(256);
for (const c of '"\\/bfnrt') ESCAPES[c.charCodeAt(0)] = 1;
/** the last `stringEnd` passed an escape */
let escaped = false;

/** whether the last stringEnd passed an escape (a key with one may spell any key) */
export function stringEscaped(): boolean {
  return escaped;
}

/** A string token from its opening quote at p: the position after its closing quote, or −1. */
export function stringEnd(b: Uint8Array, p: number, end: number): number {
  escaped = false;
  for (p++; p < end; ) {
    const c = b[p] as number;
    if (PLAIN[c] === 1) {
      p++;
      continue;
    }
    if (c === QUOTE) return p + 1;
    if (c !== BACKSLASH || p + 1 >= end) return -1; // a control character, or a backslash at the end
    escaped = true;
    const n = b[p + 1] as number;
    if (n === 0x75) {
      if (p + 5 >= end || !HEX[b[p + 2] as number] || !HEX[b[p + 3] as number] || !HEX[b[p + 4] as number] || !HEX[b[p + 5] as number]) return -1;
      p += 6;
    } else if (ESCAPES[n]) p += 2;
    else return -1;
  }
  return -1;
}

/** digits from p: the first position that is not one */
function digitsEnd(b: Uint8Array, p: number, end: number): number {
  while (p < end && (b[p] as number) >= 0x30 && (b[p] as number) <= 0x39) p++;
  return p;
}

/** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? from p: its end, or −1 */
export function numberEnd(b: Uint8Array, p: number, end: number): number {
  if (p < end && b[p] === 0x2d) p++;
  const c = p < end ? (b[p] as number) : -1;
  if (c === 0x30) p++;
  else if (c > 0x30 && c <= 0x39) p = digitsEnd(b, p + 1, end);
  else return -1;
  if (p < end && b[p] === 0x2e) {
    const q = digitsEnd(b, p + 1, end);
    if (q === p + 1) return -1;
    p = q;
  }
  if (p < end && (b[p] === 0x65 || b[p] === 0x45)) {
    p++;
    if (p < end && (b[p] === 0x2b || b[p] === 0x2d)) p++;
    const q = digitsEnd(b, p, end);
    if (q === p) return -1;
    p = q;
  }
  return p;
}

/** `true`, `false` or `null` at p (first byte t, f or n): its end, or −1 */
export function literalEnd(b: Uint8Array, p: number, end: number): number {
  const c = b[p];
  if (c === 0x74) return p + 3 < end && b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65 ? p + 4 : -1;
  if (c === 0x66) return p + 4 < end && b[p + 1] === 0x61 && b[p + 2] === 0x6c && b[p + 3] === 0x73 && b[p + 4] === 0x65 ? p + 5 : -1;
  return p + 3 < end && b[p + 1] === 0x75 && b[p + 2] === 0x6c && b[p + 3] === 0x6c ? p + 4 : -1;
}

