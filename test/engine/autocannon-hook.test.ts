/**
 * budgetgate's pacer lives on private autocannon internals (see src/engine/autocannon-hook.ts). These
 * tests fail loudly when an autocannon upgrade breaks them: the exact pinned version, the methods we
 * replace, and, on a real loopback server that timestamps arrivals itself, that requests leave on
 * the schedule instead of in autocannon's per-second bursts, and that connections open lazily.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import autocannon from 'autocannon';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Recorder } from '../../src/core/recorder.js';
import { arrivals, planSchedule } from '../../src/core/schedule.js';
import { compileTimings } from '../../src/core/timing.js';
import { EventEmitter, once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { REQUIRED_METHODS, dropAutocannonStats, hookClient, markOwnListeners, noReadAheadTicks, ownBodyHandler, requestFramer, unclockedQueue, setRequestBytes, type HookedClient } from '../../src/engine/autocannon-hook.js';
import { drive } from '../../src/engine/driver.js';
import { listen, type TestServer } from '../e2e/servers.js';

const require = createRequire(import.meta.url);
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function driveConstant(url: string, rate: number, durationMs: number, maxInFlight = 100) {
  const plan = planSchedule([{ name: 'p', durationMs, model: 'open', rate, to: rate, concurrency: 0, concurrencyTo: 0, warmup: false }]);
  const recorder = new Recorder(plan.phases);
  const started = performance.now();
  const done = drive({
    url,
    method: 'GET',
    headers: {},
    body: undefined,
    timeoutMs: 5000,
    maxInFlight,
    plan,
    arrivals: arrivals(plan, 'uniform', 1),
    recorder,
    extractor: compileTimings({ serverTiming: true, headers: {} }, undefined),
    clock: () => performance.now(),
  });
  return { plan, recorder, started, done };
}

describe('request bytes of a request\'s own body', () => {
  type Iterator = { setBody(b: string): void; currentRequest: { requestBuffer: Buffer } };
  const RequestIterator = require('autocannon/lib/requestIterator.js') as new (o: object) => Iterator;
  const base = { method: 'POST', path: '/v1/chat/completions?x=1', hostname: '127.0.0.1', port: 8080 };
  it.each([
    ['happy: JSON headers, a UTF-8 body', { headers: { 'content-type': 'application/json', authorization: 'Bearer k' }, body: '{"a":1}' }, '{"prompt":"é ✓ 𝄞 text"}'],
    ['happy: a profile without a body (no Content-Length in the base)', { headers: {} }, 'x'.repeat(5000)],
    ['happy: a Host header of the profile\'s own', { headers: { Host: 'api.example', 'x-a': 'b' }, body: 'p' }, '{"k":2}'],
  ])('%s: byte for byte what autocannon\'s setBody builds', (_l, opts, body) => {
    const it = new RequestIterator({ ...base, ...opts });
    const framer = requestFramer({ requestIterator: it } as unknown as HookedClient);
    expect(framer.base.equals(it.currentRequest.requestBuffer)).toBe(true);
    it.setBody(body);
    expect(framer.frame(body).toString('latin1')).toBe(it.currentRequest.requestBuffer.toString('latin1'));
    // and it is what the client writes next
    const client = { requestIterator: it } as unknown as HookedClient;
    setRequestBytes(client, framer.base);
    expect(it.currentRequest.requestBuffer).toBe(framer.base);
  });

  it('sad: an empty body says Content-Length: 0 (autocannon\'s setBody(\'\') keeps the last length, and the server waits for it)', () => {
    const it = new RequestIterator({ ...base, headers: { 'content-type': 'application/json' }, body: 'p' });
    const framer = requestFramer({ requestIterator: it } as unknown as HookedClient);
    expect(framer.frame('').toString('latin1')).toBe('POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: keep-alive\r\ncontent-type: application/json\r\nContent-Length: 0\r\n\r\n');
    it.setBody('');
    expect(it.currentRequest.requestBuffer.toString('latin1')).toContain('Content-Length: 1\r\n\r\n');
  });
});

describe('autocannon hook', () => {
  it('happy: autocannon is pinned exactly to the version the hook was written against', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.autocannon).toBe('9.0.0');
    expect((require('autocannon/package.json') as { version: string }).version).toBe('9.0.0');
  });

  it('happy: the Client prototype still has every method the hook replaces', () => {
    const Client = require('autocannon/lib/httpClient.js') as { prototype: Record<string, unknown> };
    for (const m of REQUIRED_METHODS) expect(typeof Client.prototype[m], m).toBe('function');
  });

  it('happy: autocannon\'s own per-response statistics listeners go, ours stay, other events are untouched', () => {
    const client = new EventEmitter() as unknown as HookedClient;
    const ours = (): void => {};
    const theirs = (): void => {};
    const onTimeout = (): void => {};
    client.on('response', ours);
    markOwnListeners(client);
    client.on('response', theirs); // autocannon's run loop adds its listeners after setupClient
    client.on('request', theirs);
    client.on('timeout', onTimeout);
    dropAutocannonStats(client);
    expect(client.listeners('response')).toEqual([ours]);
    expect(client.listeners('request')).toEqual([]);
    expect(client.listeners('timeout')).toEqual([onTimeout]);
  });

  it('happy: autocannon\'s run loop still listens on the events dropAutocannonStats removes (else it is dead code after an upgrade)', () => {
    const source = readFileSync(require.resolve('autocannon/lib/run.js'), 'utf8');
    expect(source).toMatch(/client\.on\('response', onResponse\)/);
    expect(source).toMatch(/client\.on\('request',/);
    const iterator = readFileSync(require.resolve('autocannon/lib/requestIterator.js'), 'utf8');
    expect(iterator).toMatch(/this\.resetContext\(\)/);
  });

  it('sad: a client without those methods is refused with a message naming the upgrade', () => {
    const fake = { pipelinedRequests: { clear() {} } } as unknown as HookedClient;
    expect(() => hookClient(fake, { ready() {} })).toThrow(/pinned autocannon version changed/);
  });

  it('happy: 100 req/s for 2 s arrive paced (10 ms apart), not as a burst at each second', async () => {
    server = await listen((_q, res) => res.end('ok'));
    const run = driveConstant(server.url, 100, 2000);
    const out = await run.done;
    expect(out.interrupted).toBe(false);
    const t = server.arrivals.map((a) => a - (server?.arrivals[0] ?? 0));
    expect(t).toHaveLength(200);
    // autocannon's own overallRate would put each second's 100 requests within ~25-45 ms: all 200
    // within ~1,045 ms; paced, they span ~1,990 ms (a stall after the first send shortens it by its length)
    expect((t[199] ?? 0) - (t[0] ?? 0)).toBeGreaterThan(1500);
    // autocannon's burst puts all 100 in one window; a paced run holds ~10 per 100 ms. The bound
    // leaves room for a shared machine's event-loop stalls, which release due tokens together.
    let worst = 0;
    for (let i = 0, j = 0; i < t.length; i++) {
      while ((t[i] ?? 0) - (t[j] ?? 0) >= 100) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(45);
    expect(run.recorder.totals()).toMatchObject({ scheduled: 200, sent: 200, completed: 200, errors: 0 });
  });

  it('happy: connections open as the load needs them, not maxInFlight of them at once', async () => {
    const sockets = new Set<unknown>();
    server = await listen((req, res) => {
      sockets.add(req.socket);
      res.end('ok');
    });
    const run = driveConstant(server.url, 20, 1000, 500);
    await run.done;
    expect(server.arrivals).toHaveLength(20);
    // a fast server at 20 req/s needs one connection or two, never the 500 allowed (a 150 ms stall
    // of a starved machine releases 3–4 arrivals at once, each on a socket of its own: 6 bounds that)
    expect(sockets.size).toBeLessThanOrEqual(6);
  });
});

describe('plain-TCP sockets opened by the hook (connectPlain)', () => {
  it('happy: autocannon\'s _connect for plain TCP is still the one connectPlain repeats with onread (else an upgrade changed it)', () => {
    const source = readFileSync(require.resolve('autocannon/lib/httpClient.js'), 'utf8');
    const start = source.indexOf('Client.prototype._connect = function () {');
    const end = source.indexOf('Client.prototype._doRequest');
    expect(start).toBeGreaterThan(0);
    const body = source.slice(start, end).replace(/\s+/g, ' ');
    // the socket, then its three handlers, then the pipelined first requests: connectPlain in order
    expect(body).toContain("} else { this.conn = net.connect(this.opts.port, this.opts.hostname) } }");
    expect(body).toContain(
      "this.conn.on('error', (error) => { this.emit('connError', error) if (!this.destroyed) this._connect() }) " +
        "this.conn.on('data', (chunk) => { this.pipelinedRequests.addByteCount(chunk.length) this.parser.execute(chunk) }) " +
        "this.conn.on('end', () => { if (!this.destroyed) this._connect() }) " +
        'for (let i = 0; i < this.opts.pipelining; i++) { this._doRequest() } }',
    );
    // and the fields connectPlain reads to tell plain TCP from https: and Unix sockets
    expect(source).toContain("this.ipc = !!this.opts.socketPath");
    expect(source).toContain("this.secure = this.opts.protocol === 'https:'");
  });
});

describe('socket reads without a read-ahead tick (noReadAheadTicks)', () => {
  /** a loopback server that writes `total` bytes in 16 KB writes, a few ms apart, then ends */
  async function writer(total: number): Promise<{ port: number; close(): Promise<void> }> {
    const srv = createServer((sock) => {
      let left = total;
      const step = (): void => {
        const n = Math.min(left, 16_384);
        left -= n;
        if (left === 0) sock.end(Buffer.alloc(n, 0x61));
        else sock.write(Buffer.alloc(n, 0x61), () => setTimeout(step, 1));
      };
      step();
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    return { port: (srv.address() as AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
  }

  it('happy: every byte arrives, through a pause and a resume, and no read-ahead tick ran (it would have cleared the flag)', async () => {
    const total = 1_000_000;
    const srv = await writer(total);
    try {
      const sock = connect(srv.port, '127.0.0.1');
      noReadAheadTicks(sock);
      let got = 0;
      let reads = 0;
      sock.on('data', (b: Buffer) => {
        got += b.length;
        // one pause mid-stream: the bytes buffered meanwhile must come out on resume
        if (++reads === 3) {
          sock.pause();
          setTimeout(() => sock.resume(), 30);
        }
      });
      await once(sock, 'end');
      expect(got).toBe(total);
      expect(reads).toBeGreaterThan(3);
      expect((sock as unknown as { _readableState: { readingMore: boolean } })._readableState.readingMore).toBe(true);
      sock.destroy();
    } finally {
      await srv.close();
    }
  });

  it('happy: without it, Node schedules the read-ahead tick this removes (the flag is cleared after reads), so the hook is not dead code', async () => {
    const srv = await writer(200_000);
    try {
      const sock = connect(srv.port, '127.0.0.1');
      let sawSet = false;
      sock.on('data', () => {
        // Node schedules its read-ahead tick after this handler returns; a tick queued here runs
        // just before it, while the flag says one is scheduled
        process.nextTick(() => {
          if ((sock as unknown as { _readableState: { readingMore: boolean } })._readableState.readingMore) sawSet = true;
        });
      });
      await once(sock, 'end');
      expect(sawSet).toBe(true);
      expect((sock as unknown as { _readableState: { readingMore: boolean } })._readableState.readingMore).toBe(false);
      sock.destroy();
    } finally {
      await srv.close();
    }
  });

  it.each([
    ['no socket', undefined],
    ['an object without a readable state', {}],
    ['a readable state without the flag', { _readableState: {} }],
  ])('sad: %s is left as it is', (_label, conn) => {
    const before = JSON.stringify(conn);
    expect(() => noReadAheadTicks(conn)).not.toThrow();
    expect(JSON.stringify(conn)).toBe(before);
  });

  it('happy: once autocannon\'s constructor has run, the parser\'s body callback is the hook\'s: the chunk is emitted with no slice for the queue', () => {
    let client: HookedClient | undefined;
    const instance = autocannon({ url: 'http://127.0.0.1:9/', connections: 1, duration: 1, setupClient: (c: unknown) => void hookClient((client = c as HookedClient), { ready: () => {} }) } as autocannon.Options, () => {});
    try {
      const c = client as HookedClient;
      const kOnBody = (c.parser.constructor as unknown as { kOnBody: number }).kOnBody;
      const addBody = vi.fn();
      c.pipelinedRequests.addBody = addBody;
      const emitted: Buffer[] = [];
      c.on('body', (b: Buffer) => emitted.push(b));
      const chunk = Buffer.from('hello');
      (c.parser as unknown as Record<number, (b: Buffer, s: number, l: number) => void>)[kOnBody]?.(chunk, 0, chunk.length);
      expect(emitted).toEqual([chunk]);
      expect(emitted[0]).toBe(chunk);
      // autocannon's own handler would have sliced the chunk for its queue's addBody
      expect(addBody).not.toHaveBeenCalled();
      // and its parser reads whole header blocks in one pass (header-block.ts found what it needs)
      expect(Object.hasOwn(c.parser, 'HEADER')).toBe(true);
      // and whole plain heads, status line and all (response-head.ts found what it needs)
      expect(Object.hasOwn(c.parser, 'RESPONSE_LINE')).toBe(true);
    } finally {
      instance.stop();
    }
  });

  it('happy: the hooked client\'s request queue keeps its entries in order without reading the clock', () => {
    let client: HookedClient | undefined;
    const instance = autocannon({ url: 'http://127.0.0.1:9/', connections: 1, duration: 1, setupClient: (c: unknown) => void hookClient((client = c as HookedClient), { ready: () => {} }) } as autocannon.Options, () => {});
    const hrtime = vi.spyOn(process, 'hrtime');
    try {
      const q = (client as HookedClient).pipelinedRequests as unknown as { insertRequest(r: unknown): void; terminateRequest(): unknown; setHeaders(h: unknown): void; clear(): void };
      q.clear();
      q.insertRequest('first');
      q.insertRequest('second');
      q.setHeaders({ statusCode: 200 });
      expect(q.terminateRequest()).toEqual({ req: 'first', bytes: 0, body: '', headers: { statusCode: 200 }, duration: 0 });
      expect(q.terminateRequest()).toMatchObject({ req: 'second', headers: {} });
      expect(q.terminateRequest()).toBeUndefined();
      expect(hrtime).not.toHaveBeenCalled();
    } finally {
      hrtime.mockRestore();
      instance.stop();
    }
  });

  it('sad: a queue of another shape is left alone', () => {
    const q = { clear() {}, addBody() {}, insertRequest: 1 } as unknown as HookedClient['pipelinedRequests'];
    expect(unclockedQueue(q)).toBe(false);
    expect(q.insertRequest).toBe(1);
  });

  it('sad: a parser without a body callback slot is left alone', () => {
    const parser = { constructor: {} } as unknown as HookedClient['parser'];
    expect(ownBodyHandler({ parser } as HookedClient)).toBe(false);
  });

  it('happy: http-parser-js hands every body chunk to kOnBody as (slice, 0, length), which the hook\'s body handler relies on', () => {
    const source = readFileSync(require.resolve('http-parser-js/http-parser.js'), 'utf8');
    const calls = [...source.matchAll(/this\[kOnBody\]\(([^;]*)\);/g)].map((m) => m[1] ?? '');
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const c of calls) expect(c).toMatch(/^this\.chunk\.slice\([^)]*\), 0, /);
    const client = readFileSync(require.resolve('autocannon/lib/httpClient.js'), 'utf8');
    // autocannon's own handler: the queue's addBody (a no-op under the hook) and the 'body' event
    expect(client).toMatch(/this\.parser\[HTTPParser\.kOnBody\] = \(body, start, len\) => \{\s*this\.pipelinedRequests\.addBody\(body\.slice\(start, start \+ len\)\)\s*this\.emit\('body', body\)\s*\}/);
  });
});
