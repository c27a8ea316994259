/**
 * Scale-out: N processes (shards) together send exactly the single-machine schedule. Shard i of N
 * sends the requests whose global schedule index k satisfies k ≡ i (mod N). Every shard computes
 * the whole schedule (same plan, same seed, same draws) and keeps its residue class, so the union of
 * the shards' arrivals is the unsharded stream, element for element, and no two shards share one.
 * Interleaving (rather than cutting the timeline into N slices) keeps every shard's load shaped
 * like the whole: each sends ~1/N of every second.
 *
 * Indices are counted like Kubernetes' JOB_COMPLETION_INDEX: 0 … N−1.
 *
 * Closed-model phases have no schedule to interleave; their virtual users are split instead
 * (shardUsers). Pure: no I/O, no clock.
 */
import { BudgetgateError } from './errors.js';
import type { Arrivals, Phase, TraceSpec } from './profile-types.js';
import { peekable, type ArrivalStream, type Plan } from './schedule.js';

export interface Shard {
  /** 0 ≤ index < count */
  index: number;
  count: number;
}

/** the largest shard count accepted: far above any sensible fleet, low enough to catch typos */
export const MAX_SHARDS = 10_000;

/**
 * "I/N" (e.g. "2/3") or "auto/N", where auto takes I from `jobIndex` (the caller passes
 * $JOB_COMPLETION_INDEX). Throws a usage error naming the problem.
 */
export function parseShard(text: string, jobIndex?: string): Shard {
  const m = /^\s*(auto|\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new BudgetgateError('usage', `--shard: expected I/N (e.g. 0/3) or auto/N, got ${JSON.stringify(text)}`);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_SHARDS) throw new BudgetgateError('usage', `--shard: N must be an integer from 1 to ${MAX_SHARDS}, got ${m[2]}`);
  let raw = m[1] as string;
  if (raw === 'auto') {
    if (jobIndex === undefined || jobIndex.trim() === '') {
      throw new BudgetgateError('usage', '--shard auto/N: JOB_COMPLETION_INDEX is not set (it is set by a Kubernetes Indexed Job)');
    }
    raw = jobIndex.trim();
    if (!/^\d+$/.test(raw)) throw new BudgetgateError('usage', `--shard auto/N: JOB_COMPLETION_INDEX must be a whole number, got ${JSON.stringify(jobIndex)}`);
  }
  const index = Number(raw);
  if (!Number.isSafeInteger(index) || index >= count) throw new BudgetgateError('usage', `--shard: index must be from 0 to ${count - 1} (counted from 0), got ${raw}`);
  return { index, count };
}

/**
 * How many integers k in [a, b) satisfy k ≡ i (mod n), for integers 0 ≤ a ≤ b, 0 ≤ i < n:
 *
 *   #{k ∈ [a, b) : k ≡ i (mod n)} = ⌈(b − i)/n⌉ − ⌈(a − i)/n⌉
 *
 * since the members of the class below x ≥ 0 are i, i + n, …, i + (m−1)n with m = ⌈(x − i)/n⌉:
 * for x ≤ i, −1 < (x − i)/n ≤ 0 and m = 0, as it should be (clamped at 0 against float −0). Summed
 * over i = 0 … n−1 it gives b − a: the shards' counts add up to the phase's.
 */
export function countInClass(a: number, b: number, shard: Shard): number {
  const below = (x: number): number => Math.max(0, Math.ceil((x - shard.index) / shard.count));
  return b <= a ? 0 : below(b) - below(a);
}

/**
 * A closed phase's c virtual users split over N shards as evenly as whole users allow:
 *
 *   users(i) = ⌊c/N⌋ + (i < c mod N ? 1 : 0)
 *
 * which sums to c over i = 0 … N−1. A shard given 0 users sends nothing in that phase.
 */
export function shardUsers(c: number, shard: Shard): number {
  return Math.floor(c / shard.count) + (shard.index < c % shard.count ? 1 : 0);
}

/**
 * The plan this shard runs: the same phases at the same times, each open phase's `requests` being
 * this shard's count of the global indices [first, first + requests) (first = the requests of every
 * earlier phase, as `arrivals` numbers them), and each closed phase's users split by shardUsers at
 * both ends of its ramp. Rates and shapes stay the whole schedule's: they describe the experiment
 * (and the arrival stream is still computed from them); only counts are the shard's.
 *
 * Along a closed ramp each shard rounds its own line, so mid-ramp the shards' users can differ from
 * the whole's by a user or two; the ends are exact.
 */
export function shardPlan(plan: Plan, shard: Shard): Plan {
  let first = 0;
  let requests = 0;
  const phases = plan.phases.map((p) => {
    const own = countInClass(first, first + p.requests, shard);
    first += p.requests;
    requests += own;
    return p.model === 'closed'
      ? { ...p, requests: own, concurrency: shardUsers(p.concurrency, shard), concurrencyTo: shardUsers(p.concurrencyTo, shard) }
      : { ...p, requests: own };
  });
  return { phases, durationMs: plan.durationMs, requests };
}

/**
 * Only this shard's arrivals (index ≡ shard.index mod shard.count), with their global indices and
 * times unchanged, so its requests leave exactly when they would have on a single machine.
 */
export function shardArrivals(stream: ArrivalStream, shard: Shard): ArrivalStream {
  return peekable(() => {
    for (let a = stream.next(); a; a = stream.next()) if (a.index % shard.count === shard.index) return a;
    return undefined;
  });
}

/** What decides the schedule, and nothing else (not the target, budgets or timing rules). */
export interface ScheduleInputs {
  name: string;
  phases: readonly Phase[];
  arrivals: Arrivals;
  seed: number;
  burstiness: number;
}

/**
 * A stable id of the schedule: FNV-1a (64-bit) over a canonical JSON of the inputs that decide every
 * intended send time. Keys are written in a fixed order and numbers as JSON prints them, so the id
 * does not depend on how the profile was written (YAML vs JSON, "1m" vs "60s", key order). Budgets
 * are left out on purpose: merge re-evaluates them from the profile it is given.
 *
 *   h₀ = 0xcbf29ce484222325;  h ← (h ⊕ byte) · 0x100000001b3  mod 2⁶⁴, over the UTF-8 bytes
 */
export function scheduleId(s: ScheduleInputs): string {
  const canonical = JSON.stringify([
    s.name,
    // a trace phase adds its replay (what decides its send times); other phases keep the ids they had
    s.phases.map((p) => [p.name, p.durationMs, p.model, p.rate, p.to, p.concurrency, p.concurrencyTo, p.warmup, ...(p.trace ? [traceKey(p.trace)] : [])]),
    s.arrivals,
    s.seed,
    s.arrivals === 'gamma' ? s.burstiness : 1,
  ]);
  return `fnv1a64:${fnv1a64(canonical)}`;
}

/**
 * A trace phase's part of the id: its format, scaling and selection, and the replayed offsets
 * themselves (once the file is read), so another trace file, or the same file edited, is another
 * schedule even when the phase's duration comes out the same.
 */
function traceKey(t: TraceSpec): unknown[] {
  const offsets = t.replay ? fnv1a64(t.replay.offsetsMs.join(',')) : null;
  return [t.format, t.speed, t.rate ?? null, t.fromMs ?? null, t.toMs ?? null, t.limit ?? null, offsets];
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;

export function fnv1a64(text: string): string {
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) h = ((h ^ BigInt(byte)) * FNV_PRIME) & MASK64;
  return h.toString(16).padStart(16, '0');
}
