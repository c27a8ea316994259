/**
 * The open-model driver: one long-lived autocannon instance whose clients take a token from our pacer
 * before each request. The pacer releases tokens at the schedule's intended times whatever the server
 * does; each request's latency is measured from its *intended* time, so a stalled server cannot hide
 * behind a client that politely waited (no coordinated omission).
 *
 * A token due while every connection (≤ maxInFlight) is busy waits in a FIFO and is counted *late*;
 * its wait is part of its measured latency. Nothing is dropped silently.
 *
 * Pacing never spins: each wake-up sends every request due within the next EARLY_MS (so a send is at
 * most that early), then sleeps on a timer until EARLY_MS before the next one. Node's timers fire
 * ≥ 1 ms after they are set and typically < 1 ms late, so a send lands within about [−0.5, +1.5] ms of
 * its intended time. Spinning (setImmediate until due) would buy µs at the median but costs most of
 * a core at 1,000 req/s, and on a shared machine a busy process is descheduled for far longer.
 *
 * Closed-model phases have no schedule: while one is active, the driver keeps concurrencyAt(t)
 * virtual users busy, issuing a request whenever fewer are in flight (on each completion, and every
 * 10 ms for ramps). Their latency is measured from the actual send, as a closed loop's must be.
 */
import autocannon from 'autocannon';
import { concurrencyAt, phaseAt, phaseOfSecondBefore, type ArrivalStream, type Arrival, type Plan, type PlannedPhase } from '../core/schedule.js';
import type { AbortDecision, AbortWatch } from '../core/abort.js';
import type { ObservedTimings, Progress, Recorder } from '../core/recorder.js';
import { createStreamMeter, tokensPerSecond, tpotMs, type StreamMeter } from '../core/stream.js';
import { usageTokens, type RequestTokens } from '../core/tokens.js';
import type { TimingExtractor } from '../core/timing.js';
import { hookClient, type ClientControl, type HookedClient } from './autocannon-hook.js';

/** A token more than this late when it leaves, for any reason, counts as late. */
export const LATE_AFTER_MS = 10;

/** A request may leave this much before its intended time, so the pacer need not spin (see above). */
export const EARLY_MS = 0.5;

/**
 * A connection idle for longer than the server's advertised `Keep-Alive: timeout=N` minus this is
 * not reused: the server may close it at the moment the request goes out, and a request on a socket
 * the server closes unread is lost ("connection closed"; llama.cpp's server, test/engine/keepalive.test.ts).
 * The request goes on a fresh connection instead. undici keeps the same 1s margin.
 */
export const KEEP_ALIVE_MARGIN_MS = 1000;

/**
 * A request lost on a reused keep-alive connection before any byte of its response came back may be
 * sent again once on a fresh connection (curl: "Connection died, retrying a fresh connect"): the
 * server closed the socket without reading it. Not after a timeout, and not twice.
 */
function resendable(slot: { reused: boolean; resent?: boolean; headers: string[] | undefined }): boolean {
  return slot.reused && slot.resent !== true && slot.headers === undefined;
}

/** `Keep-Alive: timeout=5, max=100` → 5000; undefined without the header or a timeout in it. */
export function keepAliveTimeoutMs(h: string[]): number | undefined {
  for (let i = 0; i + 1 < h.length; i += 2) {
    if ((h[i] as string).toLowerCase() !== 'keep-alive') continue;
    const m = /(?:^|[,\s])timeout\s*=\s*(\d+(?:\.\d+)?)/i.exec(h[i + 1] as string);
    return m ? Number(m[1]) * 1000 : undefined;
  }
  return undefined;
}

export interface DriverOptions {
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
  /** a new body for each request (prompt datasets); default: `body` every time */
  nextBody?: () => string;
  /** early-abort budgets, checked once a second; a failure stops sending as a first Ctrl-C does */
  watch?: AbortWatch;
}

/** Bodies are kept only when a rule reads them, and only this much: bounded memory per request. */
export const MAX_BODY_BYTES = 1 << 20;

export interface Tick {
  tMs: number;
  /** the phase of the second the tick reports (the one just ended); undefined after the run */
  phase: PlannedPhase | undefined;
  inFlight: number;
  progress: Progress;
}

export interface DriveOutcome {
  interrupted: boolean;
  durationMs: number;
  /** the budget that stopped the run early, if one did */
  aborted?: AbortDecision;
}

interface Slot {
  arrival: Arrival;
  sentMs: number;
  headers: string[] | undefined;
  /** it went out on a socket that had already carried a response (see resendable) */
  reused: boolean;
  /** it was sent again on a fresh connection once already */
  resent?: boolean;
  /** the reused socket failed (reset) under it: send it again when the new socket is ready */
  resendPending?: boolean;
  trailers?: string[];
  meter?: StreamMeter;
  body?: Buffer[];
  bodyBytes?: number;
}

interface ClientState {
  client: HookedClient;
  send: () => void;
  control: ClientControl;
  /** the last response asked to close the connection: reconnect before the next request */
  closing: boolean;
  /** the server's advertised keep-alive timeout (ms), from the last response's Keep-Alive header */
  keepAliveMs: number | undefined;
  /** run time the connection last became idle */
  idleSince: number;
  /** responses completed on the current socket */
  onSocket: number;
  /** the last call of ready() followed a response on this socket (else: a new socket) */
  afterResponse: boolean;
  slot: Slot | undefined;
  reserved: { arrival: Arrival; waited: boolean } | undefined;
  idle: boolean;
}

/** A FIFO without Array#shift's O(n) copying. */
class Queue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

function contentType(h: string[]): string {
  for (let i = 0; i + 1 < h.length; i += 2) {
    if ((h[i] as string).toLowerCase() === 'content-type') return (h[i + 1] as string).toLowerCase();
  }
  return '';
}

function isEventStream(h: string[]): boolean {
  return contentType(h).includes('text/event-stream');
}

/** a JSON body is read (bounded) for its `usage`: token accounting */
function isJson(h: string[]): boolean {
  return contentType(h).includes('json');
}

/** The first phase start or end after t (or the plan's end). */
function nextEdge(plan: Plan, t: number): number {
  for (const p of plan.phases) {
    if (p.startMs > t) return p.startMs;
    if (p.endMs > t) return p.endMs;
  }
  return plan.durationMs;
}

/** HTTP/1.0 without keep-alive, or `Connection: close`: the server ends the socket after this response. */
function wantsClose(info: { headers: string[]; versionMajor?: number; versionMinor?: number; shouldKeepAlive?: boolean }): boolean {
  if (info.shouldKeepAlive !== undefined) return !info.shouldKeepAlive;
  const h = info.headers;
  for (let i = 0; i + 1 < h.length; i += 2) {
    if ((h[i] as string).toLowerCase() === 'connection') return /close/i.test(h[i + 1] as string);
  }
  return info.versionMajor === 1 && info.versionMinor === 0;
}

function errorKind(err: NodeJS.ErrnoException): string {
  return err.code ?? err.message ?? 'connection error';
}

export function drive(o: DriverOptions): Promise<DriveOutcome> {
  return new Promise((resolve, reject) => {
    const states = new Map<HookedClient, ClientState>();
    const warm: ClientState[] = []; // LIFO: reuse the hottest connections, let the rest idle
    const cold: ClientState[] = [];
    const due = new Queue<Arrival>();
    let t0 = Number.NaN;
    let stopping = false; // no more tokens will be handed out (aborted)
    let exhausted = false; // the arrival stream has ended
    let finished = false;
    let inFlight = 0;
    let timer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let tickTimer: NodeJS.Timeout | undefined;
    let aborted: AbortDecision | undefined;
    let closedIndex = 0; // indices of closed-model requests count down from -1: the schedule owns ≥ 0
    const closedInFlight = new Map<number, number>(); // phase index → its requests in flight
    const now = (): number => o.clock() - t0;

    /**
     * Everything one response says: server stages (headers, trailers, body), stream timings, path,
     * and an in-band stream error (an `error` event after the 200), which fails the request.
     */
    const observe = (slot: Slot, done: number): ObservedTimings & { streamError?: string } => {
      let json: unknown;
      let client: Map<string, number> | undefined;
      let samples: Map<string, number[]> | undefined;
      let tokens: RequestTokens | undefined;
      let streamError: string | undefined;
      if (slot.meter) {
        const r = slot.meter.finish(done);
        streamError = r.error;
        json = r.lastJson;
        if (r.usage) tokens = { input: r.usage.prompt_tokens, output: r.usage.completion_tokens, source: 'usage' };
        else if (r.contentEvents > 0) tokens = { output: r.contentEvents, source: 'events' };
        if (r.firstTokenMs !== undefined) {
          const ttft = r.firstTokenMs - slot.arrival.t;
          const total = done - slot.arrival.t;
          client = new Map([['ttft', ttft]]);
          const tpot = tpotMs(total, ttft, r.tokens);
          if (tpot !== undefined) client.set('tpot', tpot);
          // output tokens per second of the whole request, recorded in the histograms' ms slot as a number
          const rate = r.tokens > 0 ? tokensPerSecond(r.tokens, total) : undefined;
          if (rate !== undefined) client.set('tokens_per_s', rate);
          samples = new Map([['itl', r.itl]]);
        }
      } else if (slot.body && slot.body.length > 0) {
        try {
          json = JSON.parse(Buffer.concat(slot.body).toString('utf8'));
        } catch {
          json = undefined; // not JSON: body rules find nothing and report those stages unmeasured
        }
        tokens = usageTokens(json);
      }
      const t = o.extractor.extract(slot.headers ?? [], slot.trailers, { json, requestedModel: o.requestedModel });
      return { stages: t.stages, unmeasured: t.unmeasured, path: t.path, signals: t.signals, client, samples, ...(tokens ? { tokens } : {}), ...(streamError ? { streamError } : {}) };
    };

    const fail = (s: ClientState, kind: string): void => {
      const slot = s.slot;
      if (!slot) return;
      s.slot = undefined;
      settled(slot.arrival);
      const path = slot.headers ? o.extractor.extract(slot.headers, slot.trailers).path : 'primary';
      const t = now();
      o.recorder.failed(slot.arrival.phase, t, kind, path);
      o.watch?.failed(slot.arrival.phase, t, path);
    };

    const closedPhase = (t: number): PlannedPhase | undefined => {
      const p = phaseAt(o.plan, t);
      return p?.model === 'closed' ? p : undefined;
    };

    const settled = (a: Arrival): void => {
      inFlight--;
      if (a.index < 0) closedInFlight.set(a.phase, (closedInFlight.get(a.phase) ?? 1) - 1);
    };

    /** A closed phase's next request, when it has fewer virtual users busy than it should. */
    const closedArrival = (): Arrival | undefined => {
      if (stopping || finished) return undefined;
      const t = now();
      const p = closedPhase(t);
      if (!p) return undefined;
      const busy = closedInFlight.get(p.index) ?? 0;
      if (busy >= concurrencyAt(p, t - p.startMs)) return undefined;
      closedInFlight.set(p.index, busy + 1);
      o.recorder.issued(p.index, t);
      return { index: --closedIndex, t, phase: p.index };
    };

    const fillClosed = (): void => {
      for (let a = closedArrival(); a; a = closedArrival()) {
        const s = freeClient();
        if (!s) {
          // no connection free: give the user back; the next completion refills
          closedInFlight.set(a.phase, (closedInFlight.get(a.phase) ?? 1) - 1);
          return;
        }
        dispatch(s, a, false);
      }
    };

    const dispatch = (s: ClientState, arrival: Arrival, waited: boolean): void => {
      s.idle = false;
      if (!s.control.connected()) {
        // cold or parked: connecting triggers ready(), which sends the reserved token
        s.reserved = { arrival, waited };
        s.control.connect();
        return;
      }
      send(s, arrival, waited, s.send);
    };

    /** A closed-model request is never late: its intended time is when a user sends it. */
    const send = (s: ClientState, arrival: Arrival, waited: boolean, write: () => void): void => {
      const t = now();
      if (arrival.index < 0) arrival.t = t;
      s.slot = { arrival, sentMs: t, headers: undefined, reused: s.onSocket > 0 };
      s.idle = false;
      inFlight++;
      o.recorder.sent(arrival.phase, arrival.t, t, arrival.index >= 0 && (waited || t - arrival.t > LATE_AFTER_MS));
      write();
    };

    const ready = (client: HookedClient, write: () => void): void => {
      const s = states.get(client);
      if (!s) return;
      s.send = write;
      const fresh = !s.afterResponse;
      s.afterResponse = false;
      if (fresh) s.onSocket = 0;
      if (s.slot && fresh && (s.slot.resendPending === true || (resendable(s.slot) && now() - s.slot.sentMs < o.timeoutMs * 0.99))) {
        // the server closed a reused keep-alive connection before answering: it never read the
        // request (llama.cpp's server closes the socket after every streamed response while its
        // headers said keep-alive). Sent again, once, on the new socket, as curl does; the
        // latency still counts from the intended time.
        s.slot.resent = true;
        s.slot.resendPending = false;
        write();
        return;
      }
      if (s.slot) {
        // autocannon reconnected under a request that never got its response: after a timeout it
        // reconnects before emitting 'timeout', and a server that closes the socket emits 'end'.
        // a stream that carried an error event before the server hung up failed for that reason
        fail(s, now() - s.slot.sentMs >= o.timeoutMs * 0.99 ? 'timeout' : (s.slot.meter?.finish(now()).error ?? 'connection closed'));
      }
      if (s.closing && !s.reserved) {
        // the server said Connection: close: this socket takes no further request
        s.closing = false;
        park(s);
        return;
      }
      if (s.reserved) {
        const r = s.reserved;
        s.reserved = undefined;
        send(s, r.arrival, r.waited, write);
        return;
      }
      if (finished) return;
      if (!stopping) {
        const next = due.shift();
        if (next) return dispatch(s, next, true);
        const closed = closedArrival();
        if (closed) return dispatch(s, closed, false);
      }
      if (!s.idle) {
        s.idle = true;
        s.idleSince = now();
        warm.push(s);
      }
      maybeFinish();
    };

    /** Cold again: reconnects when it is next given a token (see autocannon-hook.ts). */
    const park = (s: ClientState): void => {
      s.control.park();
      if (!s.idle) {
        s.idle = true;
        cold.push(s);
      }
      maybeFinish();
    };

    const freeClient = (): ClientState | undefined => {
      while (warm.length > 0) {
        const s = warm.pop() as ClientState;
        if (!s.idle || s.slot) continue;
        // idle close to the server's keep-alive timeout: reconnect rather than race its close (see KEEP_ALIVE_MARGIN_MS)
        if (s.keepAliveMs !== undefined && now() - s.idleSince >= s.keepAliveMs - KEEP_ALIVE_MARGIN_MS) s.control.park();
        return s;
      }
      while (cold.length > 0) {
        const s = cold.shift() as ClientState;
        if (s.idle && !s.slot && !s.reserved) return s;
      }
      return undefined;
    };

    const pump = (): void => {
      timer = undefined;
      if (stopping || finished) return;
      const t = now();
      const closed = closedPhase(t);
      if (closed) fillClosed();
      let next: number | undefined;
      while ((next = o.arrivals.peekTime()) !== undefined && next <= t + EARLY_MS) {
        const a = o.arrivals.next() as Arrival;
        o.recorder.due(a.t);
        if (due.size > 0) {
          due.push(a);
          continue;
        }
        const s = freeClient();
        if (s) dispatch(s, a, false);
        else due.push(a);
      }
      const end = o.plan.durationMs;
      if (next === undefined && now() >= end) {
        exhausted = true; // what is still due leaves as connections free up (ready())
        maybeFinish();
        return;
      }
      // wake for the next arrival, the next phase edge (a closed phase starts with no arrival), and
      // every 10 ms while a closed phase is under way (its ramp adds users as time passes). The edge
      // is taken from the same t as `closed`: from a later now(), a pump that straddled an edge would
      // see neither the closed phase nor its start, and sleep through it.
      const edge = nextEdge(o.plan, t);
      const until = Math.min(next ?? end, edge, closed ? t + 10 : end);
      const wait = until - EARLY_MS - now();
      timer = wait <= 0 ? (setImmediate(pump) as unknown as NodeJS.Timeout) : setTimeout(pump, wait);
    };

    const maybeFinish = (): void => {
      if (finished) return;
      if (!stopping && !(exhausted && due.size === 0)) return;
      if (inFlight > 0) {
        drainTimer ??= setTimeout(() => finish(true), o.timeoutMs + 1000);
        return;
      }
      finish(false);
    };

    const finish = (cancelInFlight: boolean): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      if (drainTimer) clearTimeout(drainTimer);
      if (tickTimer) clearTimeout(tickTimer);
      for (const s of states.values()) if (s.slot) fail(s, cancelInFlight ? 'cancelled' : 'timeout');
      const durationMs = now();
      instance.stop();
      for (const s of states.values()) s.client.destroy();
      resolve({ interrupted: o.signal?.aborted === true || o.hardSignal?.aborted === true, durationMs, ...(aborted ? { aborted } : {}) });
    };

    const onAbort = (): void => {
      stopping = true;
      if (timer) clearTimeout(timer);
      // due tokens that never left are not sent; they remain visible as scheduled − sent
      while (due.shift()) {
        /* drop */
      }
      maybeFinish();
    };

    const peakClosed = Math.max(0, ...o.plan.phases.map((p) => Math.max(p.concurrency, p.concurrencyTo)));
    // a closed phase issues requests without limit of count: it may need every connection allowed
    const connections = Math.max(1, peakClosed > 0 ? o.maxInFlight : Math.min(o.maxInFlight, o.plan.requests));
    let instance: autocannon.Instance;
    try {
      instance = autocannon(
        {
          url: o.url,
          method: o.method as autocannon.Request['method'],
          headers: o.headers,
          body: o.body,
          ...(o.nextBody ? { requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: o.nextBody?.() }) }] } : {}),
          connections,
          pipelining: 1,
          // autocannon refuses a timeout under 1 s; the exact one is set on each client below
          timeout: Math.max(1, o.timeoutMs / 1000),
          // autocannon ends on its own after `duration`; we stop it ourselves long before
          duration: 24 * 3600,
          setupClient: (c: unknown) => {
            const client = c as HookedClient;
            // read when autocannon arms each request's timer, which happens after setupClient
            (client as unknown as { timeout: number }).timeout = o.timeoutMs;
            const hooks = hookClient(client, { ready });
            const s: ClientState = { client, send: () => {}, control: hooks, closing: false, keepAliveMs: undefined, idleSince: 0, onSocket: 0, afterResponse: false, slot: undefined, reserved: undefined, idle: true };
            states.set(client, s);
            cold.push(s);
            client.on('headers', (info) => {
              const slot = s.slot;
              s.closing = wantsClose(info);
              s.keepAliveMs = keepAliveTimeoutMs(info.headers);
              if (!slot) return;
              slot.headers = info.headers;
              if (o.stream && isEventStream(info.headers)) slot.meter = createStreamMeter(o.stream.kind);
              else if (o.readBody || isJson(info.headers)) {
                slot.body = [];
                slot.bodyBytes = 0;
              }
            });
            client.on('response', (status: number) => {
              s.afterResponse = true;
              s.onSocket++;
              const slot = s.slot;
              if (!slot) return;
              s.slot = undefined;
              settled(slot.arrival);
              const done = now();
              const timings = observe(slot, done);
              if (status >= 200 && status < 300 && timings.streamError === undefined) {
                o.recorder.completed(slot.arrival.phase, slot.arrival.t, done, timings);
                o.watch?.completed(slot.arrival.phase, slot.arrival.t, done, timings);
              } else {
                o.recorder.failed(slot.arrival.phase, done, timings.streamError ?? `http ${status}`, timings.path);
                o.watch?.failed(slot.arrival.phase, done, timings.path);
              }
            });
            client.on('body', (chunk: Buffer) => {
              const slot = s.slot;
              if (!slot) return;
              if (slot.meter) slot.meter.push(chunk, now());
              else if (slot.body && (slot.bodyBytes ?? 0) + chunk.length <= MAX_BODY_BYTES) {
                slot.body.push(Buffer.from(chunk));
                slot.bodyBytes = (slot.bodyBytes ?? 0) + chunk.length;
              }
            });
            client.on('trailers', (raw: string[]) => {
              if (s.slot) s.slot.trailers = raw;
            });
            client.on('connError', (err) => {
              if (s.slot && resendable(s.slot) && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
                // as for a close (see ready()): autocannon reconnects at once, and ready() sends it again
                s.slot.resendPending = true;
                return;
              }
              fail(s, errorKind(err));
              park(s);
            });
          },
        } as autocannon.Options,
        (err: Error | null) => {
          // autocannon reports bad options here (possibly before it returns an instance)
          if (err && !finished) {
            finished = true;
            if (timer) clearTimeout(timer);
            if (tickTimer) clearTimeout(tickTimer);
            reject(err);
          }
        },
      );
    } catch (e) {
      reject(e);
      return;
    }
    // every constructed client parked itself as cold; none is idle-warm yet
    for (const s of states.values()) s.idle = true;

    if (o.signal?.aborted) onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    o.hardSignal?.addEventListener('abort', () => finish(true), { once: true });
    const tick = (n: number): void => {
      if (finished) return;
      const t = now();
      o.recorder.inFlight(t - 1, inFlight); // the second that just ended
      if (!aborted && !stopping) {
        aborted = o.watch?.check(t);
        if (aborted) onAbort();
      }
      o.onTick?.({ tMs: t, phase: phaseOfSecondBefore(o.plan, t), inFlight, progress: o.recorder.progress(t) });
      tickTimer = setTimeout(() => tick(n + 1), Math.max(0, (n + 1) * 1000 - now()));
    };
    if (finished) return; // autocannon refused the options
    t0 = o.clock();
    tickTimer = setTimeout(() => tick(1), 1000);
    pump();
  });
}
