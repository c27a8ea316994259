/**
 * A loopback server for trace replay tests: it logs every request's arrival time (performance.now(),
 * when its headers arrive) with its body, and answers with a small chat completion. 127.0.0.1, port 0;
 * closes itself when the calling test ends.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface Logged {
  t: number;
  body: string;
}

export async function logServer(): Promise<{ url: string; log: Logged[] }> {
  const log: Logged[] = [];
  const server: Server = createServer((req, res) => {
    const entry: Logged = { t: performance.now(), body: '' };
    log.push(entry);
    req.setEncoding('utf8');
    req.on('data', (c: string) => (entry.body += c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }], usage: { prompt_tokens: 1, completion_tokens: 1 } }));
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`, log };
}

/** A mooncake trace with bursts: `bursts` instants `gapMs` apart, each holding 1 + (k mod `size`) records. */
export function burstyMooncake(o: { bursts: number; size: number; gapMs: number; seed: number }): { text: string; records: { timestamp: number; input_length: number; output_length: number; hash_ids: number[] }[] } {
  const records: { timestamp: number; input_length: number; output_length: number; hash_ids: number[] }[] = [];
  let x = o.seed;
  const next = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  let unique = 100;
  for (let k = 0; k < o.bursts; k++) {
    for (let j = 0; j <= k % o.size; j++) {
      const input = 300 + next(1500);
      const blocks = Math.ceil(input / 512);
      // a shared first block (one of 3) for most records, then blocks of their own
      const ids = next(4) === 0 ? [] : [1 + next(3)];
      while (ids.length < blocks) ids.push(unique++);
      records.push({ timestamp: k * o.gapMs, input_length: input, output_length: 1 + next(200), hash_ids: ids });
    }
  }
  return { text: `${records.map((r) => JSON.stringify(r)).join('\n')}\n`, records };
}

/**
 * The same logging server in a child process (its own event loop, so on a machine with two cores its
 * own core): arrival times are not held back by the sender's loop, as they would be in-process. Times
 * are CLOCK_MONOTONIC milliseconds (process.hrtime, sub-millisecond; the engine's sharedClock), one
 * clock in both processes. Not timeOrigin + performance.now(): each process's timeOrigin is the wall
 * clock at its start, and a CI machine whose NTP was slewing it put 5 ms/s of drift between them;
 * `collect()` fetches the log once the run is over.
 */
export async function logServerProcess(): Promise<{ url: string; collect: () => Promise<Logged[]> }> {
  const { spawn } = await import('node:child_process');
  const source = `
    const http = require('node:http');
    const log = [];
    const server = http.createServer((req, res) => {
      if (req.url === '/__log') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(log.map((e) => ({ t: e.t, body: Buffer.concat(e.chunks).toString('utf8') }))));
        return;
      }
      const entry = { t: Number(process.hrtime.bigint()) / 1e6, chunks: [] };
      log.push(entry);
      // bytes kept as they come (decoded once, at collect) and the answer written after this wake-up's
      // reads: a burst's later requests are stamped before the earlier ones are answered, so the stamps
      // hold the sender's lateness, not this server's own work on the requests ahead of them
      req.on('data', (c) => entry.chunks.push(c));
      req.on('end', () => setImmediate(() => {
        res.setHeader('content-type', 'application/json');
        res.end(${JSON.stringify(JSON.stringify({ model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }], usage: { prompt_tokens: 1, completion_tokens: 1 } }))});
      }));
    });
    server.keepAliveTimeout = 65000;
    server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
    setTimeout(() => process.exit(0), 120000).unref();
  `;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      out += c;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`log server exited (${code})`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/v1/chat/completions`,
    collect: async () => (await (await fetch(`${base}/__log`)).json()) as Logged[],
  };
}
