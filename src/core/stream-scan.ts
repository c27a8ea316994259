/**
 * Reads one stream event's data (UTF-8 bytes) as an OpenAI stream chunk without building it: a
 * single pass that checks the JSON grammar (RFC 8259, as JSON.parse accepts it) and notes only what
 * the stream meter needs, so the 100,000 events/s of a large streamed run cost no JSON.parse and no
 * allocation each. The answer is exactly what JSON.parse followed by the meter's reading would give,
 * or "parse it" (SLOW) where the fast reading would need the values themselves:
 *
 *   NOT_OBJECT  not JSON, or JSON that is not an object            → counts nothing
 *   OBJECT      an object; `content`, `modelStart/modelEnd` hold what it says
 *   SLOW        an object with a non-null `usage` or `error`, tool calls, an escaped key among the
 *               keys read, or nesting deeper than MAX_DEPTH      → JSON.parse it (rare events)
 *
 * Duplicate keys: the last one wins, as in JSON.parse. A JSON string is non-empty iff its token is
 * longer than its two quotes (every escape decodes to at least one character). Bytes that are not
 * valid UTF-8 decode to U+FFFD, which is legal inside a string and illegal outside one, as here.
 */
import { CLOSE_ARR, CLOSE_OBJ, COLON, COMMA, literalEnd, numberEnd, OPEN_ARR, OPEN_OBJ, QUOTE, stringEnd, stringEscaped } from './json-lex.js';
import type { StreamKind } from './stream.js';

export const NOT_OBJECT = 0;
export const OBJECT = 1;
export const SLOW = 2;

const MAX_DEPTH = 64;

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const K_MODEL = bytes('model');
const K_CHOICES = bytes('choices');
const K_USAGE = bytes('usage');
const K_ERROR = bytes('error');
const K_DELTA = bytes('delta');
const K_TEXT = bytes('text');
const K_CONTENT = bytes('content');
const K_REASONING_CONTENT = bytes('reasoning_content');
const K_REASONING = bytes('reasoning');
const K_TOOL_CALLS = bytes('tool_calls');
const NULL = bytes('null');

/** what `members` does with an object's members */
const TOP = 0;
const CHOICE = 1;
const DELTA = 2;
const SKIP = 3;

export class ChunkScanner {
  /** OBJECT: a content event (chat: delta.content / reasoning_content / reasoning non-empty; completions: text non-empty) */
  content = false;
  /** OBJECT: the `model` string token (quotes included) when the last `model` is a string; else −1 */
  modelStart = -1;
  modelEnd = -1;
  /** the last top-level `usage` value's range (any value, null included); −1 when none */
  usageStart = -1;
  usageEnd = -1;
  /** SLOW for a reason other than values needed (an escaped key, deep nesting): only JSON.parse can read it */
  undecided = false;
  private b: Uint8Array = new Uint8Array(0);
  private end = 0;
  private slow = false;
  /** the last string skipped had an escape */
  private escaped = false;
  // the delta's last content, reasoning_content and reasoning were non-empty strings
  private dContent = false;
  private dReasoningContent = false;
  private dReasoning = false;

  constructor(private readonly kind: StreamKind) {}

  /** Reads b[start, end): NOT_OBJECT, OBJECT or SLOW. Reads no byte outside [start, end). */
  scan(b: Uint8Array, start: number, end: number): number {
    this.b = b;
    this.end = end;
    this.slow = false;
    this.content = false;
    this.modelStart = -1;
    this.modelEnd = -1;
    this.usageStart = -1;
    this.usageEnd = -1;
    this.undecided = false;
    const p = this.ws(start);
    if (this.at(p) !== OPEN_OBJ) return NOT_OBJECT;
    const q = this.members(p, TOP, 0);
    if (q < 0) return this.undecided ? SLOW : NOT_OBJECT; // invalid, unless the scan stopped undecided (too deep)
    if (this.ws(q) !== end) return NOT_OBJECT;
    return this.slow ? SLOW : OBJECT;
  }

  /** the byte at p, or −1 outside the data */
  private at(p: number): number {
    return p < this.end ? (this.b[p] as number) : -1;
  }

  private ws(p: number): number {
    for (;;) {
      const c = this.at(p);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return p;
      p++;
    }
  }

  /** the string token [s, e) (quotes included) is `key` */
  private is(s: number, e: number, key: Uint8Array): boolean {
    if (e - s - 2 !== key.length) return false;
    const b = this.b;
    for (let i = 0; i < key.length; i++) if (b[s + 1 + i] !== key[i]) return false;
    return true;
  }

  /** An object from its `{` at p, each member read as `mode` says: the position after its `}`, or −1. */
  private members(p: number, mode: number, depth: number): number {
    p = this.ws(p + 1);
    if (this.at(p) === CLOSE_OBJ) return p + 1;
    for (;;) {
      if (this.at(p) !== QUOTE) return -1;
      const ke = this.string(p);
      if (ke < 0) return -1;
      // an escaped key may spell one of the keys read ("mod\u0065l"): JSON.parse decides it
      if (this.escaped && mode !== SKIP) this.slow = this.undecided = true;
      let v = this.ws(ke);
      if (this.at(v) !== COLON) return -1;
      v = this.ws(v + 1);
      const q = mode === TOP ? this.topMember(p, ke, v) : mode === CHOICE ? this.choiceMember(p, ke, v) : mode === DELTA ? this.deltaMember(p, ke, v) : this.value(v, depth + 1);
      if (q < 0) return -1;
      p = this.ws(q);
      const c = this.at(p);
      if (c === COMMA) {
        p = this.ws(p + 1);
        continue;
      }
      return c === CLOSE_OBJ ? p + 1 : -1;
    }
  }

  private topMember(ks: number, ke: number, v: number): number {
    const c = this.at(v);
    if (this.is(ks, ke, K_CHOICES)) {
      this.content = false;
      return c === OPEN_ARR ? this.array(v, 1, true) : this.value(v, 1);
    }
    const q = this.value(v, 1);
    if (q < 0) return q;
    if (this.is(ks, ke, K_MODEL)) {
      this.modelStart = c === QUOTE ? v : -1;
      this.modelEnd = c === QUOTE ? q : -1;
    } else if (this.is(ks, ke, K_USAGE)) {
      this.usageStart = v;
      this.usageEnd = q;
      if (!this.isLiteral(v, NULL)) this.slow = true;
    } else if (this.is(ks, ke, K_ERROR) && !this.isLiteral(v, NULL)) {
      this.slow = true;
    }
    return q;
  }

  private choiceMember(ks: number, ke: number, v: number): number {
    const c = this.at(v);
    if (this.kind === 'chat' && this.is(ks, ke, K_DELTA)) {
      this.content = false;
      if (c !== OPEN_OBJ) return this.value(v, 3);
      this.dContent = this.dReasoningContent = this.dReasoning = false;
      const q = this.members(v, DELTA, 3);
      this.content = this.dContent || this.dReasoningContent || this.dReasoning;
      return q;
    }
    const q = this.value(v, 3);
    if (q >= 0 && this.kind === 'completions' && this.is(ks, ke, K_TEXT)) this.content = c === QUOTE && q - v > 2;
    return q;
  }

  /** content, reasoning_content, reasoning: each the last of its key; the event counts if any is non-empty */
  private deltaMember(ks: number, ke: number, v: number): number {
    const c = this.at(v);
    const q = this.value(v, 4);
    if (q < 0) return q;
    const nonEmpty = c === QUOTE && q - v > 2;
    if (this.is(ks, ke, K_CONTENT)) this.dContent = nonEmpty;
    else if (this.is(ks, ke, K_REASONING_CONTENT)) this.dReasoningContent = nonEmpty;
    else if (this.is(ks, ke, K_REASONING)) this.dReasoning = nonEmpty;
    else if (this.is(ks, ke, K_TOOL_CALLS) && c === OPEN_ARR) this.slow = true;
    return q;
  }

  private isLiteral(p: number, lit: Uint8Array): boolean {
    for (let i = 0; i < lit.length; i++) if (this.at(p + i) !== lit[i]) return false;
    return true;
  }

  /** Skips any JSON value at p: its end, or −1 when invalid (or too deep: then `slow`). */
  private value(p: number, depth: number): number {
    const c = this.at(p);
    if (c === QUOTE) return this.string(p);
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (depth >= MAX_DEPTH) {
        this.slow = this.undecided = true;
        return -1;
      }
      return c === OPEN_OBJ ? this.members(p, SKIP, depth) : this.array(p, depth);
    }
    if (c === 0x74 || c === 0x66 || c === 0x6e) return literalEnd(this.b, p, this.end);
    return numberEnd(this.b, p, this.end);
  }

  /** An array from its `[` at p; `choices`: its first element, when an object, is read as a choice. */
  private array(p: number, depth: number, choices = false): number {
    p = this.ws(p + 1);
    if (this.at(p) === CLOSE_ARR) return p + 1;
    for (let i = 0; ; i++) {
      const q = choices && i === 0 && this.at(p) === OPEN_OBJ ? this.members(p, CHOICE, depth + 1) : this.value(p, depth + 1);
      if (q < 0) return -1;
      p = this.ws(q);
      const c = this.at(p);
      if (c === COMMA) {
        p = this.ws(p + 1);
        continue;
      }
      return c === CLOSE_ARR ? p + 1 : -1;
    }
  }

  /** A string token from its opening quote at p: the position after its closing quote, or −1; `escaped` says whether it had an escape. */
  private string(p: number): number {
    const q = stringEnd(this.b, p, this.end);
    this.escaped = stringEscaped();
    return q;
  }
}
