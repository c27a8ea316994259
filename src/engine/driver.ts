/**
 * The open-model driver: one long-lived autocannon instance whose clients take a token from our pacer
 * before each request. The pacer releases tokens at the schedule's intended times whatever the server
 * does; each request's latency is measured from its *intended* time, so a stalled server cannot hide
 * behind a client that politely waited (no coordinated omission).
 *
 * A token due while every connection (≤ maxInFlight) is busy waits in a FIFO and is counted *late*;
 * its wait is part of its measured latency. Nothing is dropped silently.
 *
 * Pacing: when the next intended time is more than 2 ms away the pacer sleeps on a timer until 1 ms
 * before it, then yields with setImmediate (which lets I/O run) until it is due; Node's timers alone
 * would be up to a few ms late.
 */
import autocannon from 'autocannon';
import type { ArrivalStream, Arrival } from '../core/schedule.js';
import type { Recorder } from '../core/recorder.js';
import type { TimingExtractor } from '../core/timing.js';
import { hookClient, type HookedClient } from './autocannon-hook.js';

/** A token more than this late when it leaves, for any reason, counts as late. */
export const LATE_AFTER_MS = 10;

export interface DriverOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  maxInFlight: number;
  /** upper bound on the requests the stream will yield: no more connections than this are made */
  requests: number;
  arrivals: ArrivalStream;
  recorder: Recorder;
  extractor: TimingExtractor;
  /** monotonic ms; the run's t = 0 is the clock's value when driving starts */
  clock: () => number;
  /** stop sending; requests in flight get up to timeoutMs to finish */
  signal?: AbortSignal;
  /** stop at once: requests in flight are recorded as "cancelled" */
  hardSignal?: AbortSignal;
}

export interface DriveOutcome {
  interrupted: boolean;
  durationMs: number;
}

interface Slot {
  arrival: Arrival;
  sentMs: number;
  headers: string[] | undefined;
}

interface ClientState {
  client: HookedClient;
  send: () => void;
  connect: () => void;
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
    const now = (): number => o.clock() - t0;

    const fail = (s: ClientState, kind: string): void => {
      const slot = s.slot;
      if (!slot) return;
      s.slot = undefined;
      inFlight--;
      const path = slot.headers ? o.extractor.extract(slot.headers).path : 'primary';
      o.recorder.failed(slot.arrival.phase, now(), kind, path);
    };

    const dispatch = (s: ClientState, arrival: Arrival, waited: boolean): void => {
      s.idle = false;
      if (!s.client.conn) {
        // cold: connecting triggers ready(), which sends the reserved token
        s.reserved = { arrival, waited };
        s.connect();
        return;
      }
      const t = now();
      s.slot = { arrival, sentMs: t, headers: undefined };
      inFlight++;
      o.recorder.sent(arrival.phase, arrival.t, t, waited || t - arrival.t > LATE_AFTER_MS);
      s.send();
    };

    const ready = (client: HookedClient, send: () => void): void => {
      const s = states.get(client);
      if (!s) return;
      s.send = send;
      if (s.slot) {
        // autocannon reconnected under a request that never got its response: after a timeout it
        // reconnects before emitting 'timeout', and a server that closes the socket emits 'end'.
        fail(s, now() - s.slot.sentMs >= o.timeoutMs * 0.99 ? 'timeout' : 'connection closed');
      }
      if (s.reserved) {
        const r = s.reserved;
        s.reserved = undefined;
        s.idle = true; // dispatch clears it
        const t = now();
        s.slot = { arrival: r.arrival, sentMs: t, headers: undefined };
        s.idle = false;
        inFlight++;
        o.recorder.sent(r.arrival.phase, r.arrival.t, t, r.waited || t - r.arrival.t > LATE_AFTER_MS);
        send();
        return;
      }
      if (finished) return;
      if (!stopping) {
        const next = due.shift();
        if (next) return dispatch(s, next, true);
      }
      if (!s.idle) {
        s.idle = true;
        warm.push(s);
      }
      maybeFinish();
    };

    const freeClient = (): ClientState | undefined => {
      while (warm.length > 0) {
        const s = warm.pop() as ClientState;
        if (s.idle && !s.slot) return s;
      }
      return cold.shift();
    };

    const pump = (): void => {
      timer = undefined;
      if (stopping || finished) return;
      const t = now();
      let next: number | undefined;
      while ((next = o.arrivals.peekTime()) !== undefined && next <= t) {
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
      if (next === undefined) {
        exhausted = true; // what is still due leaves as connections free up (ready())
        maybeFinish();
        return;
      }
      const wait = next - now();
      timer = wait > 2 ? setTimeout(pump, wait - 1) : (setImmediate(pump) as unknown as NodeJS.Timeout);
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
      for (const s of states.values()) if (s.slot) fail(s, cancelInFlight ? 'cancelled' : 'timeout');
      const durationMs = now();
      instance.stop();
      for (const s of states.values()) s.client.destroy();
      resolve({ interrupted: o.signal?.aborted === true || o.hardSignal?.aborted === true, durationMs });
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

    const connections = Math.max(1, Math.min(o.maxInFlight, o.requests));
    let instance: autocannon.Instance;
    try {
      instance = autocannon(
        {
          url: o.url,
          method: o.method as autocannon.Request['method'],
          headers: o.headers,
          body: o.body,
          connections,
          pipelining: 1,
          timeout: o.timeoutMs / 1000,
          // autocannon ends on its own after `duration`; we stop it ourselves long before
          duration: 24 * 3600,
          setupClient: (c: unknown) => {
            const client = c as HookedClient;
            const hooks = hookClient(client, { ready });
            const s: ClientState = { client, send: () => {}, connect: hooks.connect, slot: undefined, reserved: undefined, idle: true };
            states.set(client, s);
            cold.push(s);
            client.on('headers', (info) => {
              if (s.slot) s.slot.headers = info.headers;
            });
            client.on('response', (status: number) => {
              const slot = s.slot;
              if (!slot) return;
              s.slot = undefined;
              inFlight--;
              const done = now();
              const timings = o.extractor.extract(slot.headers ?? []);
              if (status >= 200 && status < 300) o.recorder.completed(slot.arrival.phase, slot.arrival.t, done, timings);
              else o.recorder.failed(slot.arrival.phase, done, `http ${status}`, timings.path);
            });
            client.on('connError', (err) => fail(s, errorKind(err)));
          },
        } as autocannon.Options,
        () => {},
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
    t0 = o.clock();
    pump();
  });
}
