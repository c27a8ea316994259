/**
 * The RunResult: everything a run measured, versioned. It persists mergeable state (encoded
 * histograms, raw counts), not only summaries, so a saved report can be re-rendered, re-checked
 * against changed budgets and merged with other shards' reports without re-running load.
 */
import { BudgetgateError } from './errors.js';
import type { PathName } from './profile-types.js';
import type { WindowsReport } from './windows.js';
import type { ScrapeReport, ServerMetricReport, ServerSeries } from './server-metrics.js';
import type { TokenCheck, TokenFigures } from './tokens.js';
import type { PromptTokenCheck, SessionReport, TurnSeriesReport } from './session-stats.js';
import type { PathTally } from './paths.js';
import type { RecoveryOutcome, RecoveryTrackReport } from './recovery.js';
import type { HookReport } from './hooks.js';

export const REPORT_SCHEMA = 'budgetgate/report@1';

export type BudgetStatus = 'pass' | 'fail' | 'inconclusive';
/** ms: latency; ratio: a fraction shown as a percentage; number: a server metric in its own unit */
export type VerdictUnit = 'ms' | 'ratio' | 'number';

export interface Verdict {
  id: string;
  /** the budget in words: "p99 of total ≤ 800ms" */
  description: string;
  status: BudgetStatus;
  /** ms for latency budgets, a fraction for rates, the metric's own unit for metric budgets; null when nothing could be observed */
  observed: number | null;
  limit: number;
  unit: VerdictUnit;
  samples: number;
  reason: string;
  /**
   * 95% confidence interval of a percentile budget's observed value (order statistics, see
   * core/confidence.ts), [lo, hi] in ms; null for mean, max and rate budgets, or with no samples.
   * Optional because reports written before it existed lack it: read absent as null.
   */
  interval?: [number, number] | null;
  /** the interval straddles the limit: status follows the point estimate but the data cannot tell (absent: false) */
  borderline?: boolean;
  /** a metric budget's metric, its source and the statistic bounded (the HTML report charts it) */
  metric?: { source: string; name: string; stat: string };
  /** a recovery budget's figures (core/recovery.ts): fault, recovery instant, affected requests, worst window */
  recovery?: RecoveryOutcome;
}

export interface SeriesReport {
  stage: string;
  path: PathName;
  phase: string;
  count: number;
  /** responses in this series' scope that lacked the stage, or carried it garbled */
  unmeasured: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  /** hdr-histogram compressed base64, values in integer microseconds */
  hdr: string;
  /**
   * The same samples cut by completion time into windows (core/windows.ts), for the time-aware
   * interval. Absent in reports written before it existed: their intervals fall back to i.i.d.
   */
  windows?: WindowsReport;
}

export interface Counts {
  scheduled: number;
  sent: number;
  /** requests that got a successful (2xx) response */
  completed: number;
  /** requests that ended in an error: non-2xx, timeout, connection error */
  errors: number;
  /** completed requests served by the fallback path */
  fallback: number;
  /** requests sent later than their intended time because no connection was free or the pacer lagged */
  late: number;
}

export interface TimelinePoint extends Counts {
  /** start of this second, ms since the run's start */
  t: number;
  /** requests in flight at the end of this second */
  inFlight: number;
  /** p50 and p99 of `total` over the requests that completed in this second (ms), null when none */
  p50: number | null;
  p99: number | null;
  /** completions per named path other than primary in this second; absent when none */
  paths?: Record<PathName, number>;
}

export interface PhaseReport extends Counts, Partial<TokenFigures> {
  name: string;
  warmup: boolean;
  /** open: scheduled arrivals (rate → to); closed: virtual users (concurrency → concurrencyTo) */
  model: 'open' | 'closed';
  concurrency: number;
  concurrencyTo: number;
  startMs: number;
  endMs: number;
  rate: number;
  to: number;
  /** error kind ("http 503", "timeout", "ECONNRESET") → count */
  errorKinds: Record<string, number>;
  /** errors whose response (if any) was marked as fallback */
  fallbackErrors: number;
  /** fallback signal id → responses it caught (a response may be caught by several) */
  fallbackSignals: Record<string, number>;
  /** requests that met every goodput limit (present only when the profile names goodput limits) */
  good?: number;
  goodFallback?: number;
  /** prompt tokens sent (the run's tokenizer) beside the server's usage.prompt_tokens (session-stats.ts) */
  promptTokens?: PromptTokenCheck;
  /**
   * Per path (primary, fallback, each `paths:` name that saw a request): completed, errors, good,
   * prompt-cache tokens (core/paths.ts). Absent in reports older than named paths.
   */
  paths?: Record<PathName, PathTally>;
}

export interface LatenessReport {
  /** actual send time minus intended send time, ms */
  p50: number | null;
  p99: number | null;
  max: number | null;
  hdr: string;
}

export interface RunResult {
  schema: typeof REPORT_SCHEMA;
  tool: { name: 'budgetgate'; version: string };
  profile: string;
  target: string;
  arrivals: string;
  startedAt: string;
  durationMs: number;
  verdict: 'pass' | 'fail';
  interrupted: boolean;
  /** why the run failed when no single budget says it (interrupted, aborted, load not delivered) */
  reason?: string;
  /** the early-abort budget's window verdict that stopped the run */
  aborted?: Verdict;
  /**
   * A shard's report: it sent the requests whose schedule index ≡ index (mod count). Its budgets
   * are *partial* (evaluated on its own data only); `budgetgate merge` evaluates the whole.
   */
  shard?: { index: number; count: number };
  /** sender threads that drove the run (`run --workers N`); absent: one, this thread */
  workers?: number;
  /** identifies the schedule (profile name, phases, arrivals, seed): merge refuses to mix different ones */
  scheduleId?: string;
  /** the run's absolute start (ms since the epoch) that shards align their timelines on */
  startEpochMs?: number;
  /**
   * A snapshot written while the run was still under way (`run --checkpoint`): `interrupted` is
   * true and the counts cover only the time so far. The final report replaces it.
   */
  checkpoint?: boolean;
  budgets: Verdict[];
  series: SeriesReport[];
  phases: PhaseReport[];
  timeline: TimelinePoint[];
  /** counts, and (reports since token accounting) the run's token figures over its duration */
  totals: Counts & Partial<TokenFigures>;
  lateness: LatenessReport;
  /** scraped server metrics per source × metric × phase (profile `metrics:`); absent without a source */
  serverMetrics?: ServerMetricReport[];
  /** scrape attempts and failures per source × phase */
  scrapes?: ScrapeReport[];
  /** the scraped values over time, per source, at most MAX_SERIES_POINTS points each */
  serverSeries?: ServerSeries[];
  /** the client's token count beside the server's own counter, when a source scrapes one */
  tokenChecks?: TokenCheck[];
  /** session phases: ttft and total per turn number (core/session-stats.ts) */
  turns?: TurnSeriesReport[];
  /** session phases: sessions started, completed, abandoned on error, cut by the run's end; their durations */
  sessions?: SessionReport[];
  /** requests binned by intended send time, per stage × path, for recovery budgets (core/recovery.ts) */
  recovery?: RecoveryTrackReport[];
  /** the phases' fault hooks that were due: when they ran, how long, how they ended (core/hooks.ts) */
  hooks?: HookReport[];
  /** `budgetgate capacity`: the search's answer and every step; the fields above are the confirmation step's */
  capacity?: CapacityReport;
}

/** One steady step of a capacity search (core/capacity.ts). */
export interface CapacityStep {
  /** offered (scheduled) rate, req/s */
  rate: number;
  /** requests sent ÷ step duration, req/s */
  achieved: number;
  durationMs: number;
  /** every budget held (inconclusive counts as broken unless --allow-inconclusive) */
  held: boolean;
  /** the re-run at the found rate */
  confirmation?: boolean;
  verdicts: Verdict[];
  /** p99 of each stage over both paths, ms (null without samples) */
  p99: Record<string, number | null>;
  /** good ÷ finished requests, when the profile names goodput limits */
  goodput?: number | null;
}

export interface CapacityReport {
  /** the highest rate at which every budget held (0: none did) */
  rps: number;
  /** the budget that broke at the lowest broken rate above rps (null: none broke) */
  firstBroken: { id: string; description: string; observed: number | null; limit: number; unit: VerdictUnit; rate: number } | null;
  steps: CapacityStep[];
  /** the confirmation step at rps held again */
  confirmed: boolean;
  /** bracketed: hi/lo − 1 ≤ precision; ceiling: `to` held; floor: even the lowest rate broke; interrupted */
  outcome: 'bracketed' | 'ceiling' | 'floor' | 'interrupted';
  precision: number;
  from: number;
  to: number;
  /** --require: the gate's threshold, req/s */
  require?: number;
}

export function serializeReport(r: RunResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** Checks the shape a later step relies on; a report of another schema is refused by name. */
export function parseReport(text: string, source: string): RunResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BudgetgateError('report', `${source}: not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null) throw new BudgetgateError('report', `${source}: not a report object`);
  const r = raw as Partial<RunResult>;
  if (r.schema !== REPORT_SCHEMA) {
    throw new BudgetgateError('report', `${source}: schema is ${JSON.stringify(r.schema)}, expected "${REPORT_SCHEMA}"`);
  }
  for (const key of ['budgets', 'series', 'phases', 'timeline'] as const) {
    if (!Array.isArray(r[key])) throw new BudgetgateError('report', `${source}: ${key}: expected an array`);
  }
  return r as RunResult;
}
