/**
 * The schedule: phases → the intended send time of every request. Open-model load means these times
 * are decided up front and never wait on responses, so a slow server cannot quietly lower the load it
 * is measured under (coordinated omission).
 *
 * Everything is derived from one number per phase, its integral `hits(t)`: the expected requests in
 * [0, t). The phase's count, the time of each request and the per-second counts all come from it, so
 * they can never disagree (vegeta's Pacer idea, here with the inverse made explicit).
 *
 * Closed-model phases (virtual users, each sending when its last request returns) have no schedule:
 * how many requests they send depends on the server. They keep their place on the plan's timeline
 * with the zero shape (hits ≡ 0), so open phases after them keep absolute run times, and the driver
 * asks `phaseAt`/`concurrencyAt` how many users should be busy at a given moment.
 *
 * Trace phases (core/trace/) are open phases whose times are data: the replay's offsets dᵢ, already
 * windowed and scaled (trace/replay.ts), with hits(t) = #{i : dᵢ < t} (traceShape). Every arrival
 * kind sends a trace phase's request i at startMs + dᵢ, since the trace says when.
 */
import type { Arrivals, Phase, TraceReplay } from './profile-types.js';
import { createRng, deriveSeed, gammaSampler } from './random.js';

/** A rate over one phase, defined by its integral; times are ms since the phase's start. */
export interface RateShape {
  durationMs: number;
  /** req/s at tMs; 0 outside [0, durationMs] */
  rate(tMs: number): number;
  /** ∫₀ᵗ rate: expected requests in [0, tMs), clamped to [0, hits(durationMs)] outside the phase */
  hits(tMs: number): number;
  /** ms, inverse of hits: 0 for k ≤ 0, durationMs for k ≥ hits(durationMs) */
  timeOfHit(k: number): number;
}

/**
 * Float noise in `hits` (a few ulps of ~10⁷ at most) must not add or drop a request, so a fractional
 * part under a millionth of a request counts as zero.
 */
const COUNT_EPS = 1e-6;

/**
 * A linear ramp from r0 = `rate` to r1 = `to` over D = durationMs/1000 s, with slope a = (r1 − r0)/D.
 *
 *   rate(s) = r0 + a·s
 *   hits(s) = r0·s + a·s²/2                        (s in seconds)
 *   hits(D) = (r0 + r1)·D/2                        (the trapezoid: used as the phase total)
 *
 * Inverse: solve a·s²/2 + r0·s − k = 0 for the root with s ≥ 0. The textbook root
 * (−r0 + √(r0² + 2ak))/a divides by a (0 for a constant rate) and cancels catastrophically when
 * a·k ≪ r0². Multiplying by the conjugate gives the stable form
 *
 *   s = 2k / (r0 + √(r0² + 2ak))
 *
 * which is k/r0 when a = 0, √(2k/a) when r0 = 0, and for a ramp down (a < 0) stays positive because
 * r0² + 2ak ≥ r1² ≥ 0 for every k ≤ hits(D). The only 0/0 is k = 0 with r0 = 0, handled as t = 0.
 * A zero-length phase or a 0→0 phase has hits ≡ 0 and so sends nothing.
 */
export function linearShape(phase: Pick<Phase, 'durationMs' | 'rate' | 'to'>): RateShape {
  const { durationMs, rate: r0, to: r1 } = phase;
  const D = durationMs / 1000;
  const a = D > 0 ? (r1 - r0) / D : 0;
  const total = D > 0 ? ((r0 + r1) * D) / 2 : 0;
  return {
    durationMs,
    rate(tMs) {
      if (!(tMs >= 0 && tMs <= durationMs)) return 0;
      return r0 + (a * tMs) / 1000;
    },
    hits(tMs) {
      if (!(tMs > 0)) return 0;
      if (tMs >= durationMs) return total;
      const s = tMs / 1000;
      return Math.min(total, s * (r0 + (a * s) / 2));
    },
    timeOfHit(k) {
      if (!(k > 0)) return 0;
      if (k >= total) return durationMs;
      const den = r0 + Math.sqrt(Math.max(0, r0 * r0 + 2 * a * k));
      // r0 = 0 with a tiny k underflows 2ak to 0: √(2k/a) is the same value without the underflow
      const s = den > 0 ? (2 * k) / den : Math.sqrt((2 * k) / a);
      return Math.min(durationMs, s * 1000);
    },
  };
}

/**
 * A trace phase's shape: its N offsets d₀ ≤ … ≤ d_{N−1} ≤ D (ms) are the hits themselves,
 *
 *   hits(t) = #{i : dᵢ < t}   for 0 < t < D,   N from D on        (a step function: whole counts)
 *   hits⁻¹(k) = d_{⌈k⌉−1}     for 0 < k ≤ N                       (request k−1 … of the counting rule)
 *
 * so the counting rule below gives request k at dₖ and the per-second counts are the trace's own.
 * rate(t) is the mean rate N/D (a step function has no rate but Dirac spikes).
 */
export function traceShape(offsetsMs: readonly number[], durationMs: number): RateShape {
  const n = offsetsMs.length;
  const mean = durationMs > 0 ? n / (durationMs / 1000) : 0;
  /** #{i : dᵢ < t}, by binary search */
  const before = (t: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((offsetsMs[mid] ?? Infinity) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    durationMs,
    rate: (tMs) => (tMs >= 0 && tMs <= durationMs ? mean : 0),
    hits: (tMs) => (!(tMs > 0) ? 0 : tMs >= durationMs ? n : before(tMs)),
    timeOfHit: (k) => (!(k > 0) ? 0 : k >= n ? (offsetsMs[n - 1] ?? 0) : (offsetsMs[Math.ceil(k) - 1] ?? 0)),
  };
}

/**
 * The counting rule, used everywhere a count is needed: request k (k = 0, 1, …) is sent at
 * hits⁻¹(k), so the requests in [0, t) are the integers k ≥ 0 with k < hits(t), i.e. ⌈hits(t)⌉
 * (less COUNT_EPS of float noise). A phase therefore sends ⌈hits(D)⌉ requests: exactly hits(D) when
 * that is whole (20→200 rps over 60 s: 6,600), and the first request always leaves at the phase's
 * start, even on a 0→X ramp.
 */
export function hitsCount(shape: RateShape, tMs: number): number {
  const h = shape.hits(tMs);
  // request 0 leaves at the start, so it is in [0, t) as soon as any hit is: even when hits(t) ≤ COUNT_EPS
  return h > 0 ? Math.max(1, Math.ceil(h - COUNT_EPS)) : 0;
}

/**
 * The lowest non-zero rate a phase may have: one request per ~17 minutes. Below it the ramp's slope
 * underflows in float (denormal rates) and hits⁻¹ stops being the inverse of hits.
 */
export const MIN_RATE = 0.001;

/** A phase laid out on the run's clock (its fields as in profile-types.ts' Phase). */
export interface PlannedPhase extends Omit<Phase, 'durationMs'> {
  index: number;
  startMs: number;
  endMs: number;
  /** exact number of requests this open phase sends (every arrival kind alike); 0 for closed phases */
  requests: number;
  /** the open phase's rate curve; the zero shape (rate ≡ 0) for closed phases */
  shape: RateShape;
  /** a trace phase's replay: request k of the phase leaves at startMs + offsetsMs[k] */
  replay?: TraceReplay;
}

export interface Plan {
  phases: PlannedPhase[];
  durationMs: number;
  requests: number;
}

/**
 * Lays the phases end to end. Rejects what parseProfile already rejects (negative or non-finite
 * numbers): reaching here with one is a bug, not a user error, hence a plain RangeError.
 */
export function planSchedule(phases: readonly Phase[]): Plan {
  const planned: PlannedPhase[] = [];
  let startMs = 0;
  let requests = 0;
  phases.forEach((phase, index) => {
    checkPhase(phase, index);
    const closed = phase.model === 'closed';
    const replay = phase.trace?.replay;
    if (phase.trace && !replay) throw new RangeError(`phase ${index} (${phase.name}): the trace ${phase.trace.file} was not loaded (src/trace-file.ts attaches it)`);
    const shape = replay ? traceShape(replay.offsetsMs, phase.durationMs) : linearShape({ durationMs: phase.durationMs, rate: closed ? 0 : phase.rate, to: closed ? 0 : phase.to });
    // a trace phase's rate and to are its mean rate (to 0.001/s), for the plan and the reports
    const rate = closed ? 0 : replay ? Math.round(shape.rate(0) * 1000) / 1000 : phase.rate;
    const to = closed ? 0 : replay ? rate : phase.to;
    const count = replay ? replay.offsetsMs.length : hitsCount(shape, phase.durationMs);
    planned.push({
      index,
      name: phase.name,
      startMs,
      endMs: startMs + phase.durationMs,
      model: phase.model,
      rate,
      to,
      concurrency: closed ? phase.concurrency : 0,
      concurrencyTo: closed ? phase.concurrencyTo : 0,
      warmup: phase.warmup,
      requests: count,
      shape,
      ...(replay ? { replay, trace: phase.trace } : {}),
    });
    startMs += phase.durationMs;
    requests += count;
  });
  return { phases: planned, durationMs: startMs, requests };
}

function checkPhase(phase: Phase, index: number): void {
  const fail = (what: string, v: number): never => {
    throw new RangeError(`phase ${index} (${phase.name}): ${what}, got ${v}`);
  };
  if (!Number.isFinite(phase.durationMs) || phase.durationMs < 0) fail('durationMs must be a finite number ≥ 0', phase.durationMs);
  if (phase.model === 'closed') {
    for (const key of ['concurrency', 'concurrencyTo'] as const) {
      const v = phase[key];
      if (!Number.isInteger(v) || v < 1) fail(`${key} must be an integer ≥ 1 in a closed phase`, v);
    }
    return;
  }
  for (const key of ['rate', 'to'] as const) {
    const v = phase[key];
    if (!Number.isFinite(v) || v < 0 || (v > 0 && v < MIN_RATE)) fail(`${key} must be a finite number ≥ 0 (0 or ≥ ${MIN_RATE})`, v);
  }
}

/**
 * Virtual users a closed phase wants busy at tInPhaseMs: the straight line from c₀ = concurrency to
 * c₁ = concurrencyTo, rounded to the nearest whole user (halves up),
 *
 *   c(t) = round(c₀ + (c₁ − c₀)·t/D),   t clamped to [0, D]
 *
 * so a ramp 8→64 over 56 s adds one user per second, each at the half-way point of its second, and
 * both ends are met exactly. Open phases have no users: 0. A zero-length phase stays at c₀.
 */
export function concurrencyAt(p: PlannedPhase, tInPhaseMs: number): number {
  if (p.model !== 'closed') return 0;
  const D = p.endMs - p.startMs;
  if (!(D > 0) || !(tInPhaseMs > 0)) return p.concurrency;
  if (tInPhaseMs >= D) return p.concurrencyTo;
  return Math.round(p.concurrency + ((p.concurrencyTo - p.concurrency) * tInPhaseMs) / D);
}

/**
 * The phase whose [startMs, endMs) holds tMs of the run, or undefined before 0, from the run's end
 * on, and for NaN. Zero-length phases never hold an instant. Binary search: the driver calls this on
 * every tick.
 *
 * The last phase starting at or before t holds it: the next one starts after t, and ends meet
 * starts, so this one ends after t (a zero-length phase sharing its start with a later one is
 * never the last such).
 */
export function phaseAt(plan: Plan, tMs: number): PlannedPhase | undefined {
  if (!(tMs >= 0 && tMs < plan.durationMs)) return undefined;
  let lo = 0;
  let hi = plan.phases.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((plan.phases[mid]?.startMs ?? Infinity) <= tMs) lo = mid;
    else hi = mid - 1;
  }
  return plan.phases[lo];
}

/**
 * The phase of the whole second that ended at or before `tMs`, [⌊t/1000⌋−1, ⌊t/1000⌋) s, taken at
 * that second's last millisecond. A once-a-second line describes the second just ended: at the end of
 * a 4 s phase, its line (fired at 4,000 ms or a little later) is still that phase's, not "draining".
 */
export function phaseOfSecondBefore(plan: Plan, tMs: number): PlannedPhase | undefined {
  return phaseAt(plan, Math.floor(tMs / 1000) * 1000 - 1);
}

/** Requests of phase `p` scheduled in [0, tMs) of the run; exact at the phase's ends. */
function phaseCountBefore(p: PlannedPhase, tMs: number): number {
  if (tMs <= p.startMs) return 0;
  if (tMs >= p.endMs) return p.requests;
  return Math.min(p.requests, hitsCount(p.shape, tMs - p.startMs));
}

/** A time just below x that still floors into the previous bin: 1 ns is far above an ulp of x. */
function below(x: number): number {
  return x - Math.max(1e-6, Math.abs(x) * 1e-15);
}

/**
 * A random arrival's time, kept inside its phase and never before the previous one. Its draws are
 * non-decreasing in hits space, but hits⁻¹ is monotone only up to an ulp, so two draws closer than
 * that (gamma gaps at small shapes are often ~0) can swap; carrying the previous time forward moves
 * a time by that ulp at most. The cap is min(t, below(end)), not "if t ≥ end": the "if" would move a
 * later time below an earlier one that fell in (below(end), end).
 */
function ordered(t: number, previous: number, endMs: number): number {
  return Math.min(Math.max(t, previous), below(endMs));
}

export interface Arrival {
  /** global index over the whole schedule, 0-based */
  index: number;
  /** intended send time, ms since the run's start (float) */
  t: number;
  /** index into plan.phases */
  phase: number;
}

/** Lazy, ascending-in-t stream of every request of the plan. */
export interface ArrivalStream {
  next(): Arrival | undefined;
  /** next arrival's t without consuming, or undefined */
  peekTime(): number | undefined;
}

/**
 * Uniform: request k of a phase at hits⁻¹(k). When hits⁻¹(k) is within float noise or COUNT_EPS of a
 * whole second, the computed time can land on the other side of it from where the counting rule puts
 * request k (1.1→199.9 rps over 7 s: hits(2 s) = 59 but hits⁻¹(59) = 1999.9999999999998 ms). The time
 * is then moved onto the rule's side, by at most COUNT_EPS/rate seconds (µs at the lowest sane rates),
 * so the emitted stream's per-second counts equal `scheduledPerSecond` exactly, not just almost.
 */
function uniformTime(p: PlannedPhase, k: number): number {
  let t = p.startMs + p.shape.timeOfHit(k);
  if (t >= p.endMs) t = below(p.endMs);
  const b0 = Math.floor(t / 1000) * 1000;
  const b1 = b0 + 1000;
  if (k >= phaseCountBefore(p, b1)) t = b1;
  else if (k < phaseCountBefore(p, b0)) t = below(b0);
  return t;
}

/**
 * Poisson: a non-homogeneous Poisson process with intensity rate(t) is a unit-rate Poisson process
 * in "hits space" mapped through hits⁻¹ (the time-change theorem). Given that it has N points in
 * [0, H), H = hits(D), those points are N iid uniforms on [0, H), sorted. So each phase sends exactly
 * N = `requests` arrivals (the same count as uniform): a Poisson process conditioned on its count,
 * whose count bias is under one request per phase and whose gaps are still exponential in the limit.
 *
 * The sorted uniforms are generated ascending, one at a time, without storing them (Rényi /
 * Bentley–Saxe): with V uniform on (0, 1],
 *
 *   u₁ = 1 − V^(1/N),   u_{k+1} = 1 − (1 − u_k)·V^(1/(N−k))
 *
 * because, given u_k, the remaining N−k points are iid uniform on (u_k, 1) and the smallest of m such
 * uniforms on (0,1) is 1 − V^(1/m). Products of many factors near 1 lose precision, so the running
 * log L = ln(1 − u) = Σ ln(V)/m is kept instead and u = −expm1(L), exact even for u ≈ 1/N.
 *
 * Each phase draws from its own derived seed, so phases are independent and a phase's arrivals do
 * not shift when an earlier phase changes.
 */
class PoissonPhase {
  private logRemaining = 0;
  private last = 0;
  private readonly rng: () => number;
  private readonly total: number;
  constructor(
    private readonly p: PlannedPhase,
    seed: number,
  ) {
    this.rng = createRng(deriveSeed(seed, p.index));
    this.total = p.shape.hits(p.shape.durationMs);
  }
  time(k: number): number {
    const m = this.p.requests - k;
    const v = 1 - this.rng();
    this.logRemaining += Math.log(v) / m;
    const u = -Math.expm1(this.logRemaining);
    const t = this.p.startMs + this.p.shape.timeOfHit(u * this.total);
    this.last = ordered(t, this.last, this.p.endMs);
    return this.last;
  }
}

/**
 * Gamma (vLLM's `burstiness`): gaps drawn from Gamma(shape b, scale 1/(rate·b)), mean 1/rate and
 * coefficient of variation 1/√b: b = 1 is poisson, b < 1 burstier (clumps and lulls), b > 1 more
 * regular. Along a ramp this is done in hits space, like poisson: unit-mean gaps there, mapped
 * through hits⁻¹, so the local mean gap is 1/rate(t).
 *
 * To keep the phase's count exact (N = `requests`), the gaps are normalised instead of cut off: draw
 * N + 1 gaps g ~ Gamma(b, 1) with sum S, and send request k (k = 1..N) at
 *
 *   t_k = hits⁻¹(H · (g₁ + … + g_k) / S),   H = hits(D)
 *
 * i.e. the (N+1)-th gap would land exactly at the phase's end. The scaled gaps are a symmetric
 * Dirichlet(b, …, b); for b = 1 that is the spacings of N sorted uniforms, the same distribution as
 * the poisson construction above, and for large N, S/(N+1) → 1 so each gap is Gamma(b) with mean
 * H/(N+1) ≈ 1 in hits space.
 *
 * Constant memory: the first pass only sums (done in `arrivals`, before the run starts, so a long
 * phase's pass never stalls the send loop mid-run), the second re-creates the rng from the same seed
 * and replays the same draws. Replaying the same additions in the same order makes every partial sum
 * ≤ S exactly in float, so no time passes the phase's end.
 */
function gammaTotal(p: PlannedPhase, seed: number, burstiness: number): number {
  const draw = gammaSampler(burstiness, createRng(deriveSeed(seed, p.index)));
  let sum = 0;
  for (let i = 0; i <= p.requests; i++) sum += draw();
  return sum;
}

class GammaPhase {
  private cum = 0;
  private last = 0;
  private readonly draw: () => number;
  private readonly total: number;
  constructor(
    private readonly p: PlannedPhase,
    seed: number,
    burstiness: number,
    private readonly sum: number,
  ) {
    this.draw = gammaSampler(burstiness, createRng(deriveSeed(seed, p.index)));
    this.total = p.shape.hits(p.shape.durationMs);
  }
  time(k: number): number {
    this.cum += this.draw();
    // S = 0 needs every draw to underflow (only conceivable at tiny shapes): fall back to even spacing
    const u = this.sum > 0 ? this.cum / this.sum : (k + 1) / (this.p.requests + 1);
    const t = this.p.startMs + this.p.shape.timeOfHit(u * this.total);
    this.last = ordered(t, this.last, this.p.endMs);
    return this.last;
  }
}

/**
 * Every request of the plan, phase by phase (phases do not overlap, so concatenation is already
 * ordered). Closed phases have no requests here and are skipped; times stay absolute run times, so
 * open phases after them keep their place. Memory: one pending arrival and one phase's state (plus,
 * for gamma, one sum per phase), whatever the run's length. Uniform times are strictly ascending
 * within a phase; poisson and gamma times are non-decreasing (two draws can coincide in float).
 *
 * `burstiness` is the gamma shape (ignored by the other kinds); default 1.
 */
export function arrivals(plan: Plan, kind: Arrivals, seed: number, burstiness = 1): ArrivalStream {
  let phaseIdx = 0;
  let k = 0;
  let index = 0;
  let poisson: PoissonPhase | undefined;
  let gamma: GammaPhase | undefined;
  const gammaSums = kind === 'gamma' ? plan.phases.map((p) => gammaTotal(p, seed, burstiness)) : [];

  const produce = (): Arrival | undefined => {
    for (;;) {
      const p = plan.phases[phaseIdx];
      if (!p) return undefined;
      if (k >= p.requests) {
        phaseIdx++;
        k = 0;
        poisson = undefined;
        gamma = undefined;
        continue;
      }
      let t: number;
      if (p.replay) {
        t = p.startMs + (p.replay.offsetsMs[k] ?? 0);
      } else if (kind === 'poisson') {
        poisson ??= new PoissonPhase(p, seed);
        t = poisson.time(k);
      } else if (kind === 'gamma') {
        gamma ??= new GammaPhase(p, seed, burstiness, gammaSums[phaseIdx] ?? 0);
        t = gamma.time(k);
      } else {
        t = uniformTime(p, k);
      }
      k++;
      return { index: index++, t, phase: p.index };
    }
  };

  return peekable(produce);
}

/** An ArrivalStream over a producer of arrivals: one arrival of look-ahead for peekTime(). */
export function peekable(produce: () => Arrival | undefined): ArrivalStream {
  let pending: Arrival | undefined;
  return {
    next() {
      const a = pending ?? produce();
      pending = undefined;
      return a;
    },
    peekTime() {
      pending ??= produce();
      return pending?.t;
    },
  };
}

/**
 * Scheduled requests in [0, tMs) of the run: the sum of each phase's ⌈hits⌉ count, so it is exact
 * for uniform arrivals and reaches plan.requests at the run's end. For poisson and gamma it is the
 * schedule the draws fluctuate around. Only open phases count: a closed phase schedules nothing in
 * advance (what it sends depends on the server), so it contributes 0 here.
 */
export function scheduledBefore(plan: Plan, tMs: number): number {
  let n = 0;
  for (const p of plan.phases) n += phaseCountBefore(p, tMs);
  return n;
}

/**
 * Requests in each whole second [s, s+1) of the run, as differences of `scheduledBefore`:
 *
 *   count(s) = Σ_phases ⌈hits(s+1)⌉ − ⌈hits(s)⌉
 *
 * which telescopes, so the seconds sum to plan.requests exactly with no drift. Uniform arrivals hit
 * these counts exactly; for poisson and gamma they are the expectation (up to the < 1 request ceil
 * rounding). Seconds inside closed phases are 0. The last entry covers a trailing partial second.
 */
export function scheduledPerSecond(plan: Plan): number[] {
  const seconds = Math.ceil(plan.durationMs / 1000);
  const out: number[] = [];
  let before = 0;
  for (let s = 0; s < seconds; s++) {
    const after = scheduledBefore(plan, (s + 1) * 1000);
    out.push(after - before);
    before = after;
  }
  return out;
}
