/** Small loopback servers for end-to-end tests. Each listens on 127.0.0.1 port 0 and closes fully. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

export interface TestServer {
  url: string;
  port: number;
  /** arrival time (performance.now()) of every request, in order */
  arrivals: number[];
  close(): Promise<void>;
}

export async function listen(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<TestServer> {
  const arrivals: number[] = [];
  const server: Server = createServer((req, res) => {
    arrivals.push(performance.now());
    req.resume();
    req.on('end', () => handler(req, res, arrivals.length));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    arrivals,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Answers after `serviceMs`, except that from its `pauseAtRequest`-th request on it holds every
 * response until `pauseMs` have passed: a server that stalls for a second mid-run.
 */
export function pausingServer(o: { serviceMs: number; pauseAtRequest: number; pauseMs: number }): Promise<TestServer> {
  let pausedUntil = 0;
  return listen((_req, res, n) => {
    const now = performance.now();
    if (n === o.pauseAtRequest) pausedUntil = now + o.pauseMs;
    const wait = Math.max(o.serviceMs, pausedUntil - now);
    setTimeout(() => {
      res.setHeader('server-timing', `app;dur=${o.serviceMs}`);
      res.end('ok');
    }, wait);
  });
}

/** The port of a server that was started and closed again: nothing listens there now. */
export async function closedPort(): Promise<number> {
  const s = await listen((_q, r) => r.end());
  await s.close();
  return s.port;
}

/**
 * Keeps every request body (in arrival order) and answers each with a small chat completion. Call it
 * inside a test: it closes itself when that test ends.
 */
export async function recordingServer(): Promise<TestServer & { bodies: string[] }> {
  const bodies: string[] = [];
  const arrivals: number[] = [];
  const server: Server = createServer((req, res) => {
    arrivals.push(performance.now());
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      bodies.push(body);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = (): Promise<void> =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  onTestFinished(close);
  return { url: `http://127.0.0.1:${port}/v1/chat/completions`, port, arrivals, bodies, close };
}

/** A self-signed certificate for 127.0.0.1, made by openssl at test time; undefined without openssl. */
export function selfSigned(dir: string): { key: string; cert: string; certPath: string } | undefined {
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), certPath: join(dir, 'cert.pem') };
}

export const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** An https server on 127.0.0.1 with a fresh self-signed certificate (written into dir), answering "ok". */
export async function selfSignedHttps(dir: string): Promise<{ url: string; certPath: string; cert: string; arrivals: () => number; close: () => Promise<void> }> {
  const c = selfSigned(dir);
  if (!c) throw new Error('openssl could not generate a certificate');
  let n = 0;
  const server = createHttpsServer({ key: c.key, cert: c.cert }, (req, res) => {
    n++;
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = (): Promise<void> =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`, certPath: c.certPath, cert: c.cert, arrivals: () => n, close };
}
