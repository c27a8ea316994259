/**
 * A real nginx for the failover tests, started by the test itself on 127.0.0.1 with a temp config,
 * and two loopback backends as child processes (so SIGSTOP stops a process). Without nginx the test
 * is skipped with the reason printed, except in CI (`CI` set), where .ci/run installs it and its
 * absence is a failure (as test/report/chromium.ts does for Chromium).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';

export const DEFAULT_NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'];

export type NginxLookup = { kind: 'found'; path: string } | { kind: 'skip'; reason: string } | { kind: 'fail'; reason: string };

const inCi = (v: string | undefined): boolean => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

export function findNginx(env: NodeJS.ProcessEnv, exists: (p: string) => boolean = existsSync): NginxLookup {
  const candidates = env.BUDGETGATE_NGINX ? [env.BUDGETGATE_NGINX] : DEFAULT_NGINX;
  const path = candidates.find((p) => exists(p));
  if (path !== undefined) return { kind: 'found', path };
  const fix = 'install it (Debian: apt-get install -y nginx; .ci/run does this) or point BUDGETGATE_NGINX at one';
  return inCi(env.CI) ? { kind: 'fail', reason: `nginx not found at ${candidates.join(' or ')} and CI is set: ${fix}` } : { kind: 'skip', reason: `nginx not found at ${candidates.join(' or ')}: ${fix}; CI=true makes this a failure` };
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); r(true); });
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A backend in its own process: answers every request after ~2 ms with JSON and `x-backend: NAME`. */
const BACKEND = `
const http = require('node:http');
const name = process.argv[1];
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
    res.end(JSON.stringify({ model: 'm', backend: name, choices: [{ message: { content: 'ok' } }] }));
  }, 2));
});
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
setTimeout(() => process.exit(0), 120000).unref();
`;

/** a few requests straight to a backend, so its first ones under load are not its cold start */
export async function warm(port: number, n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' }).then((r) => r.text());
}

export interface Backend {
  child: ChildProcess;
  pid: number;
  port: number;
  stop(): void;
}

export function startBackend(name: string): Promise<Backend> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', BACKEND, name], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => reject(new Error(`backend ${name} did not start`)), 10_000);
    child.stdout?.once('data', (d: Buffer) => {
      clearTimeout(timer);
      const stop = (): void => {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      };
      resolve({ child, pid: child.pid as number, port: Number(d.toString().trim()), stop });
    });
    child.once('error', reject);
  });
}

/**
 * nginx in the foreground, one process, everything under `dir`: A primary, B backup; a stopped
 * primary costs a read timeout (1 s), then the retry goes to B (`proxy_next_upstream`) and A is
 * marked failed for fail_timeout, so later requests go straight to B.
 */
export async function startNginx(bin: string, dir: string, primary: number, backup: number): Promise<{ port: number; stop: () => void; log: () => string }> {
  const port = await freePort();
  const conf = `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app {
    server 127.0.0.1:${primary} max_fails=1 fail_timeout=30s;
    server 127.0.0.1:${backup} backup;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_connect_timeout 500ms;
      proxy_read_timeout 1s;
      proxy_send_timeout 1s;
      proxy_next_upstream error timeout http_503 non_idempotent;
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  killer.unref();
  try {
    await waitForPort(port);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}: ${stderr}`);
  }
  return {
    port,
    stop: () => {
      clearTimeout(killer);
      child.kill('SIGKILL');
    },
    log: () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '') + stderr,
  };
}
