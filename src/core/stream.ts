/**
 * Times one streamed (Server-Sent Events) inference response as its bytes arrive: when the first
 * content event came, the gaps between content events, how many tokens, the usage, the model.
 *
 * Event-stream grammar (WHATWG HTML, "Server-sent events", 9.2.5):
 *
 *   stream  = [ bom ] *event *( comment / field ) eof
 *   event   = *( comment / field ) end-of-line          ; a blank line ends (dispatches) an event
 *   comment = ":" *any-char end-of-line
 *   field   = 1*name-char [ ":" [ " " ] *any-char ] end-of-line
 *   end-of-line = ( CR LF ) / LF / CR
 *
 * Only `data` matters here: each `data` line appends its value and a LF to the event's data buffer;
 * at the blank line a trailing LF is removed and the buffer is the event's data (so multi-line data is
 * joined with "\n"). An event with an empty buffer is not dispatched. `event`, `id`, `retry` and
 * unknown fields are ignored: OpenAI-style servers put everything in `data`. Per the spec, an event
 * left open at the end of the stream (no blank line after it) is discarded, not dispatched.
 *
 * Chunks may split anywhere, even inside a CR LF pair or a UTF-8 sequence; the result is the same as
 * for the whole stream in one chunk. Do not mix byte and string chunks within one meter: undecoded
 * bytes of a split UTF-8 sequence would be overtaken by the string.
 *
 * Each event's data is then read as an OpenAI stream chunk:
 *
 *   `[DONE]`                      → done
 *   JSON object                   → lastJson; `model` (a string) → model; `usage` → usage
 *   chat:        choices[0].delta.content (or reasoning_content / reasoning, or a tool call's
 *                function.arguments) non-empty → a content event
 *   completions: choices[0].text non-empty → a content event
 *
 * Reasoning and tool-call deltas count as content because they are generated tokens: leaving them
 * out would put a reasoning model's whole thinking phase into its "time to first token". Anything
 * else (non-JSON data, arrays, wrong types) counts nothing. Nothing here throws.
 */
import { cachedTokens } from './tokens.js';

import { ChunkScanner, NOT_OBJECT, SLOW } from './stream-scan.js';

export type StreamKind = 'chat' | 'completions';

export interface StreamUsage {
  prompt_tokens: number;
  completion_tokens: number;
  /** usage.prompt_tokens_details.cached_tokens, when reported (tokens.ts cachedTokens) */
  cached_tokens?: number;
}

export interface StreamResult {
  /** the push time of the first content event; undefined when there was none */
  firstTokenMs: number | undefined;
  /** every gap between consecutive content events, ms (one fewer than content events) */
  itl: number[];
  /** `usage.completion_tokens` of the last usage seen when present, else the content events counted */
  tokens: number;
  /** content events counted (a server may pack several tokens in one event) */
  contentEvents: number;
  usage?: StreamUsage;
  /** the last JSON object event (e.g. vLLM's final usage chunk with `metrics`) */
  lastJson?: unknown;
  /** the last `model` the events named */
  model?: string;
  /** `data: [DONE]` was seen */
  done: boolean;
  /**
   * An event carried `error` (OpenAI's and llama.cpp's way to fail a stream after its 200, e.g.
   * `{"error":{"code":500,"message":"…"}}`): "stream error 500: …". The request failed.
   */
  error?: string;
}

export interface StreamMeter {
  /** `tMs`: when the chunk arrived (any clock, the same for every call) */
  push(chunk: Uint8Array | string, tMs: number): void;
  finish(tMs: number): StreamResult;
  /**
   * Ready for a new stream, as if just created, keeping its buffers: a connection reuses one meter
   * for all its streams, so a stream's state is not new objects that live as long as the stream
   * (the young-generation survivors that made every scavenge copy ~6 MB at 1,000 streams).
   */
  reset(): void;
}

const LF = 0x0a;
const CR = 0x0d;
/**
 * One event's data beyond this is dropped (the event then counts nothing): a server that never
 * sends a line end must not grow the client's memory without bound.
 */
export const MAX_EVENT_CHARS = 8 * 1024 * 1024;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmpty(v: unknown): boolean {
  return typeof v === 'string' && v.length > 0;
}

function firstChoice(o: Obj): Obj | undefined {
  const choices = o.choices;
  if (!Array.isArray(choices)) return undefined;
  const c: unknown = choices[0];
  return isObj(c) ? c : undefined;
}

function chatContent(choice: Obj): boolean {
  const delta = choice.delta;
  if (!isObj(delta)) return false;
  if (nonEmpty(delta.content) || nonEmpty(delta.reasoning_content) || nonEmpty(delta.reasoning)) return true;
  const calls = delta.tool_calls;
  if (!Array.isArray(calls)) return false;
  for (const call of calls) {
    if (isObj(call) && isObj(call.function) && nonEmpty(call.function.arguments)) return true;
  }
  return false;
}

function readUsage(v: unknown): StreamUsage | undefined {
  if (!isObj(v)) return undefined;
  const c = v.completion_tokens;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) return undefined;
  const p = v.prompt_tokens;
  const prompt = typeof p === 'number' && Number.isFinite(p) && p >= 0 ? p : 0;
  const cached = typeof p === 'number' ? cachedTokens(v, prompt) : undefined;
  return { prompt_tokens: prompt, completion_tokens: c, ...(cached !== undefined ? { cached_tokens: cached } : {}) };
}

/** `{"code":500,"message":"…"}` → "stream error 500: …" (the message cut at 120 characters). */
function streamError(e: unknown): string {
  if (!isObj(e)) return `stream error: ${String(e).slice(0, 120)}`;
  const code = typeof e.code === 'number' || typeof e.code === 'string' ? ` ${e.code}` : '';
  const msg = typeof e.message === 'string' ? `: ${e.message.slice(0, 120)}` : '';
  return `stream error${code}${msg}`;
}

/** chunk → its bytes; the `ENCODER` of string chunks */
const ENCODER = new TextEncoder();
const BOM = [0xef, 0xbb, 0xbf];
/** reset() keeps a buffer up to this size; a larger one (a huge event) is dropped, so an idle meter stays small */
const KEEP_BUFFER_BYTES = 64 * 1024;

/** `dst` with room for `need` bytes, its first `keep` bytes kept. */
function room(dst: Uint8Array, need: number, keep: number): Uint8Array {
  if (dst.length >= need) return dst;
  const grown = new Uint8Array(Math.max(need, dst.length * 2));
  grown.set(dst.subarray(0, keep));
  return grown;
}

/** where the last JSON object event is: none yet or parsed (`lastJson`), copied (`lastBuf`), or a range of a pushed chunk */
const LAST_VALUE = 0;
const LAST_COPIED = 1;
const LAST_IN_CHUNK = 2;

/**
 * The meter works on bytes: line ends (CR, LF) are ASCII and never occur inside a UTF-8 sequence,
 * so framing bytes is framing the decoded text. An event's data is a range of the pushed chunk when
 * it is one line of that chunk (the common case: scanned where it lies), else it is copied into the
 * meter's own buffer. Each event is read by ChunkScanner (stream-scan.ts) without JSON.parse;
 * only the rare events it cannot answer alone (usage, errors, tool calls) are decoded and parsed.
 * The last JSON object is kept as its bytes and parsed in finish(): while a push runs, as a range of
 * its chunk (a read of 8 events copies one of them, not 8), copied out when the push returns. push()
 * keeps nothing of a chunk after it returns: the engine reads every socket into one reused buffer.
 */
export function createStreamMeter(kind: StreamKind): StreamMeter {
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  const scanner = new ChunkScanner(kind);
  // framing
  let carry: Uint8Array = new Uint8Array(256); // the current line, when it began in an earlier chunk
  let carryLen = 0;
  let afterCR = false; // the last byte seen was a CR: a LF right after it ends nothing
  let atStart = true; // a BOM is only stripped at the very start
  let head: Uint8Array | undefined; // the first bytes, while they may be a BOM split across chunks
  let highSurrogate = ''; // a string chunk's last code unit, when it opens a surrogate pair
  // the open event: its data is view[vs, ve) (one line of the chunk being pushed) or evBuf[0, evLen)
  let hasData = false;
  let overflow = false;
  let dataChars = 0; // data buffer length as the spec counts it: each line's value and a LF
  let viewed = false;
  let view: Uint8Array = carry;
  let vs = 0;
  let ve = 0;
  let evBuf: Uint8Array = new Uint8Array(256);
  let evLen = 0;

  let firstTokenMs: number | undefined;
  let lastTokenMs = 0;
  // the gaps, in a buffer that outlives the stream (reset); finish() copies them out
  let itl = new Float64Array(128);
  let itlN = 0;
  let contentEvents = 0;
  let usage: StreamUsage | undefined;
  let lastJson: unknown;
  let last = LAST_VALUE;
  let lastBuf: Uint8Array = new Uint8Array(0);
  let lastLen = 0;
  let lastChunk: Uint8Array = lastBuf;
  let lastS = 0;
  let lastE = 0;
  let model: string | undefined;
  let modelToken: Uint8Array = new Uint8Array(0); // the raw string token `model` came from (empty: set by a parsed event)
  let modelTokenLen = 0;
  let done = false;
  let error: string | undefined;

  function contentAt(tMs: number): void {
    if (firstTokenMs === undefined) firstTokenMs = tMs;
    else {
      if (itlN === itl.length) {
        const grown = new Float64Array(itl.length * 2);
        grown.set(itl);
        itl = grown;
      }
      itl[itlN++] = tMs - lastTokenMs;
    }
    lastTokenMs = tMs;
    contentEvents++;
  }

  /** an event the scanner cannot answer alone: parsed in full */
  function onParsed(text: string, tMs: number): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    if (!isObj(json)) return;
    if (json.error !== undefined && json.error !== null && error === undefined) error = streamError(json.error);
    lastJson = json;
    last = LAST_VALUE;
    if (nonEmpty(json.model)) {
      model = json.model as string;
      modelTokenLen = 0;
    }
    const u = readUsage(json.usage);
    if (u !== undefined) usage = u;
    const choice = firstChoice(json);
    if (choice === undefined) return;
    if (kind === 'chat' ? chatContent(choice) : nonEmpty(choice.text)) contentAt(tMs);
  }

  function sameModel(src: Uint8Array, s: number, e: number): boolean {
    if (e - s !== modelTokenLen) return false;
    for (let i = 0; i < modelTokenLen; i++) if (modelToken[i] !== src[s + i]) return false;
    return true;
  }

  /** one event's data, src[s, e); `inChunk`: a range of the chunk being pushed, else the meter's own buffer */
  function onData(src: Uint8Array, s: number, e: number, inChunk: boolean, tMs: number): void {
    // [DONE]
    if (e - s === 6 && src[s] === 0x5b && src[s + 1] === 0x44 && src[s + 2] === 0x4f && src[s + 3] === 0x4e && src[s + 4] === 0x45 && src[s + 5] === 0x5d) {
      done = true;
      return;
    }
    const verdict = scanner.scan(src, s, e);
    if (verdict === NOT_OBJECT) return;
    if (verdict === SLOW) return onParsed(decoder.decode(src.subarray(s, e)), tMs);
    if (inChunk) {
      last = LAST_IN_CHUNK;
      lastChunk = src;
      lastS = s;
      lastE = e;
    } else {
      lastBuf = room(lastBuf, e - s, 0);
      lastBuf.set(src.subarray(s, e));
      lastLen = e - s;
      last = LAST_COPIED;
    }
    const ms = scanner.modelStart;
    const me = scanner.modelEnd;
    if (ms >= 0 && me - ms > 2 && !sameModel(src, ms, me)) {
      model = JSON.parse(decoder.decode(src.subarray(ms, me))) as string;
      modelToken = room(modelToken, me - ms, 0);
      modelToken.set(src.subarray(ms, me));
      modelTokenLen = me - ms;
    }
    if (scanner.content) contentAt(tMs);
  }

  function dispatch(tMs: number): void {
    if (hasData && !overflow) {
      if (viewed) onData(view, vs, ve, true, tMs);
      else onData(evBuf, 0, evLen, false, tMs);
    }
    hasData = false;
    overflow = false;
    viewed = false;
    evLen = 0;
    dataChars = 0;
  }

  /** the open event's data, copied out of the chunk (it continues past this line or this chunk) */
  function materialize(): void {
    if (!viewed) return;
    viewed = false;
    evBuf = room(evBuf, ve - vs, 0);
    evBuf.set(view.subarray(vs, ve));
    evLen = ve - vs;
  }

  /** one line, src[s, e) without its end; `inChunk` as for onData */
  function onLine(src: Uint8Array, s: number, e: number, inChunk: boolean, tMs: number): void {
    if (s === e) return dispatch(tMs);
    if (src[s] === 0x3a) return; // ":" comment (keep-alives)
    // the field must be exactly `data`: "data" alone, or "data:" and its value
    if (e - s < 4 || src[s] !== 0x64 || src[s + 1] !== 0x61 || src[s + 2] !== 0x74 || src[s + 3] !== 0x61) return;
    if (e - s > 4 && src[s + 4] !== 0x3a) return;
    let v = Math.min(s + 5, e);
    if (v < e && src[v] === 0x20) v++;
    if (overflow) return;
    if (dataChars + (e - v) + 1 > MAX_EVENT_CHARS) {
      overflow = true;
      viewed = false;
      evLen = 0;
      return;
    }
    dataChars += e - v + 1;
    if (!hasData && inChunk) {
      hasData = viewed = true;
      view = src;
      vs = v;
      ve = e;
      return;
    }
    materialize();
    const at = hasData ? evLen + 1 : 0;
    evBuf = room(evBuf, at + (e - v), evLen);
    if (hasData) evBuf[evLen] = LF;
    evBuf.set(src.subarray(v, e), at);
    evLen = at + (e - v);
    hasData = true;
  }

  function pushBytes(chunk: Uint8Array, tMs: number): void {
    let b: Uint8Array = chunk;
    if (atStart) {
      if (head) {
        const joined = new Uint8Array(head.length + b.length);
        joined.set(head);
        joined.set(b, head.length);
        b = joined;
        head = undefined;
      }
      let i = 0;
      while (i < 3 && i < b.length && b[i] === BOM[i]) i++;
      if (i === b.length && i < 3) {
        head = b.slice(); // all BOM so far: wait for more
        return;
      }
      atStart = false;
      if (i === 3) b = b.subarray(3);
    }
    const n = b.length;
    let start = 0;
    // line ends found with indexOf (native, far cheaper than a byte loop); CR is rare: one search
    let cr = b.indexOf(CR);
    let lf = b.indexOf(LF);
    for (;;) {
      if (cr !== -1 && cr < start) cr = b.indexOf(CR, start);
      if (lf !== -1 && lf < start) lf = b.indexOf(LF, start);
      const i = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (i === -1) break;
      const c = b[i];
      if (c === LF && afterCR && i === start && carryLen === 0) {
        // the LF of a CR LF whose CR ended the previous line
        afterCR = false;
        start = i + 1;
        continue;
      }
      afterCR = c === CR;
      if (carryLen === 0) onLine(b, start, i, true, tMs);
      else {
        carry = room(carry, carryLen + (i - start), carryLen);
        carry.set(b.subarray(start, i), carryLen);
        const len = carryLen + (i - start);
        carryLen = 0;
        onLine(carry, 0, len, false, tMs);
      }
      start = i + 1;
    }
    materialize();
    if (last === LAST_IN_CHUNK) {
      lastBuf = room(lastBuf, lastE - lastS, 0);
      lastBuf.set(lastChunk.subarray(lastS, lastE));
      lastLen = lastE - lastS;
      last = LAST_COPIED;
      lastChunk = lastBuf;
    }
    if (start < n) {
      afterCR = false;
      carry = room(carry, carryLen + (n - start), carryLen);
      carry.set(b.subarray(start, n), carryLen);
      carryLen += n - start;
      if (carryLen > MAX_EVENT_CHARS) {
        // an endless line: drop it and whatever event it belongs to
        carryLen = 0;
        overflow = true;
        viewed = false;
        evLen = 0;
      }
    }
  }

  function pushText(text: string, tMs: number): void {
    let s = highSurrogate + text;
    highSurrogate = '';
    const lastUnit = s.charCodeAt(s.length - 1);
    if (lastUnit >= 0xd800 && lastUnit <= 0xdbff) {
      // encoded alone it would be U+FFFD; with the next chunk's low surrogate it is one character
      highSurrogate = s.slice(-1);
      s = s.slice(0, -1);
    }
    if (s.length > 0) pushBytes(ENCODER.encode(s), tMs);
  }

  function lastObject(): unknown {
    if (last === LAST_VALUE) return lastJson;
    // every push ends by copying a last event still in its chunk, so between pushes it is LAST_COPIED
    return JSON.parse(decoder.decode(lastBuf.subarray(0, lastLen))); // the scanner found it valid
  }

  const small = (b: Uint8Array): Uint8Array => (b.length > KEEP_BUFFER_BYTES ? new Uint8Array(256) : b);

  function reset(): void {
    carry = small(carry);
    carryLen = 0;
    afterCR = false;
    atStart = true;
    head = undefined;
    highSurrogate = '';
    hasData = false;
    overflow = false;
    dataChars = 0;
    viewed = false;
    view = carry;
    vs = 0;
    ve = 0;
    evBuf = small(evBuf);
    evLen = 0;
    firstTokenMs = undefined;
    lastTokenMs = 0;
    if (itl.length * 8 > KEEP_BUFFER_BYTES) itl = new Float64Array(128);
    itlN = 0;
    contentEvents = 0;
    usage = undefined;
    lastJson = undefined;
    last = LAST_VALUE;
    lastBuf = small(lastBuf);
    lastLen = 0;
    lastChunk = lastBuf; // no pushed chunk stays referenced
    lastS = 0;
    lastE = 0;
    model = undefined;
    modelToken = small(modelToken);
    modelTokenLen = 0;
    done = false;
    error = undefined;
  }

  return {
    reset,
    push(chunk, tMs) {
      try {
        if (typeof chunk === 'string') pushText(chunk, tMs);
        else if (chunk instanceof Uint8Array) pushBytes(chunk, tMs);
      } catch {
        // defensive: a meter must never take the load generator down
      }
    },
    finish() {
      // An open event (no blank line yet) is discarded, as the spec says for end of stream.
      const result: StreamResult = {
        firstTokenMs,
        itl: gapsOf(itl, itlN),
        tokens: usage !== undefined ? usage.completion_tokens : contentEvents,
        contentEvents,
        done,
      };
      if (usage !== undefined) result.usage = usage;
      if (error !== undefined) result.error = error;
      let json: unknown;
      try {
        json = lastObject();
      } catch {
        json = undefined;
      }
      if (json !== undefined) result.lastJson = json;
      if (model !== undefined) result.model = model;
      return result;
    },
  };
}

/**
 * Time per output token after the first (vLLM's and NVIDIA GenAI-Perf's TPOT):
 *
 *   tpot = (total − ttft) / (tokens − 1)
 *
 * the decode time spread over the tokens that followed the first. Undefined for fewer than two
 * tokens (no gap to measure) or a total before the ttft.
 */
export function tpotMs(totalMs: number, ttftMs: number, tokens: number): number | undefined {
  if (!(tokens >= 2) || !Number.isFinite(totalMs) || !Number.isFinite(ttftMs) || totalMs < ttftMs) return undefined;
  return (totalMs - ttftMs) / (tokens - 1);
}

/**
 * Output tokens per second of the whole request, as a user waiting for the full answer sees it:
 *
 *   tokens/s = tokens · 1000 / total      (total in ms)
 *
 * Undefined when total ≤ 0.
 */
export function tokensPerSecond(tokens: number, totalMs: number): number | undefined {
  if (!(totalMs > 0) || !Number.isFinite(tokens) || tokens < 0) return undefined;
  return (tokens * 1000) / totalMs;
}

/**
 * Decode speed once the first token is out: (tokens − 1) · 1000 / (total − ttft) = 1000 / tpot.
 * Undefined where `tpotMs` is, or when tpot is 0.
 */
export function decodeTokensPerSecond(totalMs: number, ttftMs: number, tokens: number): number | undefined {
  const tpot = tpotMs(totalMs, ttftMs, tokens);
  return tpot === undefined || tpot === 0 ? undefined : 1000 / tpot;
}

/** The first n gaps as an array, copied by index: Array.from(subarray) allocates an iterator result per gap. */
function gapsOf(itl: Float64Array, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = itl[i] as number;
  return out;
}
