/**
 * The pacer on a hand-driven clock: no sockets, no real timers. A fake timer fires each wake-up at
 * exactly the time it asked for (an immediate 0.05 ms later: real time always moves), so what is
 * checked is the pacer's own rule.
 */
import { describe, expect, it } from 'vitest';
import type { Phase } from '../../src/core/profile-types.js';
import { arrivals, planSchedule, type Arrival } from '../../src/core/schedule.js';
import { EARLY_MS, Pacer, type PacerHooks, type Timer } from '../../src/engine/pacer.js';

const open = (name: string, durationMs: number, rate: number): Phase => ({ name, durationMs, model: 'open', rate, to: rate, concurrency: 0, concurrencyTo: 0, warmup: false });
const closed = (name: string, durationMs: number, users: number): Phase => ({ name, durationMs, model: 'closed', rate: 0, to: 0, concurrency: users, concurrencyTo: users, warmup: false });

/** Runs a pacer to its end on a fake clock; `free(a)` says whether a connection is free for arrival a. */
function simulate(phases: Phase[], free: (a: Arrival, clock: number) => boolean = () => true) {
  const plan = planSchedule(phases);
  let clock = 0;
  let pending: { at: number; fn: () => void } | undefined;
  const wakes: number[] = [];
  const timer: Timer = {
    after: (ms, fn) => {
      pending = { at: clock + Math.max(0.05, ms), fn };
      return pending;
    },
    cancel: () => {
      pending = undefined;
    },
  };
  const log = { due: [] as number[], released: [] as [number, number][], queued: 0, fills: [] as number[], exhausted: [] as number[] };
  const hooks: PacerHooks = {
    due: (a) => log.due.push(a.t),
    release: (a) => {
      if (!free(a, clock)) return false;
      log.released.push([a.t, clock]);
      return true;
    },
    fillClosed: () => log.fills.push(clock),
    exhausted: () => log.exhausted.push(clock),
  };
  const pacer = new Pacer(plan, arrivals(plan, 'uniform', 1), () => clock, timer, hooks);
  pacer.start();
  for (let n = 0; pending && n < 100_000; n++) {
    const p: { at: number; fn: () => void } = pending;
    pending = undefined;
    clock = p.at;
    wakes.push(clock);
    p.fn();
  }
  return { pacer, log, wakes, plan };
}

describe('Pacer', () => {
  it('happy: every arrival is released at most EARLY_MS before its intended time, never after it', () => {
    const { log, plan } = simulate([open('a', 1000, 50)]);
    expect(log.released).toHaveLength(plan.requests);
    for (const [intended, at] of log.released) {
      expect(at).toBeGreaterThanOrEqual(intended - EARLY_MS - 1e-9);
      expect(at).toBeLessThanOrEqual(intended + 1e-9);
    }
    expect(log.exhausted).toHaveLength(1);
    expect(log.exhausted[0]).toBeGreaterThanOrEqual(1000);
  });

  it('happy: it sleeps between arrivals rather than spinning (one wake-up per arrival, plus the end)', () => {
    const { wakes, plan } = simulate([open('a', 1000, 20)]);
    // the end takes a few immediates: the last timer wakes EARLY_MS before it
    expect(wakes.length).toBeLessThanOrEqual(plan.requests + 12);
  });

  it('sad: arrivals due while no connection is free wait in FIFO order and none is lost', () => {
    // no connection free during the first 500 ms
    const { pacer, log, plan } = simulate([open('a', 1000, 20)], (_a, clock) => clock >= 500);
    const queued: number[] = [];
    for (let a = pacer.nextQueued(); a; a = pacer.nextQueued()) queued.push(a.t);
    expect(log.due).toHaveLength(plan.requests);
    // once one waits, later arrivals queue behind it (no overtaking), so every one is queued
    expect(log.released).toEqual([]);
    expect(queued).toHaveLength(plan.requests);
    expect(queued).toEqual([...queued].sort((x, y) => x - y));
    expect(queued[0]).toBe(0);
  });

  it('happy: a closed phase is woken every 10 ms to top up its users, starting at its edge', () => {
    const { log } = simulate([open('a', 100, 10), closed('c', 100, 4)]);
    // the phase at t decides, so the first fill is at the edge itself (within an immediate of it)
    expect(log.fills[0]).toBeGreaterThanOrEqual(100);
    expect(log.fills[0]).toBeLessThan(100.1);
    expect(log.fills.length).toBeGreaterThanOrEqual(10);
    for (let i = 1; i < log.fills.length; i++) expect((log.fills[i] ?? 0) - (log.fills[i - 1] ?? 0)).toBeLessThanOrEqual(10 + 1e-9);
  });

  it('sad: stop() ends the wake-ups and drops what waits', () => {
    const plan = planSchedule([open('a', 1000, 100)]);
    let scheduled = 0;
    const timer: Timer = { after: () => ++scheduled, cancel: () => {} };
    const pacer = new Pacer(plan, arrivals(plan, 'uniform', 1), () => 5, timer, { due: () => {}, release: () => false, fillClosed: () => {}, exhausted: () => {} });
    pacer.start();
    expect(pacer.queued).toBe(1);
    pacer.stop();
    expect(pacer.queued).toBe(0);
    expect(pacer.nextQueued()).toBeUndefined();
  });
});

describe('Pacer.poll (between wake-ups, before each socket read)', () => {
  /** a pacer on a clock moved by hand, with a timer that never fires by itself */
  function manual(rate: number) {
    const plan = planSchedule([open('a', 1000, rate)]);
    let clock = 0;
    let armed: (() => void) | undefined;
    const released: [number, number][] = [];
    const timer: Timer = { after: (_ms, fn) => ((armed = fn), fn), cancel: () => (armed = undefined) };
    const hooks: PacerHooks = { due: () => {}, release: (a) => (released.push([a.t, clock]), true), fillClosed: () => {}, exhausted: () => {} };
    const pacer = new Pacer(plan, arrivals(plan, 'uniform', 1), () => clock, timer, hooks);
    return { pacer, released, set: (t: number) => (clock = t), fire: () => armed?.() };
  }

  it('happy: a poll releases what fell due while the loop was busy, no earlier than EARLY_MS before it', () => {
    const m = manual(1000); // one arrival a millisecond
    m.pacer.start(); // releases t = 0 (and what is due within EARLY_MS)
    const before = m.released.length;
    m.set(3.2); // the timer (armed for ~0.5 ms) is late: the loop was busy with reads
    m.pacer.poll();
    const polled = m.released.slice(before);
    expect(polled.map(([t]) => t)).toEqual([1, 2, 3]);
    for (const [t, at] of polled) expect(at).toBeGreaterThanOrEqual(t - EARLY_MS);
    m.fire(); // the stale wake-up finds nothing more due, and re-arms
    expect(m.released).toHaveLength(before + 3);
  });

  it('sad: a poll with nothing due releases nothing; before start and after stop it does nothing', () => {
    const m = manual(1000);
    m.pacer.poll();
    expect(m.released).toHaveLength(0); // not started
    m.pacer.start();
    const n = m.released.length;
    m.set(0.2);
    m.pacer.poll();
    expect(m.released).toHaveLength(n); // next arrival at 1 ms: not within EARLY_MS of 0.2
    m.pacer.stop();
    m.set(10);
    m.pacer.poll();
    expect(m.released).toHaveLength(n);
  });
});
