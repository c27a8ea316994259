/**
 * The fault matrix, as a user meets it: the CLI in its own process against a loopback server this
 * test starts, each fault with the verdict, exit code and counts budgetgate promises for it
 * (README "What budgetgate guarantees"). Every server listens on 127.0.0.1 and is closed after its
 * test; every run is a second or two of a few dozen requests. Each row's observed figures are printed
 * at the end (the table in the issue's closing note).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/core/report.js';
import { readReport, runCli, spawnCli, tempDir, writeProfile, type CliResult } from './cli.js';
import { closedPort, hasOpenssl, listen, selfSigned, selfSignedHttps, type TestServer } from './servers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function track<T extends TestServer>(s: T): T {
  cleanups.push(() => s.close());
  return s;
}

const observed: string[] = [];
function note(fault: string, r: CliResult, report?: RunResult, extra = ''): void {
  const t = report?.totals;
  const counts = t ? `sent ${t.sent}, completed ${t.completed}, errors ${t.errors} ${JSON.stringify(report?.phases[0]?.errorKinds ?? {})}` : '';
  const reason = report?.verdict === 'fail' && report.reason ? ` — ${report.reason}` : '';
  observed.push(`| ${fault} | ${report?.verdict ?? '-'} | ${r.code} | ${counts}${extra ? ` ${extra}` : ''}${reason} |`);
}

/**
 * Exit 0 with every budget passed, except that "load delivered" may fail on an overloaded machine
 * (test files run in parallel on few cores: sends more than 10 ms late count as late). Then the run
 * must fail by that verdict alone, with exit 1: the fault itself still cost no request.
 */
function expectPassUnlessOverloaded(r: CliResult, report: RunResult): void {
  const notPassed = report.budgets.filter((b) => b.status !== 'pass').map((b) => b.id);
  if (notPassed.length === 0) expect(r.code).toBe(0);
  else {
    expect(notPassed).toEqual(['load delivered']);
    expect(r.code).toBe(1);
  }
}
afterAll(() => {
  // the observed table, for the record (vitest shows console output of the file)
  console.log(['| fault | verdict | exit | counts |', '|---|---|---|---|', ...observed].join('\n'));
});

/** A GET profile against `url`: 2 s at 25 req/s (50 requests), an error-rate budget. */
function profile(dir: string, url: string, o: { timeout?: string; budgets?: object[]; name?: string; extra?: object; rate?: number; duration?: string } = {}): string {
  return writeProfile(dir, {
    name: o.name ?? 'fault',
    target: { url, method: 'GET', ...(o.timeout ? { timeout: o.timeout } : {}) },
    phases: [{ name: 'p', duration: o.duration ?? '2s', rate: o.rate ?? 25 }],
    budgets: o.budgets ?? [{ errorRate: '1%' }],
    ...o.extra,
  });
}

async function run(args: string[], out: string): Promise<{ r: CliResult; report: RunResult }> {
  const r = await runCli([...args, '--out', out, '--quiet']);
  expect(r.stderr).not.toMatch(/internal error/);
  // no report: show what the CLI said rather than a bare ENOENT
  if (!existsSync(join(out, 'report.json'))) throw new Error(`no report (exit ${r.code}): ${r.stderr}`);
  return { r, report: readReport(out) };
}

describe('fault matrix (CLI against loopback servers)', () => {
  it('sad: connection refused at start exits 3 within 2 s of the run starting, one line, nothing sent', async () => {
    const startup = (await runCli(['--version'])).ms; // the process's own start (node + tsx), measured alike
    const port = await closedPort();
    const dir = tempDir();
    const r = await runCli(['run', profile(dir, `http://127.0.0.1:${port}/`), '--out', join(dir, 'out')]);
    note('connection refused at start', r, undefined, `(${r.ms} ms from spawn; CLI startup ${startup} ms)`);
    expect(r.code).toBe(3);
    expect(r.ms).toBeLessThan(2000 + startup);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('sad: refused mid-run: every request after the death is an error of its own; exit 1, on schedule', async () => {
    // dies 1 s after its first (probe) request: nothing listens on the port afterwards
    let closing: Promise<void> | undefined;
    const s: TestServer = await listen((_q, res, n) => {
      if (n === 1) setTimeout(() => (closing = s.close()), 1000);
      res.end('ok');
    });
    cleanups.push(() => closing ?? s.close());
    const dir = tempDir();
    const { r, report } = await run(['run', profile(dir, s.url)], join(dir, 'out'));
    note('connection refused mid-run', r, report);
    expect(r.code).toBe(1);
    expect(report.verdict).toBe('fail');
    expect(report.totals.sent).toBe(50);
    expect(report.totals.completed + report.totals.errors).toBe(50);
    expect(report.totals.errors).toBeGreaterThanOrEqual(15);
    expect(report.durationMs).toBeLessThan(4000);
    expect(Object.keys(report.phases[0]?.errorKinds ?? {}).every((k) => /ECONNREFUSED|ECONNRESET|connection closed|EPIPE/.test(k))).toBe(true);
  });

  it('sad: connection resets (the server destroys every socket) are errors, one per request; exit 1', async () => {
    const s = track(await listen((req, res, n) => (n === 1 ? res.end('ok') : req.socket.destroy())));
    const dir = tempDir();
    const { r, report } = await run(['run', profile(dir, s.url)], join(dir, 'out'));
    note('connection reset', r, report);
    expect(r.code).toBe(1);
    expect(report.totals).toMatchObject({ scheduled: 50, sent: 50, completed: 0, errors: 50 });
    expect(Object.keys(report.phases[0]?.errorKinds ?? {}).every((k) => /ECONNRESET|connection closed|EPIPE/.test(k))).toBe(true);
  });

  it('sad: a 5xx storm: every 503 is an error counted by status; exit 1', async () => {
    const s = track(await listen((_q, res) => {
      res.statusCode = 503;
      res.end('overloaded');
    }));
    const dir = tempDir();
    const { r, report } = await run(['run', profile(dir, s.url)], join(dir, 'out'));
    note('5xx storm (all 503)', r, report);
    expect(r.code).toBe(1);
    expect(report.totals).toMatchObject({ sent: 50, completed: 0, errors: 50 });
    expect(report.phases[0]?.errorKinds).toEqual({ 'http 503': 50 });
    expect(report.budgets.find((b) => b.id.startsWith('errorRate'))?.status ?? report.budgets[0]?.status).toBe('fail');
  });

  it('sad: a server that stalls longer than the timeout: each request a timeout, the run ends on schedule; exit 1', async () => {
    const s = track(await listen((_q, res, n) => (n === 1 ? res.end('ok') : undefined))); // answers the probe only
    const dir = tempDir();
    const { r, report } = await run(['run', profile(dir, s.url, { timeout: '1s', rate: 10 })], join(dir, 'out'));
    note('stall > timeout (1 s)', r, report, `(run ${Math.round(report.durationMs)} ms for a 2 s schedule)`);
    expect(r.code).toBe(1);
    expect(report.totals).toMatchObject({ sent: 20, completed: 0, errors: 20 });
    expect(report.phases[0]?.errorKinds).toEqual({ timeout: 20 });
    // the schedule (2 s) plus at most the timeout for the last requests, plus slack for a loaded machine
    expect(report.durationMs).toBeLessThan(2000 + 1000 + 1000);
  });

  it('sad: headers later than the timeout are timeouts; exit 1', async () => {
    const s = track(await listen((_q, res, n) => setTimeout(() => res.end('late'), n === 1 ? 0 : 1500)));
    const dir = tempDir();
    const { r, report } = await run(['run', profile(dir, s.url, { timeout: '1s', rate: 10 })], join(dir, 'out'));
    note('slow headers (1.5 s > 1 s timeout)', r, report);
    expect(r.code).toBe(1);
    expect(report.totals).toMatchObject({ sent: 20, completed: 0 });
    expect(report.phases[0]?.errorKinds).toEqual({ timeout: 20 });
  });

  it('happy: slow headers within the timeout are successes, their latency measured; exit 0', async () => {
    const s = track(await listen((_q, res) => setTimeout(() => res.end('slow'), 300)));
    const dir = tempDir();
    const { r, report } = await run(['run', profile(dir, s.url, { timeout: '2s', rate: 10, budgets: [{ errorRate: '1%' }, { stage: 'total', p50: '1s' }] })], join(dir, 'out'));
    note('slow headers (300 ms < 2 s timeout)', r, report);
    expectPassUnlessOverloaded(r, report);
    expect(report.totals).toMatchObject({ sent: 20, completed: 20, errors: 0 });
    expect(report.budgets.find((b) => b.id === 'total p50')?.observed).toBeGreaterThanOrEqual(295);
  });

  it('sad: responses that never end are timeouts; exit 1', async () => {
    const s = track(await listen((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('this body never ends');
    }));
    const dir = tempDir();
    const { r, report } = await run(['run', profile(dir, s.url, { timeout: '1s', rate: 10 })], join(dir, 'out'));
    note('response that never ends', r, report);
    expect(r.code).toBe(1);
    expect(report.totals).toMatchObject({ sent: 20, completed: 0, errors: 20 });
    expect(report.phases[0]?.errorKinds).toEqual({ timeout: 20 });
  });

  it('happy: 100 responses of 8 MiB each keep the process small (bodies are not buffered); exit 0', async () => {
    const big = Buffer.alloc(8 << 20, 'x');
    const s = track(await listen((_q, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(big);
    }));
    const dir = tempDir();
    // a body rule makes the driver keep bodies, but never more than MAX_BODY_BYTES (1 MiB) of one
    const path = profile(dir, s.url, { rate: 25, duration: '4s', timeout: '10s', extra: { timings: { body: { 'metrics.queue_ms': 'queue' } } } });
    const out = join(dir, 'out');
    const run = spawnCli(['run', path, '--out', out, '--quiet']);
    let peakKiB = 0;
    const status = `/proc/${run.child.pid}/status`;
    const sampler = setInterval(() => {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        /* exited */
      }
    }, 20);
    const r = await run.done;
    clearInterval(sampler);
    const report = readReport(out);
    note('huge bodies (100 × 8 MiB)', r, report, `(peak RSS ${Math.round(peakKiB / 1024)} MiB for 800 MiB received)`);
    expectPassUnlessOverloaded(r, report);
    expect(report.totals).toMatchObject({ sent: 100, completed: 100, errors: 0 });
    if (existsSync('/proc/self/status')) {
      expect(peakKiB).toBeGreaterThan(0);
      expect(peakKiB / 1024).toBeLessThan(400); // half of 100 × 8 MiB, all the node + tsx baseline included
    }
  });

  it('sad: malformed or absent stage headers are counted unmeasured, never as 0; the stage budget fails; exit 1', async () => {
    const s = track(await listen((_q, res, n) => {
      if (n % 2 === 0) res.setHeader('server-timing', 'queue;dur=abc');
      res.end('ok');
    }));
    const dir = tempDir();
    const { r, report } = await run(['run', profile(dir, s.url, { budgets: [{ stage: 'queue', p99: '100ms' }] })], join(dir, 'out'));
    const queue = report.series.filter((x) => x.stage === 'queue');
    const unmeasured = queue.reduce((n, x) => n + x.unmeasured, 0);
    note('malformed/absent Server-Timing stage', r, report, `(queue samples ${queue.reduce((n, x) => n + x.count, 0)}, unmeasured ${unmeasured})`);
    expect(r.code).toBe(1);
    expect(report.totals).toMatchObject({ sent: 50, completed: 50, errors: 0 });
    expect(unmeasured).toBe(50);
    expect(queue.every((x) => x.count === 0)).toBe(true); // nothing recorded as a 0 ms sample
    const v = report.budgets.find((b) => b.id === 'queue p99');
    expect(v?.status).toBe('fail');
    expect(v?.reason).toMatch(/missing or garbled in 50 of 50/);
  });

  it('sad: a negative Content-Length is each request\'s error (the parser would read the same bytes again for ever); the run ends on schedule; exit 1', async () => {
    let n = 0;
    const tcp = createTcpServer((sock) => {
      // the probe (Node's own parser, which refuses it too) is answered properly
      sock.on('data', () => sock.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${++n === 1 ? 2 : -5}\r\n\r\nok`));
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => tcp.close(() => r())));
    const dir = tempDir();
    const { r, report } = await run(['run', profile(dir, `http://127.0.0.1:${(tcp.address() as AddressInfo).port}/`, { timeout: '1s', rate: 10 })], join(dir, 'out'));
    note('negative Content-Length', r, report, `(run ${Math.round(report.durationMs)} ms for a 2 s schedule)`);
    expect(r.code).toBe(1);
    expect(report.totals).toMatchObject({ sent: 20, completed: 0, errors: 20 });
    expect(report.durationMs).toBeLessThan(2000 + 1000 + 1500);
  });

  it('happy: an HTTP/1.0 server that closes after each response loses no request; exit 0', async () => {
    const tcp = createTcpServer((sock) => {
      sock.on('data', () => sock.end('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nok'));
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => tcp.close(() => r())));
    const dir = tempDir();
    const { r, report } = await run(['run', profile(dir, `http://127.0.0.1:${(tcp.address() as AddressInfo).port}/`)], join(dir, 'out'));
    note('HTTP/1.0, body ends at EOF', r, report);
    expectPassUnlessOverloaded(r, report);
    expect(report.totals).toMatchObject({ sent: 50, completed: 50, errors: 0 });
  });

  it('happy: Connection: close after every response loses no request; exit 0', async () => {
    const s = track(await listen((_q, res) => {
      res.setHeader('connection', 'close');
      res.end('ok');
    }));
    const dir = tempDir();
    const { r, report } = await run(['run', profile(dir, s.url)], join(dir, 'out'));
    note('Connection: close', r, report);
    expectPassUnlessOverloaded(r, report);
    expect(report.totals).toMatchObject({ sent: 50, completed: 50, errors: 0 });
  });
});

/** A self-signed certificate for 127.0.0.1, generated now (no key is committed). */
describe.skipIf(!hasOpenssl)('TLS targets with a self-signed certificate', () => {
  async function httpsServer(dir: string): Promise<{ url: string; certPath: string; arrivals: () => number }> {
    const s = await selfSignedHttps(dir);
    cleanups.push(s.close);
    return s;
  }

  it('sad: without --insecure or --ca the probe refuses the certificate: exit 3, one line naming it, no load', async () => {
    const dir = tempDir();
    const s = await httpsServer(dir);
    const r = await runCli(['run', profile(dir, s.url), '--out', join(dir, 'out')]);
    note('TLS self-signed, no flag', r);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/TLS certificate not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT/);
    expect(r.stderr).toMatch(/--ca FILE.*--insecure/);
    // the probe's handshake failed before any request: the server never saw one
    expect(s.arrivals()).toBe(0);
  });

  it('happy: --insecure runs the load; exit 0', async () => {
    const dir = tempDir();
    const s = await httpsServer(dir);
    const { r, report } = await run(['run', profile(dir, s.url, { rate: 10 }), '--insecure'], join(dir, 'out'));
    note('TLS self-signed, --insecure', r, report);
    expectPassUnlessOverloaded(r, report);
    expect(report.totals).toMatchObject({ sent: 20, completed: 20, errors: 0 });
  });

  it('happy: --ca with the server\'s certificate verifies it and runs the load; exit 0', async () => {
    const dir = tempDir();
    const s = await httpsServer(dir);
    const { r, report } = await run(['run', profile(dir, s.url, { rate: 10 }), '--ca', s.certPath], join(dir, 'out'));
    note('TLS self-signed, --ca cert.pem', r, report);
    expectPassUnlessOverloaded(r, report);
    expect(report.totals).toMatchObject({ sent: 20, completed: 20, errors: 0 });
  });

  it('sad: --ca with some other certificate still refuses; exit 3', async () => {
    const dir = tempDir();
    const s = await httpsServer(dir);
    const other = tempDir();
    const o = selfSigned(other);
    const r = await runCli(['run', profile(dir, s.url), '--ca', o?.certPath ?? '', '--out', join(dir, 'out')]);
    note('TLS self-signed, --ca of another cert', r);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/TLS certificate not trusted/);
  });
});

describe('safe defaults (CLI)', () => {
  it('sad: a phase above the default maxRate (5000) is refused before anything is sent: exit 2', async () => {
    const s = track(await listen((_q, res) => res.end('ok')));
    const dir = tempDir();
    const path = profile(dir, s.url, { rate: 8000, duration: '1s' });
    // the one line the profile check prints, naming the file, the phase and the cap
    const line = `budgetgate: ${path}: phases[0]: goes up to 8000 requests/s, above maxRate 5000: raise maxRate if that is intended\n`;
    const r = await runCli(['run', path]);
    note('rate above maxRate', r);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(line);
    expect(s.arrivals).toHaveLength(0);
    const v = await runCli(['validate', path]);
    expect(v.code).toBe(2);
    expect(v.stderr).toBe(line);
  });

  it('happy: --dry-run prints the plan and sends nothing: exit 0', async () => {
    const s = track(await listen((_q, res) => res.end('ok')));
    const dir = tempDir();
    const r = await runCli(['run', profile(dir, s.url), '--dry-run', '--out', join(dir, 'out')]);
    note('--dry-run', r);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/profile fault: valid/);
    expect(r.stdout).toMatch(/nothing sent/);
    expect(s.arrivals).toHaveLength(0);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('sad: --dry-run of an invalid profile exits 2', async () => {
    const dir = tempDir();
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'name: x\nphases: []\n');
    const r = await runCli(['run', path, '--dry-run']);
    expect(r.code).toBe(2);
  });

  it('sad: an unknown top-level key is refused with the closest valid key: exit 2', async () => {
    const dir = tempDir();
    const path = writeProfile(dir, { name: 'typo', phasse: [], phases: [{ name: 'p', duration: '1s', rate: 1 }], target: { url: 'http://127.0.0.1:9/' } });
    const r = await runCli(['run', path]);
    note('unknown top-level key', r);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown key 'phasse' — did you mean 'phases'\?/);
  });
});
