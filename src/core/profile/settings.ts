/**
 * The top-level scalars: `name`, and the knobs that shape the load without being phases (`arrivals`,
 * `burstiness`, `seed`, `maxInFlight`, `maxRate`).
 */
import type { Arrivals } from '../profile-types.js';
import { MIN_RATE } from '../schedule.js';
import { checkInt } from './fields.js';
import { ARRIVALS } from './keys.js';
import { didYouMean, type Problems } from './problems.js';
import { absent, show } from './values.js';

export const DEFAULT_SEED = 1;
// Seeds feed 32-bit PRNGs; a larger integer would be silently truncated there.
const MAX_SEED = 0xffff_ffff;
export const DEFAULT_MAX_IN_FLIGHT = 1000;
const MAX_IN_FLIGHT_LIMIT = 100_000;
/** A rate above this is more often a typo (rate: 50000 for 500) than a plan; `maxRate` raises it. */
export const DEFAULT_MAX_RATE = 5_000;
// Gamma shapes outside this range add nothing a load test needs (CV 10 … 0.1) and, at the small end,
// U^(1/shape) in the sampler underflows to 0 for most draws.
const MIN_BURSTINESS = 0.01;
const MAX_BURSTINESS = 100;

export function checkName(v: unknown, p: Problems): string {
  if (typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v)) return v;
  p.expected('name', "a name of letters, digits, '.', '_' or '-' (it becomes part of file names)", v);
  return '';
}

export function checkArrivals(v: unknown, p: Problems): Arrivals {
  if (absent(v)) return 'uniform';
  if (v === 'uniform' || v === 'poisson' || v === 'gamma') return v;
  const hint = typeof v === 'string' ? didYouMean(v, ARRIVALS) : '';
  p.add('arrivals', `expected uniform, poisson or gamma, got ${show(v)}${hint}`);
  return 'uniform';
}

/**
 * The gamma shape. Accepted (and ignored) with uniform or poisson arrivals too: switching `arrivals`
 * back and forth while tuning should not make the profile invalid.
 */
export function checkBurstiness(v: unknown, p: Problems): number {
  if (absent(v)) return 1;
  if (typeof v === 'number' && v >= MIN_BURSTINESS && v <= MAX_BURSTINESS) return v;
  p.expected('burstiness', `a number from ${MIN_BURSTINESS} to ${MAX_BURSTINESS} (1 is poisson, below 1 burstier)`, v);
  return 1;
}

export function checkSeed(v: unknown, p: Problems): number {
  return checkInt(v, 'seed', 0, MAX_SEED, DEFAULT_SEED, p) ?? DEFAULT_SEED;
}

/** undefined (with a problem) when present but invalid: phases cannot be judged against it then. */
export function checkMaxInFlight(v: unknown, p: Problems): number | undefined {
  return checkInt(v, 'maxInFlight', 1, MAX_IN_FLIGHT_LIMIT, DEFAULT_MAX_IN_FLIGHT, p);
}

/** Default when absent; undefined (with a problem) when present but not a rate ≥ MIN_RATE. */
export function checkMaxRate(v: unknown, p: Problems): number | undefined {
  if (absent(v)) return DEFAULT_MAX_RATE;
  if (typeof v === 'number' && Number.isFinite(v) && v >= MIN_RATE) return v;
  p.expected('maxRate', `a number of requests per second, ${MIN_RATE} or more`, v);
  return undefined;
}
