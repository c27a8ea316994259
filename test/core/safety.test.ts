import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/core/profile.js';
import type { Phase } from '../../src/core/profile-types.js';
import { checkSafety, DEFAULT_MAX_RATE } from '../../src/core/safety.js';
import { planSchedule } from '../../src/core/schedule.js';

const open = (name: string, rate: number, to = rate): Phase => ({ name, durationMs: 1000, model: 'open', rate, to, concurrency: 0, concurrencyTo: 0, warmup: false });
const closed = (name: string, users: number): Phase => ({ name, durationMs: 1000, model: 'closed', rate: 0, to: 0, concurrency: users, concurrencyTo: users, warmup: false });

describe('checkSafety', () => {
  it('happy: phases at or below the cap pass', () => {
    expect(checkSafety({ maxRate: DEFAULT_MAX_RATE }, planSchedule([open('a', 100), open('b', 10, 5000), closed('c', 900)]))).toEqual([]);
  });

  it('sad: a rate above the cap names the phase field and the cap', () => {
    const problems = checkSafety({ maxRate: 5000 }, planSchedule([open('a', 10), open('b', 10), open('c', 8000)]));
    expect(problems).toEqual([{ path: 'phases[2].rate', message: '8000 req/s is above maxRate 5000; raise maxRate in the profile to allow it' }]);
  });

  it('sad: a ramp whose `to` passes the cap is caught by its end', () => {
    const problems = checkSafety({ maxRate: 5000 }, planSchedule([open('ramp', 100, 6000)]));
    expect(problems.map((p) => p.path)).toEqual(['phases[0].to']);
  });

  it('happy: a profile that raises maxRate explicitly may go higher', () => {
    expect(checkSafety({ maxRate: 10_000 }, planSchedule([open('spike', 8000)]))).toEqual([]);
  });

  it('sad: a parsed profile that names no maxRate is capped at the default', () => {
    const parsed = parseProfile({ name: 'p', phases: [{ name: 'a', duration: '1s', rate: 10 }], budgets: [{ errorRate: '1%' }] }, () => undefined);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    expect(parsed.profile.maxRate).toBe(DEFAULT_MAX_RATE);
    expect(checkSafety(parsed.profile, planSchedule([open('spike', DEFAULT_MAX_RATE + 1)]))).toEqual([
      { path: 'phases[0].rate', message: '5001 req/s is above maxRate 5000; raise maxRate in the profile to allow it' },
    ]);
  });
});
