/**
 * One pass over a non-streamed JSON body's bytes for its token count (tokens.ts bodyUsageTokens):
 * whether the bytes are one JSON object, by the grammar JSON.parse accepts (RFC 8259), where its
 * last top-level `usage` value lies, and that usage's counts when it has the common shape. Nothing
 * else is noted, so the pass is one loop over the bytes with an explicit stack (no call per value,
 * no field write per byte), and the usage is not read a second time.
 *
 *   NOT_OBJECT  not JSON, or JSON that is not an object
 *   OBJECT      an object; `usageScan` says what its last top-level `usage` holds
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
 * The usage's counts, read as its members go by (the top-level object is depth 1, usage's members
 * depth 2, its prompt_tokens_details' members depth 3):
 *
 *   prompt_tokens, completion_tokens (depth 2), cached_tokens (depth 3, in prompt_tokens_details)
 *       1*15 DIGIT        → the count
 *       any other number  → `slow`: a sign, fraction, exponent or 16+ digits is JSON.parse's to read
 *       any other value   → absent (−1)
 *   a key with an escape at depth 2, or at depth 3 in prompt_tokens_details → `slow` (it may spell one)
 *   each prompt_tokens_details key resets cached_tokens (a later one without it has none)
 *
 * Duplicate keys: the last one wins, as in JSON.parse; a later `usage` starts its counts afresh.
 * Bytes that are not valid UTF-8 decode to U+FFFD, which is legal inside a string and illegal outside
 * one, as here.
 */
import { CLOSE_ARR, CLOSE_OBJ, COLON, COMMA, literalEnd, numberEnd, OPEN_ARR, OPEN_OBJ, QUOTE, stringEnd, stringEscaped } from './json-lex.js';

export const NOT_OBJECT = 0;
export const OBJECT = 1;
export const UNDECIDED = 2;

const MAX_DEPTH = 64;

const VALUE = 0;
const KEY = 1;
const AFTER = 2;

/** what the key just read makes of the value after it (usage's members) */
const OTHER = 0;
const PROMPT = 1;
const COMPLETION = 2;
const CACHED = 3;
const DETAILS = 4;

/** white space between tokens */
const WS = new Uint8Array(256);
for (const c of ' \t\n\r') WS[c.charCodeAt(0)] = 1;

/** the closing bracket of each open container, innermost last: CLOSE_OBJ or CLOSE_ARR */
const closers = new Uint8Array(MAX_DEPTH + 1);

const enc = new TextEncoder();
const K_PROMPT = enc.encode('"prompt_tokens"');
const K_COMPLETION = enc.encode('"completion_tokens"');
const K_DETAILS = enc.encode('"prompt_tokens_details"');
const K_CACHED = enc.encode('"cached_tokens"');
const K_USAGE = enc.encode('"usage"');

/** The last scan's usage: its bytes [start, end) (−1: none), whether it is an object, its counts (−1: absent). */
export interface UsageScan {
  start: number;
  end: number;
  object: boolean;
  prompt: number;
  completion: number;
  cached: number;
  /** a count or key the fast reading does not take: JSON.parse the usage's bytes */
  slow: boolean;
}

export const usageScan: UsageScan = { start: -1, end: -1, object: false, prompt: -1, completion: -1, cached: -1, slow: false };

/** the key token b[s, e) (quotes included) is `key` (quotes included) */
function isKey(b: Uint8Array, s: number, e: number, key: Uint8Array): boolean {
  if (e - s !== key.length) return false;
  for (let i = 1; i < key.length - 1; i++) if (b[s + i] !== key[i]) return false;
  return true;
}

/** what a usage member's key (depth 2) makes of its value */
function usageMember(b: Uint8Array, s: number, e: number): number {
  return isKey(b, s, e, K_PROMPT) ? PROMPT : isKey(b, s, e, K_COMPLETION) ? COMPLETION : isKey(b, s, e, K_DETAILS) ? DETAILS : OTHER;
}

/** a count at p (its first byte c): 1–15 digits and nothing a number may go on with; −1 when absent, −2 when slow */
function count(b: Uint8Array, p: number, end: number, c: number): number {
  if (c === 0x2d) return -2;
  if (c < 0x30 || c > 0x39) return -1;
  let n = 0;
  const s = p;
  while (p < end && (b[p] as number) >= 0x30 && (b[p] as number) <= 0x39) n = n * 10 + ((b[p++] as number) - 0x30);
  const next = p < end ? b[p] : -1;
  return p - s > 15 || next === 0x2e || next === 0x65 || next === 0x45 ? -2 : n;
}

/** Reads b[start, end): NOT_OBJECT, OBJECT or UNDECIDED, and `usageScan`. Reads no byte outside [start, end). */
export function scanBody(b: Uint8Array, start: number, end: number): number {
  const u = usageScan;
  u.start = u.end = -1;
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
  /** inside that usage, an object: its members are read (depth 2), and its details' (depth 3) while `inDetails` */
  let inUsage = false;
  let inDetails = false;
  /** what the key just read makes of its value */
  let member = OTHER;
  let valueEnd = p;
  for (;;) {
    while (p < end && WS[b[p] as number] === 1) p++;
    if (state === AFTER) {
      if (depth === 0) return p !== end ? NOT_OBJECT : undecided ? UNDECIDED : OBJECT;
      if (depth === 1 && usageAt >= 0) {
        u.start = usageAt;
        u.end = valueEnd;
        usageAt = -1;
        inUsage = false;
      }
      if (p >= end) return NOT_OBJECT;
      const c = b[p++];
      if (c === COMMA) state = closers[depth] === CLOSE_OBJ ? KEY : VALUE;
      else if (c === closers[depth]) {
        if (depth === 3) inDetails = false;
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
        usageNext = isKey(b, ks, p, K_USAGE);
      } else if (inUsage && (depth === 2 || (depth === 3 && inDetails))) {
        if (stringEscaped()) u.slow = true;
        else member = depth === 2 ? usageMember(b, ks, p) : isKey(b, ks, p, K_CACHED) ? CACHED : OTHER;
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
      inUsage = c === OPEN_OBJ;
      inDetails = false;
      u.object = inUsage;
      u.prompt = u.completion = u.cached = -1;
      u.slow = false;
    } else if (member !== OTHER) {
      if (member === DETAILS) {
        u.cached = -1;
        inDetails = c === OPEN_OBJ;
      } else {
        const n = count(b, p, end, c);
        if (n === -2) u.slow = true;
        else if (member === PROMPT) u.prompt = n;
        else if (member === COMPLETION) u.completion = n;
        else u.cached = n;
      }
      member = OTHER;
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (depth === MAX_DEPTH) return UNDECIDED;
      const close = c === OPEN_OBJ ? CLOSE_OBJ : CLOSE_ARR;
      closers[++depth] = close;
      p++;
      while (p < end && WS[b[p] as number] === 1) p++;
      if (p < end && b[p] === close) {
        p++;
        if (depth === 3) inDetails = false;
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
