/**
 * The validated, normalised profile. Every duration is in milliseconds, every rate in requests per
 * second, every ratio a fraction in [0, 1]. Produced only by `parseProfile` (profile.ts).
 */

import type { MetricBudget, MetricSource } from './metrics-profile.js';

export const LATENCY_KEYS = ['p50', 'p90', 'p95', 'p99', 'p999', 'max', 'mean'] as const;
export type LatencyKey = (typeof LATENCY_KEYS)[number];

export type PathName = 'primary' | 'fallback';
export const PATHS: readonly PathName[] = ['primary', 'fallback'];

export interface Target {
  /** Absent: the embedded simulated endpoint is started and used. */
  url?: string;
  method: string;
  /** Header names as written in the profile; values after `${VAR}` substitution. */
  headers: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  timeoutMs: number;
  /**
   * The request asks for a streamed response (`body.stream: true`): the driver times the stream's
   * content events (ttft, itl, tpot, tokens/s). Also true when the profile says `stream: true`.
   */
  stream: boolean;
  /** prompts substituted into each request's body (see Prompts) */
  prompts?: Prompts;
}

/**
 * Per-request prompts. `file`: a JSONL file (the CLI reads it; the core gets its text), one prompt a
 * line (`{"prompt": "..."}` or `{"messages": [...]}` or a bare JSON string), chosen round-robin or by
 * a seeded random draw. `synthetic`: prompts generated with a token-length distribution.
 */
export type Prompts =
  | { kind: 'file'; file: string; order: 'round-robin' | 'random' }
  | { kind: 'synthetic'; tokens: { mean: number; stddev: number; min: number; max: number } };

export type TimeUnit = 'us' | 'ms' | 's';

/** Where a stage's value is read from and in which unit; values are converted to ms. */
export interface StageSource {
  stage: string;
  unit: TimeUnit;
}

export interface TimingRules {
  /** Every Server-Timing metric with a dur becomes a stage of that name (ms), from headers or trailers. */
  serverTiming: boolean;
  /** lower-cased header name → stage (a preset's headers merged with the profile's own). */
  headers: Record<string, StageSource>;
  /**
   * JSON body field (dotted path, e.g. `metrics.queue_time_ms`, `timings.prompt_ms`) → stage. Read
   * from a non-streamed JSON body, or from the last JSON event of a stream that carries it.
   */
  body: Record<string, StageSource>;
  /** the preset these rules came from, if any (tgi, envoy, openai, litellm, vllm, llamacpp) */
  preset?: string;
}

/**
 * One way a response says it was served by a fallback. A response is fallback when any signal says
 * so; the report counts how many responses each signal caught (by `FallbackRule.id`).
 */
export type FallbackSignal =
  | { kind: 'equals'; header: string; value: string }
  | { kind: 'matches'; header: string; pattern: string }
  /** the header's value, as a number, is greater than `than` (LiteLLM: x-litellm-attempted-fallbacks > 0) */
  | { kind: 'greaterThan'; header: string; than: number }
  /** the response body's `model` differs from the request body's `model` */
  | { kind: 'modelDiffers' };

export type FallbackRule = FallbackSignal & {
  /** readable and unique: "x-route=fallback", "x-litellm-attempted-fallbacks>0", "model differs" */
  id: string;
};

/** How open-model requests are spaced along the rate curve. */
export type Arrivals = 'uniform' | 'poisson' | 'gamma';

/**
 * open: requests leave at scheduled times whatever the server does (`rate` → `to` req/s).
 * closed: `concurrency` → `concurrencyTo` virtual users, each sending its next request when its last
 * returns (autocannon's native model); latency is then measured from the actual send.
 */
export type LoadModel = 'open' | 'closed';

export interface Phase {
  name: string;
  durationMs: number;
  model: LoadModel;
  /** open: requests per second at the phase's start (0 for closed phases) */
  rate: number;
  /** open: requests per second at the phase's end (linear ramp); equals `rate` when the profile gave no `to` */
  to: number;
  /** closed: virtual users at the phase's start (0 for open phases) */
  concurrency: number;
  /** closed: virtual users at the phase's end (linear ramp, rounded); equals `concurrency` without `to` */
  concurrencyTo: number;
  /** warmup phases send load but are not budgeted */
  warmup: boolean;
}

/** Which requests a budget looks at. Absent path: both; absent phase: every non-warmup phase. */
export interface BudgetScope {
  path?: PathName;
  phase?: string;
  /**
   * Early abort (`abortOnFail: true`): evaluated during the run over the last `windowMs` of
   * completions, from `afterMs` into the run on; a failure stops the load (defaults 30 s and 60 s).
   */
  abort?: { windowMs: number; afterMs: number };
}

/**
 * One atomic budget: one limit. A profile entry `{ stage: total, p50: 250ms, p99: 800ms }` becomes two
 * of these, so every verdict has exactly one observed value and one limit.
 */
export type Budget =
  | ({ kind: 'latency'; id: string; stage: string; key: LatencyKey; limitMs: number } & BudgetScope)
  | ({ kind: 'errorRate'; id: string; max: number } & BudgetScope)
  | ({ kind: 'fallbackRate'; id: string; max: number } & BudgetScope)
  /** the fraction of requests that met every per-request limit of `Profile.goodput` */
  | ({ kind: 'goodput'; id: string; min: number } & BudgetScope)
  /** one statistic of one scraped server metric (core/metrics-profile.ts) */
  | MetricBudget;

export interface Profile {
  name: string;
  target: Target;
  timings: TimingRules;
  /** empty: every response is primary */
  fallback: FallbackRule[];
  /**
   * Per-request limits, stage → ms (`{ ttft: 500, tpot: 50, total: 5000 }`): a request is *good* when
   * it succeeded and met every one; goodput = good ÷ finished. Empty: no goodput is computed.
   */
  goodput: Record<string, number>;
  arrivals: Arrivals;
  /**
   * gamma arrivals only: the shape of the gamma distribution of gaps, whose mean stays 1/rate
   * (vLLM's definition): 1 is poisson, < 1 burstier, > 1 more regular. Default 1.
   */
  burstiness: number;
  /** seed for poisson and gamma arrivals (and anything else random); default 1 */
  seed: number;
  /** the cap on concurrent requests (= connections); default 1,000 */
  maxInFlight: number;
  /**
   * Safety cap on the highest scheduled rate, req/s (default 5,000): a profile whose phases go
   * higher is refused unless it raises `maxRate` explicitly.
   */
  maxRate: number;
  phases: Phase[];
  budgets: Budget[];
  /** server metrics endpoints scraped during the run (core/metrics-profile.ts); empty: none */
  metrics: MetricSource[];
}
