import { describe, expect, it } from 'vitest';
import type { Phase } from '../../src/core/profile-types.js';
import { planSchedule } from '../../src/core/schedule.js';
import { ClosedUsers, closedPhaseAt, isClosedArrival } from '../../src/engine/closed-users.js';

const open = (name: string, durationMs: number, rate: number): Phase => ({ name, durationMs, model: 'open', rate, to: rate, concurrency: 0, concurrencyTo: 0, warmup: false });
const closed = (name: string, durationMs: number, users: number, to = users): Phase => ({ name, durationMs, model: 'closed', rate: 0, to: 0, concurrency: users, concurrencyTo: to, warmup: false });

describe('ClosedUsers', () => {
  const plan = planSchedule([open('o', 1000, 10), closed('c', 1000, 3)]);

  it('happy: a closed phase gets at most its users in flight; each finished one frees a user', () => {
    const issued: [number, number][] = [];
    const users = new ClosedUsers(plan, { issued: (phase, t) => issued.push([phase, t]) });
    const a = [users.next(1500), users.next(1500), users.next(1500)];
    expect(a.every((x) => x !== undefined && isClosedArrival(x) && x.phase === 1 && x.t === 1500)).toBe(true);
    expect(a.map((x) => x?.index)).toEqual([-1, -2, -3]);
    expect(users.next(1500)).toBeUndefined();
    users.done(a[0]!);
    expect(users.next(1600)?.index).toBe(-4);
    expect(issued).toEqual([[1, 1500], [1, 1500], [1, 1500], [1, 1600]]);
  });

  it('sad: an open phase has no users, and after the plan there are none', () => {
    const users = new ClosedUsers(plan, { issued: () => {} });
    expect(users.next(500)).toBeUndefined();
    expect(users.next(2500)).toBeUndefined();
    expect(closedPhaseAt(plan, 500)).toBeUndefined();
    expect(closedPhaseAt(plan, 1000)?.name).toBe('c');
  });

  it('happy: a ramp 1→5 allows more users as time passes', () => {
    const ramp = planSchedule([closed('r', 1000, 1, 5)]);
    const users = new ClosedUsers(ramp, { issued: () => {} });
    const busyAt = (t: number): number => {
      let n = 0;
      while (users.next(t)) n++;
      return n;
    };
    expect(busyAt(0)).toBe(1);
    expect(busyAt(999)).toBe(4); // 1 + 4 more by the end of the ramp: 5 in flight
  });
});
