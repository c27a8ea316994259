/**
 * Saved reports → did the current run get slower than its baseline(s), beyond noise and beyond what
 * matters? One verdict for the whole comparison, with the family-wise false-alarm rate controlled.
 *
 * Series are matched by stage × path × phase; warmup phases are skipped (budgets ignore them too).
 * By default only the stages the current report's budgets name, plus `total`, are judged (the rest
 * are listed as not judged); `allSeries` judges every series. For each judged percentile q:
 *
 * 1. Each run r gives an estimate Q_r and a standard error s_r = (hi − lo) / (2 · 1.96) from its
 *    time-aware 95% interval (confidence.ts: windows as batches, so stalls widen it), never below the
 *    histogram's resolution (0.1% + 1 µs).
 * 2. The baseline is B = mean of Q_b over the N baselines. With N ≥ 2 the baselines' spread measures
 *    run-to-run noise directly: S² = Σ(Q_b − B)² / (N − 1), W = mean s_b², V = max(S², W), and the
 *    between-run part beyond within-run noise τ² = max(0, S² − W), which the current run carries too:
 *
 *      Var(Q_c − B) = s_c² + τ² + V / N
 *
 *    With one baseline there is no spread to measure τ from, so it is assumed: τ = runNoise · B
 *    (default 1.5%; identical runs on a shared 2-core machine showed about 2% at p50), carried by both runs:
 *
 *      Var(Q_c − B₁) = s_c² + s_1² + 2·τ²      (one baseline: wider than a history would need)
 *
 *    and T = (Q_c − B) / √Var has Student's t with Satterthwaite's degrees of freedom (windows − 1 for
 *    a within-run part, N − 1 for a between-run part). One-sided p = P(t > T).
 * 3. Holm–Bonferroni over every conclusive judged (series, percentile): the family-wise chance that
 *    any of them is flagged when nothing changed is at most `alpha`.
 * 4. Practical significance: a percentile is a **regression** only when, besides (3), it is slower by
 *    at least `minChangeMs` (default 1 ms) AND by more than its relative `tolerance`. A change below
 *    the floor is "same" whatever its ratio; when both sides are below the floor the ratio is not
 *    computed at all (ratios of values at the histogram's resolution floor mean nothing).
 *
 * A percentile with fewer than ⌈10 / (1 − q)⌉ samples in the current run or in every baseline (the
 * budgets' minimum) is *insufficient*. The outcome is `regression`, `pass`, `no-baseline`, or
 * `incomparable`: no baseline of the same profile and schedule, nothing judged had enough samples, or
 * the current run is unfit (interrupted, or its load was not delivered: the client fell behind, so
 * its latencies measured the machine, not the endpoint). Unfit baselines are left out, with the reason.
 */
import { minSamples } from './budgets.js';
import { timedQuantileInterval, Z95 } from './confidence.js';
import { countOf, decodeHistogram, quantileMs, type Histogram } from './histograms.js';
import type { PathName } from './profile-types.js';
import type { RunResult, SeriesReport } from './report.js';
import { holm, tSurvival } from './stats.js';
import { decodeWindows } from './windows.js';

export const COMPARE_KEYS = ['p50', 'p90', 'p95', 'p99', 'p999'] as const;
export type CompareKey = (typeof COMPARE_KEYS)[number];
const QUANTILE: Record<CompareKey, number> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, p999: 0.999 };

export const DEFAULT_TOLERANCE = 0.05;
export const DEFAULT_MIN_CHANGE_MS = 1;
export const DEFAULT_ALPHA = 0.01;
export const DEFAULT_RUN_NOISE = 0.015;

export interface CompareOptions {
  /** fraction: 0.05 accepts up to 5% slower */
  tolerance: number;
  /** per-percentile overrides of `tolerance` */
  perKey?: Partial<Record<CompareKey, number>>;
  /** no change smaller than this (ms) is a regression; default 1 ms */
  minChangeMs?: number;
  /** family-wise false-alarm rate over every judged percentile; default 1% */
  alpha?: number;
  /** judge every series, not only the stages the budgets name plus total */
  allSeries?: boolean;
  /** with one baseline: the run-to-run spread assumed (fraction of the value), as it cannot be measured; default 1.5% */
  runNoise?: number;
}

export function defaultCompareOptions(): Required<CompareOptions> {
  return { tolerance: DEFAULT_TOLERANCE, perKey: {}, minChangeMs: DEFAULT_MIN_CHANGE_MS, alpha: DEFAULT_ALPHA, allSeries: false, runNoise: DEFAULT_RUN_NOISE };
}

/**
 * regression: slower beyond the floor, the tolerance and noise (after Holm); slower: beyond the floor
 * and tolerance but within noise; faster: better beyond all three; same: otherwise;
 * insufficient: too few samples to judge.
 */
export type ChangeStatus = 'regression' | 'slower' | 'same' | 'faster' | 'insufficient';

export interface PercentileChange {
  key: CompareKey;
  /** the baselines' mean (one baseline: its value) */
  baseline: number | null;
  current: number | null;
  /** current / baseline − 1; null when a side is missing or both are below the min-change floor */
  change: number | null;
  /** one baseline: its 95% interval; several: B ± 1.96·√(V/N), the interval of their mean */
  baselineInterval: [number, number] | null;
  currentInterval: [number, number] | null;
  tolerance: number;
  /** one-sided p-value of "slower" (null when insufficient) */
  p: number | null;
  status: ChangeStatus;
}

export interface SeriesComparison {
  stage: string;
  path: PathName;
  phase: string;
  /** mean sample count over the baselines that have the series */
  baselineCount: number;
  currentCount: number;
  changes: PercentileChange[];
}

export type CompareOutcome = 'pass' | 'regression' | 'incomparable' | 'no-baseline';

export interface Comparison {
  /** the most recent baseline used */
  baseline: { profile: string; startedAt: string };
  /** every baseline used, oldest first */
  baselines: { profile: string; startedAt: string }[];
  /** baselines left out, and why (another profile or schedule) */
  skipped: string[];
  current: { profile: string; startedAt: string };
  options: Required<CompareOptions>;
  outcome: CompareOutcome;
  /** why, in words, when incomparable or no-baseline */
  reason?: string;
  series: SeriesComparison[];
  /** "stage path phase" of series found on one side only */
  onlyInBaseline: string[];
  onlyInCurrent: string[];
  /** matched series that were not judged (no budget names their stage; `allSeries` judges them) */
  notJudged: string[];
  regressions: number;
}

const keyOf = (s: { stage: string; path: string; phase: string }): string => `${s.stage} ${s.path} ${s.phase}`;
const RUN_INFO = (r: RunResult): { profile: string; startedAt: string } => ({ profile: r.profile, startedAt: r.startedAt });

/** Stages the report's latency budgets name ("p99 of decode ≤ 1s" → decode), plus total. */
export function judgedStages(r: RunResult): Set<string> {
  const out = new Set(['total']);
  for (const v of r.budgets) {
    const m = /^(?:p50|p90|p95|p99|p999|mean|max) of (\S+)/.exec(v.description);
    if (m?.[1] !== undefined && v.unit === 'ms') out.add(m[1]);
  }
  return out;
}

/** One run's estimate of one percentile: value, 95% interval, standard error and its degrees of freedom. */
interface Estimate {
  n: number;
  value: number;
  interval: [number, number];
  se: number;
  df: number;
}

interface Decoded {
  hist: Histogram;
  windows: Histogram[] | undefined;
}

function decodeSeries(s: SeriesReport): Decoded {
  return { hist: decodeHistogram(s.hdr, s.max), windows: decodeWindows(s.windows)?.windows.map((w) => w.hist) };
}

function estimate(d: Decoded, q: number): Estimate | null {
  const n = countOf(d.hist);
  const t = n > 0 ? timedQuantileInterval(d.hist, d.windows, q) : null;
  if (t === null) return null;
  const value = quantileMs(d.hist, q);
  const resolution = value * 1e-3 + 1e-3;
  const se = Math.max((t.interval[1] - t.interval[0]) / (2 * Z95), resolution);
  return { n, value, interval: t.interval, se, df: t.method === 'windows' ? t.windows - 1 : Number.POSITIVE_INFINITY };
}

/** Satterthwaite: degrees of freedom of a sum of variance parts, each with its own. */
function satterthwaite(parts: readonly (readonly [number, number])[]): number {
  const total = parts.reduce((s, [v]) => s + v, 0);
  const den = parts.reduce((s, [v, df]) => s + (v > 0 && Number.isFinite(df) ? (v * v) / df : 0), 0);
  return den > 0 ? (total * total) / den : Number.POSITIVE_INFINITY;
}

interface Judged {
  change: PercentileChange;
  /** practically significant slower (floor and tolerance): a regression if Holm rejects its p */
  candidate: boolean;
}

function judge(key: CompareKey, bases: readonly Decoded[], cur: Decoded, tolerance: number, o: Required<CompareOptions>): Judged {
  const q = QUANTILE[key];
  const need = minSamples(key);
  const c = estimate(cur, q);
  const bs = bases.map((b) => estimate(b, q)).filter((e): e is Estimate => e !== null);
  const usable = bs.filter((b) => b.n >= need);
  const N = usable.length;
  const shown = usable.length > 0 ? usable : bs;
  const B = shown.length > 0 ? shown.reduce((s, b) => s + b.value, 0) / shown.length : null;
  const C = c?.value ?? null;
  const belowFloor = B !== null && C !== null && B < o.minChangeMs && C < o.minChangeMs;
  const change = B === null || C === null || belowFloor ? null : B === 0 ? (C === 0 ? 0 : Number.POSITIVE_INFINITY) : C / B - 1;
  const base: PercentileChange = { key, baseline: B, current: C, change, baselineInterval: shown.length === 1 ? (shown[0] as Estimate).interval : null, currentInterval: c?.interval ?? null, tolerance, p: null, status: 'insufficient' };
  if (c === null || c.n < need || N === 0 || B === null || C === null) return { change: base, candidate: false };

  const W = usable.reduce((s, b) => s + b.se * b.se, 0) / N;
  const S2 = N >= 2 ? usable.reduce((s, b) => s + (b.value - B) ** 2, 0) / (N - 1) : 0;
  const V = N >= 2 ? Math.max(S2, W) : W;
  // measured from the history, or (one baseline) assumed and carried by both runs; assumed: no df
  const tau2 = N >= 2 ? Math.max(0, S2 - W) : (o.runNoise * B) ** 2;
  const dfBase = N >= 2 && S2 >= W ? N - 1 : Math.min(...usable.map((b) => b.df));
  const variance = c.se * c.se + tau2 + V / N + (N === 1 ? tau2 : 0);
  const df = satterthwaite([[c.se * c.se, c.df], [N === 1 ? 2 * tau2 : tau2, N === 1 ? Number.POSITIVE_INFINITY : N - 1], [V / N, dfBase]]);
  const T = (C - B) / Math.sqrt(variance);
  const p = tSurvival(T, df);
  const half = Z95 * Math.sqrt(V / N);
  const baselineInterval: [number, number] = N === 1 ? (usable[0] as Estimate).interval : [B - half, B + half];
  const delta = C - B;
  const slower = delta >= o.minChangeMs && change !== null && change > tolerance;
  const faster = delta <= -o.minChangeMs && change !== null && change < -tolerance && tSurvival(-T, df) <= o.alpha;
  const status: ChangeStatus = faster ? 'faster' : slower ? 'slower' : 'same';
  return { change: { ...base, baselineInterval, p, status }, candidate: slower };
}

/**
 * Why a run's latencies do not describe the experiment its profile names, or undefined: it was
 * interrupted (partial), or it did not deliver its load (the client fell behind its schedule, so its
 * latencies include its own lag: a starved machine, not the endpoint).
 */
export function unfitToCompare(r: RunResult): string | undefined {
  if (r.interrupted) return 'it was interrupted (partial data)';
  const delivered = r.budgets.find((v) => v.id === 'load delivered');
  if (delivered?.status === 'fail') return `it did not deliver its load (${delivered.reason.replace(/^load not delivered: /, '')})`;
  return undefined;
}

/** The baselines this run can be compared with: the same profile, and the same schedule when both say. */
function matching(baselines: readonly RunResult[], current: RunResult): { use: RunResult[]; skipped: string[] } {
  const use: RunResult[] = [];
  const skipped: string[] = [];
  for (const b of baselines) {
    const unfit = unfitToCompare(b);
    if (unfit !== undefined) skipped.push(`${b.startedAt}: ${unfit}`);
    else if (b.profile !== current.profile) skipped.push(`${b.startedAt}: profile ${JSON.stringify(b.profile)}, not ${JSON.stringify(current.profile)}`);
    else if (b.scheduleId !== undefined && current.scheduleId !== undefined && b.scheduleId !== current.scheduleId) skipped.push(`${b.startedAt}: another schedule (phases, arrivals or seed changed)`);
    else use.push(b);
  }
  return { use: use.sort((x, y) => x.startedAt.localeCompare(y.startedAt)), skipped };
}

/** Throws a plain Error when an hdr string is malformed; the caller names the file. */
export function compareRuns(baselines: readonly RunResult[], current: RunResult, options: CompareOptions): Comparison {
  const o: Required<CompareOptions> = { ...defaultCompareOptions(), ...options, perKey: options.perKey ?? {} };
  const { use, skipped } = matching(baselines, current);
  const latest = use[use.length - 1] ?? baselines[baselines.length - 1];
  const head = { baseline: latest ? RUN_INFO(latest) : { profile: '', startedAt: '' }, baselines: use.map(RUN_INFO), skipped, current: RUN_INFO(current), options: o };
  const empty = { series: [], onlyInBaseline: [], onlyInCurrent: [], notJudged: [], regressions: 0 };
  if (baselines.length === 0) return { ...head, ...empty, outcome: 'no-baseline', reason: 'no baseline yet: nothing to compare with' };
  const unfit = unfitToCompare(current);
  if (unfit !== undefined) return { ...head, ...empty, outcome: 'incomparable', reason: `the current run cannot be judged: ${unfit}` };
  if (use.length === 0) return { ...head, ...empty, outcome: 'incomparable', reason: `no usable baseline of the same profile and schedule (${skipped.join('; ')})` };

  const warm = new Set([...use, current].flatMap((r) => r.phases).filter((p) => p.warmup).map((p) => p.name));
  const steady = (r: RunResult): Map<string, SeriesReport> => new Map(r.series.filter((s) => !warm.has(s.phase)).map((s) => [keyOf(s), s]));
  const bases = use.map(steady);
  const cur = steady(current);
  const stages = judgedStages(current);
  const notJudged: string[] = [];
  const judged: { s: SeriesReport; bs: Decoded[]; c: Decoded }[] = [];
  for (const [k, s] of cur) {
    const bs = bases.flatMap((m) => (m.has(k) ? [m.get(k) as SeriesReport] : []));
    if (bs.length === 0) continue;
    if (!o.allSeries && !stages.has(s.stage)) notJudged.push(k);
    else judged.push({ s, bs: bs.map(decodeSeries), c: decodeSeries(s) });
  }
  const rows = judged.map(({ s, bs, c }) => ({
    s,
    baselineCount: Math.round(bs.reduce((n, b) => n + countOf(b.hist), 0) / bs.length),
    currentCount: countOf(c.hist),
    js: COMPARE_KEYS.map((key) => judge(key, bs, c, o.perKey[key] ?? o.tolerance, o)),
  }));
  // Holm over every conclusive judged percentile, whatever its size: the family is fixed before looking
  const tests = rows.flatMap((r) => r.js.filter((j) => j.change.p !== null));
  const rejected = holm(tests.map((j) => j.change.p as number), o.alpha);
  tests.forEach((j, i) => {
    if (j.candidate && rejected[i] === true) j.change.status = 'regression';
  });
  const series: SeriesComparison[] = rows.map((r) => ({ stage: r.s.stage, path: r.s.path, phase: r.s.phase, baselineCount: r.baselineCount, currentCount: r.currentCount, changes: r.js.map((j) => j.change) }));
  const regressions = series.reduce((n, s) => n + s.changes.filter((c) => c.status === 'regression').length, 0);
  const anyBase = new Set(bases.flatMap((m) => [...m.keys()]));
  const rest = { series, notJudged, regressions, onlyInBaseline: [...anyBase].filter((k) => !cur.has(k)), onlyInCurrent: [...cur.keys()].filter((k) => !anyBase.has(k)) };
  if (tests.length === 0) {
    const why = series.length === 0 ? 'no judged series in both runs' : 'every judged percentile has too few samples';
    return { ...head, ...rest, outcome: 'incomparable', reason: `too few samples: ${why}` };
  }
  return { ...head, ...rest, outcome: regressions > 0 ? 'regression' : 'pass' };
}

/** Two reports: compareRuns with one baseline (kept for programmatic callers). */
export function compareReports(baseline: RunResult, current: RunResult, o: CompareOptions): Comparison {
  return compareRuns([baseline], current, o);
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
