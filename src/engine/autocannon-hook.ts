/**
 * The one place that reaches into autocannon's internals. autocannon 9.0.0 (pinned exactly) calls
 * `opts.setupClient(client)` in the Client constructor before it connects; we replace three of the
 * client's private methods on the instance:
 *
 * - `_doRequest`: called whenever the client may send (on connect, after each response). Instead of
 *   sending at once, it asks our pacer for a token; with none due, the client waits idle.
 * - `_connect`: deferred until the pacer first hands the client a token, so a `maxInFlight` of 1,000
 *   costs no sockets until the load needs them (autocannon would otherwise open every connection at t=0).
 * - `_destroyConnection`: made safe before the first connect (autocannon's idle timer calls it).
 *
 * test/engine/autocannon-hook.test.ts fails loudly if any of this stops working after an upgrade.
 */

/** The slice of autocannon's Client we depend on. */
export interface HookedClient {
  _doRequest(): void;
  _connect(): void;
  _destroyConnection(): void;
  conn?: unknown;
  pipelinedRequests: { clear(): void };
  destroyed: boolean;
  destroy(): void;
  on(event: 'headers', fn: (info: { headers: string[]; statusCode: number }) => void): this;
  on(event: 'response', fn: (status: number, bytes: number, durationMs: number) => void): this;
  on(event: 'connError', fn: (err: NodeJS.ErrnoException) => void): this;
  on(event: string, fn: (...args: never[]) => void): this;
}

export interface ClientHooks {
  /** the client may send: hand it a token or park it */
  ready(client: HookedClient, send: () => void): void;
}

export const REQUIRED_METHODS = ['_doRequest', '_connect', '_destroyConnection'] as const;

/**
 * Installs the hooks; returns `connect`, which opens the client's socket the first time it is needed
 * (the socket's own connect triggers `_doRequest`, i.e. `ready`).
 */
export function hookClient(client: HookedClient, hooks: ClientHooks): { connect(): void; connected(): boolean } {
  for (const m of REQUIRED_METHODS) {
    if (typeof (client as unknown as Record<string, unknown>)[m] !== 'function') {
      throw new Error(`autocannon Client has no ${m}(): the pinned autocannon version changed; budgetgate's pacer cannot work`);
    }
  }
  const proto = Object.getPrototypeOf(client) as HookedClient;
  let live = false;
  const send = (): void => proto._doRequest.call(client);
  client._doRequest = () => hooks.ready(client, send);
  client._connect = () => {
    if (live) proto._connect.call(client);
  };
  client._destroyConnection = () => {
    if (client.conn) proto._destroyConnection.call(client);
    else client.pipelinedRequests.clear();
  };
  return {
    connect() {
      if (live) return;
      live = true;
      proto._connect.call(client);
    },
    connected: () => live,
  };
}
