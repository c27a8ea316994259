/**
 * Interruption, as a user (or CI's cancel button) does it: SIGINT/SIGTERM stop sending within a
 * second, requests in flight get up to the timeout, a second signal stops at once; the partial report
 * says `interrupted: true` and the exit code is 130. And a report folder that cannot be written is a
 * clear error (exit 4) after the verdict was printed. Servers are the test's own, on 127.0.0.1.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readReport, runCli, sleep, spawnCli, tempDir, until, writeProfile } from './cli.js';
import { listen, type TestServer } from './servers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function track<T extends TestServer>(s: T): T {
  cleanups.push(() => s.close());
  return s;
}
describe('interruption', () => {
  it('sad: SIGTERM mid-run stops sending within 1 s, writes the partial report (interrupted) and exits 130', async () => {
    const server = track(await listen((_q, res) => setTimeout(() => res.end('ok'), 2)));
    const dir = tempDir();
    const profile = writeProfile(dir, { name: 'term', target: { url: server.url, method: 'GET' }, phases: [{ name: 'long', duration: '60s', rate: 100 }] });
    const out = join(dir, 'out');
    const run = spawnCli(['run', profile, '--out', out]);
    await until(() => server.arrivals.length >= 100);
    const signalled = performance.now(); // the server's arrival stamps are on this clock (same process)
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGTERM: stopping load/);
    // no request reached the server later than a second after the signal
    const last = Math.max(...server.arrivals);
    expect(last - signalled).toBeLessThan(1000);
    const report = readReport(out);
    expect(report.interrupted).toBe(true);
    expect(report.verdict).toBe('fail');
    expect(report.reason).toMatch(/interrupted/);
    // +1: the probe request is the server's too
    expect(report.totals.sent + 1).toBe(server.arrivals.length);
    expect(report.totals.completed + report.totals.errors).toBe(report.totals.sent);
    expect(r.stdout).toMatch(/FAIL/);
  });

  it('sad: a second signal stops at once: requests held 30 s by the server are recorded as cancelled', async () => {
    // answers the probe, then holds every request for 30 s
    const held: (() => void)[] = [];
    const server = track(await listen((_q, res, n) => {
      if (n === 1) res.end('ok');
      else {
        const t = setTimeout(() => res.end('late'), 30_000);
        held.push(() => clearTimeout(t));
      }
    }));
    cleanups.push(async () => held.forEach((c) => c()));
    const dir = tempDir();
    const profile = writeProfile(dir, { name: 'hard', target: { url: server.url, method: 'GET', timeout: '60s' }, phases: [{ name: 'long', duration: '60s', rate: 20 }] });
    const out = join(dir, 'out');
    const run = spawnCli(['run', profile, '--out', out]);
    await until(() => server.arrivals.length >= 11);
    run.child.kill('SIGINT');
    await run.waitFor(/stopping load/);
    // the first signal waits for requests in flight (up to the 60 s timeout): still running a second later
    await sleep(1000);
    expect(run.child.exitCode).toBeNull();
    const second = performance.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    const took = performance.now() - second;
    expect(r.code).toBe(130);
    expect(took).toBeLessThan(3000);
    const report = readReport(out);
    expect(report.interrupted).toBe(true);
    expect(report.totals.completed).toBe(0);
    expect(report.totals.errors).toBe(report.totals.sent);
    expect(report.totals.sent).toBeGreaterThanOrEqual(10);
    expect(report.phases[0]?.errorKinds).toEqual({ cancelled: report.totals.sent });
  });
});

describe('a report folder that cannot be written', () => {
  it('sad: exits 4 with a clear error, and the verdict is still printed', async () => {
    const server = track(await listen((_q, res) => res.end('ok')));
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const profile = writeProfile(dir, { name: 'nowrite', target: { url: server.url, method: 'GET' }, phases: [{ name: 'p', duration: '1s', rate: 10 }], budgets: [{ errorRate: '1%' }] });
    const r = await runCli(['run', profile, '--out', join(file, 'reports'), '--quiet']);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/Budgets/);
    expect(r.stdout).toMatch(/(PASS|FAIL) .*budget/);
    expect(r.stderr).toMatch(/cannot write .*a-file\/reports\/report\.json: ENOTDIR/);
  });
});
