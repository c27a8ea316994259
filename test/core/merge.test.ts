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
    expect(m.totals).toMatchObject({ scheduled: 12, sent: 12, completed: 9, errors: 3, fallback: 0, late: 0 });
    // token figures add too: none of these responses carried a count
    expect(m.totals.tokenSources).toEqual({ usage: 0, events: 0, none: 9 });
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

/**
 * Sessions across senders: each session runs whole on the sender owning its first turn's index
 * (index ≡ shard mod count), so a split of sessions over shards, merged, must be the one-sender run.
 */
describe('mergeReports: sessions (per-turn series, session figures, prompt tokens)', () => {
  interface Turn { ttft: number; total: number; sent: number; server: number }
  interface Sess { turns: Turn[]; end: 'completed' | 'abandoned' | 'cut'; durationMs: number }
  const sessionBudgets: Budget[] = [
    { kind: 'latency', id: 'ttft{turn=1} max', stage: 'ttft', key: 'max', limitMs: 100, turns: { from: 1, to: 1 } },
    { kind: 'latency', id: 'total{turn=2+} max', stage: 'total', key: 'max', limitMs: 500, turns: { from: 2 } },
    { kind: 'latency', id: 'total{turn=2+} p99', stage: 'total', key: 'p99', limitMs: 500, turns: { from: 2 } },
  ];
  const sessOpts = { budgets: sessionBudgets, allowInconclusive: true };

  /** the report of a sender that ran `sessions` (one request per turn, in order) */
  function sessionReport(sessions: readonly Sess[], shard: { index: number; count: number }): RunResult {
    const base = shardReport([], shard);
    const rec = new Recorder(planSchedule(phases).phases.map((p) => ({ ...p, requests: sessions.length })), { tokenizer: 'cl100k_base' });
    for (const s of sessions) {
      rec.sessions.sessionStarted(0);
      s.turns.forEach((t, k) => {
        rec.sent(0, 0, 0, false);
        rec.completed(0, 0, t.total, { stages: new Map(), unmeasured: [], path: 'primary', client: new Map([['ttft', t.ttft]]), turn: k + 1, sentPromptTokens: t.sent, tokens: { input: t.server, output: 1, source: 'usage' } });
      });
      rec.sessions.sessionEnded(0, s.end, s.turns.length, s.durationMs);
    }
    const { timeline: _t, ...parts } = rec.report();
    return { ...base, ...parts, timeline: [] };
  }

  const turn = fc.record({ ttft: fc.double({ min: 0.001, max: 5000, noNaN: true }), total: fc.double({ min: 0.001, max: 60_000, noNaN: true }), sent: fc.integer({ min: 1, max: 4000 }), server: fc.integer({ min: 1, max: 4100 }) });
  const session = fc.record({ turns: fc.array(turn, { minLength: 1, maxLength: 4 }), end: fc.constantFrom('completed' as const, 'abandoned' as const, 'cut' as const), durationMs: fc.double({ min: 1, max: 120_000, noNaN: true }) });

  it('happy: property: any split of sessions over 1–4 shards merges to the one-sender report: turns, sessions, prompt tokens, turn budgets (live and in check)', () => {
    fc.assert(
      fc.property(fc.array(session, { minLength: 1, maxLength: 24 }), fc.integer({ min: 1, max: 4 }), (all, n) => {
        const whole = sessionReport(all, { index: 0, count: 1 });
        const shards = Array.from({ length: n }, (_, i) => sessionReport(all.filter((_s, k) => k % n === i), { index: i, count: n }));
        const { report: m } = mergeReports(shards.map((r) => input(r)), sessOpts);
        // exact: the same summaries and the same encoded histograms as one recorder of every value
        expect(m.turns).toEqual(whole.turns);
        expect(m.sessions).toEqual(whole.sessions);
        expect(m.phases[0]?.promptTokens).toEqual(whole.phases[0]?.promptTokens);
        // turn budgets judged on the merged data, and again offline from its JSON (`check`)
        const judged = mergeReports([input(whole)], sessOpts).report.budgets;
        expect(m.budgets).toEqual(judged);
        const saved = JSON.parse(JSON.stringify(m)) as RunResult;
        expect(mergeReports([input({ ...saved, shard: { index: 0, count: 1 } })], sessOpts).report.budgets).toEqual(judged);
      }),
      { numRuns: 40 },
    );
  });

  it('happy: merged turn percentiles equal one histogram of all that turn’s values; counts sum', () => {
    const t = (ttft: number, total: number): Turn => ({ ttft, total, sent: 10, server: 13 });
    const a: Sess[] = [{ turns: [t(5, 50), t(7, 70)], end: 'completed', durationMs: 900 }, { turns: [t(9, 90)], end: 'abandoned', durationMs: 0 }];
    const b: Sess[] = [{ turns: [t(250.5, 400), t(3, 30), t(4, 40)], end: 'completed', durationMs: 1500.25 }, { turns: [t(11, 110)], end: 'cut', durationMs: 0 }];
    const { report: m } = mergeReports([input(sessionReport(a, { index: 0, count: 2 })), input(sessionReport(b, { index: 1, count: 2 }))], sessOpts);
    const one = createHistogram();
    for (const v of [5, 9, 250.5, 11]) recordMs(one, v);
    const ttft1 = m.turns?.find((x) => x.stage === 'ttft' && x.turn === 1);
    expect(ttft1?.count).toBe(4);
    expect(ttft1?.max).toBe(250.5);
    for (const [key, q] of [['p50', 0.5], ['p90', 0.9], ['p99', 0.99], ['p999', 0.999]] as const) expect(ttft1?.[key]).toBe(quantileMs(one, q));
    expect(m.turns?.map((x) => [x.turn, x.stage, x.count])).toEqual([[1, 'ttft', 4], [1, 'total', 4], [2, 'ttft', 2], [2, 'total', 2], [3, 'ttft', 1], [3, 'total', 1]]);
    expect(m.sessions).toEqual([expect.objectContaining({ phase: 'steady', started: 4, completed: 2, abandoned: 1, cut: 1, turns: 7, duration: expect.objectContaining({ count: 2, max: 1500.25 }) })]);
    expect(m.phases[0]?.promptTokens).toMatchObject({ requests: 7, sent: 70, server: 91, meanDifference: 3 });
    expect(m.budgets.map((v) => [v.id, v.status, v.samples])).toEqual([['ttft{turn=1} max', 'fail', 4], ['total{turn=2+} max', 'pass', 3], ['total{turn=2+} p99', 'inconclusive', 3], ['load delivered', 'pass', 4]]);
  });

  it.each([
    ['happy', 'a shard whose share started no session merges to the other’s figures', () => [sessionReport([], { index: 0, count: 2 }), sessionReport([{ turns: [{ ttft: 5, total: 9, sent: 1, server: 2 }], end: 'completed', durationMs: 9 }], { index: 1, count: 2 })], (m: RunResult) => {
      expect(m.turns?.map((x) => x.count)).toEqual([1, 1]);
      expect(m.sessions?.[0]).toMatchObject({ started: 1, completed: 1 });
    }],
    ['happy', 'reports without sessions merge to a report without turns or sessions', () => [shardReport([5], { index: 0, count: 2 }), shardReport([6], { index: 1, count: 2 })], (m: RunResult) => {
      expect('turns' in m).toBe(false);
      expect('sessions' in m).toBe(false);
    }],
  ] as const)('%s: %s', (_label, _what, reports, check) => {
    check(mergeReports(reports().map((r) => input(r)), sessOpts).report);
  });

  it.each([
    ['sad', 'a corrupt per-turn histogram', (r: RunResult) => ({ ...r, turns: r.turns?.map((x) => ({ ...x, hdr: '!!!' })) }), /bad\.json: turns ttft\|primary\|steady\|1: cannot decode/],
    ['sad', 'a corrupt session duration histogram', (r: RunResult) => ({ ...r, sessions: r.sessions?.map((x) => ({ ...x, duration: { ...x.duration, hdr: '!!!' } })) }), /bad\.json: sessions steady duration: cannot decode/],
  ] as const)('%s: %s is refused naming the file (exit 2)', (_label, _what, corrupt, re) => {
    const ok = sessionReport([{ turns: [{ ttft: 5, total: 9, sent: 1, server: 2 }], end: 'completed', durationMs: 9 }], { index: 0, count: 2 });
    const bad = corrupt(sessionReport([{ turns: [{ ttft: 6, total: 8, sent: 1, server: 2 }], end: 'completed', durationMs: 8 }], { index: 1, count: 2 }));
    const run = (): unknown => mergeReports([input(ok), input(bad, 'bad.json')], sessOpts);
    expect(run).toThrow(re);
    expect(run).toThrow(BudgetgateError);
  });
});
