/**
 * The pacer on a hand-driven clock: no sockets, no real timers. A fake timer fires each wake-up at
 * exactly the time it asked for (an immediate 0.05 ms later: real time always moves), so what is
 * checked is the pacer's own rule.
 */
import { describe, expect, it } from 'vitest';
import type { Phase } from '../../src/core/profile-types.js';
import { arrivals, planSchedule, type Arrival } from '../../src/core/schedule.js';
import { CLOCK_THREAD_EARLY_MS, CLOCK_THREAD_MIN_GAP_MS } from '../../src/engine/clock-thread.js';
import { EARLY_MS, Pacer, fineMayServe, type PacerHooks, type Timer } from '../../src/engine/pacer.js';

const open = (name: string, durationMs: number, rate: number): Phase => ({ name, durationMs, model: 'open', rate, to: rate, concurrency: 0, concurrencyTo: 0, warmup: false });
const closed = (name: string, durationMs: number, users: number): Phase => ({ name, durationMs, model: 'closed', rate: 0, to: 0, concurrency: users, concurrencyTo: users, warmup: false });

/** Runs a pacer to its end on a fake clock; `free(a)` says whether a connection is free for arrival a. */
function simulate(phases: Phase[], free: (a: Arrival, clock: number) => boolean = () => true, earlyMs = EARLY_MS, minGapMs = 0, lateBy: (n: number) => number = () => 0) {
  const plan = planSchedule(phases);
  let clock = 0;
  let pending: { at: number; fn: () => void } | undefined;
  const wakes: number[] = [];
  let armed = 0;
  const timer: Timer = {
    earlyMs,
    minGapMs,
    after: (ms, fn) => {
      pending = { at: clock + Math.max(0.05, ms) + (ms > 0 ? lateBy(armed++) : 0), fn };
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
  it.each([
    ["Node's timers", EARLY_MS],
    ['the clock thread', CLOCK_THREAD_EARLY_MS],
  ])('happy: on %s every arrival is released at most the timer\'s earlyMs before its intended time, never after it', (_name, earlyMs) => {
    const { log, plan } = simulate([open('a', 1000, 50)], undefined, earlyMs);
    expect(log.released).toHaveLength(plan.requests);
    for (const [intended, at] of log.released) {
      expect(at).toBeGreaterThanOrEqual(intended - earlyMs - 1e-9);
      expect(at).toBeLessThanOrEqual(intended + 1e-9);
    }
    expect(log.exhausted).toHaveLength(1);
    expect(log.exhausted[0]).toBeGreaterThanOrEqual(1000);
  });

  it('happy: on a finer timer the same schedule is released closer to its times (each wake-up nearer its arrival)', () => {
    const early = (e: number): number => Math.max(...simulate([open('a', 1000, 2000)], undefined, e).log.released.map(([t, at]) => t - at));
    expect(early(CLOCK_THREAD_EARLY_MS)).toBeLessThanOrEqual(CLOCK_THREAD_EARLY_MS + 1e-9);
    expect(early(EARLY_MS)).toBeGreaterThan(CLOCK_THREAD_EARLY_MS);
  });

  it.each([
    ['2,000/s: every arrival its own wake-up', 2000, 2000],
    ['10,000/s: ≤ 1 / minGap wake-ups a second, each releasing several', 10_000, 1000 / CLOCK_THREAD_MIN_GAP_MS],
  ])('happy: wake-ups are at least the timer\'s minGapMs apart (%s)', (_name, rate, most) => {
    const { wakes, log, plan } = simulate([open('a', 1000, rate)], undefined, CLOCK_THREAD_EARLY_MS, CLOCK_THREAD_MIN_GAP_MS);
    expect(log.released).toHaveLength(plan.requests);
    const timed = wakes.filter((w, i) => i === 0 || w - (wakes[i - 1] as number) > 0.05 + 1e-9); // immediates are 0.05 apart
    for (let i = 1; i < timed.length; i++) expect((timed[i] as number) - (timed[i - 1] as number)).toBeGreaterThanOrEqual(CLOCK_THREAD_MIN_GAP_MS - 1e-9);
    expect(timed.length).toBeLessThanOrEqual(most + 12);
    for (const [t, at] of log.released) expect(at - t).toBeLessThanOrEqual(CLOCK_THREAD_MIN_GAP_MS - CLOCK_THREAD_EARLY_MS + 0.05 + 1e-9);
  });

  it('sad: wake-ups that come late (a busy loop) back off to 1 ms apart, and come back to minGapMs once on time', () => {
    // wake-ups 0–199 each come 2 ms late, the rest on time
    const { wakes, log, plan } = simulate([open('a', 1000, 10_000)], undefined, CLOCK_THREAD_EARLY_MS, CLOCK_THREAD_MIN_GAP_MS, (n) => (n < 200 ? 2 : 0));
    expect(log.released).toHaveLength(plan.requests);
    const gaps = wakes.slice(1).map((w, i) => w - (wakes[i] as number));
    const busy = gaps.slice(20, 190); // after the doubling: asked 1 ms apart, each then 2 ms late
    for (const g of busy) expect(g).toBeCloseTo(1 + 2, 6);
    const calm = gaps.slice(-50, -5);
    for (const g of calm) expect(g).toBeCloseTo(CLOCK_THREAD_MIN_GAP_MS, 6);
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
    const timer: Timer = { earlyMs: EARLY_MS, minGapMs: 0, after: () => ++scheduled, cancel: () => {} };
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
    const timer: Timer = { earlyMs: EARLY_MS, minGapMs: 0, after: (_ms, fn) => ((armed = fn), fn), cancel: () => (armed = undefined) };
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

/**
 * Runs a pacer with a coarse and a fine fake timer; each wake-up is logged with the timer that armed
 * it. The coarse one has Node's grain: it waits ≥ 1 ms and fires on a whole millisecond.
 */
function simulateTwo(phases: Phase[]) {
  const plan = planSchedule(phases);
  let clock = 0;
  let pending: { at: number; fn: () => void; by: 'coarse' | 'fine' } | undefined;
  const wakes: { at: number; by: 'coarse' | 'fine' }[] = [];
  const cancels: string[] = [];
  const fake = (by: 'coarse' | 'fine', earlyMs: number, minGapMs: number): Timer => ({
    earlyMs,
    minGapMs,
    after: (ms, fn) => (pending = { at: by === 'coarse' ? Math.ceil(clock + Math.max(1, ms)) : clock + Math.max(0.05, ms), fn, by }),
    cancel: (h) => {
      cancels.push(by);
      if (h === pending) pending = undefined;
    },
  });
  const released: [number, number][] = [];
  const hooks: PacerHooks = { due: () => {}, release: (a) => (released.push([a.t, clock]), true), fillClosed: () => {}, exhausted: () => {} };
  const pacer = new Pacer(plan, arrivals(plan, 'uniform', 1), () => clock, fake('coarse', EARLY_MS, 0), hooks, fake('fine', CLOCK_THREAD_EARLY_MS, CLOCK_THREAD_MIN_GAP_MS));
  pacer.start();
  for (let n = 0; pending && n < 100_000; n++) {
    const p: { at: number; fn: () => void; by: 'coarse' | 'fine' } = pending;
    pending = undefined;
    clock = p.at;
    wakes.push({ at: clock, by: p.by });
    p.fn();
  }
  return { pacer, plan, wakes, released, cancels, set: (t: number) => (clock = t) };
}

describe('Pacer with a fine timer (fineServes: up to one arrival per its least gap)', () => {
  const ramp = (name: string, durationMs: number, rate: number, to: number): Phase => ({ ...open(name, durationMs, rate), to });

  it('happy: a ramp 1,000 → 5,000/s: one earliest edge on both timers; Node\'s grain shows only where the coarse one serves', () => {
    const { released, plan } = simulateTwo([ramp('a', 4000, 1000, 5000)]);
    expect(released).toHaveLength(plan.requests);
    // no send on either timer leaves more than the fine one's earlyMs early
    for (const [t, at] of released) expect(t - at).toBeLessThanOrEqual(CLOCK_THREAD_EARLY_MS + 1e-9);
    const late = (from: number, to: number): number => Math.max(...released.filter(([t]) => t >= from && t < to).map(([t, at]) => at - t));
    expect(late(2, 1490)).toBeLessThanOrEqual(CLOCK_THREAD_MIN_GAP_MS - CLOCK_THREAD_EARLY_MS + 1e-9); // fine: 1,000–2,500/s
    expect(late(1510, 4000)).toBeGreaterThan(0.4); // Node's grain: [−0.1, +0.9]
    expect(late(1510, 4000)).toBeLessThanOrEqual(1 + 1e-9);
  });

  it.each([
    ['10,000/s: above 1 / minGap the fine timer serves nothing', [open('a', 3000, 10_000)], () => false],
    ['2,000/s: every wake-up fine', [open('a', 3000, 2000)], () => true],
    ['a ramp 1,000 → 5,000/s: fine until its rate passes 2,500/s (at 1,500 ms), then coarse', [ramp('a', 4000, 1000, 5000)], (t: number) => t < 1500],
    ['a closed phase, then 2,000/s: the closed phase never fine', [closed('c', 1500, 2), open('o', 1500, 2000)], (t: number) => t >= 1500],
  ])('happy: %s', (_name, phases, fine) => {
    const { wakes, released, plan } = simulateTwo(phases as Phase[]);
    expect(released).toHaveLength(plan.requests);
    // the wake-up armed at time a comes at w.at; the rule is judged at the arming pump, one wake earlier
    for (let i = 1; i < wakes.length - 3; i++) {
      const armedAt = wakes[i - 1]!.at;
      if (Math.abs(armedAt - 1500) < 1) continue; // at the switch itself
      expect([armedAt, wakes[i]!.by]).toEqual([armedAt, fine(armedAt) ? 'fine' : 'coarse']);
    }
  });

  it('sad: stop() cancels the pending wake-up on the timer that armed it', () => {
    const plan = planSchedule([open('a', 3000, 2000)]);
    const cancelled: string[] = [];
    let clock = 0;
    let fire: (() => void) | undefined;
    const fake = (by: string, earlyMs: number, minGapMs: number): Timer => ({ earlyMs, minGapMs, after: (_ms, fn) => ((fire = fn), by), cancel: (h) => cancelled.push(`${by}:${String(h)}`) });
    const hooks: PacerHooks = { due: () => {}, release: () => true, fillClosed: () => {}, exhausted: () => {} };
    const pacer = new Pacer(plan, arrivals(plan, 'uniform', 1), () => clock, fake('coarse', EARLY_MS, 0), hooks, fake('fine', CLOCK_THREAD_EARLY_MS, CLOCK_THREAD_MIN_GAP_MS));
    pacer.start();
    clock = 1500;
    fire?.(); // armed now on the fine timer
    pacer.stop();
    expect(cancelled).toEqual(['fine:fine']);
  });
});

describe('fineMayServe (whether the driver starts its clock thread)', () => {
  const ramp = (name: string, durationMs: number, rate: number, to: number): Phase => ({ ...open(name, durationMs, rate), to });
  it.each([
    ['happy: 2,000/s', [open('a', 5000, 2000)], true],
    ['happy: exactly 1 / minGap, 2,500/s', [open('a', 5000, 2500)], true],
    ['happy: a ramp down from 10,000 to 1,000/s ends slow enough', [ramp('a', 5000, 10_000, 1000)], true],
    ['happy: 10,000/s, then 200/s', [open('a', 5000, 10_000), open('b', 5000, 200)], true],
    ['sad: 10,000/s throughout', [open('a', 5000, 10_000)], false],
    ['sad: a ramp from 3,000 to 8,000/s never is', [ramp('a', 5000, 3000, 8000)], false],
    ['sad: closed users only', [closed('c', 5000, 10)], false],
  ])('%s', (_name, phases, expected) => {
    expect(fineMayServe(planSchedule(phases as Phase[]), CLOCK_THREAD_MIN_GAP_MS)).toBe(expected);
  });
});
