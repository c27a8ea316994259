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

export function createStreamMeter(kind: StreamKind): StreamMeter {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let line = ''; // the current line, not yet ended
  let afterCR = false; // the last character seen was a CR: a LF right after it ends nothing
  let atStart = true; // a BOM is only stripped at the very start
  let data = ''; // the open event's data buffer
  let hasData = false;
  let overflow = false;

  let firstTokenMs: number | undefined;
  let lastTokenMs = 0;
  const itl: number[] = [];
  let contentEvents = 0;
  let usage: StreamUsage | undefined;
  let lastJson: unknown;
  let model: string | undefined;
  let done = false;
  let error: string | undefined;

  function onData(text: string, tMs: number): void {
    if (text === '[DONE]') {
      done = true;
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    if (!isObj(json)) return;
    if (json.error !== undefined && json.error !== null && error === undefined) error = streamError(json.error);
    lastJson = json;
    if (nonEmpty(json.model)) model = json.model as string;
    const u = readUsage(json.usage);
    if (u !== undefined) usage = u;
    const choice = firstChoice(json);
    if (choice === undefined) return;
    const content = kind === 'chat' ? chatContent(choice) : nonEmpty(choice.text);
    if (!content) return;
    if (firstTokenMs === undefined) firstTokenMs = tMs;
    else itl.push(tMs - lastTokenMs);
    lastTokenMs = tMs;
    contentEvents++;
  }

  function onLine(l: string, tMs: number): void {
    if (l === '') {
      if (hasData && !overflow) onData(data.endsWith('\n') ? data.slice(0, -1) : data, tMs);
      data = '';
      hasData = false;
      overflow = false;
      return;
    }
    if (l.charCodeAt(0) === 0x3a) return; // ":" comment (keep-alives)
    const colon = l.indexOf(':');
    const field = colon === -1 ? l : l.slice(0, colon);
    if (field !== 'data') return;
    let value = colon === -1 ? '' : l.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    if (overflow) return;
    if (data.length + value.length + 1 > MAX_EVENT_CHARS) {
      overflow = true;
      data = '';
      return;
    }
    data += `${value}\n`;
    hasData = true;
  }

  function pushText(text: string, tMs: number): void {
    let s = text;
    if (atStart && s.length > 0) {
      atStart = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      if (c === LF && afterCR && i === start && line === '') {
        // the LF of a CR LF whose CR ended the previous line
        afterCR = false;
        start = i + 1;
        continue;
      }
      const whole = line === '' ? s.slice(start, i) : line + s.slice(start, i);
      line = '';
      afterCR = c === CR;
      start = i + 1;
      onLine(whole, tMs);
    }
    if (start < s.length) {
      afterCR = false;
      line += s.slice(start);
      if (line.length > MAX_EVENT_CHARS) {
        // an endless line: drop it and whatever event it belongs to
        line = '';
        overflow = true;
      }
    }
  }

  return {
    push(chunk, tMs) {
      try {
        if (typeof chunk === 'string') pushText(chunk, tMs);
        else if (chunk instanceof Uint8Array) pushText(decoder.decode(chunk, { stream: true }), tMs);
      } catch {
        // defensive: a meter must never take the load generator down
      }
    },
    finish() {
      // An open event (no blank line yet) is discarded, as the spec says for end of stream.
      const result: StreamResult = {
        firstTokenMs,
        itl,
        tokens: usage !== undefined ? usage.completion_tokens : contentEvents,
        contentEvents,
        done,
      };
      if (usage !== undefined) result.usage = usage;
      if (error !== undefined) result.error = error;
      if (lastJson !== undefined) result.lastJson = lastJson;
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
