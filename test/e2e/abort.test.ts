/**
 * Early abort end to end: a server that slows down mid-run breaks an `abortOnFail` budget; the run
 * must stop loading it within a second of the window breaking, write its report with the reason, and
 * exit 1.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readReport, runCli, tempDir, writeProfile } from './cli.js';
import { listen, type TestServer } from './servers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('abortOnFail', () => {
  it('sad: a slowdown at request 300 trips a 2 s window within a second, and load stops', async () => {
    // 5 ms answers, then 300 ms from the 300th request on (≈ 3 s into a 100 req/s run)
    server = await listen((_q, res, n) => setTimeout(() => res.end('ok'), n >= 300 ? 300 : 5));
    const dir = tempDir();
    const profile = writeProfile(dir, {
      name: 'abort',
      target: { url: server.url, method: 'GET' },
      phases: [{ name: 'steady', duration: '20s', rate: 100 }],
      budgets: [{ stage: 'total', p50: '100ms', abortOnFail: true, window: '2s', after: '1s' }],
    });
    const out = join(dir, 'out');
    const r = await runCli(['run', profile, '--out', out, '--skip-probe', '--quiet']);
    expect(r.code).toBe(1);
    const report = readReport(out);
    expect(report.verdict).toBe('fail');
    expect(report.aborted?.id).toBe('total p50');
    const at = Number(/^aborted at ([\d.]+)s/.exec(report.reason ?? '')?.[1]);
    // the slowdown starts at ~3 s; a 2 s window's p50 passes 100 ms once half its completions are
    // slow (~1 s later, plus the 300 ms they take to complete); the once-a-second check adds ≤ 1 s
    expect(at).toBeGreaterThan(3);
    expect(at).toBeLessThan(6.5);
    expect(report.totals.sent).toBeLessThan(800);
    // nothing left more than a second after the abort (server clock: first arrival ≈ run t = 0)
    const t0 = server.arrivals[0] ?? 0;
    const lastSend = ((server.arrivals[server.arrivals.length - 1] ?? 0) - t0) / 1000;
    expect(lastSend).toBeLessThanOrEqual(at + 1);
    expect(r.stdout).toMatch(/aborted at/);
  });
});
