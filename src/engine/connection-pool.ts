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
}

export class ConnectionPool {
  private readonly byClient = new Map<HookedClient, Connection>();
  private readonly warm: Connection[] = [];
  private readonly cold: Connection[] = [];

  /** A new client, cold until it is first given an arrival. */
  add(client: HookedClient, control: ClientControl): Connection {
    const s: Connection = { client, send: () => {}, control, closing: false, slot: undefined, reserved: undefined, idle: true };
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

  /** A free connection: the hottest warm one, else the longest-cold one. */
  take(): Connection | undefined {
    while (this.warm.length > 0) {
      const s = this.warm.pop() as Connection;
      if (s.idle && !s.slot) return s;
    }
    while (this.cold.length > 0) {
      const s = this.cold.shift() as Connection;
      if (s.idle && !s.slot && !s.reserved) return s;
    }
    return undefined;
  }

  /** Free with its socket open. */
  rest(s: Connection): void {
    if (!s.idle) {
      s.idle = true;
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

/** HTTP/1.0 without keep-alive, or `Connection: close`: the server ends the socket after this response. */
export function wantsClose(info: { headers: string[]; versionMajor?: number; versionMinor?: number; shouldKeepAlive?: boolean }): boolean {
  if (info.shouldKeepAlive !== undefined) return !info.shouldKeepAlive;
  const h = info.headers;
  for (let i = 0; i + 1 < h.length; i += 2) {
    if ((h[i] as string).toLowerCase() === 'connection') return /close/i.test(h[i + 1] as string);
  }
  return info.versionMajor === 1 && info.versionMinor === 0;
}
