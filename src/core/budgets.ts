/**
 * Budgets + measurements → verdicts. Fail-safe throughout: what could not be measured does not pass.
 *
 * Minimum samples for a percentile budget: with n samples, about n·(1 − q) of them lie above the
 * q-quantile. Below n = ⌈10 / (1 − q)⌉ fewer than 10 samples sit in the tail the budget is about, so the
 * estimate rests on a handful of extreme values and the verdict is *inconclusive*:
 *   p50 → 20, p90 → 100, p95 → 200, p99 → 1,000, p999 → 10,000 samples.
 * `mean` needs 20 samples (as p50); `max` needs one (it is the observed maximum by definition).
 *
 * Missing stages: a stage absent or garbled in more than 1% of the responses in a budget's scope fails
 * that budget, since the percentiles of the responses that did report it may not represent the rest.
 *
 * Whether the run passes is not decided here: verdict.ts holds the one policy.
 *
 * Confidence: a percentile verdict carries the 95% order-statistic interval of its observed value
 * (confidence.ts). When the limit lies inside it (lo ≤ limit < hi) the verdict is *borderline*: its
 * status still follows the point estimate, and under `strict` a borderline pass fails the run.
 */
import { formatDuration } from './units.js';
import { describeBudget, turnWords } from './profile-types.js';
import { countOf, decodeHistogram, maxMs, meanMs, mergeHistograms, quantileMs, type Histogram } from './histograms.js';
import { straddles, timedQuantileInterval } from './confidence.js';
import { windowsOf, type WindowsReport } from './windows.js';
import type { Budget, BudgetScope, LatencyKey, PathName } from './profile-types.js';
import type { BudgetStatus, Counts, RunResult, Verdict } from './report.js';
import { evaluateMetricBudget } from './metric-budgets.js';
import { pathTallies, promptCacheShare, zeroPromptCache, type PathTally } from './paths.js';
import type { ServerMetricsData } from './server-metrics.js';
import { evaluateRecoveryBudget, type RecoveryTrackReport } from './recovery.js';

export interface SeriesData {
  stage: string;
  path: PathName;
  phase: string;
  hist: Histogram;
  unmeasured: number;
  /** the series' per-window histograms (windows.ts), read lazily; absent: the i.i.d. interval */
  windows?: () => WindowsReport | undefined;
}

export interface PhaseData extends Counts {
  name: string;
  warmup: boolean;
  fallbackErrors: number;
  /** requests that met every goodput limit (absent when the profile names none) */
  good?: number;
  goodFallback?: number;
  /** per-path counts (paths.ts); absent in reports older than named paths: read from the counts above */
  paths?: Record<PathName, PathTally>;
}

export interface Measurements {
  series: readonly SeriesData[];
  phases: readonly PhaseData[];
  /** scraped server metrics, when the profile has a `metrics:` section (metric budgets read them) */
  server?: ServerMetricsData;
  /** session phases' per-turn series (ttft, total); budgets with `turn` read these instead of `series` */
  turns?: readonly (SeriesData & { turn: number })[];
  /** requests binned by intended send time for recovery budgets (recovery.ts), with the phases' times */
  recovery?: { tracks: () => RecoveryTrackReport[]; phases: readonly { name: string; startMs: number; endMs: number }[] };
}

export const MISSING_STAGE_LIMIT = 0.01;
export const LOAD_DELIVERED_MIN = 0.95;
export const LOAD_DELIVERED_ID = 'load delivered';

const QUANTILE: Record<Exclude<LatencyKey, 'max' | 'mean'>, number> = {
  p50: 0.5,
  p90: 0.9,
  p95: 0.95,
  p99: 0.99,
  p999: 0.999,
};

/** ⌈10 / (1 − q)⌉ for percentiles, 20 for mean, 1 for max (see the module comment). */
export function minSamples(key: LatencyKey): number {
  if (key === 'max') return 1;
  if (key === 'mean') return 20;
  return Math.ceil(10 / (1 - QUANTILE[key]) - 1e-9);
}

export function inScope(scope: BudgetScope, phase: { name: string; warmup: boolean }): boolean {
  return scope.phase !== undefined ? phase.name === scope.phase : !phase.warmup;
}

export function scopeWords(scope: BudgetScope): string {
  const parts = [scope.path ? `${scope.path} path` : '', scope.phase ? `phase ${scope.phase}` : 'non-warmup phases', scope.turns ? turnWords(scope.turns) : ''];
  return parts.filter(Boolean).join(', ');
}

function observe(h: Histogram, key: LatencyKey): number {
  if (key === 'max') return maxMs(h);
  if (key === 'mean') return meanMs(h);
  return quantileMs(h, QUANTILE[key]);
}

function verdict(b: Exclude<Budget, { kind: 'metric' }>, status: BudgetStatus, observed: number | null, limit: number, samples: number, reason: string, interval: [number, number] | null = null): Verdict {
  return {
    id: b.id,
    description: describeBudget(b),
    status,
    observed,
    limit,
    unit: b.kind === 'latency' ? 'ms' : 'ratio',
    samples,
    reason,
    interval,
    // only a verdict decided by its value can be borderline; inconclusive already says "cannot tell"
    borderline: status !== 'inconclusive' && straddles(interval, limit),
  };
}

/**
 * the 95% interval of a percentile key, from the series' windows when they have them (time-aware,
 * confidence.ts), else i.i.d.; mean and max have no order-statistic interval
 */
function intervalOf(h: Histogram, key: LatencyKey, picked: readonly SeriesData[]): [number, number] | null {
  return key === 'max' || key === 'mean' || countOf(h) === 0 ? null : (timedQuantileInterval(h, windowsOf(picked), QUANTILE[key])?.interval ?? null);
}

const pct = (x: number): string => `${Number((x * 100).toFixed(3))}%`;

function evaluateLatency(b: Extract<Budget, { kind: 'latency' }>, m: Measurements): Verdict {
  const phases = new Map(m.phases.map((p) => [p.name, p]));
  const t = b.turns;
  const pool = t === undefined ? m.series : (m.turns ?? []).filter((s) => s.turn >= t.from && (t.to === undefined || s.turn <= t.to));
  const picked = pool.filter((s) => {
    const phase = phases.get(s.phase);
    return s.stage === b.stage && (b.path === undefined || s.path === b.path) && phase !== undefined && inScope(b, phase);
  });
  const hist = mergeHistograms(picked.map((s) => s.hist));
  const samples = countOf(hist);
  const unmeasured = picked.reduce((n, s) => n + s.unmeasured, 0);
  const seen = samples + unmeasured;
  const where = scopeWords(b);
  if (seen > 0 && unmeasured / seen > MISSING_STAGE_LIMIT) {
    const observed = samples > 0 ? observe(hist, b.key) : null;
    return verdict(b, 'fail', observed, b.limitMs, samples,
      `stage ${b.stage} missing or garbled in ${unmeasured} of ${seen} responses (${pct(unmeasured / seen)} > ${pct(MISSING_STAGE_LIMIT)}) in ${where}`);
  }
  if (samples === 0) {
    return verdict(b, 'inconclusive', null, b.limitMs, 0, `no ${b.stage} samples in ${where}`);
  }
  const observed = observe(hist, b.key);
  const need = minSamples(b.key);
  if (samples < need) {
    return verdict(b, 'inconclusive', observed, b.limitMs, samples,
      `${samples} samples in ${where}, ${b.key} needs at least ${need} to be conclusive (observed ${formatDuration(observed)})`, intervalOf(hist, b.key, picked));
  }
  const ok = observed <= b.limitMs;
  return verdict(b, ok ? 'pass' : 'fail', observed, b.limitMs, samples,
    `${b.key} of ${b.stage} was ${formatDuration(observed)} ${ok ? '≤' : '>'} ${formatDuration(b.limitMs)} over ${samples} samples in ${where}`, intervalOf(hist, b.key, picked));
}

function evaluateRate(b: Extract<Budget, { kind: 'errorRate' | 'fallbackRate' }>, m: Measurements): Verdict {
  const picked = m.phases.filter((p) => inScope(b, p));
  let num = 0;
  let den = 0;
  for (const p of picked) {
    if (b.kind === 'errorRate') {
      // Requests that got no response at all have no path; they count against the primary path.
      const t = b.path === undefined ? p : pathTallies(p)[b.path];
      const errors = t?.errors ?? 0;
      const completed = t?.completed ?? 0;
      num += errors;
      den += errors + completed;
    } else {
      num += p.fallback;
      den += p.completed;
    }
  }
  const what = b.kind === 'errorRate' ? 'error rate' : 'fallback rate';
  const of = b.kind === 'errorRate' ? 'finished requests' : 'completed requests';
  const where = scopeWords(b);
  if (den === 0) return verdict(b, 'inconclusive', null, b.max, 0, `no ${of} in ${where}`);
  const observed = num / den;
  const ok = observed <= b.max;
  return verdict(b, ok ? 'pass' : 'fail', observed, b.max, den,
    `${what} was ${pct(observed)} (${num} of ${den} ${of}) ${ok ? '≤' : '>'} ${pct(b.max)} in ${where}`);
}

/**
 * Goodput = good ÷ finished requests in scope, where *good* means the request succeeded and met every
 * per-request limit of `Profile.goodput` (recorder.ts), and errored requests count as not good.
 * The budget holds when goodput ≥ its minimum.
 */
function evaluateGoodput(b: Extract<Budget, { kind: 'goodput' }>, m: Measurements): Verdict {
  const picked = m.phases.filter((p) => inScope(b, p));
  let good = 0;
  let den = 0;
  let tracked = false;
  for (const p of picked) {
    if (p.good !== undefined) tracked = true;
    const t = b.path === undefined ? p : pathTallies(p)[b.path];
    good += t?.good ?? 0;
    den += (t?.completed ?? 0) + (t?.errors ?? 0);
  }
  const where = scopeWords(b);
  if (!tracked) return verdict(b, 'inconclusive', null, b.min, 0, `no goodput was recorded (the profile names no goodput limits) in ${where}`);
  if (den === 0) return verdict(b, 'inconclusive', null, b.min, 0, `no finished requests in ${where}`);
  const observed = good / den;
  const ok = observed >= b.min;
  return verdict(b, ok ? 'pass' : 'fail', observed, b.min, den, `goodput was ${pct(observed)} (${good} of ${den} finished requests met every limit) ${ok ? '≥' : '<'} ${pct(b.min)} in ${where}`);
}

/**
 * A path's share = completed requests on the path ÷ completed requests in scope (errors have no
 * reliable path, so they are in neither count). `min` holds when share ≥ limit, `max` when ≤.
 * No completed request: inconclusive.
 */
function evaluatePathShare(b: Extract<Budget, { kind: 'pathShare' }>, m: Measurements): Verdict {
  let num = 0;
  let den = 0;
  for (const p of m.phases.filter((ph) => inScope(b, ph))) {
    num += pathTallies(p)[b.of]?.completed ?? 0;
    den += p.completed;
  }
  const where = scopeWords(b);
  if (den === 0) return verdict(b, 'inconclusive', null, b.limit, 0, `no completed requests in ${where}`);
  const observed = num / den;
  const ok = b.bound === 'min' ? observed >= b.limit : observed <= b.limit;
  const cmp = b.bound === 'min' ? (ok ? '≥' : '<') : ok ? '≤' : '>';
  return verdict(b, ok ? 'pass' : 'fail', observed, b.limit, den, `share of the ${b.of} path was ${pct(observed)} (${num} of ${den} completed requests) ${cmp} ${pct(b.limit)} in ${where}`);
}

/**
 * Cached share of prompt tokens = Σ cached_tokens ÷ Σ prompt_tokens over the responses in scope
 * that reported usage.prompt_tokens_details.cached_tokens. None reported it: inconclusive (a server
 * that says nothing about its cache does not pass a cache budget).
 */
function evaluatePromptCache(b: Extract<Budget, { kind: 'promptCacheShare' }>, m: Measurements): Verdict {
  const sum = zeroPromptCache();
  let completed = 0;
  for (const p of m.phases.filter((ph) => inScope(b, ph))) {
    const tallies = pathTallies(p);
    for (const [name, t] of Object.entries(tallies)) {
      if (b.path !== undefined && name !== b.path) continue;
      completed += t.completed;
      if (!t.promptCache) continue;
      sum.responses += t.promptCache.responses;
      sum.promptTokens += t.promptCache.promptTokens;
      sum.cachedTokens += t.promptCache.cachedTokens;
    }
  }
  const where = scopeWords(b);
  const observed = promptCacheShare(sum);
  if (observed === null) {
    return verdict(b, 'inconclusive', null, b.min, sum.responses, `no response reported usage.prompt_tokens_details.cached_tokens (${completed} completed) in ${where}`);
  }
  const ok = observed >= b.min;
  return verdict(b, ok ? 'pass' : 'fail', observed, b.min, sum.responses,
    `cached share of prompt tokens was ${pct(observed)} (${sum.cachedTokens} of ${sum.promptTokens} tokens, ${sum.responses} of ${completed} responses reported it) ${ok ? '≥' : '<'} ${pct(b.min)} in ${where}`);
}

export function evaluateBudgets(budgets: readonly Budget[], m: Measurements): Verdict[] {
  return budgets.map((b) => {
    switch (b.kind) {
      case 'latency':
        return evaluateLatency(b, m);
      case 'goodput':
        return evaluateGoodput(b, m);
      case 'metric':
        return evaluateMetricBudget(b, m);
      case 'pathShare':
        return evaluatePathShare(b, m);
      case 'promptCacheShare':
        return evaluatePromptCache(b, m);
      case 'recovery':
        return evaluateRecoveryBudget(b, m);
      default:
        return evaluateRate(b, m);
    }
  });
}

/**
 * The implicit budget every run has: at least 95% of the scheduled requests left on time. A run that
 * could not deliver its load measured a different experiment from the one the profile describes.
 */
export function loadDeliveredVerdict(totals: Counts): Verdict {
  const onTime = totals.sent - totals.late;
  const observed = totals.scheduled === 0 ? 1 : onTime / totals.scheduled;
  const ok = observed >= LOAD_DELIVERED_MIN;
  return {
    id: LOAD_DELIVERED_ID,
    description: `at least ${pct(LOAD_DELIVERED_MIN)} of scheduled requests sent on time`,
    status: ok ? 'pass' : 'fail',
    observed,
    limit: LOAD_DELIVERED_MIN,
    unit: 'ratio',
    samples: totals.scheduled,
    reason: ok
      ? `sent ${onTime} of ${totals.scheduled} scheduled requests on time (${pct(observed)})`
      : `load not delivered: sent ${onTime} of ${totals.scheduled} scheduled requests on time (${pct(observed)} < ${pct(LOAD_DELIVERED_MIN)})`,
    interval: null,
    borderline: false,
  };
}

/**
 * A saved report back into the measurements budgets are evaluated on. Each histogram is decoded with
 * the exact maximum kept beside it, so percentiles read exactly as they did live. Throws a plain
 * Error on a malformed hdr string (the caller names the file).
 */
export function measurementsFromReport(r: Pick<RunResult, 'series' | 'phases' | 'serverMetrics' | 'scrapes' | 'turns' | 'recovery'>): Measurements {
  return {
    series: r.series.map((s) => ({ stage: s.stage, path: s.path, phase: s.phase, hist: decodeHistogram(s.hdr, s.max), unmeasured: s.unmeasured, windows: () => s.windows })),
    phases: r.phases.map((p) => ({
      name: p.name, warmup: p.warmup, scheduled: p.scheduled, sent: p.sent, completed: p.completed, errors: p.errors, fallback: p.fallback, late: p.late, fallbackErrors: p.fallbackErrors,
      ...(p.good !== undefined ? { good: p.good, goodFallback: p.goodFallback ?? 0 } : {}),
      ...(p.paths !== undefined ? { paths: p.paths } : {}),
    })),
    ...(r.serverMetrics ? { server: { metrics: r.serverMetrics, scrapes: r.scrapes ?? [] } } : {}),
    ...(r.turns ? { turns: r.turns.map((s) => ({ stage: s.stage, path: s.path, phase: s.phase, turn: s.turn, hist: decodeHistogram(s.hdr, s.max), unmeasured: s.unmeasured })) } : {}),
    ...(r.recovery ? { recovery: { tracks: () => r.recovery ?? [], phases: r.phases } } : {}),
  };
}
