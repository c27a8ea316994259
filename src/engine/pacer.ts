/**
 * The open-model pacer: releases the schedule's arrivals at their intended times whatever the server
 * does. An arrival due while no connection is free waits in a FIFO (the due queue) for the next free
 * one; nothing is dropped silently.
 *
 * Pacing never spins: each wake-up releases every arrival due within the next EARLY_MS (so a send is
 * at most that early), then sleeps on the timer until EARLY_MS before the next one. Node's timers
 * fire ≥ 1 ms after they are set and typically < 1 ms late, so a send lands within about
 * [−0.5, +1.5] ms of its intended time. Spinning (setImmediate until due) would buy µs at the median
 * but costs most of a core at 1,000 req/s, and on a shared machine a busy process is descheduled for
 * far longer.
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

/** A request may leave this much before its intended time, so the pacer need not spin (see above). */
export const EARLY_MS = 0.5;

/** While a closed phase is under way the pacer wakes this often, so a ramp's users join on time. */
const CLOSED_WAKE_MS = 10;

/** The pacer's only way to wait; injected so tests can drive time by hand. */
export interface Timer {
  /** run `fn` after `ms` (≤ 0: as soon as the event loop allows) */
  after(ms: number, fn: () => void): unknown;
  /** cancel a pending `after` (a cancelled immediate may still run: the pacer checks it was stopped) */
  cancel(handle: unknown): void;
}

export const nodeTimer: Timer = {
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
  private readonly wake = (): void => this.pump();

  constructor(
    private readonly plan: Plan,
    private readonly arrivals: ArrivalStream,
    /** run time, ms */
    private readonly now: () => number,
    private readonly timer: Timer,
    private readonly hooks: PacerHooks,
  ) {}

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
   * Releases what is due by now + EARLY_MS, between wake-ups (see above); the timer stays armed for
   * the arrival it was set for (if that one leaves here, its wake-up finds nothing due and re-arms).
   */
  poll(): void {
    if (this.handle === undefined || this.stopped) return; // not started, inside pump(), or over
    const next = this.arrivals.peekTime();
    if (next === undefined) return;
    const t = this.now();
    if (next <= t + EARLY_MS) this.releaseDue(t);
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
    this.handle = this.timer.after(until - EARLY_MS - this.now(), this.wake);
  }

  /** Releases (or queues) every arrival due by t + EARLY_MS; the next arrival's time, if any. */
  private releaseDue(t: number): number | undefined {
    let next: number | undefined;
    while ((next = this.arrivals.peekTime()) !== undefined && next <= t + EARLY_MS) {
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
