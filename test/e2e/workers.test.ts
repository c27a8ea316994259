/**
 * Ctrl-C with sender threads, as a user does it: SIGINT to the CLI running `--workers 2` stops every
 * worker, and the partial report (merged from both, interrupted) is written; checkpoints written
 * while it ran were merged from both workers too. The server is the test's own, on 127.0.0.1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/core/report.js';
import { readReport, spawnCli, tempDir, until, writeProfile } from './cli.js';
import { listen, type TestServer } from './servers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
describe('--workers and Ctrl-C', () => {
  it('sad: SIGINT with 2 workers stops both, keeps the partial report (interrupted, both shares) and exits 130', async () => {
    const server: TestServer = await listen((_q, res) => setTimeout(() => res.end('ok'), 2));
    cleanups.push(() => server.close());
    const dir = tempDir();
    const profile = writeProfile(dir, { name: 'workers-int', target: { url: server.url, method: 'GET' }, phases: [{ name: 'long', duration: '60s', rate: 100 }] });
    const out = join(dir, 'out');
    const run = spawnCli(['run', profile, '--out', out, '--workers', '2', '--checkpoint', '1s']);
    const reportPath = join(out, 'report.json');
    // a checkpoint merged from both workers
    await until(() => existsSync(reportPath) && server.arrivals.length >= 250);
    const cp = JSON.parse(readFileSync(reportPath, 'utf8')) as RunResult;
    expect(cp.checkpoint).toBe(true);
    expect(cp.workers).toBe(2);
    expect(cp.totals.sent).toBeGreaterThan(0);
    const signalled = performance.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    // no request reached the server later than a second after the signal: both workers stopped
    expect(Math.max(...server.arrivals) - signalled).toBeLessThan(1000);
    const report = readReport(out);
    expect(report.checkpoint).toBeUndefined();
    expect(report.interrupted).toBe(true);
    expect(report.workers).toBe(2);
    expect(report.verdict).toBe('fail');
    expect(report.reason).toMatch(/interrupted/);
    // +1: the probe (sent by the main thread); every request either worker sent is in the merged report
    expect(report.totals.sent + 1).toBe(server.arrivals.length);
    expect(report.totals.completed + report.totals.errors).toBe(report.totals.sent);
    expect(r.stdout).toMatch(/sent by 2 worker threads/);
  }, 60_000);
});
