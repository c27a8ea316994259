/**
 * Multi-turn sessions on the driver (driver.ts): the timing half of core/sessions.ts.
 *
 * A session phase's scheduled arrival i starts session i (open model: sessions arrive whatever
 * the server does). Its turn k + 1 is due at
 *
 *   t(k + 1) = arrival of turn k's complete reply + think time (the script's delay before k + 1)
 *
 * and that is its intended send time: its latency counts from there, and a turn that waits for a
 * connection is late like any scheduled request. A turn that fails (error status, timeout, socket
 * error) abandons its session, since the conversation has no reply to go on from; a run that stops
 * first cuts the sessions still going.
 */
import type { Recorder } from '../core/recorder.js';
import type { Arrival } from '../core/schedule.js';
import { Conversing, replyText, type SessionScript } from '../core/sessions.js';
import type { Tokenizer } from '../core/tokenizer.js';

/** An arrival that is a session's turn: `turn` is 1-based. */
export interface TurnArrival extends Arrival {
  turn?: number;
}

export interface SessionHooks {
  /** the arrival belongs to a session phase */
  handles(a: Arrival): boolean;
  /** the body of the arrival's turn (starting its session on turn 1) and its prompt tokens */
  body(a: TurnArrival): { body: string; promptTokens: number };
  /** the turn's response ended: ok with its kept body text, or failed */
  ended(a: TurnArrival, ok: boolean, bodyText: string | undefined, doneMs: number): void;
  /** next turns waiting out their think time */
  readonly pending: number;
  /** stop scheduling turns: the sessions still going are cut */
  stop(): void;
}

export interface SessionOptions {
  /** phase index → the script of its session i */
  scripts: ReadonlyMap<number, (index: number) => SessionScript>;
  /** the profile's target.body, whose other fields (model, stream, …) every turn keeps */
  body: unknown;
  recorder: Recorder;
  tokenizer: Tokenizer;
  /** a turn is due now (run time `a.t` has come): the driver sends it */
  launch: (a: TurnArrival) => void;
  now: () => number;
  setTimer?: (f: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

export class SessionRunner implements SessionHooks {
  private readonly live = new Map<string, { phase: number; conv: Conversing }>();
  private readonly timers = new Set<unknown>();
  private stopped = false;
  private readonly setTimer: (f: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  constructor(private readonly o: SessionOptions) {
    this.setTimer = o.setTimer ?? ((f, ms) => setTimeout(f, ms));
    this.clearTimer = o.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  }

  get pending(): number {
    return this.timers.size;
  }

  handles(a: Arrival): boolean {
    return this.o.scripts.has(a.phase);
  }

  body(a: TurnArrival): { body: string; promptTokens: number } {
    const key = `${a.phase}:${a.index}`;
    let s = this.live.get(key);
    if (a.turn === undefined || s === undefined) {
      const script = (this.o.scripts.get(a.phase) as (i: number) => SessionScript)(a.index);
      s = { phase: a.phase, conv: new Conversing(script, this.o.body, a.t) };
      this.live.set(key, s);
      this.o.recorder.sessions.sessionStarted(a.phase);
    }
    const next = s.conv.next(this.o.body);
    a.turn = next.turn;
    return { body: next.body, promptTokens: this.o.tokenizer.count(next.text) };
  }

  ended(a: TurnArrival, ok: boolean, bodyText: string | undefined, doneMs: number): void {
    const key = `${a.phase}:${a.index}`;
    const s = this.live.get(key);
    if (!s || a.turn !== s.conv.sent) return;
    const stats = this.o.recorder.sessions;
    if (!ok) {
      this.live.delete(key);
      stats.sessionEnded(a.phase, 'abandoned', s.conv.replied, doneMs - s.conv.startMs);
      return;
    }
    const think = s.conv.reply(replyText(bodyText));
    if (think === undefined) {
      this.live.delete(key);
      stats.sessionEnded(a.phase, 'completed', s.conv.replied, doneMs - s.conv.startMs);
      return;
    }
    if (this.stopped) return;
    const next: TurnArrival = { index: a.index, t: doneMs + think, phase: a.phase, turn: s.conv.sent + 1 };
    const timer = this.setTimer(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      this.o.recorder.issued(next.phase, next.t);
      this.o.launch(next);
    }, Math.max(0, next.t - this.o.now()));
    this.timers.add(timer);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) this.clearTimer(t);
    this.timers.clear();
    const stats = this.o.recorder.sessions;
    for (const s of this.live.values()) stats.sessionEnded(s.phase, 'cut', s.conv.replied, 0);
    this.live.clear();
  }
}
