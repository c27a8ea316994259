/**
 * Safe defaults: a typo (`rate: 50000` for 5000) must not become a flood against a shared endpoint.
 * A profile whose schedule goes above `maxRate` is refused before anything is sent; raising the cap is
 * an explicit, reviewable line in the profile.
 */
import type { ProfileProblem } from './errors.js';
import type { Profile } from './profile-types.js';
import type { Plan } from './schedule.js';

export const DEFAULT_MAX_RATE = 5000;

/** The profile's cap, or the default when a profile object predates the field. */
export function maxRateOf(profile: Pick<Profile, 'maxRate'>): number {
  const m = (profile as { maxRate?: unknown }).maxRate;
  return typeof m === 'number' && Number.isFinite(m) && m > 0 ? m : DEFAULT_MAX_RATE;
}

/**
 * One problem per phase field above the cap. Closed phases have no rate (their load is bounded by
 * their users and maxInFlight) and are not checked here.
 */
export function checkSafety(profile: Pick<Profile, 'maxRate'>, plan: Pick<Plan, 'phases'>): ProfileProblem[] {
  const cap = maxRateOf(profile);
  const problems: ProfileProblem[] = [];
  const fmt = (n: number): string => String(Number(n.toFixed(3)));
  for (const p of plan.phases) {
    if (p.model !== 'open') continue;
    const fields: ['rate' | 'to', number][] = p.to === p.rate ? [['rate', p.rate]] : [['rate', p.rate], ['to', p.to]];
    for (const [field, value] of fields) {
      if (value > cap) {
        problems.push({ path: `phases[${p.index}].${field}`, message: `${fmt(value)} req/s is above maxRate ${fmt(cap)}; raise maxRate in the profile to allow it` });
      }
    }
  }
  return problems;
}
