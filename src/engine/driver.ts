/**
 * The driver: one long-lived autocannon instance whose clients take an arrival from our pacer before
 * each request. Each request's latency is measured from its *intended* time, so a stalled server
 * cannot hide behind a client that politely waited (no coordinated omission). An arrival due while
 * every connection (≤ maxInFlight) is busy waits and is counted *late*; its wait is part of its
 * measured latency.
 *
 * Composed of named parts: the pacer (pacer.ts: due queue + timer), the connection pool
 * (connection-pool.ts), closed-model users (closed-users.ts), the socket events of a connection
 * (client-events.ts), and what a finished response means (core/response.ts). This file holds the
 * run's state machine: dispatch, send, settle, stop and finish.
 */
import autocannon from 'autocannon';
import type { AbortDecision, AbortWatch } from '../core/abort.js';
import { warmHistogramCode } from '../core/histograms.js';
import type { Recorder } from '../core/recorder.js';
import type { Tick } from '../core/tick.js';
import { interpretResponse, unfinishedPath, type ResponseRules } from '../core/response.js';
import { phaseOfSecondBefore, scheduledBefore, type ArrivalStream, type Arrival, type Plan, type PlannedPhase } from '../core/schedule.js';
import type { TimingExtractor } from '../core/timing.js';
import { dropAutocannonStats, hookClient, markOwnListeners, requestFramer, setRequestBytes, type HookedClient, type RequestFramer } from './autocannon-hook.js';
import { bodyForUsage, bodyText, listen, type ClientEventSink } from './client-events.js';
import { ClosedUsers, isClosedArrival } from './closed-users.js';
import { ConnectionPool, newSlot, resendable, type Connection, type Slot } from './connection-pool.js';
import { CLOCK_THREAD_MIN_GAP_MS, clockThread, type ClockThread } from './clock-thread.js';
import { Pacer, fineMayServe, nodeTimer } from './pacer.js';
import { settleHeap } from './heap.js';
import type { SessionHooks, TurnArrival } from './sessions.js';

export { EARLY_MS } from './pacer.js';
export { MAX_BODY_BYTES } from './client-events.js';

/** A token more than this late when it leaves, for any reason, counts as late. */
export const LATE_AFTER_MS = 10;

/**
 * New sockets opened per turn of the event loop for arrivals that find no warm connection free. A
 * loopback connect costs 0.2–0.4 ms of this loop (the kernel does the handshake in the connect call,
 * then Node builds the socket), so without a bound the start of a 10,000 req/s run, or any stall,
 * fed on itself: every arrival due found no free socket, opened one, and the opening kept the loop
 * from reading the responses that would have freed the sockets (measured: the first 300 ms spent
 * 70% in connect, sends 250 ms late). Arrivals beyond the bound wait in the due queue, FIFO, for the
 * next socket to free up or for the next turn's openings, whichever comes first; the loop reads
 * responses in between. 8 a turn still opens thousands a second where a far server needs them.
 */
export const OPENS_PER_TURN = 8;

/**
 * Sockets opened before t = 0: one per PREOPEN_PER requests the first second schedules, at most
 * PREOPEN_MAX (and maxInFlight). At 10,000 req/s every send of the first few milliseconds found no
 * socket, and opening them then, on a loop not yet compiled hot, put the first sends 10–40 ms
 * behind; opened before the clock starts they cost no send anything. No request goes out on them
 * until its time, and a run at tens of requests a second opens one, as it would have anyway.
 */
export const PREOPEN_PER = 100;
export const PREOPEN_MAX = 256;

/** How many sockets to open before t = 0 (see PREOPEN_PER): the open phases' first second, over PREOPEN_PER. */
export function preopenCount(plan: Plan, maxInFlight: number): number {
  return Math.min(maxInFlight, PREOPEN_MAX, Math.ceil(scheduledBefore(plan, 1000) / PREOPEN_PER));
}

/** The longest the run waits for its pre-opened sockets before it starts anyway. */
const PREOPEN_WAIT_MS = 2000;

/**
 * How long t = 0 waits after the collection right before it (settleHeap). V8 is not done when the
 * collection returns (its sweeping goes on, on the helper threads, which run at nice 19:
 * thread-priority.ts). Measured, not traced: the first sends right after it left 2.5–6.5 ms late
 * in 4 of 11 runs at 2,000 req/s (the run's worst send in some), and in 5 of 5 with the code before
 * the helpers were lowered; with this wait, 1.3–1.9 ms in 11 of 11 (vegeta 1.3–2.5 ms in the same
 * rounds).
 */
const AFTER_COLLECTION_MS = 30;

/** warmHistogramCode ran in this thread (preopen) */
let histogramCodeWarm = false;

/** a response that ended, waiting to be read and recorded (flushResponses) */
interface Unread {
  slot: Slot;
  status: number;
  done: number;
}

/** flushResponses asks the pacer for due sends every this many records (≈ 0.2 ms of recording; a power of 2) */
const POLL_EVERY = 8;

export interface DriverOptions {
  /** called once at t = 0 of the schedule with the run's clock (fault hooks fire on it) */
  onStart?: (now: () => number) => void;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  maxInFlight: number;
  plan: Plan;
  arrivals: ArrivalStream;
  recorder: Recorder;
  extractor: TimingExtractor;
  /** monotonic ms; the run's t = 0 is the clock's value when driving starts */
  clock: () => number;
  /** stop sending; requests in flight get up to timeoutMs to finish */
  signal?: AbortSignal;
  /** stop at once: requests in flight are recorded as "cancelled" */
  hardSignal?: AbortSignal;
  /** called once a second of run time with the phase under way and the recorder's live view */
  onTick?: (tick: Tick) => void;
  /** the request asks for a stream: time its content events (ttft, itl, tpot, tokens/s) */
  stream?: { kind: 'chat' | 'completions' };
  /** the timing or fallback rules read the JSON body: keep it, up to MAX_BODY_BYTES */
  readBody?: boolean;
  /** the `model` the request asked for (the modelDiffers fallback signal compares with it) */
  requestedModel?: string;
  /**
   * a new body for each request (prompt datasets, generated prompts, session turns), set on the
   * connection just before it sends; `promptTokens`: its prompt's tokens as the run's tokenizer
   * counts them (compared with the server's usage.prompt_tokens). Default: `body` every time.
   */
  nextBody?: (a: Arrival) => { body: string; promptTokens?: number } | undefined;
  /**
   * multi-turn sessions (sessions.ts), built on the driver's clock with its launcher: session
   * phases' arrivals take their bodies from it, replies are kept for it, next turns launch from it
   */
  sessions?: (launch: (a: TurnArrival) => void, now: () => number) => SessionHooks;
  /** called when idle after sending `index`: build the next bodies ahead (core/trace/bodies.ts) */
  prepareBodies?: (index: number) => void;
  /** early-abort budgets, checked once a second; a failure stops sending as a first Ctrl-C does */
  watch?: AbortWatch;
  /** false: record into `watch` but leave judging it to another thread (workers.ts); default true */
  checkAbort?: boolean;
}

export type { Tick } from '../core/tick.js';

export interface DriveOutcome {
  interrupted: boolean;
  durationMs: number;
  /** the budget that stopped the run early, if one did */
  aborted?: AbortDecision;
}

export function drive(o: DriverOptions): Promise<DriveOutcome> {
  return new Promise((resolve, reject) => new Driving(o, resolve, reject).start());
}

class Driving implements ClientEventSink {
  private readonly pool = new ConnectionPool();
  private readonly users: ClosedUsers;
  private readonly pacer: Pacer;
  /** the pacer's fine timer (clock-thread.ts), when some wake-up may be its (fineMayServe; the wake-ups it serves: fineServes) */
  private readonly clock: ClockThread | undefined;
  private readonly rules: ResponseRules;
  private instance: autocannon.Instance | undefined;
  private t0 = Number.NaN;
  private stopping = false; // no more arrivals will be handed out (aborted)
  private exhausted = false; // the schedule has ended
  private finished = false;
  private inFlight = 0;
  /** responses ended and not yet recorded (responded → flushResponses) */
  private unread: Unread[] = [];
  private flushArmed = false;
  /** frames a request's own body (nextBody, sessions); from the first client, as all share one request */
  private framer: RequestFramer | undefined;
  private settleArmed = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private aborted: AbortDecision | undefined;
  /** sockets opened this turn of the event loop for arrivals (OPENS_PER_TURN); reset by the opener */
  private opened = 0;
  private openerArmed = false;
  /** arrivals that found every connection (warm and cold) in use: they count as late when they leave */
  private readonly starved = new WeakSet<Arrival>();
  /** session turns due while every connection was busy, oldest first (sent before queued schedule arrivals) */
  private readonly turnQueue: TurnArrival[] = [];
  private readonly sessions: SessionHooks | undefined;
  readonly stream: { kind: 'chat' | 'completions' } | undefined;
  readonly readBody: boolean;

  constructor(
    private readonly o: DriverOptions,
    private readonly resolve: (d: DriveOutcome) => void,
    private readonly reject: (e: unknown) => void,
  ) {
    this.users = new ClosedUsers(o.plan, o.recorder);
    this.sessions = o.sessions?.((a) => this.launchTurn(a), () => this.now());
    this.rules = { extractor: o.extractor, requestedModel: o.requestedModel };
    this.stream = o.stream;
    this.readBody = o.readBody === true;
    this.clock = fineMayServe(o.plan, CLOCK_THREAD_MIN_GAP_MS) ? clockThread() : undefined;
    this.pacer = new Pacer(o.plan, o.arrivals, () => this.now(), nodeTimer, {
      due: (a) => o.recorder.due(a.t),
      release: (a) => this.release(a),
      fillClosed: () => this.fillClosed(),
      exhausted: () => {
        this.exhausted = true;
        this.maybeFinish();
      },
    }, this.clock);
  }

  now(): number {
    return this.o.clock() - this.t0;
  }

  readsHeader(name: string): boolean {
    return this.o.extractor.reads(name);
  }

  /** a session turn's reply is kept (bounded, MAX_BODY_BYTES): it goes into the session's next turn */
  keepsReply(slot: Slot): boolean {
    return (slot.arrival as TurnArrival).turn !== undefined;
  }

  start(): void {
    try {
      this.instance = autocannon(this.autocannonOptions(), (err: Error | null) => {
        // autocannon reports bad options here (possibly before it returns an instance)
        if (err && !this.finished) {
          this.finished = true;
          this.pacer.stop();
          this.clock?.close();
          if (this.tickTimer) clearTimeout(this.tickTimer);
          this.reject(err);
        }
      });
    } catch (e) {
      this.clock?.close();
      this.reject(e);
      return;
    }
    // every constructed client parked itself as cold; none is idle-warm yet
    for (const s of this.pool.all()) {
      s.idle = true;
      dropAutocannonStats(s.client);
    }
    const { signal, hardSignal } = this.o;
    if (signal?.aborted) this.onAbort();
    signal?.addEventListener('abort', () => this.onAbort(), { once: true });
    hardSignal?.addEventListener('abort', () => this.finish(true), { once: true });
    if (this.finished) return; // autocannon refused the options
    this.preopen().then(
      () => this.begin(),
      (e: unknown) => {
        this.clock?.close();
        this.reject(e);
      },
    );
  }

  /** Opens preopenCount sockets and waits (at most PREOPEN_WAIT_MS) until they are up; they rest warm. */
  private async preopen(): Promise<void> {
    // what t = 1 s first calls runs compiled (core/histograms.ts). Here, not in begin(): V8 compiles
    // it optimised on a helper thread, and right before t = 0 that compile shared the cores with the
    // run's first sends; the sockets' connects give it time. begin()'s collection takes its garbage.
    // Once per thread: compiled code stays, so a capacity search's later steps need none.
    if (!histogramCodeWarm) {
      warmHistogramCode();
      histogramCodeWarm = true;
    }
    const n = preopenCount(this.o.plan, this.o.maxInFlight);
    // the clock thread must be running before its first wake-up (else that one falls back to setTimeout)
    const opening: Promise<unknown>[] = this.clock ? [this.clock.ready] : [];
    for (let i = 0; i < n; i++) {
      const s = this.pool.takeCold();
      if (!s) break;
      s.idle = false;
      s.control.connect(); // ready() rests it: the clock has not started
      opening.push(s.control.opened());
    }
    if (opening.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(opening), new Promise<void>((r) => (timer = setTimeout(r, PREOPEN_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private begin(): void {
    if (this.finished) return; // stopped (Ctrl-C) while the sockets opened
    settleHeap(); // the major collection building the run made due happens now, before any send (heap.ts)
    setTimeout(() => this.go(), AFTER_COLLECTION_MS);
  }

  /** t = 0: the clock starts and the pacer sends (begin() waited AFTER_COLLECTION_MS after the collection) */
  private go(): void {
    if (this.finished) return; // stopped meanwhile
    this.t0 = this.o.clock();
    this.o.onStart?.(() => this.now());
    this.tickTimer = setTimeout(() => this.tick(1), 1000);
    this.pacer.start();
  }

  private autocannonOptions(): autocannon.Options {
    const o = this.o;
    const peakClosed = Math.max(0, ...o.plan.phases.map((p) => Math.max(p.concurrency, p.concurrencyTo)));
    // a closed phase issues requests without limit of count: it may need every connection allowed
    const connections = Math.max(1, peakClosed > 0 ? o.maxInFlight : Math.min(o.maxInFlight, o.plan.requests));
    const hooks = { ready: (client: HookedClient, write: () => void) => this.ready(client, write), beforeRead: () => this.pacer.poll() };
    return {
      url: o.url,
      method: o.method as autocannon.Request['method'],
      headers: o.headers,
      body: o.body,
      connections,
      pipelining: 1,
      // autocannon's own result (decoding and summing its histograms) is never read; built when a run stops, it costs tens of ms of this loop
      skipAggregateResult: true,
      // autocannon refuses a timeout under 1 s; the exact one is set on each client below
      timeout: Math.max(1, o.timeoutMs / 1000),
      // autocannon ends on its own after `duration`; we stop it ourselves long before
      duration: 24 * 3600,
      setupClient: (c: unknown) => {
        const client = c as HookedClient;
        // read when autocannon arms each request's timer, which happens after setupClient
        (client as unknown as { timeout: number }).timeout = o.timeoutMs;
        listen(client, this.pool.add(client, hookClient(client, hooks)), this);
        this.framer ??= requestFramer(client);
        markOwnListeners(client);
      },
    } as autocannon.Options;
  }

  /** A session's next turn is due (sessions.ts): it leaves now, or waits for a connection and counts as late. */
  launchTurn(a: TurnArrival): void {
    if (this.stopping || this.finished) return;
    const s = this.pool.take(this.now());
    if (s) this.dispatch(s, a, false);
    else this.turnQueue.push(a);
  }

  /** The pacer's arrival leaves now on a warm connection, or on a new one while this turn's openings last. */
  private release(a: Arrival): boolean {
    const s = this.pool.takeWarm(this.now()) ?? this.openCold(a);
    if (s) this.dispatch(s, a, false);
    return s !== undefined;
  }

  /** A cold connection for `a` if this turn may open one more (OPENS_PER_TURN); else `a` will wait. */
  private openCold(a: Arrival): Connection | undefined {
    if (this.opened >= OPENS_PER_TURN) {
      if (this.pool.hasCold()) this.armOpener();
      else this.starved.add(a);
      return undefined;
    }
    const s = this.pool.takeCold();
    if (!s) {
      this.starved.add(a);
      return undefined;
    }
    this.opened++;
    this.armOpener();
    return s;
  }

  /** Next turn (after the loop has read what arrived): the count restarts and queued arrivals get new sockets. */
  private armOpener(): void {
    if (this.openerArmed) return;
    this.openerArmed = true;
    setImmediate(() => {
      this.openerArmed = false;
      this.opened = 0;
      if (this.stopping || this.finished) return;
      while (this.pacer.queued > 0 && this.opened < OPENS_PER_TURN) {
        const s = this.pool.takeCold();
        if (!s) {
          // every socket is busy (maxInFlight): what waited a turn for its new socket now waits for a busy one
          this.pacer.forEachQueued((a) => this.starved.add(a));
          return;
        }
        this.opened++;
        const a = this.pacer.nextQueued() as Arrival;
        this.dispatch(s, a, this.starved.has(a));
      }
      if (this.pacer.queued > 0 && this.pool.hasCold()) this.armOpener();
    });
  }

  private closedArrival(): Arrival | undefined {
    if (this.stopping || this.finished) return undefined;
    return this.users.next(this.now());
  }

  private fillClosed(): void {
    for (let a = this.closedArrival(); a; a = this.closedArrival()) {
      const s = this.pool.take(this.now());
      if (!s) {
        this.users.done(a); // no connection free: give the user back; the next completion refills
        return;
      }
      this.dispatch(s, a, false);
    }
  }

  private dispatch(s: Connection, arrival: Arrival, waited: boolean): void {
    s.idle = false;
    if (!s.control.connected()) {
      // cold or parked: connecting triggers ready(), which sends the reserved arrival
      s.reserved = { arrival, waited };
      s.control.connect();
      return;
    }
    this.send(s, arrival, waited, s.send);
  }

  /** A closed-model request is never late: its intended time is when a user sends it. */
  private send(s: Connection, arrival: Arrival, waited: boolean, write: () => void): void {
    const t = this.now();
    const closed = isClosedArrival(arrival);
    if (closed) arrival.t = t;
    s.slot = newSlot(arrival, t, s.onSocket > 0);
    const b = this.sessions?.handles(arrival) === true ? this.sessions.body(arrival) : this.o.nextBody?.(arrival);
    if (b) {
      setRequestBytes(s.client, this.framer!.frame(b.body));
      s.ownBody = true;
      s.slot.promptTokens = b.promptTokens;
    } else if (s.ownBody) {
      // the profile's request again: the last body this connection sent was a request's own
      setRequestBytes(s.client, this.framer!.base);
      s.ownBody = false;
    }
    const prepare = this.o.prepareBodies;
    // after the current wake-up's sends (a burst leaves first), while the loop would idle
    if (prepare && !closed) {
      const index = arrival.index;
      setImmediate(() => prepare(index));
    }
    s.idle = false;
    this.inFlight++;
    this.o.recorder.sent(arrival.phase, arrival.t, t, !closed && (waited || t - arrival.t > LATE_AFTER_MS));
    write();
  }

  /** autocannon's client may send: hand it the reserved, a queued or a closed-model arrival, or rest it. */
  private ready(client: HookedClient, write: () => void): void {
    const s = this.pool.get(client);
    if (!s) return;
    s.send = write;
    const fresh = !s.afterResponse;
    s.afterResponse = false;
    if (fresh) s.onSocket = 0;
    if (s.slot && fresh && (s.slot.resendPending === true || (resendable(s.slot) && this.now() - s.slot.sentMs < this.o.timeoutMs * 0.99))) {
      // the server closed a reused keep-alive connection before answering: it never read the
      // request. Sent again, once, on the new socket, as curl does (connection-pool.ts resendable);
      // its latency still counts from the intended time.
      s.slot.resent = true;
      s.slot.resendPending = false;
      write();
      return;
    }
    if (s.slot) {
      // autocannon reconnected under a request that never got its response: after a timeout it
      // reconnects before emitting 'timeout', and a server that closes the socket emits 'end'; a
      // stream that carried an error event before the server hung up failed for that reason
      this.fail(s, this.now() - s.slot.sentMs >= this.o.timeoutMs * 0.99 ? 'timeout' : (s.slot.meter?.finish(this.now()).error ?? 'connection closed'));
    }
    if (s.closing && !s.reserved) {
      // the server said Connection: close: this socket takes no further request
      s.closing = false;
      this.park(s);
      return;
    }
    if (s.reserved) {
      const r = s.reserved;
      s.reserved = undefined;
      this.send(s, r.arrival, r.waited, write);
      return;
    }
    if (this.finished) return;
    if (Number.isNaN(this.t0)) {
      // a socket opened before t = 0 (preopen): it waits, warm, for the first arrival
      this.pool.rest(s, 0);
      return;
    }
    if (!this.stopping) {
      const turn = this.turnQueue.shift();
      if (turn) return this.dispatch(s, turn, true);
      const next = this.pacer.nextQueued();
      if (next) return this.dispatch(s, next, this.starved.has(next));
      const closed = this.closedArrival();
      if (closed) return this.dispatch(s, closed, false);
    }
    this.pool.rest(s, this.now());
    this.maybeFinish();
  }

  /**
   * A response ended: its user or socket is free at once (the next request goes out first), and what
   * it measured is read and recorded after the current batch of socket reads (flushResponses). The
   * cost of reading and recording a response (≈ 25 µs, most of it histograms) then no longer sits
   * between the reads of one wake-up, where it delayed the push time of every token and response read
   * after it. A session turn is read at once: its reply becomes the next turn.
   */
  responded(_s: Connection, slot: Slot, status: number): void {
    this.settled(slot.arrival);
    const done = this.now();
    if ((slot.arrival as TurnArrival).turn !== undefined) return this.record(slot, status, done);
    // the connection's meter serves its next stream: its result is taken now
    if (slot.meter) {
      slot.finished = slot.meter.finish(done);
      slot.meter = undefined;
    }
    this.unread.push({ slot, status, done });
    if (!this.flushArmed) {
      this.flushArmed = true;
      setImmediate(this.flushResponses);
    }
  }

  /**
   * Records the responses that ended since the last flush, in their order. It runs in the loop's check
   * phase, after the wake-up's reads and before any timer, so a tick or the end of the run (which
   * flush too) never reads a recorder that lacks a response already seen.
   */
  private readonly flushResponses = (): void => {
    this.flushArmed = false;
    const q = this.unread;
    if (q.length === 0) return;
    this.unread = [];
    for (let i = 0; i < q.length; i++) {
      // sends before records, as before reads: after a stall a batch of 100 responses takes ~2.5 ms
      // to record, and an arrival falling due meanwhile leaves at its time, not after the batch
      if ((i & (POLL_EVERY - 1)) === POLL_EVERY - 1) this.pacer.poll();
      const r = q[i] as Unread;
      this.record(r.slot, r.status, r.done);
    }
    this.settleOne();
  };

  /** One series' closed window settled now, the next in a later turn of the loop (Recorder.settleWindows). */
  private settleOne(): void {
    if (this.o.recorder.settleWindows() && !this.settleArmed) {
      this.settleArmed = true;
      setImmediate(this.settleStep);
    }
  }

  private readonly settleStep = (): void => {
    this.settleArmed = false;
    this.settleOne();
  };

  private record(slot: Slot, status: number, done: number): void {
    const turn = (slot.arrival as TurnArrival).turn;
    // the text only when a rule reads the body or a session continues from the reply; else bytes for usage
    const text = this.readBody || turn !== undefined ? bodyText(slot) : undefined;
    const m = interpretResponse(slot, status, done, text ?? bodyForUsage(slot), this.rules);
    const { recorder, watch } = this.o;
    if (turn !== undefined) {
      m.turn = turn;
      this.sessions?.ended(slot.arrival, m.error === undefined, text, done);
      this.holdDrain();
    }
    if (slot.promptTokens !== undefined) m.sentPromptTokens = slot.promptTokens;
    if (m.error === undefined) {
      recorder.completed(slot.arrival.phase, slot.arrival.t, done, m);
      watch?.completed(slot.arrival.phase, slot.arrival.t, done, m);
    } else {
      recorder.failed(slot.arrival.phase, done, m.error, m.path, slot.arrival.t);
      watch?.failed(slot.arrival.phase, done, m.path);
    }
  }

  connError(s: Connection, err: NodeJS.ErrnoException): void {
    if (s.slot && resendable(s.slot) && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
      // as for a close (see ready()): autocannon reconnects at once, and ready() sends it again
      s.slot.resendPending = true;
      return;
    }
    this.fail(s, err.code ?? err.message ?? 'connection error');
    this.park(s);
  }

  /** The request in flight on `s` ended without a response. */
  private fail(s: Connection, kind: string): void {
    const slot = s.slot;
    if (!slot) return;
    s.slot = undefined;
    this.settled(slot.arrival);
    const path = unfinishedPath(slot, this.rules);
    const t = this.now();
    if ((slot.arrival as TurnArrival).turn !== undefined) this.sessions?.ended(slot.arrival, false, undefined, t);
    this.o.recorder.failed(slot.arrival.phase, t, kind, path, slot.arrival.t);
    this.o.watch?.failed(slot.arrival.phase, t, path);
  }

  /**
   * A session's next turn is waiting out its think time: the drain deadline (timeout + 1 s after the
   * schedule's end) is for requests in flight, not for conversations still going. maybeFinish arms it
   * again once no turn is pending.
   */
  private holdDrain(): void {
    if (this.drainTimer && (this.sessions?.pending ?? 0) > 0) {
      clearTimeout(this.drainTimer);
      this.drainTimer = undefined;
    }
  }

  private settled(a: Arrival): void {
    this.inFlight--;
    if (isClosedArrival(a)) this.users.done(a);
  }

  private park(s: Connection): void {
    this.pool.park(s);
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.finished) return;
    if (!this.stopping && !(this.exhausted && this.pacer.queued === 0)) return;
    // a session's next turn waits out its think time: the run is not over (each turn is bounded by the timeout)
    if (!this.stopping && ((this.sessions?.pending ?? 0) > 0 || this.turnQueue.length > 0)) return;
    if (this.inFlight > 0) {
      this.drainTimer ??= setTimeout(() => this.finish(true), this.o.timeoutMs + 1000);
      return;
    }
    this.finish(false);
  }

  private finish(cancelInFlight: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.flushResponses();
    this.pacer.stop();
    this.clock?.close();
    this.sessions?.stop();
    if (this.drainTimer) clearTimeout(this.drainTimer);
    if (this.tickTimer) clearTimeout(this.tickTimer);
    for (const s of this.pool.all()) if (s.slot) this.fail(s, cancelInFlight ? 'cancelled' : 'timeout');
    const durationMs = this.now();
    this.instance?.stop();
    for (const s of this.pool.all()) s.client.destroy();
    const interrupted = this.o.signal?.aborted === true || this.o.hardSignal?.aborted === true;
    this.resolve({ interrupted, durationMs, ...(this.aborted ? { aborted: this.aborted } : {}) });
  }

  /** Stop sending: due arrivals that never left are not sent; they remain visible as scheduled − sent. */
  private onAbort(): void {
    this.stopping = true;
    this.pacer.stop();
    this.sessions?.stop();
    this.turnQueue.length = 0;
    this.maybeFinish();
  }

  /** Once a second of run time: in-flight count, early-abort check, progress. */
  private tick(n: number): void {
    if (this.finished) return;
    this.flushResponses();
    const t = this.now();
    this.o.recorder.inFlight(t - 1, this.inFlight); // the second that just ended
    if (!this.aborted && !this.stopping && this.o.checkAbort !== false) {
      this.aborted = this.o.watch?.check(t);
      if (this.aborted) this.onAbort();
    }
    // tick n reports the second that ended at n s: libuv's timers run on the loop's cached ms clock
    // and fire up to 1 ms early by this one, and at 999.6 ms the first tick read second −1 (0 sent)
    const at = Math.max(t, n * 1000);
    if (this.o.onTick) this.o.onTick(liveTick(at, phaseOfSecondBefore(this.o.plan, at), this.inFlight, this.o.recorder));
    this.tickTimer = setTimeout(() => this.tick(n + 1), Math.max(0, (n + 1) * 1000 - this.now()));
  }
}

/**
 * The tick's p99 is taken when it is first read (once at most): it walks the whole-run histogram,
 * which cost 8 ms of the sender's loop on the first tick (code not yet compiled) and 0.3–0.7 ms on
 * each later one, every second, for a --quiet run, a log that prints every 5 s, or a worker thread
 * (the main thread takes p99 from the merged histograms) too. The counts are a sum over phases.
 * Read inside the onTick callback, it is what it would have been at the tick.
 */
export function liveTick(tMs: number, phase: Tick['phase'], inFlight: number, recorder: Pick<Recorder, 'progressCounts' | 'totalP99'>): Tick {
  let p99: number | undefined;
  const counts = recorder.progressCounts(tMs);
  return {
    tMs,
    phase,
    inFlight,
    progress: {
      ...counts,
      get p99() {
        return (p99 ??= recorder.totalP99());
      },
    },
  };
}
