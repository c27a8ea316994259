/**
 * Two saved reports → which percentiles got worse, beyond noise.
 *
 * Series are matched by stage × path × phase; warmup phases are skipped (budgets ignore them too), and
 * series present in one report only are listed, not judged. For each percentile key q of a matched pair:
 *
 *   change = current / baseline − 1   (point estimates; +0.25 means 25% slower)
 *
 * and the 95% order-statistic interval [lo, hi] of each side is read from its histogram
 * (confidence.ts). A percentile is a **regression** when both
 *
 *   change > tolerance              (worse by more than the caller accepts), and
 *   lo(current) > hi(baseline)      (the intervals do not overlap: more than sampling noise).
 *
 * Disjoint 95% intervals is a conservative test (for two independent estimates, non-overlap corresponds
 * to a significance level well below 5%), which suits a gate that must not flap on noise. A percentile
 * whose side has fewer than ⌈10 / (1 − q)⌉ samples (the budgets' minimum) is *insufficient* and never
 * a regression: with so few samples in the tail the interval clamps to the maximum and means nothing.
 */
import { minSamples } from './budgets.js';
import { quantileInterval } from './confidence.js';
import { countOf, decodeHistogram, quantileMs, type Histogram } from './histograms.js';
import type { PathName } from './profile-types.js';
import type { RunResult, SeriesReport } from './report.js';

export const COMPARE_KEYS = ['p50', 'p90', 'p95', 'p99', 'p999'] as const;
export type CompareKey = (typeof COMPARE_KEYS)[number];
const QUANTILE: Record<CompareKey, number> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, p999: 0.999 };

export const DEFAULT_TOLERANCE = 0.1;

export interface CompareOptions {
  /** fraction: 0.1 accepts up to 10% slower */
  tolerance: number;
  /** per-percentile overrides of `tolerance` */
  perKey?: Partial<Record<CompareKey, number>>;
}

/**
 * regression: worse beyond tolerance and noise; slower: worse beyond tolerance but within noise;
 * faster: better beyond tolerance and noise; same: otherwise; insufficient: too few samples to judge.
 */
export type ChangeStatus = 'regression' | 'slower' | 'same' | 'faster' | 'insufficient';

export interface PercentileChange {
  key: CompareKey;
  baseline: number | null;
  current: number | null;
  /** current / baseline − 1; null when either side is missing */
  change: number | null;
  baselineInterval: [number, number] | null;
  currentInterval: [number, number] | null;
  tolerance: number;
  status: ChangeStatus;
}

export interface SeriesComparison {
  stage: string;
  path: PathName;
  phase: string;
  baselineCount: number;
  currentCount: number;
  changes: PercentileChange[];
}

export interface Comparison {
  baseline: { profile: string; startedAt: string };
  current: { profile: string; startedAt: string };
  options: { tolerance: number; perKey: Partial<Record<CompareKey, number>> };
  series: SeriesComparison[];
  /** "stage path phase" of series found in one report only */
  onlyInBaseline: string[];
  onlyInCurrent: string[];
  regressions: number;
}

const keyOf = (s: { stage: string; path: string; phase: string }): string => `${s.stage} ${s.path} ${s.phase}`;

function changeOf(key: CompareKey, base: Histogram, cur: Histogram, tolerance: number): PercentileChange {
  const q = QUANTILE[key];
  const nb = countOf(base);
  const nc = countOf(cur);
  const b = nb > 0 ? quantileMs(base, q) : null;
  const c = nc > 0 ? quantileMs(cur, q) : null;
  const bi = nb > 0 ? quantileInterval(base, q) : null;
  const ci = nc > 0 ? quantileInterval(cur, q) : null;
  // a zero baseline (sub-µs) cannot be scaled: any positive current counts as infinitely slower
  const change = b === null || c === null ? null : b === 0 ? (c === 0 ? 0 : Number.POSITIVE_INFINITY) : c / b - 1;
  const need = minSamples(key);
  let status: ChangeStatus;
  if (change === null || bi === null || ci === null || nb < need || nc < need) status = 'insufficient';
  else if (change > tolerance) status = ci[0] > bi[1] ? 'regression' : 'slower';
  else if (change < -tolerance && ci[1] < bi[0]) status = 'faster';
  else status = 'same';
  return { key, baseline: b, current: c, change, baselineInterval: bi, currentInterval: ci, tolerance, status };
}

/** Throws a plain Error when an hdr string is malformed; the caller names the file. */
export function compareReports(baseline: RunResult, current: RunResult, o: CompareOptions): Comparison {
  const warm = new Set([...baseline.phases, ...current.phases].filter((p) => p.warmup).map((p) => p.name));
  const budgeted = (s: SeriesReport): boolean => !warm.has(s.phase);
  const base = new Map(baseline.series.filter(budgeted).map((s) => [keyOf(s), s]));
  const cur = new Map(current.series.filter(budgeted).map((s) => [keyOf(s), s]));
  const perKey = o.perKey ?? {};
  const series: SeriesComparison[] = [];
  for (const [k, c] of cur) {
    const b = base.get(k);
    if (!b) continue;
    const bh = decodeHistogram(b.hdr, b.max);
    const ch = decodeHistogram(c.hdr, c.max);
    series.push({
      stage: c.stage,
      path: c.path,
      phase: c.phase,
      baselineCount: countOf(bh),
      currentCount: countOf(ch),
      changes: COMPARE_KEYS.map((key) => changeOf(key, bh, ch, perKey[key] ?? o.tolerance)),
    });
  }
  const regressions = series.reduce((n, s) => n + s.changes.filter((c) => c.status === 'regression').length, 0);
  return {
    baseline: { profile: baseline.profile, startedAt: baseline.startedAt },
    current: { profile: current.profile, startedAt: current.startedAt },
    options: { tolerance: o.tolerance, perKey },
    series,
    onlyInBaseline: [...base.keys()].filter((k) => !cur.has(k)),
    onlyInCurrent: [...cur.keys()].filter((k) => !base.has(k)),
    regressions,
  };
}

/**
 * A tolerance as written on the command line: "10%" or "2.5%". The percent sign is required so that
 * "0.1" is never silently read as 0.1%. Returns a fraction, or null when malformed.
 */
export function parseTolerance(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (!m) return null;
  const x = Number(m[1]) / 100;
  return Number.isFinite(x) ? x : null;
}

/** TEMPORARY (before-measurement shim): the first baseline only. */
export function compareRuns(baselines: readonly RunResult[], current: RunResult, o: CompareOptions): Comparison {
  return compareReports(baselines[0] as RunResult, current, o);
}
export const defaultCompareOptions = (): CompareOptions => ({ tolerance: DEFAULT_TOLERANCE });
