/**
 * A profile twice over: `…Input` is what a user writes (YAML or JSON, before validation), and the
 * plain name is the validated, normalised profile produced only by `parseProfile` (profile/), in
 * which every duration is in milliseconds, every rate in requests per second, every ratio a
 * fraction in [0, 1]. Each input type sits beside the type it becomes; the words for a parsed value
 * (`describe*`) sit beside its type too.
 *
 * In an input, any optional key may also be null (a bare `key:` in YAML), which means absent; any
 * string may use `${VAR}` (`$${` for a literal `${`). The accepted key lists are profile/keys.ts.
 */
import { STREAM_STAGES } from './stages.js';
import { formatDuration, formatPercent } from './units.js';

import type { MetricBudget, MetricSource, MetricStat } from './profile/metrics.js';
import type { TokenizerChoice } from './tokenizer.js';

export const LATENCY_KEYS = ['p50', 'p90', 'p95', 'p99', 'p999', 'max', 'mean'] as const;
export type LatencyKey = (typeof LATENCY_KEYS)[number];

/** A written duration: "30s", "1m30s", "250ms", "1.5s" (units.ts). */
export type DurationInput = string;
/** "1%", "0.5%", or a fraction from 0 to 1. */
export type PercentInput = string | number;

/**
 * A route a response took: `primary` (no path rule matched), `fallback`, or any name the profile's
 * `paths:` gives (profile/paths.ts). Reports written before named paths only hold the first two.
 */
export type PathName = string;
export const PRIMARY_PATH = 'primary';
export const FALLBACK_PATH = 'fallback';
export const PATHS: readonly PathName[] = [PRIMARY_PATH, FALLBACK_PATH];

export interface TargetInput {
  url?: string;
  /** default POST with a body, GET without */
  method?: string;
  headers?: Record<string, string | number | boolean>;
  body?: unknown;
  /** default 30s */
  timeout?: DurationInput;
  stream?: boolean;
  /** a JSONL file of prompts, relative to the profile */
  dataset?: string | DatasetInput;
  prompts?: PromptsInput;
}

export interface DatasetInput {
  file: string;
  /** default round-robin */
  order?: 'round-robin' | 'random';
}

/** Generated prompts: stddev default 0, min default 1, max default ⌈mean + 4·stddev⌉. */
export interface PromptsInput {
  tokens: { mean: number; stddev?: number; min?: number; max?: number };
}

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
 * The request in words, for `validate`: "POST http://…/v1/chat/completions, streamed, prompts from
 * data/prompts.jsonl (round-robin), timings preset tgi". `url` absent: "the embedded simulator".
 */
export function describeTarget(t: Target, timings?: TimingRules): string {
  const parts = [`${t.method} ${t.url ?? 'the embedded simulator'}`];
  if (t.stream) parts.push(`streamed (${STREAM_STAGES.join(', ')} measured)`);
  if (t.prompts?.kind === 'file') parts.push(`prompts from ${t.prompts.file} (${t.prompts.order})`);
  if (t.prompts?.kind === 'synthetic') {
    const k = t.prompts.tokens;
    parts.push(`generated prompts of ~${k.mean} ± ${k.stddev} tokens (${k.min}..${k.max})`);
  }
  if (timings?.preset !== undefined) parts.push(`timings preset ${timings.preset}`);
  return parts.join(', ');
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

/** A stage name (value in ms), or the name with its unit; `µs` is `us`. */
export type StageSourceInput = string | { stage: string; unit?: TimeUnit | 'µs' };

/** Where a stage's value is read from and in which unit; values are converted to ms. */
export interface StageSource {
  stage: string;
  unit: TimeUnit;
}

export interface TimingsInput {
  /** default true */
  serverTiming?: boolean;
  /** tgi, envoy, openai, litellm, vllm, llamacpp (presets.ts) */
  preset?: string;
  /** header name → stage */
  headers?: Record<string, StageSourceInput>;
  /** dotted JSON path → stage */
  body?: Record<string, StageSourceInput>;
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
 * One way a response says which path served it (a fallback, a cache, …). A response takes a path
 * when any of the path's signals says so; the report counts how many responses each signal caught
 * (by `FallbackRule.id`). A signal reads a header (`header`, lower-cased) or a field of the JSON
 * body (`field`, a dotted path as in timing body rules; a stream's last JSON event).
 */
export type SignalSource = { header: string; field?: undefined } | { field: string; header?: undefined };
export type FallbackSignal =
  | (SignalSource & { kind: 'equals'; value: string })
  | (SignalSource & { kind: 'matches'; pattern: string })
  /** the value, as a number, is greater than `than` (LiteLLM: x-litellm-attempted-fallbacks > 0) */
  | (SignalSource & { kind: 'greaterThan'; than: number })
  /** the response body's `model` differs from the request body's `model` */
  | { kind: 'modelDiffers'; header?: undefined; field?: undefined };

/** `fallback:` (and a path's `when:`) is one of these or a list of them. */
export type FallbackSignalInput =
  | { header: string; equals: string | number | boolean }
  | { header: string; matches: string }
  | { header: string; greaterThan: number }
  | { field: string; equals: string | number | boolean }
  | { field: string; matches: string }
  | { field: string; greaterThan: number }
  | { modelDiffers: true };

/** One `paths:` entry: a named route and its signals, or a gateway cache preset (path-presets.ts). */
export type PathInput = { name: string; when: FallbackSignalInput | FallbackSignalInput[] } | { preset: string; name?: string };

/** A named path: a response takes the first path (in profile order) any of whose signals fires. */
export interface PathRule {
  name: string;
  signals: FallbackRule[];
  /** the gateway preset it came from, if any */
  preset?: string;
}

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

/** `rate` (open model) or `concurrency` (closed model); `to` ramps either linearly to its end value. */
export type PhaseInput =
  | ({ name: string; duration: DurationInput; rate: number; to?: number; warmup?: boolean; sessions?: SessionsInput } & PhaseHooksInput)
  | ({ name: string; duration: DurationInput; concurrency: number; to?: number; warmup?: boolean } & PhaseHooksInput);

/** Fault hooks of a plain phase (core/hooks.ts): fired at its scheduled start and end. */
export interface PhaseHooksInput {
  onStart?: HookInput | HookInput[];
  onEnd?: HookInput | HookInput[];
}

/**
 * One hook: exactly one of `http` and `exec`. `exec` is an argv (never a shell); `http.url` is any
 * address, `http.path` is sent to the run's own target (its origin). timeout default 10s.
 */
export interface HookInput {
  http?: HttpHookInput;
  exec?: string[];
  timeout?: DurationInput;
  /** a failure is reported but does not fail the run */
  optional?: boolean;
  /** also runs when the run stops early (Ctrl-C, early abort) before the hook's instant: cleanup */
  always?: boolean;
}

export interface HttpHookInput {
  url?: string;
  path?: string;
  /** default POST with a body, GET without */
  method?: string;
  body?: unknown;
  headers?: Record<string, string | number | boolean>;
}

/** A parsed hook. `http.path` (relative to the target's origin) and `http.url` are exclusive. */
export interface Hook {
  action:
    | { kind: 'http'; url?: string; path?: string; method: string; headers: Record<string, string>; body?: string }
    | { kind: 'exec'; argv: string[] };
  timeoutMs: number;
  optional: boolean;
  always: boolean;
}

/**
 * Multi-turn sessions in an open phase: each scheduled arrival starts a session, whose turn k + 1
 * leaves `thinkTime` after turn k's reply arrived, carrying the conversation so far. `file`: the
 * conversations of a JSONL file (core/conversations.ts); else `turns` generated user turns of
 * `tokens` length (default: target.prompts' lengths, else 64 tokens).
 */
export interface SessionsInput {
  file?: string;
  turns?: number;
  /** default 0s; a file's turn may carry its own */
  thinkTime?: DurationInput;
  tokens?: { mean: number; stddev?: number; min?: number; max?: number };
  /** which conversation a session replays (file only): default round-robin */
  order?: 'round-robin' | 'random';
}

/** Validated sessions: from a conversation file, or generated. */
export type Sessions =
  | { kind: 'file'; file: string; thinkTimeMs: number; order: 'round-robin' | 'random' }
  | { kind: 'generated'; turns: number; thinkTimeMs: number; tokens: { mean: number; stddev: number; min: number; max: number } };

/** Sugar: base for `at`, peak for `hold`, base until `duration` (phases spike-base, spike-peak, spike-recover). */
export interface SpikeInput {
  spike: { name?: string; base: number; peak: number; at: DurationInput; hold: DurationInput; duration: DurationInput; warmup?: boolean };
}

/** Sugar: rates from, from + step, … up to `to`, each held for `hold` (phases step-50, step-100, …). */
export interface StepsInput {
  steps: { name?: string; from: number; to: number; step: number; hold: DurationInput; warmup?: boolean };
}

/** A trace phase: requests at a recorded trace's timestamps, with its lengths and prefix blocks (core/trace/). */
export interface TracePhaseInput {
  name: string;
  trace: TraceInput;
  warmup?: boolean;
}

/** The trace formats read (core/trace/formats.ts holds their fields and units). */
export type TraceFormat = 'mooncake' | 'bailian' | 'azure' | 'burstgpt';

export interface TraceInput {
  /** the trace file, relative to the profile */
  file: string;
  format: TraceFormat;
  /** time scale: 2 replays twice as fast (every gap halves); default 1 */
  speed?: number;
  /** rescale the times to this mean rate, req/s (instead of speed) */
  rate?: number;
  /** replay only the records whose trace time is in [from, to) */
  window?: { from?: DurationInput; to?: DurationInput };
  /** at most this many records (the first of the window) */
  limit?: number;
  /** also send min_tokens = max_tokens and ignore_eos: true, so the output length is exact */
  exactOutput?: boolean;
}

export type PhaseEntryInput = PhaseInput | SpikeInput | StepsInput | TracePhaseInput;

/** One replayed request: its prompt and output lengths (tokens) and its prefix blocks. */
export interface TraceRequest {
  input: number;
  output: number;
  /** leading prefix blocks of `blockTokens` tokens each (empty: no block is shared) */
  hashIds: readonly number[];
}

/** A trace phase's requests on its own clock, after window, limit and time scaling (core/trace/replay.ts). */
export interface TraceReplay {
  /** ms since the phase's start, non-decreasing, one per request */
  offsetsMs: readonly number[];
  requests: readonly TraceRequest[];
  /** tokens per hash_ids block in this format */
  blockTokens: number;
}

/** A trace phase as the profile gives it; `replay` is attached once the file is read (src/trace-file.ts). */
export interface TraceSpec {
  file: string;
  format: TraceFormat;
  speed: number;
  rate?: number;
  /** trace ms */
  fromMs?: number;
  toMs?: number;
  limit?: number;
  exactOutput: boolean;
  replay?: TraceReplay;
}

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
  /** a trace phase (open model): its times come from the trace, and durationMs from its span */
  trace?: TraceSpec;
  /** open phases only: each arrival starts a multi-turn session (SessionsInput) */
  sessions?: Sessions;
  /** fault hooks fired at the phase's scheduled start / end (absent: none) */
  onStart?: Hook[];
  onEnd?: Hook[];
}

/** What every budget entry may add: its scope and early abort (window default 30s, after default 60s). */
export interface BudgetScopeInput {
  /** primary, fallback or a `paths:` name */
  path?: PathName;
  phase?: string;
  abortOnFail?: boolean;
  window?: DurationInput;
  after?: DurationInput;
}

/** One entry may set several limits; each becomes its own Budget. */
export type LatencyBudgetInput = { stage: string; turn?: number | string } & { [K in LatencyKey]?: DurationInput } & BudgetScopeInput;
export type ErrorRateBudgetInput = { errorRate: PercentInput } & BudgetScopeInput;
/** no `path`: the fallback rate counts fallback responses among all of them */
export type FallbackRateBudgetInput = { fallbackRate: PercentInput } & Omit<BudgetScopeInput, 'path'>;
/** `">= 95%"`, `"≥ 95%"`, `"95%"` or `0.95` */
export type GoodputBudgetInput = { goodput: PercentInput } & BudgetScopeInput;
/** a path's share of completed requests: `{ pathShare: cache, min: 30% }`, `{ pathShare: fallback, max: 5% }` */
export type PathShareBudgetInput = { pathShare: PathName; min?: PercentInput; max?: PercentInput } & Omit<BudgetScopeInput, 'path'>;
/** cached ÷ prompt tokens (usage.prompt_tokens_details.cached_tokens): `">= 50%"` */
export type PromptCacheBudgetInput = { promptCacheShare: PercentInput } & BudgetScopeInput;
/** `{ metric: "vllm:num_requests_waiting", max: 50 }`: one or more statistics of a scraped metric (profile/metrics.ts) */
export type MetricBudgetInput = { metric: string; source?: string; phase?: string; abortOnFail?: boolean; window?: DurationInput; after?: DurationInput } & { [K in MetricStat]?: number };
/** one `metrics:` entry: where and how often to scrape */
export interface MetricSourceInput {
  url: string;
  preset?: string;
  interval?: DurationInput;
  timeout?: DurationInput;
  name?: string;
  keep?: string[];
}
/**
 * `{ recovery: { stage: total, p99: 800ms, errorRate: 1%, within: 5s, after: outage, window: 1s, hold: 3s } }`
 * (core/recovery.ts): time from phase `after`'s start until the rolling window meets every limit and
 * keeps meeting them for `hold`; passes when at most `within`.
 */
export type RecoveryBudgetInput = { recovery: RecoveryInput };
export type RecoveryInput = { stage?: string; errorRate?: PercentInput; within: DurationInput; after: string; window?: DurationInput; hold?: DurationInput; path?: PathName } & { [K in LatencyKey]?: DurationInput };
export type BudgetInput = LatencyBudgetInput | ErrorRateBudgetInput | FallbackRateBudgetInput | GoodputBudgetInput | PathShareBudgetInput | PromptCacheBudgetInput | MetricBudgetInput | RecoveryBudgetInput;

/** Which requests a budget looks at. Absent path: both; absent phase: every non-warmup phase. */
export interface BudgetScope {
  path?: PathName;
  phase?: string;
  /** latency budgets on ttft or total in session phases: only turns from..to (1-based, to inclusive; `3+` has no end) */
  turns?: { from: number; to?: number };
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
  /** completed requests on path `of` ÷ completed requests, bounded below (`min`) or above (`max`) */
  | ({ kind: 'pathShare'; id: string; of: PathName; bound: 'min' | 'max'; limit: number } & BudgetScope)
  /** cached ÷ prompt tokens over the responses that reported cached_tokens, ≥ min */
  | ({ kind: 'promptCacheShare'; id: string; min: number } & BudgetScope)
  /** one statistic of one scraped server metric (core/profile/metrics.ts) */
  | MetricBudget
  /** time-to-recover after phase `after` starts (core/recovery.ts); `path` scopes it, `phase` is unused */
  | ({ kind: 'recovery'; id: string; stage: string; limits: readonly { key: LatencyKey; limitMs: number }[]; maxErrorRate?: number; withinMs: number; after: string; windowMs: number; holdMs: number } & BudgetScope);

/** Human words for a budget: "p99 of total (fallback path, phase spike) ≤ 2s", "error rate ≤ 1%". */
export function describeBudget(b: Budget): string {
  const scope: string[] = [];
  if (b.path !== undefined) scope.push(`${b.path} path`);
  if (b.phase !== undefined) scope.push(`phase ${b.phase}`);
  if (b.turns !== undefined) scope.push(turnWords(b.turns));
  const suffix = scope.length === 0 ? '' : ` (${scope.join(', ')})`;
  const abort = b.abort ? `; aborts the run when broken over ${formatDuration(b.abort.windowMs)}, from ${formatDuration(b.abort.afterMs)} on` : '';
  switch (b.kind) {
    case 'latency':
      return `${b.key} of ${b.stage}${suffix} ≤ ${formatDuration(b.limitMs)}${abort}`;
    case 'errorRate':
      return `error rate${suffix} ≤ ${formatPercent(b.max)}${abort}`;
    case 'fallbackRate':
      return `fallback rate${suffix} ≤ ${formatPercent(b.max)}${abort}`;
    case 'goodput':
      return `goodput${suffix} ≥ ${formatPercent(b.min)}${abort}`;
    case 'pathShare':
      return `share of the ${b.of} path${suffix} ${b.bound === 'min' ? '≥' : '≤'} ${formatPercent(b.limit)}${abort}`;
    case 'promptCacheShare':
      return `cached share of prompt tokens${suffix} ≥ ${formatPercent(b.min)}${abort}`;
    case 'metric':
      return `${b.stat === 'rate' ? 'rate per second' : b.stat} of ${b.metric}${suffix} ≤ ${Number(b.limit.toPrecision(6))}${abort}`;
    case 'recovery': {
      const limits = [...b.limits.map((l) => `${l.key} of ${b.stage} ≤ ${formatDuration(l.limitMs)}`), ...(b.maxErrorRate !== undefined ? [`error rate ≤ ${formatPercent(b.maxErrorRate)}`] : [])];
      return `recovers within ${formatDuration(b.withinMs)} of phase ${b.after}${suffix}: ${limits.join(', ')} over ${formatDuration(b.windowMs)} windows held ${formatDuration(b.holdMs)}`;
    }
  }
}

/** "turn 2", "turns 2-4", "turns 3+" */
export function turnWords(t: { from: number; to?: number }): string {
  if (t.to === t.from) return `turn ${t.from}`;
  return t.to === undefined ? `turns ${t.from}+` : `turns ${t.from}-${t.to}`;
}

/** What a user writes: `name` and `phases` are required, every other section has a default. */
export interface ProfileInput {
  name: string;
  target?: TargetInput;
  timings?: TimingsInput;
  fallback?: FallbackSignalInput | FallbackSignalInput[];
  /** named paths, first match wins (`fallback:` is shorthand for a path named fallback) */
  paths?: PathInput[];
  /** per-request limits, stage → duration: `{ ttft: 500ms, total: 5s }` */
  goodput?: Record<string, DurationInput>;
  /** default uniform */
  arrivals?: Arrivals;
  /** gamma shape, 0.01 to 100; default 1 */
  burstiness?: number;
  /** default 1 */
  seed?: number;
  /** default 1,000 */
  maxInFlight?: number;
  /** default 5,000 req/s */
  maxRate?: number;
  phases: PhaseEntryInput[];
  budgets?: BudgetInput[];
  metrics?: MetricSourceInput[];
  /** how prompts are counted and built: chars4 (default), cl100k_base, o200k_base, or { file: tokenizer.json } */
  tokenizer?: 'chars4' | 'cl100k_base' | 'o200k_base' | TokenizerFileInput;
}

export interface TokenizerFileInput {
  /** a Hugging Face tokenizer.json, relative to the profile */
  file: string;
}

export interface Profile {
  name: string;
  target: Target;
  timings: TimingRules;
  /** the signals of the path named fallback (empty: none); also in `paths` */
  fallback: FallbackRule[];
  /** named paths in match order, the fallback path among them; empty: every response is primary */
  paths: PathRule[];
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
  /** server metrics endpoints scraped during the run (core/profile/metrics.ts); empty: none */
  metrics: MetricSource[];
  /** absent: chars4 (the engine loads the others, engine/tokenizers.ts) */
  tokenizer?: TokenizerChoice;
}

/** The goodput rule in words: "ttft ≤ 500ms, tpot ≤ 50ms, total ≤ 5s"; '' when there is none. */
export function describeGoodput(goodput: Record<string, number>): string {
  return Object.entries(goodput)
    .map(([stage, ms]) => `${stage} ≤ ${formatDuration(ms)}`)
    .join(', ');
}
