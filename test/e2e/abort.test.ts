/**
 * Early abort end to end: a server that slows down mid-run breaks an `abortOnFail` budget; the run
 * must stop loading it within a second of the window breaking, write its report with the reason, and
 * exit 1.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readReport, runCli, tempDir, writeProfile } from './cli.js';
import { listen, pausingServer, type TestServer } from './servers.js';

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

describe('abortOnFail against the simulated endpoint', () => {
  it('sad: an injected stall of the sim\'s primary trips the window, and no request leaves a second after', async () => {
    // From 4 s after the sim starts, its primary stalls 400 ms of every 500 ms (fallback off): a
    // request arriving in a stall waits out the rest of it, so 80% of arrivals wait U(0, 400) ms and
    // the median wait is ~150 ms, while completions keep coming between stalls. A 2 s window's p50
    // of total then passes 100 ms within about a second. (One long stall would not do: nothing
    // completes during it, so the window would hold only the fast requests before it.)
    const { startSim } = await import('../../src/sim/index.js');
    const stalls = Array.from({ length: 60 }, (_, i) => ({ atMs: 4000 + i * 500, forMs: 400 }));
    const sim = await startSim({ workers: 8, jitter: 0, fallbackOff: true, stalls });
    try {
      const dir = tempDir();
      const profile = writeProfile(dir, {
        name: 'abort-sim',
        target: { url: `${sim.url}/v1/chat/completions`, body: { model: 'sim', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 } },
        phases: [{ name: 'steady', duration: '30s', rate: 50 }],
        budgets: [{ stage: 'total', p50: '100ms', abortOnFail: true, window: '2s', after: '1s' }],
      });
      const out = join(dir, 'out');
      const r = await runCli(['run', profile, '--out', out, '--quiet']);
      expect(r.code).toBe(1);
      const report = readReport(out);
      expect(report.aborted?.id).toBe('total p50');
      const at = Number(/^aborted at ([\d.]+)s/.exec(report.reason ?? '')?.[1]);
      // the run was stopped long before its 30 s schedule ended
      expect(at).toBeLessThan(12);
      expect(report.totals.sent).toBeLessThan(50 * 13);
      // the client's own per-second send counts: nothing left more than a second after the abort
      const after = report.timeline.filter((p) => p.t >= Math.ceil(at + 1) * 1000);
      expect(after.reduce((n, p) => n + p.sent, 0)).toBe(0);
      // and the window broke when it should: p50 of the second before the abort is over the limit
      const before = report.timeline.find((p) => p.t === (Math.floor(at) - 1) * 1000);
      expect(before?.p50 ?? 0).toBeGreaterThan(100);
    } finally {
      await sim.close();
    }
  });
});

describe('abortOnFail with --strict', () => {
  // The scenario: 100 req/s whose server stalls 350 ms at t = 4 s (request 400). The 1 s
  // window's p90 breaks (≈ a third of its requests wait out the stall) and the run aborts; the
  // whole-run p90 over the ≈ 5 s sent passes, which is what --strict used to re-judge on.
  const budgets = [{ stage: 'total', p90: '100ms', abortOnFail: true, window: '1s', after: '2s' }];
  it.each([
    ['sad: without --strict the aborted run exits 1', [] as string[]],
    ['sad: with --strict the aborted run still exits 1 (a gate never passes a run it stopped)', ['--strict']],
  ])('%s', async (_label, extra) => {
    server = await pausingServer({ serviceMs: 2, pauseAtRequest: 400, pauseMs: 350 });
    const dir = tempDir();
    const profile = writeProfile(dir, {
      name: 'abort-strict',
      target: { url: server.url, method: 'GET' },
      phases: [{ name: 'steady', duration: '10s', rate: 100 }],
      budgets,
    });
    const out = join(dir, 'out');
    const r = await runCli(['run', profile, '--out', out, '--skip-probe', '--quiet', ...extra]);
    const report = readReport(out);
    expect(report.aborted?.id).toBe('total p90');
    // the whole-run verdict of the budget passed: only the abort makes this run fail
    expect(report.budgets.find((v) => v.id === 'total p90')?.status).toBe('pass');
    expect(report.verdict).toBe('fail');
    expect(report.reason).toMatch(/^aborted at/);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL \(aborted at/);
    // re-checked offline with the same flags it stays failed
    const check = await runCli(['check', join(out, 'report.json'), '--profile', profile, ...extra]);
    expect(check.stdout).toMatch(/FAIL \(aborted at/);
    expect(check.code).toBe(1);
  });
});
