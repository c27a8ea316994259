/**
 * The validated, normalised profile. Every duration is in milliseconds, every rate in requests per
 * second, every ratio a fraction in [0, 1]. Produced only by `parseProfile` (profile.ts).
 */

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
}

export interface TimingRules {
  /** Every Server-Timing metric with a dur becomes a stage of that name (ms). */
  serverTiming: boolean;
  /** lower-cased header name → stage name; the header's value is a number of milliseconds. */
  headers: Record<string, string>;
}

export type FallbackRule =
  | { header: string; equals: string }
  | { header: string; matches: string };

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
}

/**
 * One atomic budget: one limit. A profile entry `{ stage: total, p50: 250ms, p99: 800ms }` becomes two
 * of these, so every verdict has exactly one observed value and one limit.
 */
export type Budget =
  | ({ kind: 'latency'; id: string; stage: string; key: LatencyKey; limitMs: number } & BudgetScope)
  | ({ kind: 'errorRate'; id: string; max: number } & BudgetScope)
  | ({ kind: 'fallbackRate'; id: string; max: number } & BudgetScope);

export interface Profile {
  name: string;
  target: Target;
  timings: TimingRules;
  fallback?: FallbackRule;
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
  phases: Phase[];
  budgets: Budget[];
}
