/**
 * What a finished response means, as a pure function the engine calls once per response and tests
 * call without sockets: its server stages (headers, trailers, body), its client-measured stream
 * stages, its path (primary, fallback or a named path), whether it counts as an error, and its output tokens.
 *
 * Stream stages, from the intended send time t₀, the first content token at t₁, the end at t₂ and
 * n output tokens:
 *
 *   ttft = t₁ − t₀    total = t₂ − t₀    tpot = (total − ttft) ÷ (n − 1)    tokens_per_s = n ÷ total
 *   itl  = every gap between consecutive content events
 *
 * A stream without a content token has no stream stages (they are then unmeasured, never 0).
 */
import type { PathName } from './profile-types.js';
import type { ObservedTimings } from './recorder.js';
import { ITL_STAGE, TOKENS_PER_S_STAGE, TPOT_STAGE, TTFT_STAGE } from './stages.js';
import { tokensPerSecond, tpotMs, type StreamMeter, type StreamResult } from './stream.js';
import type { TimingExtractor } from './timing.js';
import { bodyUsageTokens, usageTokens, type RequestTokens } from './tokens.js';

/** What the engine kept of one request while it was in flight (its per-request slot has these). */
export interface ResponseFacts {
  arrival: { t: number };
  /** raw header list [name, value, name, value, …] of the headers the extractor reads (TimingExtractor.reads) and Content-Encoding, the only ones the engine keeps; undefined when none arrived */
  headers: string[] | undefined;
  trailers?: string[];
  /** set when the response was an event stream being timed */
  meter?: StreamMeter;
  /** the meter's result, when it was finished already (its meter serves the connection's next stream) */
  finished?: StreamResult;
  /** the body's `usage`, read already when the response ended (null: it has none); then no body is passed */
  bodyTokens?: RequestTokens | null;
}

/** The rules that read a response, fixed for a run. */
export interface ResponseRules {
  extractor: TimingExtractor;
  /** the `model` the request asked for (the modelDiffers fallback signal compares with it) */
  requestedModel?: string;
}

export interface ResponseMeaning extends ObservedTimings {
  /** why the request counts as failed ("http 503"); undefined for a 2xx */
  error: string | undefined;
  /** output tokens of a stream (usage.completion_tokens, else content events); 0 when not streamed */
  streamTokens: number;
}

/**
 * `status` and `doneMs` (the run's clock) of the finished response; `body` the kept body of a
 * non-streamed response: its text when a rule reads it (text that is not JSON gives body rules
 * nothing), or its undecoded bytes when only its `usage` is wanted (then nothing else is parsed).
 */
export function interpretResponse(f: ResponseFacts, status: number, doneMs: number, body: string | Uint8Array | undefined, rules: ResponseRules): ResponseMeaning {
  let json: unknown;
  let client: Map<string, number> | undefined;
  let samples: Map<string, number[]> | undefined;
  let tokens = 0;
  let counted: RequestTokens | undefined;
  let streamError: string | undefined;
  const r = f.finished ?? f.meter?.finish(doneMs);
  if (r) {
    json = r.lastJson;
    tokens = r.tokens;
    // an `error` event after the 200 (OpenAI's and llama.cpp's way to fail a stream) fails the request
    streamError = r.error;
    if (r.usage) {
      counted = { input: r.usage.prompt_tokens, output: r.usage.completion_tokens, source: 'usage' };
      if (r.usage.cached_tokens !== undefined) counted.cached = r.usage.cached_tokens;
    }
    else if (r.contentEvents > 0) counted = { output: r.contentEvents, source: 'events' };
    if (r.firstTokenMs !== undefined) {
      const ttft = r.firstTokenMs - f.arrival.t;
      const total = doneMs - f.arrival.t;
      client = new Map([[TTFT_STAGE, ttft]]);
      const tpot = tpotMs(total, ttft, r.tokens);
      if (tpot !== undefined) client.set(TPOT_STAGE, tpot);
      const rate = r.tokens > 0 ? tokensPerSecond(r.tokens, total) : undefined;
      if (rate !== undefined) client.set(TOKENS_PER_S_STAGE, rate);
      samples = new Map([[ITL_STAGE, r.itl]]);
    }
  } else if (typeof body === 'string') {
    json = parseJson(body);
    counted = usageTokens(json);
  } else if (f.bodyTokens !== undefined) {
    counted = f.bodyTokens ?? undefined;
  } else if (body !== undefined) {
    counted = bodyUsageTokens(body);
  }
  const t = rules.extractor.extract(f.headers ?? [], f.trailers, { json, requestedModel: rules.requestedModel });
  const error = status >= 200 && status < 300 ? streamError : `http ${status}`;
  const m: ResponseMeaning = { stages: t.stages, unmeasured: t.unmeasured, path: t.path, signals: t.signals, client, samples, error, streamTokens: tokens };
  if (counted) m.tokens = counted; // an assignment, not a spread: this runs once per response
  return m;
}

/** The path of a request that ended without a response (timeout, socket error): what its headers said, if any came. */
export function unfinishedPath(f: ResponseFacts, rules: ResponseRules): PathName {
  return f.headers ? rules.extractor.extract(f.headers, f.trailers).path : 'primary';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // not JSON: body rules find nothing and report those stages unmeasured
  }
}
