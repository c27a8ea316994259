/**
 * One pass over a non-streamed JSON body's bytes for its token count (tokens.ts bodyUsageTokens):
 * whether the bytes are one JSON object, by the grammar JSON.parse accepts (RFC 8259), and where its
 * last top-level `usage` value lies. Nothing else is noted, so the pass is one loop over the bytes
 * with an explicit stack (no call per value, no field read per byte): about half the cost of the
 * stream scanner (stream-scan.ts), which also follows `choices` and `model` for stream events.
 *
 *   NOT_OBJECT  not JSON, or JSON that is not an object
 *   OBJECT      an object; `usageStart/usageEnd` hold its last top-level `usage` value (−1: none)
 *   UNDECIDED   an object whose usage only JSON.parse can find: a top-level key with an escape (it may
 *               spell "usage"), or nesting deeper than MAX_DEPTH (JSON.parse's limit is its own)
 *
 * The loop is at one of three places, `state`:
 *
 *   VALUE  a value starts here:   object → push, KEY (or AFTER when `{}`); array → push, VALUE (or
 *                                 AFTER when `[]`); string, literal, number → AFTER
 *   KEY    a member starts here:  string ":" → VALUE
 *   AFTER  a value ended here:    "," → KEY or VALUE, by the innermost container; its closing
 *                                 bracket → pop, AFTER; at depth 0 only white space may follow
 *
 * Duplicate keys: the last one wins, as in JSON.parse. Bytes that are not valid UTF-8 decode to
 * U+FFFD, which is legal inside a string and illegal outside one, as here.
 */
import { literalEnd, numberEnd, stringEnd, stringEscaped } from './json-lex.js';

export const NOT_OBJECT = 0;
export const OBJECT = 1;
export const UNDECIDED = 2;

const MAX_DEPTH = 64;

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;

const VALUE = 0;
const KEY = 1;
const AFTER = 2;

/** white space between tokens */
const WS = new Uint8Array(256);
for (const c of ' \t\n\r') WS[c.charCodeAt(0)] = 1;

/** the closing bracket of each open container, innermost last: CLOSE_OBJ or CLOSE_ARR */
const closers = new Uint8Array(MAX_DEPTH + 1);

/** the last scan's usage value, [usageStart, usageEnd) of its bytes; −1 when it has none */
export const usageRange = { start: -1, end: -1 };

/** the key token [s, e) (quotes included) is "usage" */
function isUsageKey(b: Uint8Array, s: number, e: number): boolean {
  return e - s === 7 && b[s + 1] === 0x75 && b[s + 2] === 0x73 && b[s + 3] === 0x61 && b[s + 4] === 0x67 && b[s + 5] === 0x65;
}

/** Reads b[start, end): NOT_OBJECT, OBJECT or UNDECIDED, and `usageRange`. Reads no byte outside [start, end). */
export function scanBody(b: Uint8Array, start: number, end: number): number {
  usageRange.start = usageRange.end = -1;
  let p = start;
  while (p < end && WS[b[p] as number] === 1) p++;
  if (p >= end || b[p] !== OPEN_OBJ) return NOT_OBJECT;
  let depth = 0;
  let state = VALUE;
  let undecided = false;
  /** the value after this key is a top-level usage */
  let usageNext = false;
  /** where the top-level usage value being read started (−1: none is) */
  let usageAt = -1;
  let valueEnd = p;
  for (;;) {
    while (p < end && WS[b[p] as number] === 1) p++;
    if (state === AFTER) {
      if (depth === 0) return p !== end ? NOT_OBJECT : undecided ? UNDECIDED : OBJECT;
      if (depth === 1 && usageAt >= 0) {
        usageRange.start = usageAt;
        usageRange.end = valueEnd;
        usageAt = -1;
      }
      if (p >= end) return NOT_OBJECT;
      const c = b[p++];
      if (c === COMMA) state = closers[depth] === CLOSE_OBJ ? KEY : VALUE;
      else if (c === closers[depth]) {
        depth--;
        valueEnd = p;
      } else return NOT_OBJECT;
      continue;
    }
    if (p >= end) return NOT_OBJECT;
    const c = b[p] as number;
    if (state === KEY) {
      if (c !== QUOTE) return NOT_OBJECT;
      const ks = p;
      p = stringEnd(b, p, end);
      if (p < 0) return NOT_OBJECT;
      if (depth === 1) {
        if (stringEscaped()) undecided = true;
        usageNext = isUsageKey(b, ks, p);
      }
      while (p < end && WS[b[p] as number] === 1) p++;
      if (p >= end || b[p] !== COLON) return NOT_OBJECT;
      p++;
      state = VALUE;
      continue;
    }
    // VALUE
    if (usageNext) {
      usageAt = p;
      usageNext = false;
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (depth === MAX_DEPTH) return UNDECIDED;
      const close = c === OPEN_OBJ ? CLOSE_OBJ : CLOSE_ARR;
      closers[++depth] = close;
      p++;
      while (p < end && WS[b[p] as number] === 1) p++;
      if (p < end && b[p] === close) {
        p++;
        depth--;
        valueEnd = p;
        state = AFTER;
      } else state = c === OPEN_OBJ ? KEY : VALUE;
      continue;
    }
    if (c === QUOTE) p = stringEnd(b, p, end);
    else if (c === 0x74 || c === 0x66 || c === 0x6e) p = literalEnd(b, p, end);
    else p = numberEnd(b, p, end);
    if (p < 0) return NOT_OBJECT;
    valueEnd = p;
    state = AFTER;
  }
}
