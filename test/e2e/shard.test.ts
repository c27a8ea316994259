/**
 * Scale-out end to end: three shard processes of the real CLI against one loopback server started
 * here, merged by the CLI; the merged report must be the single-machine schedule, exactly.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHistogram, decodeHistogram, quantileMs } from '../../src/core/histograms.js';
import { planSchedule, scheduledPerSecond } from '../../src/core/schedule.js';
import type { RunResult } from '../../src/core/report.js';
import { expectVerdict, readReport, runCli, spawnCli, tempDir, writeProfile } from './cli.js';
import { listen, type TestServer } from './servers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** answers after a few ms, varied by request number so the histograms have some spread */
async function server(): Promise<TestServer> {
  const s = await listen((_req, res, n) => {
    setTimeout(() => res.end('ok'), 1 + (n % 7));
  });
  cleanups.push(() => s.close());
  return s;
}

const N = 3;

describe('budgetgate run --shard + merge (end to end)', () => {
  it('happy: 3 shards started together send exactly the single-machine schedule; merged percentiles equal one histogram of every shard', async () => {
    const s = await server();
    const dir = tempDir();
    const phases = [{ name: 'steady', duration: '4s', rate: 300 }];
    const profile = writeProfile(dir, {
      name: 'e2e-shard',
      target: { url: s.url },
      phases,
      budgets: [{ stage: 'total', p50: '1s' }, { errorRate: '1%' }],
    });
    const outs = Array.from({ length: N }, (_, i) => join(dir, `shard-${i}`));
    // one absolute start for all: --start-in counts from each process's own start-up, which differs
    // by hundreds of ms between processes launched together (module loading), --start-at does not
    // generous: on a loaded machine a tsx process takes seconds to load and probe
    const startAt = new Date(Date.now() + 12_000).toISOString();
    const shards = outs.map((out, i) => spawnCli(['run', profile, '--shard', `${i}/${N}`, '--start-at', startAt, '--out', out, '--quiet', '--checkpoint', '0'], { timeoutMs: 60_000 }));
    const results = await Promise.all(shards.map((x) => x.done));
    const reports = outs.map((o) => readReport(o));
    results.forEach((r, i) => {
      expect(r.stderr).not.toMatch(/internal error/);
      // a shard's own (partial) verdict may fail "load delivered" when three processes share this
      // machine's CPU at start-up, and only that: its exit code follows from its report
      expectVerdict(r.code, reports[i] as RunResult, ['load delivered']);
      expect(r.stderr).toMatch(/waiting until .* to start \(shard \d\/3\)/);
    });
    expect(results[1]?.stdout).toMatch(/partial \(shard 1\/3\)/);
    expect(reports.map((r) => r.shard)).toEqual([0, 1, 2].map((index) => ({ index, count: N })));
    expect(new Set(reports.map((r) => r.scheduleId)).size).toBe(1);
    // each shard sent its share: 1200 requests → 400 each
    expect(reports.map((r) => r.totals.sent)).toEqual([400, 400, 400]);

    const merged = join(dir, 'merged');
    const m = await runCli(['merge', ...outs.map((o) => join(o, 'report.json')), '--profile', profile, '--out', merged, '--format', 'junit,md'], { timeoutMs: 60_000 });
    expect(m.stderr).not.toMatch(/internal error|warning/);
    expect(m.stderr).toMatch(/report: .*merged\/report\.xml/);
    const r: RunResult = readReport(merged);
    expectVerdict(m.code, r, ['load delivered']);
    expect(r.shard).toBeUndefined();
    expect(r.totals).toMatchObject({ scheduled: 1200, sent: 1200, completed: 1200, errors: 0 });

    // per second: the merged timeline is the single-machine schedule
    const want = scheduledPerSecond(planSchedule([{ name: 'steady', durationMs: 4000, model: 'open', rate: 300, to: 300, concurrency: 0, concurrencyTo: 0, warmup: false }]));
    expect(r.timeline.slice(0, want.length).map((p) => p.scheduled)).toEqual(want);
    // sends land in the second they were due, except late ones that slipped past a second's edge
    const sent = r.timeline.slice(0, want.length).map((p) => p.sent);
    sent.forEach((x, i) => expect(Math.abs(x - (want[i] as number))).toBeLessThanOrEqual(r.totals.late + 2));
    expect(r.timeline.reduce((a, p) => a + p.sent, 0)).toBe(1200);
    expect(r.totals.late).toBe(reports.reduce((a, x) => a + x.totals.late, 0));

    // percentiles: exactly those of one histogram holding every shard's values
    const one = createHistogram();
    const maxes: number[] = [];
    for (const rep of reports) {
      const t = rep.series.find((x) => x.stage === 'total' && x.phase === 'steady');
      one.add(decodeHistogram(t?.hdr ?? '', t?.max));
      maxes.push(t?.max ?? 0);
    }
    const total = r.series.find((x) => x.stage === 'total' && x.phase === 'steady');
    expect(total?.count).toBe(1200);
    expect(total?.max).toBe(Math.max(...maxes));
    for (const [key, q] of [['p50', 0.5], ['p90', 0.9], ['p95', 0.95], ['p99', 0.99], ['p999', 0.999]] as const) {
      expect(total?.[key]).toBe(quantileMs(one, q));
      expect(total?.[key]).toBe(Math.min(one.getValueAtPercentile(q * 100), one.maxValue) / 1000);
    }
    expect(r.budgets.map((v) => [v.id, v.samples])).toEqual([['total p50', 1200], ['errorRate', 1200], ['load delivered', 1200]]);
    expect(r.budgets.slice(0, 2).map((v) => v.status)).toEqual(['pass', 'pass']);
  }, 90_000);

  it('sad: merge refuses shards of a different schedule (exit 2) and warns about a missing shard', async () => {
    const s = await server();
    const dir = tempDir();
    const mk = (name: string, rate: number): string =>
      writeProfile(dir, { name: 'e2e-shard-sad', target: { url: s.url }, phases: [{ name: 'steady', duration: '1s', rate }], budgets: [{ errorRate: '1%' }] }, name);
    const a = mk('a.yaml', 20);
    const b = mk('b.yaml', 30);
    const [ra, rb] = await Promise.all([
      runCli(['run', a, '--shard', '0/2', '--out', join(dir, 'a'), '--quiet']),
      runCli(['run', b, '--shard', '1/2', '--out', join(dir, 'b'), '--quiet']),
    ]);
    expectVerdict(ra.code, readReport(join(dir, 'a')), ['load delivered']);
    expectVerdict(rb.code, readReport(join(dir, 'b')), ['load delivered']);
    const mixed = await runCli(['merge', join(dir, 'a/report.json'), join(dir, 'b/report.json'), '--profile', a, '--out', join(dir, 'm')]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/schedule .* differs/);
    const partial = await runCli(['merge', join(dir, 'a/report.json'), '--profile', a, '--out', join(dir, 'm')]);
    expect(partial.stderr).toMatch(/warning: missing shard 1\/2/);
    // the one shard's data judged as the whole: its error rate holds, so only load may fail it
    const half = readReport(join(dir, 'm'));
    expect(half.totals.sent).toBe(10);
    expectVerdict(partial.code, half, ['load delivered']);
    const strict = await runCli(['merge', join(dir, 'a/report.json'), '--profile', a, '--out', join(dir, 'm2'), '--require-all']);
    expect(strict.code).toBe(2);
    const bad = await runCli(['run', a, '--shard', '2/2', '--out', join(dir, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/index must be from 0 to 1/);
    const badTime = await runCli(['run', a, '--start-at', 'tomorrow', '--out', join(dir, 'x')]);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toMatch(/--start-at: expected an ISO time/);
  }, 60_000);
});
