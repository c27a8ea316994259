/**
 * llama.cpp's llama-server for test/real/: built by scripts/real-server/build.sh into .cache/real/
 * (.ci/run does it), started on 127.0.0.1 by the test on a free port, stopped after it.
 *
 * Missing server: locally the suite is skipped with the reason printed; under CI=true it fails,
 * since CI is where the real-server tests must run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';

const CACHE = process.env.BUDGETGATE_REAL_CACHE ?? resolve(import.meta.dirname, '../../.cache/real');
export const LLAMA_SERVER = process.env.BUDGETGATE_LLAMA_SERVER ?? resolve(CACHE, 'bin/llama-server');
export const LLAMA_MODEL = process.env.BUDGETGATE_LLAMA_MODEL ?? resolve(CACHE, 'models/tiny-llama.gguf');
export const MODEL_ALIAS = 'tiny';

/** Why the real-server tests cannot run here, or undefined when they can. */
export function missingReason(): string | undefined {
  const gone = [LLAMA_SERVER, LLAMA_MODEL].filter((p) => !existsSync(p));
  if (gone.length === 0) return undefined;
  return `test/real skipped: ${gone.join(' and ')} not found; build them with scripts/real-server/build.sh (.ci/run does)`;
}

/** Skip locally (printing why); fail under CI. */
export function realServerAvailable(): boolean {
  const why = missingReason();
  if (why === undefined) return true;
  if (process.env.CI === 'true') throw new Error(`${why} — CI must run the real-server tests`);
  console.warn(why);
  return false;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
  });
}

export interface Llama {
  base: string;
  chat: string;
  metrics: string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Random weights decode to byte-fallback tokens (ids 3–258 of the llama SPM vocabulary) that form
 * invalid UTF-8; llama-server's output parser then fails the response ("The model produced output
 * that does not match the expected peg-native format"): as HTTP 500, or mid-stream as an error event
 * followed by a hang-up. Each request bans them with `logit_bias` (the server's `-l` flag keeps
 * only its last value when repeated, and a comma-separated list did not ban them here).
 */
export const BYTE_TOKEN_BAN: Record<string, number> = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [String(i + 3), -100]));

/** `ctx`: the context in tokens over all slots (default 1,024 a slot) */
export async function startLlama(o: { slots: number; ctx?: number }): Promise<Llama> {
  const port = await freePort();
  const args = ['-m', LLAMA_MODEL, '--host', '127.0.0.1', '--port', String(port), '-a', MODEL_ALIAS, '--metrics', '--no-webui', '-c', String(o.ctx ?? 1024 * o.slots), '-np', String(o.slots), '-t', '1'];
  const child: ChildProcess = spawn(LLAMA_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`llama-server exited (${child.exitCode}):\n${out}`);
    const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`llama-server did not become healthy within 60s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    chat: `${base}/v1/chat/completions`,
    metrics: `${base}/metrics`,
    log: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** One scrape of a counter or gauge, for checks beside budgetgate's own scraping. */
export async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`${name} not in ${url}`);
  return Number(line.split(' ')[1]);
}

export interface Timings {
  prompt_ms: number;
  predicted_ms: number;
  predicted_per_token_ms: number;
}

export interface RecordingProxy {
  url: string;
  /** the `timings` object of every response that carried one (a stream's last event with it) */
  timings: Timings[];
  close(): Promise<void>;
}

/**
 * A transparent loopback proxy in front of llama-server that streams each response through as it
 * arrives and keeps the `timings` the server put in it, so a test can compare budgetgate's stages
 * with the server's own numbers request by request.
 */
export async function recordingProxy(upstream: string): Promise<RecordingProxy> {
  const timings: Timings[] = [];
  const up = new URL(upstream);
  const server = http.createServer((req, res) => {
    const fwd = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      let text = '';
      ur.on('data', (c: Buffer) => {
        text += c.toString('utf8');
        res.write(c);
      });
      ur.on('end', () => {
        res.end();
        const docs = text.trimStart().startsWith('{') ? [text] : text.split('\n').filter((l) => l.startsWith('data: {')).map((l) => l.slice(6));
        for (const d of docs.reverse()) {
          try {
            const t = (JSON.parse(d) as { timings?: Timings }).timings;
            if (t) {
              timings.push(t);
              break;
            }
          } catch {
            /* not JSON */
          }
        }
      });
    });
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${up.pathname}`,
    timings,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
