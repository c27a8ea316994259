/**
 * The connections (autocannon clients, ≤ maxInFlight) and which of them are free. A free connection
 * is warm (its socket is open) or cold (never opened, or parked after an error or a
 * `Connection: close`). Warm ones are reused last-in first-out, so the hottest sockets carry the load
 * and the rest idle; cold ones first-in first-out.
 */
import type { Arrival } from '../core/schedule.js';
import type { ResponseFacts } from '../core/response.js';
import type { StreamMeter } from '../core/stream.js';
import type { ClientControl, HookedClient } from './autocannon-hook.js';

/** One request in flight on a connection: what the response handlers collect for interpretResponse. */
export interface Slot extends ResponseFacts {
  arrival: Arrival;
  sentMs: number;
  meter?: StreamMeter;
  /** the kept body chunks (only when a rule reads the body) */
  body?: Buffer[];
  bodyBytes?: number;
  /** a JSON body read for its usage alone, no encoding: its Content-Length (client-events.ts reads it in its one read) */
  usageBytes?: number;
  /** that body, whole in one read: a view of the read buffer, valid until 'response' in the same parser call */
  usageChunk?: Buffer;
  /** it went out on a socket that had already carried a response (see resendable) */
  reused: boolean;
  /** it was sent again on a fresh connection once already */
  resent?: boolean;
  /** the reused socket failed (reset) under it: send it again when the new socket is ready */
  resendPending?: boolean;
  /** its prompt's tokens as the run's tokenizer counts them (DriverOptions.nextBody) */
  promptTokens?: number;
}

/**
 * A request's slot as it leaves, with every field it may get later already there (undefined): every
 * slot then has one shape, and the reads of its fields on each response stay monomorphic instead of
 * meeting the shapes a field added at a time leaves behind.
 */
export function newSlot(arrival: Arrival, sentMs: number, reused: boolean): Slot {
  return {
    arrival,
    sentMs,
    reused,
    headers: undefined,
    trailers: undefined,
    meter: undefined,
    finished: undefined,
    bodyTokens: undefined,
    body: undefined,
    bodyBytes: undefined,
    usageBytes: undefined,
    usageChunk: undefined,
    resent: undefined,
    resendPending: undefined,
    promptTokens: undefined,
  };
}

/**
 * A connection idle for longer than the server's advertised `Keep-Alive: timeout=N` minus this is
 * not reused: the server may close it at the moment the request goes out, and a request on a socket
 * the server closes unread is lost ("connection closed"). It goes on a fresh connection instead.
 * undici keeps the same 1 s margin (test/engine/keepalive.test.ts).
 */
export const KEEP_ALIVE_MARGIN_MS = 1000;

/**
 * A request lost on a reused keep-alive connection before any byte of its response came back may be
 * sent again once on a fresh connection (curl: "Connection died, retrying a fresh connect"): the
 * server closed the socket without reading it (llama.cpp's server closes it after every streamed
 * response while its headers say keep-alive). Not after a timeout, and not twice.
 */
export function resendable(slot: Pick<Slot, 'reused' | 'resent' | 'headers'>): boolean {
  return slot.reused && slot.resent !== true && slot.headers === undefined;
}

/** A Keep-Alive header's value, `timeout=5, max=100` → 5000; undefined without a timeout in it. */
export function keepAliveValueMs(value: string): number | undefined {
  const m = /(?:^|[,\s])timeout\s*=\s*(\d+(?:\.\d+)?)/i.exec(value);
  return m ? Number(m[1]) * 1000 : undefined;
}

export interface Connection {
  client: HookedClient;
  /** writes the connection's next request (autocannon's own _doRequest) */
  send: () => void;
  control: ClientControl;
  /** the last response asked to close the connection: reconnect before the next request */
  closing: boolean;
  slot: Slot | undefined;
  /** given an arrival while cold: it is sent once the socket connects */
  reserved: { arrival: Arrival; waited: boolean } | undefined;
  idle: boolean;
  /** the server's advertised keep-alive timeout (ms), from the last response's Keep-Alive header */
  keepAliveMs: number | undefined;
  /** the Keep-Alive header keepAliveMs was read from (undefined: none) */
  keepAliveText?: string | undefined;
  /** run time the connection last became idle */
  idleSince: number;
  /** responses completed on the current socket */
  onSocket: number;
  /** the last call of ready() followed a response on this socket (else: a new socket) */
  afterResponse: boolean;
  /** the connection's stream meter, reset for each stream it carries (StreamMeter.reset) */
  meter?: StreamMeter;
  /** its client's request bytes carry a request's own body (driver send), not the profile's */
  ownBody?: boolean;
}

export class ConnectionPool {
  private readonly byClient = new Map<HookedClient, Connection>();
  private readonly warm: Connection[] = [];
  private readonly cold: Connection[] = [];

  /** A new client, cold until it is first given an arrival. */
  add(client: HookedClient, control: ClientControl): Connection {
    const s: Connection = { client, send: () => {}, control, closing: false, slot: undefined, reserved: undefined, idle: true, keepAliveMs: undefined, keepAliveText: undefined, idleSince: 0, onSocket: 0, afterResponse: false };
    this.byClient.set(client, s);
    this.cold.push(s);
    return s;
  }

  get(client: HookedClient): Connection | undefined {
    return this.byClient.get(client);
  }

  all(): IterableIterator<Connection> {
    return this.byClient.values();
  }

  /**
   * A free connection: the hottest warm one, else the longest-cold one. A warm one idle close to
   * the server's keep-alive timeout (at run time `nowMs`) reconnects rather than race its close.
   */
  take(nowMs: number): Connection | undefined {
    return this.takeWarm(nowMs) ?? this.takeCold();
  }

  /** The hottest warm connection (see take), or undefined when none is free. */
  takeWarm(nowMs: number): Connection | undefined {
    while (this.warm.length > 0) {
      const s = this.warm.pop() as Connection;
      if (!s.idle || s.slot) continue;
      if (s.keepAliveMs !== undefined && nowMs - s.idleSince >= s.keepAliveMs - KEEP_ALIVE_MARGIN_MS) s.control.park();
      return s;
    }
    return undefined;
  }

  /** The longest-cold free connection (its socket opens when it is dispatched), or undefined. */
  takeCold(): Connection | undefined {
    while (this.cold.length > 0) {
      const s = this.cold.shift() as Connection;
      if (freeCold(s)) return s;
    }
    return undefined;
  }

  /** whether a cold connection is free (without taking it) */
  hasCold(): boolean {
    return this.cold.some(freeCold);
  }

  /** Free with its socket open, from run time `nowMs`. */
  rest(s: Connection, nowMs: number): void {
    if (!s.idle) {
      s.idle = true;
      s.idleSince = nowMs;
      this.warm.push(s);
    }
  }

  /** Free and cold again: it reconnects when it is next given an arrival (see autocannon-hook.ts). */
  park(s: Connection): void {
    s.control.park();
    if (!s.idle) {
      s.idle = true;
      this.cold.push(s);
    }
  }
}

/** a cold list entry that may be taken: nothing in flight on it and no arrival reserved for it */
function freeCold(s: Connection): boolean {
  return s.idle && !s.slot && !s.reserved;
}

/** HTTP/1.0 without keep-alive, or `Connection: close`: the server ends the socket after this response. */
export function wantsClose(info: { headers: string[]; versionMajor?: number; versionMinor?: number; shouldKeepAlive?: boolean }): boolean {
  if (info.shouldKeepAlive !== undefined) return !info.shouldKeepAlive;
  const h = info.headers;
  for (let i = 0; i + 1 < h.length; i += 2) {
    if ((h[i] as string).toLowerCase() === 'connection') return /close/i.test(h[i + 1] as string);
  }
  return info.versionMajor === 1 && info.versionMinor === 0;
}
