/**
 * `budgetgate capacity` end to end: the CLI in its own process searching a simulated endpoint this
 * test starts on 127.0.0.1 (separate processes, so neither's event loop skews the other's timing).
 *
 * Why the answer is known. The sim is made deterministic: jitter 0 (every request takes exactly
 * S = prefillBaseMs + decodeMsPerToken · max_tokens = 8 + 0.5 · 64 = 40 ms), no fallback (every
 * request queues on the K = 4 primary workers), uniform arrivals (one every 1/λ s). That is a D/D/K
 * queue with capacity C = K / S = 100 req/s (simCapacity). A modest rate, so that neither process
 * is CPU-bound on a shared 2-core CI runner (send jitter there would itself build a queue):
 *   - for λ < C a worker frees every S/K = 1/C s < 1/λ, so each arrival finds a free worker: the
 *     queue wait is 0 (up to the client's send jitter) and `queue p90 ≤ 50ms` holds;
 *   - for λ > C arrivals outpace completions by λ − C per second, so the backlog after t seconds is
 *     (λ − C)·t and the wait of a request arriving then is (λ/C − 1)·t: it grows linearly. Over a
 *     3 s step the p90 arrival (t ≈ 2.7 s) waits (λ/C − 1)·2.7 s, over 50 ms once λ > 1.019·C.
 * `total p90 ≤ 600ms` (= wait + 40 ms) only breaks once (λ/C − 1)·2.7 s > 560 ms, i.e. λ > 1.2·C,
 * beyond any bracket a 10% search ends with (hi ≤ 1.1·lo ≤ 1.1·C): so at the lowest broken rate only
 * the queue budget breaks, and it must be named first. The found capacity must lie within the 10%
 * precision of C.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { simCapacity, startSim, type SimOptions, type SimServer } from '../../src/sim/index.js';
import { readReport, runCli, tempDir, writeProfile } from './cli.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function sim(o: SimOptions): Promise<SimServer> {
  const s = await startSim(o);
  cleanups.push(() => s.close());
  return s;
}

const SIM: SimOptions = { workers: 4, prefillBaseMs: 8, prefillMsPerToken: 0, decodeMsPerToken: 0.5, jitter: 0, fallbackOff: true, seed: 3 };
const MAX_TOKENS = 64;

function profile(dir: string, budgets: object[]): string {
  return writeProfile(dir, {
    name: 'e2e-capacity',
    target: { body: { model: 'sim', messages: [{ role: 'user', content: '' }], max_tokens: MAX_TOKENS } },
    timings: { serverTiming: true },
    arrivals: 'uniform',
    // ignored by capacity (it runs its own steps), required by the profile format
    phases: [{ name: 'steady', duration: '10s', rate: 50 }],
    budgets,
  });
}

describe('budgetgate capacity (end to end)', () => {
  // retry: at 85 req/s (0.85 of C) one 150 ms stall of a starved host leaves a backlog that takes
  // ~600 ms to drain and breaks the step's queue p90, which moves the search's bracket
  it('happy: finds the analytic capacity of a D/D/K sim within the precision and names the queue budget as breaking first', { retry: 2, timeout: 90_000 }, async () => {
    const s = await sim(SIM);
    // prompt tokens: '' → 0 characters → 0 tokens; prefillMsPerToken is 0 anyway
    const C = simCapacity(SIM, 0, MAX_TOKENS);
    expect(C).toBeCloseTo(100, 6);
    const dir = tempDir();
    const path = profile(dir, [
      { stage: 'queue', p90: '50ms' },
      { stage: 'total', p90: '600ms' },
      { errorRate: '1%' },
    ]);
    const out = join(dir, 'out');
    const precision = 0.1;
    const r = await runCli(
      ['capacity', path, '--target', `${s.url}/v1/chat/completions`, '--from', '60', '--precision', '10%', '--require', '75', '--out', out, '--format', 'html', '--min-step', '3s', '--cooldown', '1s', '--warmup', '1s'],
      { timeoutMs: 90_000 },
    );
    expect(r.stderr).not.toMatch(/internal error/);
    const report = readReport(out);
    const cap = report.capacity;
    if (cap === undefined) throw new Error(`no capacity in report.json; stderr:\n${r.stderr}`);
    const table = cap.steps.map((x) => `${x.rate} ${x.held ? 'held' : 'broke'} ${x.verdicts.map((v) => `${v.id}=${v.observed}`).join(' ')}`).join('\n');
    // the answer is within the precision of the analytic capacity
    expect(Math.abs(cap.rps / C - 1), table).toBeLessThanOrEqual(precision);
    expect(cap.outcome).toBe('bracketed');
    expect(cap.firstBroken?.id, table).toBe('queue p90');
    expect(cap.firstBroken?.limit).toBe(50);
    expect(cap.firstBroken?.observed).toBeGreaterThan(50);
    expect(cap.firstBroken?.rate).toBeGreaterThan(cap.rps);
    expect((cap.firstBroken?.rate ?? 0) / cap.rps - 1).toBeLessThanOrEqual(precision + 1e-9);
    // growth by doubling from --from: 60 held, 120 (1.2·C) broke, then the geometric midpoint √(60·120) ≈ 85
    expect(cap.steps.slice(0, 3).map((x) => x.rate)).toEqual([60, 120, 85]);
    expect(cap.steps.slice(0, 3).map((x) => x.held)).toEqual([true, false, true]);
    // the queue budget broke alone somewhere: it is the one that breaks first as the rate rises
    expect(cap.steps.some((x) => x.verdicts.find((v) => v.id === 'queue p90')?.status === 'fail' && x.verdicts.find((v) => v.id === 'total p90')?.status === 'pass'), table).toBe(true);
    // every step the search judged: held exactly when below capacity, up to the precision band around C
    for (const x of cap.steps) {
      if (x.rate < C * 0.9) expect(x.held, table).toBe(true);
      if (x.rate > C * 1.1) expect(x.held, table).toBe(false);
      expect(x.achieved / x.rate, table).toBeGreaterThan(0.9);
    }
    // a confirmation step at the answer, and the rest of report.json is that step's run
    const conf = cap.steps.at(-1);
    expect(conf?.confirmation).toBe(true);
    expect(cap.confirmed).toBe(conf?.held);
    expect(report.phases.map((p) => p.name)).toEqual([`step-${conf?.rate}rps`]);
    // --require 75 ≤ the capacity: the gate passes
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Capacity: [\d.]+ req\/s \(every budget held; [\d.]+ req\/s broke\)/);
    expect(r.stdout).toMatch(/first broken above it: queue p90/);
    expect(r.stdout).toMatch(/PASS capacity [\d.]+ ≥ required 75 req\/s/);
    expect(r.stdout).toMatch(/#\s+rate\/s\s+achieved\/s/);
  });

  it('sad: --require above the capacity exits 1; an unreachable target exits 3; a bad flag exits 2', async () => {
    const s = await sim(SIM); // C = 100 req/s
    const dir = tempDir();
    // p50 needs only 20 samples: 2 s steps (the floor); --to 60 keeps every step below capacity, so the search
    // stops at the ceiling (60 held) and 60 < the required 500
    const path = profile(dir, [{ stage: 'queue', p50: '20ms' }]);
    const out = join(dir, 'out');
    const r = await runCli(['capacity', path, '--target', `${s.url}/v1/chat/completions`, '--from', '40', '--to', '60', '--require', '500', '--out', out, '--min-step', '2s', '--cooldown', '200ms', '--warmup', '0s']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FAIL capacity [\d.]+ < required 500 req\/s/);
    const cap = readReport(out).capacity;
    // 60 (the ceiling) unless a step missed the load-delivered rule on a busy machine: lower then
    expect(cap).toMatchObject({ require: 500 });
    expect(cap?.rps).toBeLessThanOrEqual(60);
    expect(cap?.steps[0]?.rate).toBe(40);

    const closed = await runCli(['capacity', path, '--target', 'http://127.0.0.1:9/v1/chat/completions', '--from', '20', '--out', join(dir, 'x')]);
    expect(closed.code).toBe(3);
    const bad = await runCli(['capacity', path, '--precision', '0%', '--target', `${s.url}/v1/chat/completions`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--precision/);
  }, 60_000);
});
