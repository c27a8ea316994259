/**
 * A fake Prometheus metrics endpoint on 127.0.0.1 for the scraper's tests. Modes:
 * - ok: a gauge (fake_queue = hits mod 5), a counter (fake_tokens_total = 10 · hits) and a labelled
 *   histogram (fake_latency_seconds, two label sets, one observation each per hit);
 * - hang: accepts the request and never answers;
 * - garbage: 200 with text that is not exposition format;
 * - gone: the listener is closed and open sockets destroyed (connection refused from then on).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FakeMode = 'ok' | 'hang' | 'garbage' | 'gone';

export interface FakeMetrics {
  url: string;
  /** requests answered in mode ok */
  hits: number;
  /** requests received in any mode */
  requests: number;
  setMode(m: FakeMode): void;
  close(): Promise<void>;
}

export function exposition(hits: number): string {
  const h = (model: string): string[] => [
    `fake_latency_seconds_bucket{model_name="${model}",le="0.1"} ${hits}`,
    `fake_latency_seconds_bucket{model_name="${model}",le="1"} ${hits}`,
    `fake_latency_seconds_bucket{model_name="${model}",le="+Inf"} ${hits}`,
    `fake_latency_seconds_count{model_name="${model}"} ${hits}`,
    `fake_latency_seconds_sum{model_name="${model}"} ${hits * 0.05}`,
  ];
  return [
    '# HELP fake_queue Requests waiting.',
    '# TYPE fake_queue gauge',
    `fake_queue ${hits % 5}`,
    '# TYPE fake_tokens_total counter',
    `fake_tokens_total ${hits * 10}`,
    '# TYPE fake_latency_seconds histogram',
    ...h('a'),
    ...h('b'),
    '',
  ].join('\n');
}

export async function fakeMetrics(mode: FakeMode = 'ok'): Promise<FakeMetrics> {
  let current = mode;
  const sockets = new Set<Socket>();
  const state = { hits: 0, requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    if (current === 'hang') return; // never answers; the scraper's deadline ends it
    if (current === 'garbage') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('<html><body>Service <b>temporarily</b> overloaded!!</body></html>\n\u0000\u0001 x y z\n');
      return;
    }
    state.hits++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(exposition(state.hits));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const stop = (): Promise<void> =>
    new Promise((r) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) return r();
      server.close(() => r());
    });
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    get hits() {
      return state.hits;
    },
    get requests() {
      return state.requests;
    },
    setMode(m) {
      current = m;
      if (m === 'gone') void stop();
    },
    close: stop,
  };
}
