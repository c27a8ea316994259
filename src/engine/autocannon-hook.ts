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
 * and one of its queue's: `pipelinedRequests.addBody`, which appends every response body to a string
 * (memory grows with body size); budgetgate reads bodies from the client's 'body' chunks instead, only
 * as far as its timing rules need. With `beforeRead`, the client's parser's `execute` (the socket's
 * read handler calls it once per read) is wrapped so the driver can send what fell due first. The
 * parser (http-parser-js) also gets its body callback replaced (ownBodyHandler), an own HEADER
 * that reads a whole header block in one pass (header-block.ts) and an own RESPONSE_LINE that reads
 * a whole plain head, status line to empty line, in one pass (response-head.ts).
 *
 * A plain-TCP client's socket is opened here rather than by autocannon's `_connect` (connectPlain):
 * the same socket and handlers, but reading into one buffer this thread reuses for every read.
 *
 * On every (re)connect the response parser is reset: autocannon reuses one parser across sockets, so
 * a socket that died mid-response would corrupt the next one; and a body delimited by the end of the
 * connection (HTTP/1.0, or no Content-Length) is completed first, since autocannon never tells the
 * parser that the socket ended.
 *
 * `park()` makes the client cold again: after a connection error or a `Connection: close` response,
 * autocannon would reconnect at once, in a tight loop while the target is down. A parked client
 * reconnects only when the pacer hands it its next token, so a dead target costs one connect attempt
 * per scheduled request, each recorded as that request's error.
 *
 * test/engine/autocannon-hook.test.ts fails loudly if any of this stops working after an upgrade.
 */

import { connect as netConnect } from 'node:net';
import { readHeaderBlocks } from './header-block.js';
import { readResponseHeads, refuseBadLengths } from './response-head.js';

/** The slice of autocannon's Client we depend on. */
export interface HookedClient {
  _doRequest(): void;
  _connect(): void;
  _destroyConnection(): void;
  conn?: unknown;
  parser: { state: string; type: string; finish(): unknown; reinitialize(type: string): void; execute(chunk: Buffer): unknown };
  pipelinedRequests: { clear(): void; addBody(data: Buffer): void; addByteCount?(n: number): void; insertRequest?(req: unknown): void; terminateRequest?(): unknown; pendingRequests?: unknown[] };
  /** https: or a Unix socket: autocannon's own `_connect` opens those */
  secure?: boolean;
  ipc?: boolean;
  opts?: { port?: number | string; hostname?: string; pipelining?: number };
  requestIterator?: { resetContext(): void; currentRequest?: { requestBuffer?: Buffer } };
  listeners(event: string): Function[];
  emit(event: string, ...args: unknown[]): boolean;
  removeListener(event: string, fn: (...args: never[]) => void): this;
  destroyed: boolean;
  destroy(): void;
  /** autocannon's public per-client body setter (pipelining 1): the next request written carries it */
  setBody(body: string | Buffer): void;
  on(event: 'headers', fn: (info: { headers: string[]; statusCode: number; shouldKeepAlive?: boolean; versionMajor?: number; versionMinor?: number }) => void): this;
  on(event: 'response', fn: (status: number, bytes: number, durationMs: number) => void): this;
  on(event: 'connError', fn: (err: NodeJS.ErrnoException) => void): this;
  on(event: string, fn: (...args: never[]) => void): this;
}

export interface ClientHooks {
  /** the client may send: hand it a token or park it */
  ready(client: HookedClient, send: () => void): void;
  /** a socket read is about to be parsed (its responses handled): sends due go first (pacer.ts poll) */
  beforeRead?(): void;
}

export const REQUIRED_METHODS = ['_doRequest', '_connect', '_destroyConnection'] as const;

/**
 * Installs the hooks; returns `connect`, which opens the client's socket the first time it is needed
 * (the socket's own connect triggers `_doRequest`, i.e. `ready`).
 */
export interface ClientControl {
  /** open the socket (if parked or never opened); its connect triggers `ready` */
  connect(): void;
  /** whether the client has a socket that autocannon keeps alive */
  connected(): boolean;
  /** drop the socket and stay cold until the next `connect()` */
  park(): void;
  /** after connect(): settles when the socket has connected, failed or closed (never rejects) */
  opened(): Promise<void>;
}

export function hookClient(client: HookedClient, hooks: ClientHooks): ClientControl {
  for (const m of REQUIRED_METHODS) {
    if (typeof (client as unknown as Record<string, unknown>)[m] !== 'function') {
      throw new Error(`autocannon Client has no ${m}(): the pinned autocannon version changed; budgetgate's pacer cannot work`);
    }
  }
  const proto = Object.getPrototypeOf(client) as HookedClient;
  let live = false;
  let bodyHooked = false;
  const send = (): void => proto._doRequest.call(client);
  const plain = plainTarget(client);
  const open = (): void => {
    if (plain) connectPlain(client, plain);
    else {
      proto._connect.call(client);
      noReadAheadTicks(client.conn);
    }
  };
  client._doRequest = () => hooks.ready(client, send);
  const resetParser = (): void => {
    const p = client.parser;
    if (p.state === 'BODY_RAW') p.finish(); // may emit 'response', whose handler may park() us
    p.reinitialize(p.type);
  };
  client._connect = () => {
    // the first call is the one that ends autocannon's constructor, after it set the parser's callbacks
    if (!bodyHooked) bodyHooked = ownBodyHandler(client);
    if (!live) return;
    resetParser();
    if (live) open();
  };
  client._destroyConnection = () => {
    if (client.conn) proto._destroyConnection.call(client);
    else client.pipelinedRequests.clear();
  };
  client.pipelinedRequests.addBody = () => {};
  unclockedQueue(client.pipelinedRequests);
  // a read that holds a whole header block is read in one pass (header-block.ts), and one that holds
  // a whole plain head, status line and all, in one pass too (response-head.ts)
  readHeaderBlocks(client.parser);
  readResponseHeads(client.parser);
  // a negative or fractional length would have the parser read the same bytes again for ever
  refuseBadLengths(client.parser);
  // autocannon deep-clones the (empty) request context before every request, for setupRequest
  // hooks, which budgetgate never gives it
  if (client.requestIterator) client.requestIterator.resetContext = () => {};
  const before = hooks.beforeRead;
  if (before) {
    // autocannon's socket 'data' handler is `this.parser.execute(chunk)`: the one call per read
    const parser = client.parser;
    const execute = parser.execute;
    parser.execute = (chunk: Buffer) => {
      before();
      return execute.call(parser, chunk);
    };
  }
  return {
    connect() {
      if (live) return;
      live = true;
      if (client.conn) proto._destroyConnection.call(client);
      client.parser.reinitialize(client.parser.type);
      open();
    },
    connected: () => live,
    opened: () =>
      new Promise<void>((resolve) => {
        const conn = client.conn as { connecting?: boolean; once(e: string, fn: () => void): void } | undefined;
        if (!conn || conn.connecting !== true) return resolve();
        for (const e of ['connect', 'error', 'close']) conn.once(e, resolve);
      }),
    park() {
      live = false;
    },
  };
}

/** an entry's headers until the parser's are set on it (setHeaders replaces the object, never writes into it) */
const NO_HEADERS = Object.freeze({});

/**
 * autocannon's queue of the requests awaiting their response, without its clock: it stamps each
 * entry with process.hrtime() when the request is written and again when it is answered, for the
 * duration its run loop records (a call into C++ and an array each time). budgetgate times every
 * request on its own clock and drops those listeners (dropAutocannonStats), so the entries keep
 * their fields and order, with a duration of 0. Left alone when the queue is not of 9.0.0's shape.
 */
export function unclockedQueue(q: HookedClient['pipelinedRequests']): boolean {
  if (typeof q.insertRequest !== 'function' || typeof q.terminateRequest !== 'function' || !Array.isArray(q.pendingRequests)) return false;
  const queue = q as { pendingRequests: unknown[] };
  // `clear()` puts a new array in place: each call reads the queue's current one
  q.insertRequest = (req: unknown) => void queue.pendingRequests.push({ req, bytes: 0, body: '', headers: NO_HEADERS, duration: 0 });
  q.terminateRequest = () => (queue.pendingRequests.length > 0 ? queue.pendingRequests.shift() : undefined);
  return true;
}

/**
 * autocannon's body handler slices every body chunk a second time, for the addBody the hook turns
 * off, then emits the parser's own slice: one Buffer per response (per streamed event) for nothing.
 * Replaced by one that emits the chunk. autocannon writes its parser callbacks after setupClient
 * (where hookClient runs), so this runs from the first `_connect`, the constructor's last call;
 * whether it was put in place (a handler of another shape is left alone).
 */
export function ownBodyHandler(client: HookedClient): boolean {
  const kOnBody = (client.parser.constructor as { kOnBody?: unknown }).kOnBody;
  const parser = client.parser as unknown as Record<number, unknown>;
  if (typeof kOnBody !== 'number' || typeof parser[kOnBody] !== 'function') return false;
  parser[kOnBody] = (body: Buffer) => void client.emit('body', body);
  return true;
}

/**
 * For the sockets autocannon opens itself (https:, Unix sockets; plain TCP reads through onread,
 * which has no read-ahead): turns off one stream read-ahead tick per socket read. After every read
 * a flowing net.Socket schedules `maybeReadMore` with process.nextTick (node:internal/streams/readable), which for a
 * socket whose handle is already reading only calls read(0); the tick makes Node drain its tick
 * queue, and Node 20's `processPromiseRejections` allocates a Map on every drain. At 1,000 streams
 * (100,000 reads/s) the two were 38% of what the sender allocated. `readingMore` is the readable
 * state's own flag for "a read-ahead is scheduled"; held true, none is. The handle keeps reading
 * on its own (net.Socket reads until readStop, which only backpressure calls, and a paused or
 * backpressured socket resumes through read(), not through this tick).
 */
export function noReadAheadTicks(conn: unknown): void {
  const state = (conn as { _readableState?: { readingMore?: unknown } } | undefined)?._readableState;
  if (state && typeof state.readingMore === 'boolean') state.readingMore = true;
}

/**
 * The one buffer every plain-TCP socket of this thread reads into. A read is parsed to the end before
 * the next read begins (the callback below runs the parser synchronously), so one buffer serves all
 * sockets: Node then allocates no 64 KB store, resizes it, or wraps it in a new Buffer per read, and
 * the stream machinery that would emit each read as 'data' is skipped. At 1,000 streams that was
 * 50,000 reads a second. Whatever outlives a read is copied out of it: the body chunks a rule or a
 * session keeps (client-events.ts) and the stream meter's last event (core/stream.ts).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

interface PlainTarget {
  port: number | string;
  host: string;
  pipelining: number;
}

/** The port and host of a plain-TCP client (not https:, not a Unix socket), if autocannon's fields are as 9.0.0 has them. */
function plainTarget(client: HookedClient): PlainTarget | undefined {
  const o = client.opts;
  if (client.secure !== false || client.ipc !== false || !o || typeof o.hostname !== 'string' || o.port === undefined) return undefined;
  if (typeof client.pipelinedRequests.addByteCount !== 'function') return undefined;
  return { port: o.port, host: o.hostname, pipelining: o.pipelining ?? 1 };
}

/**
 * autocannon 9.0.0's `Client.prototype._connect` for plain TCP, with `onread` instead of a 'data'
 * listener: the socket, its 'error' and 'end' handlers (both reconnect unless destroyed), the byte
 * count and the parser call per read, then the pipelined first requests.
 */
function connectPlain(client: HookedClient, t: PlainTarget): void {
  const conn = netConnect({
    port: Number(t.port),
    host: t.host,
    onread: {
      buffer: READ_BUFFER,
      callback: (n: number, buf: Buffer): boolean => {
        client.pipelinedRequests.addByteCount?.(n);
        client.parser.execute(buf.subarray(0, n));
        return true;
      },
    },
  });
  client.conn = conn;
  conn.on('error', (error: Error) => {
    client.emit('connError', error);
    if (!client.destroyed) client._connect();
  });
  conn.on('end', () => {
    if (!client.destroyed) client._connect();
  });
  for (let i = 0; i < t.pipelining; i++) client._doRequest();
}

/**
 * A request's own body, framed as autocannon frames the profile's request (its request line, Host,
 * Connection and headers, then Content-Length), built in one allocation. autocannon's `setBody`
 * rebuilds the request through two object merges, a header join and two copies: 0.1–0.3 ms for a
 * trace prompt of a few KB, paid by every later send of a burst at one timestamp.
 *
 *   request = head · "Content-Length: " · byteLength(body) · CRLF CRLF · body   (head without its CRLF CRLF)
 *
 * `base` is the profile's request as autocannon built it. An empty body is framed with
 * `Content-Length: 0` (autocannon's setBody('') would keep the previous body's length, and the server
 * would wait for bytes that never come).
 */
export interface RequestFramer {
  readonly base: Buffer;
  frame(body: string): Buffer;
}

const CRLF2 = Buffer.from('\r\n\r\n', 'latin1');

/** The framer for every client of one autocannon instance (they share its options), from one client's built request. */
export function requestFramer(client: HookedClient): RequestFramer {
  const base = client.requestIterator?.currentRequest?.requestBuffer;
  if (!Buffer.isBuffer(base)) throw new Error('autocannon Client has no requestIterator.currentRequest.requestBuffer: the pinned autocannon version changed');
  const end = base.indexOf(CRLF2);
  if (end < 0) throw new Error('autocannon built a request without an end of headers: the pinned autocannon version changed');
  // the head's lines without autocannon's Content-Length (the only one it computes), each ending in CRLF
  const lines = base.subarray(0, end).toString('utf8').split('\r\n').filter((l) => !/^content-length:/i.test(l));
  const head = Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
  return {
    base,
    frame(body) {
      const n = Buffer.byteLength(body, 'utf8');
      const len = `Content-Length: ${n}\r\n\r\n`;
      const out = Buffer.allocUnsafe(head.length + len.length + n);
      head.copy(out, 0);
      out.write(len, head.length, 'latin1');
      out.write(body, head.length + len.length, 'utf8');
      return out;
    },
  };
}

/** The bytes the client's next request carries (autocannon writes currentRequest.requestBuffer as it is: no setupRequest, no id replacement). */
export function setRequestBytes(client: HookedClient, bytes: Buffer): void {
  const r = client.requestIterator?.currentRequest;
  if (r) r.requestBuffer = bytes;
}

/** Events on which autocannon's own run loop keeps statistics budgetgate never reads. */
const STATS_EVENTS = ['response', 'request'] as const;
const own = new WeakMap<HookedClient, Set<Function>>();

/** Call once our listeners are on the client (in setupClient): they are the ones kept by dropAutocannonStats. */
export function markOwnListeners(client: HookedClient): void {
  own.set(client, new Set(STATS_EVENTS.flatMap((e) => client.listeners(e))));
}

/**
 * Removes the 'response' and 'request' listeners autocannon's run loop added after setupClient: per
 * response they record into autocannon's own latency histogram (a WebAssembly call) and status
 * tallies, and budgetgate records every response itself (core/recorder.ts). Ours stay.
 */
export function dropAutocannonStats(client: HookedClient): void {
  const mine = own.get(client);
  if (!mine) return;
  for (const e of STATS_EVENTS) for (const fn of client.listeners(e)) if (!mine.has(fn)) client.removeListener(e, fn as (...args: never[]) => void);
}
