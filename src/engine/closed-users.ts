/**
 * Closed-model virtual users. A closed phase has no schedule: while one is under way the driver
 * keeps concurrencyAt(t) users busy, issuing a request whenever fewer are in flight (on each
 * completion, and on the pacer's 10 ms wake-ups for ramps). Their latency is measured from the
 * actual send, as a closed loop's must be. Their arrivals have negative indices (−1, −2, …): the
 * schedule owns the indices ≥ 0.
 */
import type { Recorder } from '../core/recorder.js';
import { concurrencyAt, phaseAt, type Arrival, type Plan, type PlannedPhase } from '../core/schedule.js';

/** The closed phase under way at t, if the phase at t is one. */
export function closedPhaseAt(plan: Plan, t: number): PlannedPhase | undefined {
  const p = phaseAt(plan, t);
  return p?.model === 'closed' ? p : undefined;
}

/** A closed-model request: its intended time is when a user sends it, so it is never late. */
export function isClosedArrival(a: Arrival): boolean {
  return a.index < 0;
}

export class ClosedUsers {
  /** phase index → its users with a request in flight (an array: two reads and writes a request) */
  private readonly busy: number[] = [];
  private lastIndex = 0;

  constructor(
    private readonly plan: Plan,
    private readonly recorder: Pick<Recorder, 'issued'>,
  ) {}

  /** A user's next request at t, when the closed phase under way has fewer users busy than it should. */
  next(t: number): Arrival | undefined {
    const p = closedPhaseAt(this.plan, t);
    if (!p) return undefined;
    const busy = this.busy[p.index] ?? 0;
    if (busy >= concurrencyAt(p, t - p.startMs)) return undefined;
    this.busy[p.index] = busy + 1;
    this.recorder.issued(p.index, t);
    return { index: --this.lastIndex, t, phase: p.index };
  }

  /** The user is free again: its request ended, or it never left (no connection was free). */
  done(a: Arrival): void {
    this.busy[a.phase] = (this.busy[a.phase] ?? 1) - 1;
  }
}
