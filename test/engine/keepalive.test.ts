/**
 * A server that closes idle keep-alive connections the way llama.cpp's (cpp-httplib) does: it
 * advertises `Keep-Alive: timeout=T, max=100`, waits for the next request polling every 10ms, and
 * closes the socket when T has passed, even if a request arrived during the last poll interval
 * (that request is never read, never answered). A client that reuses a connection idle for just
 * under T loses the request: autocannon sees the socket end and the driver records
 * "connection closed". That is the one `connection closed` seen in a 1→6 req/s ramp against a real
 * llama-server: the server never started a task for it (its log and token counter say so).
 *
 * The driver retires a connection idle for longer than the advertised timeout minus a margin
 * (KEEP_ALIVE_MARGIN_MS), as undici does, and sends on a fresh one instead.
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';

const T_MS = 2000;
const POLL_MS = 10;

interface Emulated {
  url: string;
  connections: number;
  answered: number;
  dropped: number;
  close(): Promise<void>;
}

/** closeAfterStream: answer with an SSE stream and close the socket after it, headers saying keep-alive (llama-server) */
async function httplibLike(o: { closeAfterStream?: boolean } = {}): Promise<Emulated> {
  const state = { connections: 0, answered: 0, dropped: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    state.connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let idleSince = performance.now();
    let served = 0;
    let buf = '';
    let idleTimer = setTimeout(() => sock.destroy(), T_MS);
    sock.on('data', (chunk) => {
      // the poll that would notice this request comes after the timeout: the socket is closed unread
      if (buf === '' && performance.now() - idleSince > T_MS - POLL_MS) {
        state.dropped++;
        sock.destroy();
        return;
      }
      clearTimeout(idleTimer);
      buf += chunk.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/content-length:\s*(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      buf = '';
      served++;
      if (o.closeAfterStream === true) {
        const ev = (d: string): string => `${(d.length).toString(16)}\r\n${d}\r\n`;
        const chunk = (text: string): string => ev(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text } }] })}\n\n`);
        sock.write(`HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=${T_MS / 1000}, max=100\r\n\r\n`);
        sock.write(chunk('Hel') + chunk('lo') + ev('data: [DONE]\n\n') + '0\r\n\r\n');
        state.answered++;
        sock.end();
        return;
      }
      const body = '{"ok":true}';
      const last = served >= 100;
      sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${last ? 'Connection: close' : `Keep-Alive: timeout=${T_MS / 1000}, max=100`}\r\n\r\n${body}`);
      state.answered++;
      if (last) {
        sock.end();
        return;
      }
      idleSince = performance.now();
      idleTimer = setTimeout(() => sock.destroy(), T_MS);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    get connections() {
      return state.connections;
    },
    get answered() {
      return state.answered;
    },
    get dropped() {
      return state.dropped;
    },
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const opened: Emulated[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

/** A run against a fresh emulated server: no error of any kind, every request completed, none dropped unread. */
async function lossless(server: Parameters<typeof httplibLike>[0], profile: Record<string, unknown>, completed: number): Promise<Emulated> {
  const s = await httplibLike(server);
  opened.push(s);
  const target = { url: s.url, timeout: '3s', ...(profile.target as object | undefined) };
  const r = await run({ name: 'keepalive', ...profile, target }, {});
  expect(r.phases[0]?.errorKinds).toEqual({});
  expect(r.totals.completed).toBe(completed);
  expect(s.dropped).toBe(0);
  return s;
}

describe('keep-alive: a connection the server is about to close is not reused', () => {
  it('happy: a server that closes after every streamed response (headers saying keep-alive) loses no request', async () => {
    // one connection, requests due faster than it answers: each is written on the socket the moment the last stream ends
    await lossless({ closeAfterStream: true }, { target: { body: { model: 'm', messages: [], stream: true } }, maxInFlight: 1, phases: [{ name: 'p', duration: '1s', rate: 200 }] }, 200);
  }, 30_000);

  it('happy: requests spaced just under the server’s keep-alive timeout all succeed', async () => {
    // a request every 1.995s: a reused connection would have idled ~1.994s, inside the server's last poll interval
    await lossless({}, { phases: [{ name: 'p', duration: '9.975s', rate: 1 / 1.995 }] }, 5);
  }, 30_000);

  it('happy: the 100th response’s Connection: close is honoured (no request is lost to max=100)', async () => {
    const s = await lossless({}, { maxInFlight: 1, phases: [{ name: 'p', duration: '2.5s', rate: 100 }] }, 250);
    // 250 requests over one connection at a time (plus the probe's): at least three connections
    expect(s.connections).toBeGreaterThanOrEqual(3);
  }, 30_000);
});
