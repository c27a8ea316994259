/**
 * Capacity under budget: the highest steady open-model rate at which every budget holds. Pure: the
 * API (src/api.ts `capacity`) runs the steps this asks for and reports back whether each held.
 *
 * The search. Observations are (rate, held) pairs. Let
 *
 *   hi = min { r : r broke }                          (the lowest rate that broke; absent if none)
 *   lo = max { r : r held, r < hi }                   (the highest rate that held below it)
 *
 * Defining lo "below hi" rather than as the last held rate makes noise fail safe: a held step above a
 * broken one is ignored, and a break at or below lo moves the answer down to the held rate under it.
 *
 *   1. start:  the first rate is `from`.
 *   2. grow:   while nothing broke, try min(g·lo, to) with growth factor g = 2 (doubling), stopping
 *              ("ceiling") once `to` held. Doubling reaches any capacity C ≥ from in ⌈log₂(C/from)⌉
 *              steps and leaves a bracket of ratio at most g.
 *      shrink: while nothing held (even `from` broke), try max(hi/g, floor), stopping ("floor") once
 *              the floor broke: the answer is then 0.
 *   3. bisect: with lo < hi, stop when hi/lo − 1 ≤ precision ("bracketed"), else try the geometric
 *              midpoint m = √(lo·hi). Then ln(hi/m) = ln(m/lo) = ½·ln(hi/lo): each step halves the
 *              bracket's log-width whatever the outcome, so from a ratio R it takes
 *                k = ⌈log₂( ln R / ln(1 + precision) )⌉
 *              steps (doubling to a bracket of 2 at 5%: ⌈log₂(0.693/0.0488)⌉ = 4). The geometric rather
 *              than arithmetic midpoint is used because the precision is relative: the arithmetic one
 *              halves hi − lo but not hi/lo, wasting steps when lo ≪ hi.
 *
 * Rates are rounded for readable step names: to the fewest significant figures (2 or more) that move
 * the rate by at most 1% of the step's log-width (|ln(rounded/exact)| ≤ 0.01·W, W = ln(hi/lo) when
 * bisecting, ln g when growing) and keep it strictly inside the bracket. Growth rounds up and
 * shrinking rounds down, so each still moves by at least g; a bisection then leaves a log-width of at
 * most 0.51·W instead of 0.5·W, and the first bracket is at most g^1.01 wide. Hence maxSearchSteps:
 *   1 + ⌈log_g(max(to/from, from/floor))⌉ + ⌈ln(1.01·ln g / ln(1 + precision)) / ln(1/0.51)⌉.
 * Under a monotone truth (held ⇔ rate ≤ C) with floor ≤ C < to the result satisfies lo ≤ C < hi
 * and hi/lo − 1 ≤ precision.
 *
 * Step length (stepDuration): a percentile budget is conclusive only with minSamples(key) samples
 * (budgets.ts: ⌈10/(1 − q)⌉, p99 → 1,000), and a step at r req/s collects about r·d of them in d
 * seconds. So a step lasts
 *
 *   d = min(maxMs, max(floorMs, safety · N / r · 1000)),   N = max over budgets of minSamples(key)
 *
 * with rate budgets (errors, fallbacks, goodput) needing N = 1 (a ratio exists with one request).
 * safety = 2 leaves room for what does not yield a sample (errors, a stage missing in a response,
 * requests still in flight when the step ends), and the floor (5 s) keeps each step long enough for a
 * queue to show: above capacity the backlog grows linearly in time, so a very short step can end
 * before the wait it causes reaches a budget's limit.
 *
 * Inconclusive steps count as broken (fail safe, as for `run`): a rate whose budgets could not be
 * judged is not a rate they held at. `--allow-inconclusive` counts them as held, as it does for `run`.
 */
import { failsRun } from './verdict.js';
import { minSamples } from './budgets.js';
import type { Budget, Phase } from './profile-types.js';
import type { Verdict } from './report.js';

/** growth factor while no step has broken: doubling */
export const GROWTH = 2;
/** the lowest rate the search shrinks to when even `from` breaks, req/s */
export const FLOOR_RPS = 1;
/** below this a bracket cannot be told apart from rounding and float noise */
export const MIN_PRECISION = 0.001;

export interface SearchOptions {
  /** first rate tried, req/s */
  from: number;
  /** highest rate tried, req/s (the profile's maxRate by default) */
  to: number;
  /** stop when hi/lo − 1 ≤ precision (0.05 for 5%) */
  precision: number;
  growth?: number;
  floor?: number;
}

export type SearchOutcome =
  /** hi/lo − 1 ≤ precision */
  | 'bracketed'
  /** `to` held: the capacity is at least `to` */
  | 'ceiling'
  /** the floor broke: no rate held */
  | 'floor'
  /** next() has more to try */
  | 'searching';

export interface SearchResult {
  /** the highest held rate below the lowest broken one; 0 when none held */
  rps: number;
  lo: number | null;
  hi: number | null;
  outcome: SearchOutcome;
  /** observations reported */
  steps: number;
}

export interface Search {
  /** the next rate to try, or undefined when the search is over (the same value until report()) */
  next(): number | undefined;
  report(rate: number, held: boolean): void;
  result(): SearchResult;
}

/** Throws a RangeError naming the option: the CLI checks first, so reaching this is a programming error. */
export function checkSearchOptions(o: SearchOptions): void {
  const g = o.growth ?? GROWTH;
  const floor = o.floor ?? FLOOR_RPS;
  if (!(Number.isFinite(o.from) && o.from > 0)) throw new RangeError(`capacity: from must be > 0, got ${o.from}`);
  if (!(Number.isFinite(o.to) && o.to >= o.from)) throw new RangeError(`capacity: to must be ≥ from (${o.from}), got ${o.to}`);
  if (!(Number.isFinite(o.precision) && o.precision >= MIN_PRECISION && o.precision < 1)) {
    throw new RangeError(`capacity: precision must be in [${MIN_PRECISION}, 1), got ${o.precision}`);
  }
  if (!(Number.isFinite(g) && g > 1)) throw new RangeError(`capacity: growth must be > 1, got ${g}`);
  if (!(Number.isFinite(floor) && floor > 0 && floor <= o.from)) throw new RangeError(`capacity: floor must be in (0, from], got ${floor}`);
}

/** 3 significant figures: 212.13… → 212, 1414.2… → 1410, 7.0710… → 7.07 (for display) */
export function roundRate(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return x;
  return Number(x.toPrecision(3));
}

/** share of a step's log-width a rounded rate may move (module comment) */
const ROUND_TOLERANCE = 0.01;

/**
 * x with the fewest significant figures (from 2) that stays strictly inside (lo, hi) and within
 * |ln(r/x)| ≤ tol; x itself when none does. `up`/`down` round only that way.
 */
export function niceRate(x: number, lo: number, hi: number, tol: number, mode: 'near' | 'up' | 'down' = 'near'): number {
  const f = mode === 'up' ? Math.ceil : mode === 'down' ? Math.floor : Math.round;
  for (let digits = 2; digits <= 12; digits++) {
    const mag = 10 ** (Math.floor(Math.log10(x)) - digits + 1);
    const r = Number((f(x / mag) * mag).toPrecision(digits + 1));
    const ok = mode === 'up' ? r >= x : mode === 'down' ? r <= x : true;
    if (ok && r > lo && r < hi && Math.abs(Math.log(r / x)) <= tol) return r;
  }
  return x;
}

export function createSearch(options: SearchOptions): Search {
  checkSearchOptions(options);
  const g = options.growth ?? GROWTH;
  const floor = options.floor ?? FLOOR_RPS;
  const { from, to, precision } = options;
  const held: number[] = [];
  const broke: number[] = [];

  const bracket = (): { lo: number | undefined; hi: number | undefined } => {
    const hi = broke.length > 0 ? Math.min(...broke) : undefined;
    const below = hi === undefined ? held : held.filter((r) => r < hi);
    return { lo: below.length > 0 ? Math.max(...below) : undefined, hi };
  };

  const state = (): { next: number | undefined; outcome: SearchOutcome } => {
    const { lo, hi } = bracket();
    if (lo === undefined && hi === undefined) return { next: from, outcome: 'searching' };
    if (hi === undefined) {
      const l = lo as number;
      if (l >= to) return { next: undefined, outcome: 'ceiling' };
      const x = l * g;
      return { next: x >= to ? to : niceRate(x, l, to, ROUND_TOLERANCE * Math.log(g), 'up'), outcome: 'searching' };
    }
    if (lo === undefined) {
      if (hi <= floor) return { next: undefined, outcome: 'floor' };
      const x = hi / g;
      return { next: x <= floor ? floor : niceRate(x, floor, hi, ROUND_TOLERANCE * Math.log(g), 'down'), outcome: 'searching' };
    }
    if (hi / lo - 1 <= precision) return { next: undefined, outcome: 'bracketed' };
    return { next: niceRate(Math.sqrt(lo * hi), lo, hi, ROUND_TOLERANCE * Math.log(hi / lo)), outcome: 'searching' };
  };

  return {
    next: () => state().next,
    report(rate, ok) {
      if (!(Number.isFinite(rate) && rate > 0)) throw new RangeError(`capacity: reported rate must be > 0, got ${rate}`);
      (ok ? held : broke).push(rate);
    },
    result() {
      const { lo, hi } = bracket();
      return { rps: lo ?? 0, lo: lo ?? null, hi: hi ?? null, outcome: state().outcome, steps: held.length + broke.length };
    },
  };
}

/**
 * The most steps a search can take under a monotone truth (module comment): one for `from`,
 * ⌈log_g(reach)⌉ growing (or shrinking) to the first bracket of log-width ≤ 1.01·ln g, then
 * bisections, each leaving at most 0.51 of the log-width, until it is ≤ ln(1 + precision).
 */
export function maxSearchSteps(o: SearchOptions): number {
  const g = o.growth ?? GROWTH;
  const floor = o.floor ?? FLOOR_RPS;
  const reach = Math.max(o.to / o.from, o.from / floor, 1);
  const walk = Math.ceil(Math.log(reach) / Math.log(g) - 1e-9);
  const w0 = (1 + ROUND_TOLERANCE) * Math.log(g);
  const bisect = Math.max(0, Math.ceil(Math.log(w0 / Math.log(1 + o.precision)) / Math.log(1 / (0.5 + ROUND_TOLERANCE)) - 1e-9));
  return 1 + walk + bisect;
}

export interface StepDurationOptions {
  /** multiplies the minimum-sample time; default 2 */
  safety?: number;
  /** default 5 s */
  floorMs?: number;
  /** default 5 min: at a low rate a p999 budget would otherwise ask for hours */
  maxMs?: number;
}

export const STEP_SAFETY = 2;
export const STEP_FLOOR_MS = 5000;
export const STEP_MAX_MS = 300_000;

/** N = max over budgets of the samples each needs to be conclusive (1 for rate budgets; 1 with none). */
export function samplesNeeded(budgets: readonly Budget[]): number {
  return Math.max(1, ...budgets.map((b) => (b.kind === 'latency' ? minSamples(b.key) : 1)));
}

/** d = min(maxMs, max(floorMs, safety · N / rate · 1000)) ms, rounded up to a whole ms (module comment). */
export function stepDuration(budgets: readonly Budget[], rate: number, o: StepDurationOptions = {}): number {
  const safety = o.safety ?? STEP_SAFETY;
  const floorMs = o.floorMs ?? STEP_FLOOR_MS;
  const maxMs = o.maxMs ?? STEP_MAX_MS;
  const need = Math.ceil(((safety * samplesNeeded(budgets)) / rate) * 1000 - 1e-9);
  return Math.min(maxMs, Math.max(floorMs, need));
}

/**
 * Pause after a step before the next one: max(floor, the step's p99 total). The engine already waits
 * for requests in flight, but a server may still be working off requests the client gave up on
 * (timeouts) or freeing memory; p99 of total is how long the slow tail of that step took to clear.
 */
export function cooldownMs(p99TotalMs: number | null, floorMs = 2000): number {
  return Math.max(floorMs, p99TotalMs !== null && Number.isFinite(p99TotalMs) ? Math.ceil(p99TotalMs) : 0);
}

/** "step-120rps", "step-7.07rps" */
export function stepName(rate: number): string {
  return `step-${Number(rate.toPrecision(6))}rps`;
}

/** One steady open phase, not warmup, so every budget (phase scope stripped) sees exactly this step. */
export function stepPhase(rate: number, durationMs: number): Phase {
  return { name: stepName(rate), durationMs, model: 'open', rate, to: rate, concurrency: 0, concurrencyTo: 0, warmup: false };
}

/**
 * Budgets as the steps use them: `phase:` scopes name the profile's phases, which capacity does not
 * run, so the scope is dropped (the budget then covers the step) and the ids of those budgets are
 * returned for a warning. Recovery budgets measure from a profile phase's fault, which steady steps
 * never inject: they are left out (and listed too).
 */
export function capacityBudgets(budgets: readonly Budget[]): { budgets: Budget[]; stripped: string[] } {
  const stripped: string[] = budgets.filter((b) => b.kind === 'recovery').map((b) => b.id);
  const out = budgets.filter((b) => b.kind !== 'recovery').map((b) => {
    if (b.phase === undefined) return b;
    stripped.push(b.id);
    const copy = { ...b };
    delete copy.phase;
    return copy;
  });
  return { budgets: out, stripped };
}

/** budgets whose observed value must stay at or above the limit (the rest must stay at or below) */
function atLeast(v: Verdict, budgets: readonly Budget[]): boolean {
  if (v.id === 'load delivered') return true;
  return budgets.some((b) => b.id === v.id && b.kind === 'goodput');
}

/**
 * How far past its limit a verdict is, as a ratio > 1 for a failure: observed/limit for upper
 * limits, limit/observed for lower ones (goodput, load delivered); ∞ when there is nothing to divide
 * (no observed value, a zero limit).
 */
export function excess(v: Verdict, budgets: readonly Budget[]): number {
  if (v.observed === null) return Number.POSITIVE_INFINITY;
  const [num, den] = atLeast(v, budgets) ? [v.limit, v.observed] : [v.observed, v.limit];
  if (den === 0) return num === 0 ? 1 : Number.POSITIVE_INFINITY;
  return num / den;
}

/**
 * The budget that broke a step: among the verdicts that did not pass (inconclusive ones only when
 * they count as broken), failures first, then the one furthest past its limit. At the lowest broken
 * rate that is the budget which broke first as the rate rose; when several broke at that rate, the
 * furthest past its limit is the one that would have broken at a lower rate had the search tried it
 * (latency grows with the rate above capacity), which is the best reading the data allows.
 */
export function brokenBy(verdicts: readonly Verdict[], budgets: readonly Budget[], allowInconclusive = false): Verdict | undefined {
  const bad = verdicts.filter((v) => failsRun(v, { allowInconclusive }));
  const rank = (v: Verdict): number => (v.status === 'fail' ? 0 : 1);
  const order = (a: Verdict, b: Verdict): number => {
    const ea = excess(a, budgets);
    const eb = excess(b, budgets);
    return rank(a) - rank(b) || (ea === eb ? 0 : ea > eb ? -1 : 1);
  };
  return [...bad].sort(order)[0];
}
