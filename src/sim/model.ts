export type FaultKind = '500' | '503' | '429' | 'reset';

export interface Stall {
  /** Milliseconds after `startSim()` resolves. */
  atMs: number;
  forMs: number;
}

export interface SimOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default 1. */
  seed?: number;
  /** Primary concurrency K. Default 8. */
  workers?: number;
  /** Fixed prefill cost per request. Default 5 ms. */
  prefillBaseMs?: number;
  /** Default 0.05 ms per prompt token. */
  prefillMsPerToken?: number;
  /** Default 0.25 ms per generated token. */
  decodeMsPerToken?: number;
  /** Relative half-width of the uniform service-time jitter, 0..1. Default 0.2. */
  jitter?: number;
  /** Route to the fallback when the primary's predicted queue wait exceeds this. Default 200 ms. */
  fallbackDeadlineMs?: number;
  /** Fallback concurrency M. Default 4. */
  fallbackWorkers?: number;
  /** Fallback service time as a fraction of the primary's. Default 0.25. */
  fallbackSpeedup?: number;
  /** Disable the fallback route: everything queues on the primary. Default false. */
  fallbackOff?: boolean;
  /** Probability, 0..1, that the primary fails a request. Default 0. */
  errorRate?: number;
  /** Failure kinds drawn uniformly when a fault fires. Default ['500']. */
  errorKinds?: FaultKind[];
  /** A faulted request is served by the fallback instead (unless fallbackOff). Default true. */
  fallbackOnError?: boolean;
  /** Windows in which primary workers start nothing (in-flight requests still finish). */
  stalls?: Stall[];
  /** Primary model name when the request names none. Default 'sim'. */
  model?: string;
  /** Default 'sim-small'. */
  fallbackModel?: string;
  /**
   * vLLM's `--enable-per-request-metrics`: a `metrics` object (queue_time_ms, time_to_first_token_ms,
   * generation_time_ms, mean_itl_ms) on the JSON body, or on a stream's final usage chunk. Default false.
   */
  perRequestMetrics?: boolean;
  /**
   * An exact-match response cache in front of the model (cache.ts): identical request bodies are
   * answered from it in `cacheHitMs`, marked `x-sim-cache: HIT`. Default false; a request may turn it
   * on for itself with `x-sim-cache-enabled: true` (which turns on the prefix cache too).
   */
  responseCache?: boolean;
  /** Prefix caching (cache.ts): usage.prompt_tokens_details.cached_tokens and less prefill. Default false. */
  prefixCache?: boolean;
  /** Entries each cache keeps (least recently used evicted). Default 16. */
  cacheEntries?: number;
  /** How long a response-cache hit takes. Default 1 ms. */
  cacheHitMs?: number;
}

export type ResolvedOptions = Required<SimOptions>;

export const DEFAULTS: ResolvedOptions = {
  host: '127.0.0.1',
  port: 0,
  seed: 1,
  workers: 8,
  prefillBaseMs: 5,
  prefillMsPerToken: 0.05,
  decodeMsPerToken: 0.25,
  jitter: 0.2,
  fallbackDeadlineMs: 200,
  fallbackWorkers: 4,
  fallbackSpeedup: 0.25,
  fallbackOff: false,
  errorRate: 0,
  errorKinds: ['500'],
  fallbackOnError: true,
  stalls: [],
  model: 'sim',
  fallbackModel: 'sim-small',
  perRequestMetrics: false,
  responseCache: false,
  prefixCache: false,
  cacheEntries: 16,
  cacheHitMs: 1,
};

const FAULT_KINDS: readonly FaultKind[] = ['500', '503', '429', 'reset'];

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(`sim: ${message}`);
}

const isCount = (n: number): boolean => Number.isInteger(n) && n >= 1;
const isNonNeg = (n: number): boolean => Number.isFinite(n) && n >= 0;
const isUnit = (n: number): boolean => Number.isFinite(n) && n >= 0 && n <= 1;

/** Fills defaults and rejects nonsense up front, so a typo fails at start rather than mid-run. */
export function resolveOptions(options: SimOptions = {}): ResolvedOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o: ResolvedOptions = { ...DEFAULTS, ...defined };
  check(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535, `port must be 0..65535, got ${o.port}`);
  check(Number.isFinite(o.seed), `seed must be a finite number, got ${o.seed}`);
  check(isCount(o.workers), `workers must be an integer >= 1, got ${o.workers}`);
  check(isCount(o.fallbackWorkers), `fallbackWorkers must be an integer >= 1, got ${o.fallbackWorkers}`);
  check(isNonNeg(o.prefillBaseMs), `prefillBaseMs must be >= 0, got ${o.prefillBaseMs}`);
  check(isNonNeg(o.prefillMsPerToken), `prefillMsPerToken must be >= 0, got ${o.prefillMsPerToken}`);
  check(isNonNeg(o.decodeMsPerToken), `decodeMsPerToken must be >= 0, got ${o.decodeMsPerToken}`);
  check(isUnit(o.jitter), `jitter must be 0..1, got ${o.jitter}`);
  check(isNonNeg(o.fallbackDeadlineMs), `fallbackDeadlineMs must be >= 0, got ${o.fallbackDeadlineMs}`);
  check(
    Number.isFinite(o.fallbackSpeedup) && o.fallbackSpeedup > 0,
    `fallbackSpeedup must be > 0, got ${o.fallbackSpeedup}`,
  );
  check(isUnit(o.errorRate), `errorRate must be 0..1, got ${o.errorRate}`);
  check(
    o.errorKinds.length > 0 && o.errorKinds.every((k) => FAULT_KINDS.includes(k)),
    `errorKinds must be a non-empty subset of ${FAULT_KINDS.join(', ')}`,
  );
  check(isCount(o.cacheEntries), `cacheEntries must be an integer >= 1, got ${o.cacheEntries}`);
  check(isNonNeg(o.cacheHitMs), `cacheHitMs must be >= 0, got ${o.cacheHitMs}`);
  for (const [i, s] of o.stalls.entries()) {
    check(isNonNeg(s.atMs) && isNonNeg(s.forMs), `stalls[${i}] needs atMs >= 0 and forMs >= 0`);
  }
  return o;
}

/** Tokens are approximated the usual way for English text: about four characters each. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export function clampMaxTokens(n: number): number {
  return Math.min(4096, Math.max(1, Math.floor(n)));
}

/**
 * The service-time model. For a request with P prompt tokens and D = max_tokens:
 *
 *   prefill = (prefillBaseMs + prefillMsPerToken · P) · u₁
 *   decode  =  decodeMsPerToken · D · u₂
 *   uᵢ ~ Uniform(1 − jitter, 1 + jitter), independent, E[uᵢ] = 1
 *
 * and on the fallback both stages are further multiplied by fallbackSpeedup. Because the jitter has
 * mean 1, the mean service time is the unjittered S = prefillBaseMs + prefillMsPerToken·P +
 * decodeMsPerToken·D, and K workers saturate at λ* = K / S (see simCapacity). Above λ* the FIFO
 * queue is an overloaded G/G/K queue and grows linearly with time, as a real server's does.
 */
export interface ServiceSample {
  prefillMs: number;
  decodeMs: number;
}

export function meanService(o: ResolvedOptions, promptTokens: number, maxTokens: number): ServiceSample {
  return {
    prefillMs: o.prefillBaseMs + o.prefillMsPerToken * promptTokens,
    decodeMs: o.decodeMsPerToken * maxTokens,
  };
}

export function sampleService(
  o: ResolvedOptions,
  rng: () => number,
  promptTokens: number,
  maxTokens: number,
): ServiceSample {
  const mean = meanService(o, promptTokens, maxTokens);
  // Both draws happen unconditionally so the sequence per request is fixed whatever the route.
  const u1 = 1 + o.jitter * (2 * rng() - 1);
  const u2 = 1 + o.jitter * (2 * rng() - 1);
  return { prefillMs: mean.prefillMs * u1, decodeMs: mean.decodeMs * u2 };
}

/** The analytic capacity of the primary in req/s for a given max_tokens & prompt tokens: workers / mean service time. */
export function simCapacity(options: SimOptions, promptTokens: number, maxTokens: number): number {
  const o = resolveOptions(options);
  const m = meanService(o, promptTokens, clampMaxTokens(maxTokens));
  const serviceMs = m.prefillMs + m.decodeMs;
  return serviceMs > 0 ? (o.workers * 1000) / serviceMs : Number.POSITIVE_INFINITY;
}

/**
 * How long, from `elapsedMs` after start, until no stall window covers the clock. Windows may
 * overlap or abut, hence the loop.
 */
export function stallRemaining(stalls: readonly Stall[], elapsedMs: number): number {
  let t = elapsedMs;
  for (let moved = true; moved; ) {
    moved = false;
    for (const s of stalls) {
      if (t >= s.atMs && t < s.atMs + s.forMs) {
        t = s.atMs + s.forMs;
        moved = true;
      }
    }
  }
  return t - elapsedMs;
}
