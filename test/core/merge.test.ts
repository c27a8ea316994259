import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BudgetgateError } from '../../src/core/errors.js';
import { countOf, createHistogram, decodeHistogram, quantileMs, recordMs } from '../../src/core/histograms.js';
import { checkShards, mergeReports, mergeTimelines, type MergeInput } from '../../src/core/merge.js';
import type { Budget, Phase } from '../../src/core/profile-types.js';
import { Recorder } from '../../src/core/recorder.js';
import { REPORT_SCHEMA, type RunResult, type TimelinePoint } from '../../src/core/report.js';
import { planSchedule } from '../../src/core/schedule.js';
import { decodeWindows } from '../../src/core/windows.js';

const phases: Phase[] = [{ name: 'steady', durationMs: 3000, model: 'open', rate: 10, to: 10, concurrency: 0, concurrencyTo: 0, warmup: false }];
const budgets: Budget[] = [
  { kind: 'latency', id: 'total p50', stage: 'total', key: 'p50', limitMs: 1000 },
  { kind: 'errorRate', id: 'errors', max: 0.5 },
];

/** A shard's report with the given total latencies (ms), one request per value, sent at 100 ms steps. */
function shardReport(values: readonly number[], o: { index: number; count: number; scheduleId?: string; startEpochMs?: number; profile?: string; errors?: number }): RunResult {
  const plan = planSchedule(phases);
  const rec = new Recorder(plan.phases.map((p) => ({ ...p, requests: values.length + (o.errors ?? 0) })));
  values.forEach((v, i) => {
    const t = i * 100;
    rec.due(t);
    rec.sent(0, t, t, false);
    rec.completed(0, t, t + v, { stages: new Map([['queue', v / 2]]), unmeasured: [], path: 'primary' });
  });
  for (let e = 0; e < (o.errors ?? 0); e++) {
    rec.due(0);
    rec.sent(0, 0, 0, false);
    rec.failed(0, 5, 'http 503', 'primary');
  }
  return {
    schema: REPORT_SCHEMA,
    tool: { name: 'budgetgate', version: 'test' },
    profile: o.profile ?? 'p',
    target: 'http://127.0.0.1:1/',
    arrivals: 'uniform',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 3000,
    verdict: 'pass',
    interrupted: false,
    shard: { index: o.index, count: o.count },
    scheduleId: o.scheduleId ?? 'fnv1a64:0000000000000001',
    startEpochMs: o.startEpochMs ?? 1_700_000_000_000,
    budgets: [],
    ...rec.report(),
  };
}

const input = (r: RunResult, source = `shard-${r.shard?.index}`): MergeInput => ({ source, report: r });
const opts = { budgets, allowInconclusive: true };

describe('mergeReports: refusals', () => {
  it.each([
    ['different scheduleId', [shardReport([1], { index: 0, count: 2 }), shardReport([1], { index: 1, count: 2, scheduleId: 'fnv1a64:0000000000000002' })], /schedule .* differs/],
    ['different profile', [shardReport([1], { index: 0, count: 2 }), shardReport([1], { index: 1, count: 2, profile: 'other' })], /profile "other" differs/],
    ['overlapping shards', [shardReport([1], { index: 1, count: 3 }), shardReport([2], { index: 1, count: 3 })], /shard 1\/3 overlaps/],
    ['mixed shard counts', [shardReport([1], { index: 0, count: 2 }), shardReport([1], { index: 1, count: 3 })], /3-way split, shard-0 of a 2-way/],
    ['no scheduleId', [{ ...shardReport([1], { index: 0, count: 1 }), scheduleId: undefined }], /no scheduleId/],
    ['nothing', [], /no reports/],
  ] as const)('sad: %s is refused as a report error (exit 2)', (_what, reports, re) => {
    const run = (): unknown => mergeReports(reports.map((r) => input(r)), opts);
    expect(run).toThrow(re);
    expect(run).toThrow(BudgetgateError);
  });

  it('sad: a missing shard is a warning naming it, an error with requireAll', () => {
    const rs = [shardReport([10], { index: 0, count: 3 }), shardReport([20], { index: 2, count: 3 })].map((r) => input(r));
    const m = mergeReports(rs, opts);
    expect(m.missing).toEqual([1]);
    expect(m.warnings.join('\n')).toMatch(/missing shard 1\/3/);
    expect(() => mergeReports(rs, { ...opts, requireAll: true })).toThrow(/missing shard 1\/3.*--require-all/);
    expect(checkShards(rs)).toEqual({ count: 3, missing: [1] });
  });

  it('sad: a corrupt histogram is refused naming the file', () => {
    const bad = shardReport([1], { index: 0, count: 1 });
    bad.series[0] = { ...(bad.series[0] as RunResult['series'][number]), hdr: '!!!' };
    expect(() => mergeReports([input(bad, 'bad.json')], opts)).toThrow(/bad\.json: series total\|primary\|steady: cannot decode/);
  });
});

describe('mergeReports: what merges', () => {
  it('happy: histograms equal one histogram of every value; counts and error kinds sum; budgets evaluated on the whole', () => {
    const a = [5, 7, 9, 11, 250.5];
    const b = [6, 8, 1999.25];
    const c = [3];
    const rs = [shardReport(a, { index: 0, count: 3, errors: 1 }), shardReport(b, { index: 1, count: 3 }), shardReport(c, { index: 2, count: 3, errors: 2 })];
    const { report: m, missing, warnings } = mergeReports(rs.map((r) => input(r)), opts);
    expect(missing).toEqual([]);
    expect(warnings).toEqual([]);
    const one = createHistogram();
    for (const v of [...a, ...b, ...c]) recordMs(one, v);
    const total = m.series.find((s) => s.stage === 'total');
    expect(total?.count).toBe(9);
    expect(total?.max).toBe(1999.25);
    for (const [key, q] of [['p50', 0.5], ['p90', 0.9], ['p99', 0.99]] as const) expect(total?.[key]).toBe(quantileMs(one, q));
    // the merged hdr decodes to the same histogram
    expect(quantileMs(decodeHistogram(total?.hdr ?? '', total?.max), 0.5)).toBe(quantileMs(one, 0.5));
    expect(m.series.find((s) => s.stage === 'queue')?.count).toBe(9);
    expect(m.totals).toEqual({ scheduled: 12, sent: 12, completed: 9, errors: 3, fallback: 0, late: 0 });
    expect(m.phases[0]?.errorKinds).toEqual({ 'http 503': 3 });
    expect(m.shard).toBeUndefined();
    expect(m.budgets.map((v) => [v.id, v.status, v.samples])).toEqual([
      ['total p50', 'inconclusive', 9],
      ['errors', 'pass', 12],
      ['load delivered', 'pass', 12],
    ]);
    expect(m.verdict).toBe('pass');
    expect(m.lateness.hdr).not.toBe('');
  });

  it('happy: timelines align on startEpochMs (offset = round(Δ/1000)); per-second percentiles kept only from a sole contributor', () => {
    const t0 = 1_700_000_000_000;
    const r0 = shardReport([5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5], { index: 0, count: 2, startEpochMs: t0 });
    const r1 = shardReport([9], { index: 1, count: 2, startEpochMs: t0 + 1600 }); // 1.6 s later: second 0 lands in second 2
    const { report: m, warnings } = mergeReports([input(r0), input(r1)], opts);
    expect(warnings.join('\n')).toMatch(/2 s apart/);
    expect(m.startEpochMs).toBe(t0);
    expect(m.timeline.map((p) => p.sent)).toEqual([10, 1, 1]);
    expect(m.timeline.map((p) => p.t)).toEqual([0, 1000, 2000]);
    // second 0: only r0 completed there, so its p50 survives; second 1 still only r0 (one at 1005 ms)
    expect(m.timeline[0]?.p50).toBe(r0.timeline[0]?.p50);
    // second 2: r0 had none there, r1 one → r1's
    expect(m.timeline[2]?.p99).toBe(r1.timeline[0]?.p99);
    expect(m.durationMs).toBe(4600);
  });

  it('mergeTimelines: two contributors to one second make its percentiles null', () => {
    const pt = (sent: number, p50: number | null): TimelinePoint => ({ t: 0, scheduled: sent, sent, completed: sent, errors: 0, fallback: 0, late: 0, inFlight: 1, p50, p99: p50 });
    const m = mergeTimelines([
      { offsetS: 0, points: [pt(2, 10)] },
      { offsetS: 0, points: [pt(3, 20)] },
    ]);
    expect(m).toEqual([{ t: 0, scheduled: 5, sent: 5, completed: 5, errors: 0, fallback: 0, late: 0, inFlight: 2, p50: null, p99: null }]);
  });

  it('an interrupted shard makes the merged run interrupted and failed, naming it', () => {
    const r1 = { ...shardReport([5], { index: 1, count: 2 }), interrupted: true };
    const { report: m } = mergeReports([input(shardReport([5], { index: 0, count: 2 })), input(r1, 'b.json')], opts);
    expect(m.interrupted).toBe(true);
    expect(m.verdict).toBe('fail');
    expect(m.reason).toMatch(/b\.json/);
  });

  it('property: merging any split of values equals one histogram of them all, and per-second counts sum', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ min: 0.001, max: 60_000, noNaN: true }), { maxLength: 30 }), { minLength: 1, maxLength: 5 }), (parts) => {
        const n = parts.length;
        const rs = parts.map((vs, i) => input(shardReport(vs, { index: i, count: n })));
        const { report: m } = mergeReports(rs, opts);
        const one = createHistogram();
        for (const v of parts.flat()) recordMs(one, v);
        const total = m.series.find((s) => s.stage === 'total');
        if (one.totalCount === 0) {
          expect(total).toBeUndefined();
          return;
        }
        for (const q of [0.5, 0.9, 0.99, 0.999]) expect(total?.[q === 0.5 ? 'p50' : q === 0.9 ? 'p90' : q === 0.99 ? 'p99' : 'p999']).toBe(quantileMs(one, q));
        expect(total?.max).toBe(Math.max(...parts.flat().map((v) => Math.round(v * 1000) / 1000)));
        const sentPerSecond = m.timeline.map((p) => p.sent);
        const expected: number[] = [];
        for (const r of rs) r.report.timeline.forEach((p, s) => (expected[s] = (expected[s] ?? 0) + p.sent));
        expect(sentPerSecond).toEqual(expected);
      }),
      { numRuns: 30 },
    );
  });
});

describe('Recorder.snapshot (what checkpoints are built from)', () => {
  const obs = { stages: new Map<string, number>(), unmeasured: [], path: 'primary' as const };
  it('reads the open second without closing it: later completions in that second still count', () => {
    const rec = new Recorder(planSchedule(phases).phases);
    // values under 2.048 ms are held exactly at 3 significant digits (µs resolution)
    for (const [t, v] of [[0, 1], [50, 2]] as const) rec.completed(0, t, t + v, obs);
    const snap = rec.snapshot();
    expect(snap.timeline[0]).toMatchObject({ completed: 2, p50: 1, p99: 2 });
    rec.completed(0, 100, 100.5, obs);
    const again = rec.snapshot();
    expect(again.timeline[0]).toMatchObject({ completed: 3, p50: 1, p99: 2 });
    // the final timeline has all three in second 0 (p50 of 0.5, 1, 2 = 1); a snapshot that reset
    // the open second's histogram would leave only the 0.5 ms one
    const final = rec.report();
    expect(final.timeline[0]).toMatchObject({ completed: 3, p50: 1, p99: 2 });
    expect(Object.keys(final)).toEqual(['series', 'phases', 'timeline', 'totals', 'lateness']);
    expect(snap.totals.completed).toBe(2);
  });
});

describe('mergeReports: per-window histograms', () => {
  it('happy: shards\' windows merge by index, so the merged series\' windows hold every sample', () => {
    const a = shardReport(Array.from({ length: 30 }, (_, i) => 10 + i), { index: 0, count: 2 });
    const b = shardReport(Array.from({ length: 30 }, (_, i) => 20 + i), { index: 1, count: 2 });
    const m = mergeReports([input(a), input(b)], opts).report;
    const total = m.series.find((s) => s.stage === 'total');
    expect(total?.count).toBe(60);
    expect(total?.windows?.at).toEqual(a.series.find((s) => s.stage === 'total')?.windows?.at);
    expect(decodeWindows(total?.windows)?.windows.reduce((n, w) => n + countOf(w.hist), 0)).toBe(60);
  });

  it('sad: a shard written before windows existed drops them from the merge (the interval falls back to i.i.d.)', () => {
    const a = shardReport([10, 11, 12], { index: 0, count: 2 });
    const b = shardReport([13, 14, 15], { index: 1, count: 2 });
    const old = { ...b, series: b.series.map(({ windows: _w, ...s }) => s) };
    expect(mergeReports([input(a), input(old)], opts).report.series.every((s) => s.windows === undefined)).toBe(true);
  });
});
