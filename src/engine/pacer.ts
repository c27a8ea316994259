/**
 * The open-model pacer: releases the schedule's arrivals at their intended times whatever the server
 * does. An arrival due while no connection is free waits in a FIFO (the due queue) for the next free
 * one; nothing is dropped silently.
 *
 * Pacing never spins: each wake-up releases every arrival due within `early` (the timer's earlyMs;
 * with two timers the lesser), so a send is at most that early, then sleeps on a timer until `early`
 * before the next one. On Node's timers (nodeTimer, earlyMs = EARLY_MS) a wake-up comes ≥ 1 ms after
 * it is set and typically < 1 ms late, so a send lands within about [−0.5, +1.5] ms of its intended
 * time. A finer timer (the driver's clock thread, clock-thread.ts: earlyMs 0.1 ms, wake-ups ≥ 0.4 ms
 * apart) serves the wake-ups where it pays for itself (fineServes): while the open rate is at most
 * one arrival per its least gap. Spinning (setImmediate until due) would buy the same grain but
 * costs most of a core at 1,000 req/s, and on a shared machine a busy process is descheduled for far
 * longer.
 *
 * It also wakes at every phase edge (a closed phase starts with no arrival) and every 10 ms while a
 * closed phase is under way (its ramp adds users as time passes), so the users can be topped up.
 *
 * Between wake-ups the driver calls `poll()` before it handles each socket read: an arrival that fell
 * due while the loop was busy with responses leaves before them, not after the whole batch of reads
 * the poll phase took (at 5,000 req/s a loop that was held up 2 ms finds ~10 responses waiting, each
 * tens of µs of parsing and recording). Under load reads come every fraction of a millisecond, so
 * sends stop waiting on the timer's 1 ms grain as well. A poll with nothing due costs a clock read.
 */
import { phaseAt, type Arrival, type ArrivalStream, type Plan } from '../core/schedule.js';
import { closedPhaseAt } from './closed-users.js';
import { Queue } from './queue.js';

/** On Node's timers a request may leave this much before its intended time, so the pacer need not spin (see above). */
export const EARLY_MS = 0.5;

/** The widest gap between wake-ups a busy loop backs off to (Pacer.backOff). */
const BUSY_GAP_MS = 1;

/**
 * Whether the fine timer serves the wake-up armed at run time t: in an open phase whose rate there
 * is at most 1000 / fine.minGapMs a second (every arrival its own wake-up). Measured at 2,000 req/s,
 * 4 interleaved pairs with vegeta (2026-12-07): p99 lateness 0.64–0.89× vegeta's on it against
 * 0.94–1.00× on Node's timers alone. Above that rate one wake-up releases several arrivals anyway,
 * the socket reads' polls send between wake-ups (poll()), and a fine wake-up's cost (~35 µs of CPU
 * here against a few µs for a setTimeout on a busy loop) bought a longer tail: at 5,000 and 10,000
 * req/s the whole bench's p99 was 0.88 and 1.31× vegeta's with it against 0.78 and 0.72× without
 * (2026-12-07). Closed phases wake every 10 ms.
 */
export function fineServes(plan: Plan, t: number, fine: Timer): boolean {
  const p = phaseAt(plan, t);
  return p !== undefined && p.model === 'open' && p.shape.rate(t - p.startMs) * fine.minGapMs <= 1000;
}

/**
 * Whether fineServes can hold anywhere in the plan, for a fine timer with this least gap: an open
 * phase whose lower end rate is low enough (a phase's rate is linear between its ends, a trace
 * phase's is its mean). The driver starts its clock thread only then.
 */
export function fineMayServe(plan: Plan, minGapMs: number): boolean {
  return plan.phases.some((p) => p.model === 'open' && Math.min(p.shape.rate(0), p.shape.rate(p.endMs - p.startMs)) * minGapMs <= 1000);
}

/** While a closed phase is under way the pacer wakes this often, so a ramp's users join on time. */
const CLOSED_WAKE_MS = 10;

/** The pacer's only way to wait; injected so tests can drive time by hand. */
export interface Timer {
  /** how long before its intended time a wake-up may release an arrival (the timer's grain: EARLY_MS for Node's timers) */
  readonly earlyMs: number;
  /** the least time from one wake-up to the next (0: none): a fine-grained timer costs CPU per wake-up, so at high rates one wake-up releases several arrivals */
  readonly minGapMs: number;
  /** run `fn` after `ms` (≤ 0: as soon as the event loop allows) */
  after(ms: number, fn: () => void): unknown;
  /** cancel a pending `after` (a cancelled immediate may still run: the pacer checks it was stopped) */
  cancel(handle: unknown): void;
}

export const nodeTimer: Timer = {
  earlyMs: EARLY_MS,
  minGapMs: 0, // its own grain is 1 ms
  after: (ms, fn) => (ms <= 0 ? setImmediate(fn) : setTimeout(fn, ms)),
  cancel: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface PacerHooks {
  /** an arrival fell due (before it is released or queued) */
  due(a: Arrival): void;
  /** send the arrival now if a connection is free (true); false: it waits in the due queue */
  release(a: Arrival): boolean;
  /** a wake-up while a closed phase is under way: top its users up */
  fillClosed(): void;
  /** the schedule has no arrival left and the plan's time is over */
  exhausted(): void;
}

export class Pacer {
  private readonly waiting = new Queue<Arrival>();
  private handle: unknown;
  /** the timer the pending wake-up (handle) was armed on */
  private timer: Timer;
  /**
   * How early any wake-up may release an arrival: the coarse timer's earlyMs, or with a fine timer
   * the lesser of the two, for wake-ups on either. One earliest edge for the whole run: in a run
   * that moves between the timers (a ramp through 1000 / minGapMs a second), sends on Node's timers
   * with EARLY_MS would spread over [−0.5, +0.5] ms and the fine timer's over [−0.1, +0.1], so every
   * fine send would sit 0.4 ms late against the run's earliest; with one edge the coarse ones spread
   * late instead, [−0.1, +0.9]. (Measured, 2,000 req/s with Node's timers for the first second and
   * the fine one after: p50 0.39 ms above the run's 1st percentile with two edges, 0.04 with one.)
   */
  private readonly early: number;
  private stopped = false;
  /** the run time the armed wake-up was asked for (NaN: none, or an immediate) */
  private wakeFor = Number.NaN;
  /** the least gap to the next wake-up now (see backOff) */
  private gap: number;
  private readonly wake = (): void => this.pump();

  constructor(
    private readonly plan: Plan,
    private readonly arrivals: ArrivalStream,
    /** run time, ms */
    private readonly now: () => number,
    /** Node's timers, or a stand-in for them (tests) */
    private readonly coarse: Timer,
    private readonly hooks: PacerHooks,
    /** a finer timer, for the wake-ups fineServes gives it */
    private readonly fine?: Timer,
  ) {
    this.timer = coarse;
    this.gap = coarse.minGapMs;
    this.early = fine ? Math.min(coarse.earlyMs, fine.earlyMs) : coarse.earlyMs;
  }

  /** arrivals due and waiting for a connection */
  get queued(): number {
    return this.waiting.size;
  }

  /** every arrival waiting in the due queue, oldest first (it stays queued) */
  forEachQueued(fn: (a: Arrival) => void): void {
    this.waiting.forEach(fn);
  }

  /** The longest-waiting due arrival, for a connection that just became free. */
  nextQueued(): Arrival | undefined {
    return this.waiting.shift();
  }

  start(): void {
    this.pump();
  }

  /**
   * Releases what is due by now + `early`, between wake-ups (see above); the timer stays armed for the
   * arrival it was set for (if that one leaves here, its wake-up finds nothing due and re-arms).
   */
  poll(): void {
    if (this.handle === undefined || this.stopped) return; // not started, inside pump(), or over
    const next = this.arrivals.peekTime();
    if (next === undefined) return;
    const t = this.now();
    if (next <= t + this.early) this.releaseDue(t);
  }

  /** No more wake-ups; arrivals still queued are dropped (they remain visible as scheduled − sent). */
  stop(): void {
    this.stopped = true;
    if (this.handle !== undefined) this.timer.cancel(this.handle);
    this.handle = undefined;
    this.waiting.clear();
  }

  private pump(): void {
    this.handle = undefined;
    if (this.stopped) return;
    const t = this.now();
    this.backOff(t);
    const closed = closedPhaseAt(this.plan, t);
    if (closed) this.hooks.fillClosed();
    const next = this.releaseDue(t);
    const end = this.plan.durationMs;
    if (next === undefined && this.now() >= end) {
      this.hooks.exhausted(); // what is still queued leaves as connections free up
      return;
    }
    // The edge is taken from the same t as `closed`: from a later now(), a pump that straddled an
    // edge would see neither the closed phase nor its start, and sleep through it.
    const until = Math.min(next ?? end, nextEdge(this.plan, t), closed ? t + CLOSED_WAKE_MS : end);
    this.choose(t);
    const now = this.now();
    const wait = Math.max(until - this.early - now, t + this.gap - now);
    this.wakeFor = wait > 0 ? now + wait : Number.NaN;
    this.handle = this.timer.after(wait, this.wake);
  }

  /** The timer for the next wake-up (fineServes); a change of timer starts from the new one's least gap. */
  private choose(t: number): void {
    const timer = this.fine !== undefined && fineServes(this.plan, t, this.fine) ? this.fine : this.coarse;
    if (timer === this.timer) return;
    this.timer = timer;
    this.gap = timer.minGapMs;
    this.wakeFor = Number.NaN;
  }

  /**
   * A wake-up that comes more than the gap late found the loop busy (its message waited behind other
   * work): fine wake-ups then only add to that work, and the reads' polls send in between. So the
   * gap doubles, up to BUSY_GAP_MS (Node's own grain), and shrinks back by a quarter per wake-up on
   * time. Measured at 5,000 req/s: in the first 500 ms, while the code is still compiled, wake-ups
   * every 0.3 ms put the 90th percentile of arrivals 1.4–3.9 ms late against 1.0–1.9 on 1 ms wake-ups.
   */
  private backOff(t: number): void {
    const min = this.timer.minGapMs;
    if (min <= 0 || Number.isNaN(this.wakeFor)) return;
    this.gap = t - this.wakeFor > this.gap ? Math.min(BUSY_GAP_MS, this.gap * 2) : Math.max(min, this.gap * 0.75);
  }

  /** Releases (or queues) every arrival due by t + `early`; the next arrival's time, if any. */
  private releaseDue(t: number): number | undefined {
    let next: number | undefined;
    const by = t + this.early;
    while ((next = this.arrivals.peekTime()) !== undefined && next <= by) {
      const a = this.arrivals.next() as Arrival;
      this.hooks.due(a);
      // FIFO: while some arrival waits, a later one may not overtake it
      if (this.waiting.size > 0 || !this.hooks.release(a)) this.waiting.push(a);
    }
    return next;
  }
}

/** The first phase start or end after t (or the plan's end). */
function nextEdge(plan: Plan, t: number): number {
  for (const p of plan.phases) {
    if (p.startMs > t) return p.startMs;
    if (p.endMs > t) return p.endMs;
  }
  return plan.durationMs;
}
