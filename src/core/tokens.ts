/**
 * Token accounting, as LLM benchmarks report it (vLLM's `bench serve`: request throughput, output
 * token throughput, total token throughput):
 *
 *   request throughput = completed ÷ seconds        output tokens/s = output tokens ÷ seconds
 *   total tokens/s     = (input + output tokens) ÷ seconds
 *
 * over a phase's scheduled duration, and for the totals over the run's duration (drain included:
 * the tokens of the last requests are generated then). Each completed request's counts come from
 * its response's `usage` (prompt_tokens, completion_tokens) when present, else (streams) from its
 * counted content events, which give no input count; the figures say how many requests each
 * source covered, so a total built partly from events reads as the estimate it is.
 */
import type { MetricSource } from './profile/metrics.js';
import { METRIC_PRESETS } from './metric-presets.js';
import type { ServerMetricReport } from './server-metrics.js';
import { NOT_OBJECT, scanBody, UNDECIDED, usageScan } from './body-scan.js';

export type TokenSource = 'usage' | 'events';

/** one response's tokens */
export interface RequestTokens {
  input?: number;
  output: number;
  source: TokenSource;
  /** usage.prompt_tokens_details.cached_tokens, when the server reported it (with prompt_tokens) */
  cached?: number;
}

export interface TokenTally {
  inputTokens: number;
  outputTokens: number;
  /** completed requests counted from each source; none: neither usage nor content events */
  tokenSources: { usage: number; events: number; none: number };
}

export interface TokenFigures extends TokenTally {
  /** completed requests per second */
  requestThroughput: number | null;
  outputTokensPerS: number | null;
  totalTokensPerS: number | null;
}

/** The client's count beside the server's own counter over the run. */
export interface TokenCheck {
  source: string;
  metric: string;
  side: 'output' | 'input';
  client: number;
  server: number;
  /** server − client */
  difference: number;
  /** difference ÷ client (null when the client counted none) */
  relative: number | null;
  /** the client's count rests on usage for every completed request (events-only counts are estimates) */
  exact: boolean;
}

export const zeroTally = (): TokenTally => ({ inputTokens: 0, outputTokens: 0, tokenSources: { usage: 0, events: 0, none: 0 } });

export function countTokens(t: TokenTally, r: RequestTokens | undefined): void {
  if (!r) {
    t.tokenSources.none++;
    return;
  }
  t.tokenSources[r.source]++;
  t.outputTokens += r.output;
  t.inputTokens += r.input ?? 0;
}

/** A response body's OpenAI-style `usage`, if it has one with a completion count. */
export function usageTokens(json: unknown): RequestTokens | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const u = (json as { usage?: unknown }).usage;
  if (typeof u !== 'object' || u === null) return undefined;
  const { prompt_tokens: p, completion_tokens: c } = u as Record<string, unknown>;
  if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) return undefined;
  const input = typeof p === 'number' && Number.isFinite(p) && p >= 0 ? p : undefined;
  const cached = input === undefined ? undefined : cachedTokens(u, input);
  return { output: c, ...(input !== undefined ? { input } : {}), source: 'usage', ...(cached !== undefined ? { cached } : {}) };
}

/**
 * `usage.prompt_tokens_details.cached_tokens` (OpenAI, vLLM with --enable-prompt-tokens-details,
 * llama.cpp): an integer from 0 to prompt_tokens, else undefined (absent or garbled says nothing).
 */
export function cachedTokens(usage: unknown, promptTokens: number): number | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  const d = (usage as { prompt_tokens_details?: unknown }).prompt_tokens_details;
  if (typeof d !== 'object' || d === null) return undefined;
  const n = (d as { cached_tokens?: unknown }).cached_tokens;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= promptTokens ? n : undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * usageTokens of a JSON body given as UTF-8 bytes, without parsing it: scanBody checks the whole text
 * is one JSON object (anything else has no usage, as JSON.parse would say), finds its last top-level
 * `usage` and reads its counts on the way when they have the common shape (body-scan.ts); else only
 * the usage's bytes are parsed. Where the scan cannot judge alone (an escaped top-level key, deep
 * nesting), the whole body is parsed.
 */
export function bodyUsageTokens(body: Uint8Array): RequestTokens | undefined {
  const scanned = scanBody(body, 0, body.length);
  if (scanned === NOT_OBJECT) return undefined;
  const u = usageScan;
  try {
    if (scanned === UNDECIDED) return usageTokens(JSON.parse(decoder.decode(body)));
    if (u.start < 0 || !u.object) return undefined;
    if (u.slow) return usageTokens({ usage: JSON.parse(decoder.decode(body.subarray(u.start, u.end))) as unknown });
  } catch {
    return undefined;
  }
  if (u.completion < 0) return undefined;
  if (u.prompt < 0) return { output: u.completion, source: 'usage' };
  const t: RequestTokens = { output: u.completion, input: u.prompt, source: 'usage' };
  if (u.cached >= 0 && u.cached <= u.prompt) t.cached = u.cached;
  return t;
}

export function tokenFigures(t: TokenTally, completed: number, durationMs: number): TokenFigures {
  const s = durationMs / 1000;
  const per = (x: number): number | null => (s > 0 ? x / s : null);
  return { ...t, tokenSources: { ...t.tokenSources }, requestThroughput: per(completed), outputTokensPerS: per(t.outputTokens), totalTokensPerS: per(t.inputTokens + t.outputTokens) };
}

/**
 * For each source whose preset names a token counter: the counter's increase over the run (for a
 * histogram such as TGI's tgi_request_generated_tokens, its Δsum) beside the client's total. The
 * server counts every request it served, including those the client timed out on or that errored.
 */
export function tokenChecks(sources: readonly MetricSource[], metrics: readonly ServerMetricReport[], client: TokenTally): TokenCheck[] {
  const out: TokenCheck[] = [];
  const completed = client.tokenSources.usage + client.tokenSources.events + client.tokenSources.none;
  for (const src of sources) {
    if (!src.preset) continue;
    for (const spec of METRIC_PRESETS[src.preset].metrics) {
      if (!spec.tokens) continue;
      const rs = metrics.filter((r) => r.source === src.name && r.name === spec.name);
      if (rs.length === 0 || rs.every((r) => (r.seconds ?? 0) === 0)) continue;
      const server = rs.reduce((n, r) => n + (spec.kind === 'histogram' ? (r.sum ?? 0) : (r.increase ?? 0)), 0);
      const c = spec.tokens === 'output' ? client.outputTokens : client.inputTokens;
      out.push({ source: src.name, metric: spec.name, side: spec.tokens, client: c, server, difference: server - c, relative: c > 0 ? (server - c) / c : null, exact: completed > 0 && client.tokenSources.usage === completed });
    }
  }
  return out;
}

/**
 * Shards' token figures as one: tallies add, throughputs are taken again over `durationMs` (the
 * phase's, or the merged run's). Undefined when no input has token figures (reports older than them).
 */
export function mergeTokenFigures(xs: readonly Partial<TokenFigures>[], completed: number, durationMs: number): TokenFigures | undefined {
  if (xs.every((x) => x.outputTokens === undefined)) return undefined;
  const t = zeroTally();
  for (const x of xs) {
    t.inputTokens += x.inputTokens ?? 0;
    t.outputTokens += x.outputTokens ?? 0;
    for (const k of ['usage', 'events', 'none'] as const) t.tokenSources[k] += x.tokenSources?.[k] ?? 0;
  }
  return tokenFigures(t, completed, durationMs);
}
