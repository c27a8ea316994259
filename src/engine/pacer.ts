/**
 * The open-model pacer: releases the schedule's arrivals at their intended times whatever the server
 * does. An arrival due while no connection is free waits in a FIFO (the due queue) for the next free
 * one; nothing is dropped silently.
 *
 * Pacing never spins: each wake-up releases every arrival due within the timer's `earlyMs` (so a
 * send is at most that early), then sleeps on the timer until `earlyMs` before the next one. On
 * Node's timers (nodeTimer, earlyMs = EARLY_MS) a wake-up comes ≥ 1 ms after it is set and typically
 * < 1 ms late, so a send lands within about [−0.5, +1.5] ms of its intended time; the driver uses the
 * clock thread (clock-thread.ts: a worker asleep in Atomics.wait, earlyMs 0.1 ms) and falls back to
 * Node's timers. Spinning (setImmediate until due) would buy the same grain but costs most of a core
 * at 1,000 req/s, and on a shared machine a busy process is descheduled for far longer.
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
import type { Arrival, ArrivalStream, Plan } from '../core/schedule.js';
import { closedPhaseAt } from './closed-users.js';
import { Queue } from './queue.js';

/** On Node's timers a request may leave this much before its intended time, so the pacer need not spin (see above). */
export const EARLY_MS = 0.5;

/** The widest gap between wake-ups a busy loop backs off to (Pacer.backOff). */
const BUSY_GAP_MS = 1;

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
    private readonly timer: Timer,
    private readonly hooks: PacerHooks,
  ) {
    this.gap = timer.minGapMs;
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
   * Releases what is due by now + the timer's earlyMs, between wake-ups (see above); the timer stays armed for
   * the arrival it was set for (if that one leaves here, its wake-up finds nothing due and re-arms).
   */
  poll(): void {
    if (this.handle === undefined || this.stopped) return; // not started, inside pump(), or over
    const next = this.arrivals.peekTime();
    if (next === undefined) return;
    const t = this.now();
    if (next <= t + this.timer.earlyMs) this.releaseDue(t);
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
    const now = this.now();
    const wait = Math.max(until - this.timer.earlyMs - now, t + this.gap - now);
    this.wakeFor = wait > 0 ? now + wait : Number.NaN;
    this.handle = this.timer.after(wait, this.wake);
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

  /** Releases (or queues) every arrival due by t + the timer's earlyMs; the next arrival's time, if any. */
  private releaseDue(t: number): number | undefined {
    let next: number | undefined;
    const by = t + this.timer.earlyMs;
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
