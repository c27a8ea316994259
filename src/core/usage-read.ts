/**
 * A response's `usage` value read straight from its bytes, for the common shape, without
 * TextDecoder and JSON.parse (two thirds of the token cost of a non-streamed response):
 *
 *   usage   = "{" [ member *( "," member ) ] "}"        (any other value: no usage)
 *   member  = key ":" value
 *   key     = a string with no backslash                 (an escape may spell a key read: SLOW)
 *   prompt_tokens, completion_tokens  = 1*15 DIGIT       (a sign, fraction, exponent or 16+ digits: SLOW)
 *   prompt_tokens_details = { … "cached_tokens": 1*15 DIGIT … }, read the same way one level down
 *   any other value       = skipped (strings with their escapes, nested objects and arrays)
 *
 * Duplicate keys: the last wins, as in JSON.parse. The caller has already checked that the bytes are
 * valid JSON (ChunkScanner), so skipping needs no grammar; only what is read is checked. The answer
 * is exactly usageTokens(JSON.parse(bytes)) for this shape, and SLOW (parse it) for anything else.
 */
import type { RequestTokens } from './tokens.js';

export const SLOW_USAGE = 'slow';

// The bytes are this module's own constants, as in stream-scan.ts, not imported from one shared
// module: V8 reads an imported binding through its module cell, and 1M reads of OpenAI's usage shape
// took 1.05–1.15× as long (10 interleaved rounds, 2026-12-04) with the constants imported.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;
const COMMA = 0x2c;

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const K_PROMPT = bytes('prompt_tokens');
const K_COMPLETION = bytes('completion_tokens');
const K_DETAILS = bytes('prompt_tokens_details');
const K_CACHED = bytes('cached_tokens');

/** a number read, or one of: ABSENT (key not seen / value not a number), SLOW (needs JSON.parse) */
const ABSENT = -1;
const SLOW = -2;
/** which object `members` walks: usage itself, or its prompt_tokens_details */
const USAGE = 0;
const DETAILS = 1;

class UsageReader {
  private b: Uint8Array = new Uint8Array(0);
  private p = 0;
  private end = 0;
  private prompt = ABSENT;
  private completion = ABSENT;
  private cached = ABSENT;

  read(b: Uint8Array, start: number, end: number): RequestTokens | undefined | typeof SLOW_USAGE {
    this.b = b;
    this.p = start;
    this.end = end;
    this.ws();
    if (this.b[this.p] !== OPEN_OBJ) return undefined; // null, a string, an array…: no usage object
    this.prompt = ABSENT;
    this.completion = ABSENT;
    this.cached = ABSENT;
    const r = this.members(USAGE);
    const { prompt, completion, cached } = this;
    if (r === SLOW || prompt === SLOW || completion === SLOW || cached === SLOW) return SLOW_USAGE;
    if (completion === ABSENT) return undefined;
    if (prompt === ABSENT) return { output: completion, source: 'usage' };
    const t: RequestTokens = { output: completion, input: prompt, source: 'usage' };
    if (cached !== ABSENT && cached <= prompt) t.cached = cached;
    return t;
  }

  /**
   * One member's value at p (its key token [ks, ke)), read into the fields or skipped; SLOW or 0.
   * A method, not a closure per object: one read a response, on the hot path.
   */
  private member(level: typeof USAGE | typeof DETAILS, ks: number, ke: number): number {
    if (level === DETAILS) return this.is(ks, ke, K_CACHED) ? (this.cached = this.count()) : this.skip();
    if (this.is(ks, ke, K_PROMPT)) return (this.prompt = this.count());
    if (this.is(ks, ke, K_COMPLETION)) return (this.completion = this.count());
    if (this.is(ks, ke, K_DETAILS)) {
      this.cached = ABSENT;
      return this.b[this.p] === OPEN_OBJ ? this.members(DETAILS) : this.skip();
    }
    return this.skip();
  }

  /** An object's members from its `{` at p, each value handed to `member` (at its first byte) at this level; SLOW or 0. */
  private members(level: typeof USAGE | typeof DETAILS): number {
    const b = this.b;
    this.p++;
    for (;;) {
      this.ws();
      const c = b[this.p];
      if (c === CLOSE_OBJ) {
        this.p++;
        return 0;
      }
      if (c === COMMA) {
        this.p++;
        continue;
      }
      // a key: its bytes up to the closing quote; a backslash in it is an escape JSON.parse must read
      const ks = this.p;
      this.p++;
      while (this.p < this.end && b[this.p] !== QUOTE) {
        if (b[this.p] === BACKSLASH) return SLOW;
        this.p++;
      }
      const ke = ++this.p;
      this.ws();
      this.p++; // the colon
      this.ws();
      if (this.member(level, ks, ke) === SLOW) return SLOW;
      if (this.p >= this.end) return SLOW;
    }
  }

  /** the key token [s, e) (quotes included) is `key` */
  private is(s: number, e: number, key: Uint8Array): boolean {
    if (e - s - 2 !== key.length) return false;
    for (let i = 0; i < key.length; i++) if (this.b[s + 1 + i] !== key[i]) return false;
    return true;
  }

  /** a count at p: 1–15 digits ending the value, else SLOW (a digit-less value: ABSENT, skipped) */
  private count(): number {
    const b = this.b;
    const s = this.p;
    let n = 0;
    while (this.p < this.end && (b[this.p] as number) >= 0x30 && (b[this.p] as number) <= 0x39) n = n * 10 + ((b[this.p++] as number) - 0x30);
    const digits = this.p - s;
    if (digits === 0) {
      const c = b[s];
      // a minus sign starts a number JSON.parse reads as negative (or -0): its reading, not ours
      if (c === 0x2d) return SLOW;
      this.skip();
      return ABSENT;
    }
    const next = b[this.p];
    if (digits > 15 || next === 0x2e || next === 0x65 || next === 0x45) return SLOW;
    return n;
  }

  /** Skips the value at p (valid JSON): a string, an object or array (strings inside kept whole), a literal or number. */
  private skip(): number {
    const b = this.b;
    const c = b[this.p];
    if (c === QUOTE) {
      this.string();
      return 0;
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      let depth = 0;
      while (this.p < this.end) {
        const x = b[this.p];
        if (x === QUOTE) {
          this.string();
          continue;
        }
        this.p++;
        if (x === OPEN_OBJ || x === OPEN_ARR) depth++;
        else if ((x === CLOSE_OBJ || x === CLOSE_ARR) && --depth === 0) return 0;
      }
      return SLOW;
    }
    // a literal or a number: up to the next comma, closing bracket or white space
    while (this.p < this.end) {
      const x = b[this.p];
      if (x === COMMA || x === CLOSE_OBJ || x === CLOSE_ARR || x === 0x20 || x === 0x0a || x === 0x0d || x === 0x09) break;
      this.p++;
    }
    return 0;
  }

  /** from an opening quote at p to after its closing one, past escapes */
  private string(): void {
    const b = this.b;
    this.p++;
    while (this.p < this.end) {
      const x = b[this.p++];
      if (x === BACKSLASH) this.p++;
      else if (x === QUOTE) return;
    }
  }

  private ws(): void {
    const b = this.b;
    while (this.p < this.end) {
      const c = b[this.p];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.p++;
    }
  }
}

const reader = new UsageReader();

/** usageTokens({ usage }) of the usage value at bytes [start, end) (valid JSON), or SLOW_USAGE: parse it. */
export function readUsage(b: Uint8Array, start: number, end: number): RequestTokens | undefined | typeof SLOW_USAGE {
  return reader.read(b, start, end);
}
