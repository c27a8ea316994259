import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareReports, compareRuns, judgedStages, parseTolerance, type Comparison } from '../../src/core/compare.js';
import { holm } from '../../src/core/stats.js';
import type { RunResult } from '../../src/core/report.js';
import { syntheticReport, type SyntheticOptions } from '../report/synthetic.js';

const flagged = (c: Comparison): string[] =>
  c.series.flatMap((s) => s.changes.filter((x) => x.status === 'regression').map((x) => `${s.stage} ${s.path} ${s.phase} ${x.key}`));
const change = (c: Comparison, stage: string, key: string) => c.series.find((s) => s.stage === stage)?.changes.find((x) => x.key === key);
/** a report whose budgets name the queue stage, so it is judged by default */
const withQueueBudget = (r: RunResult): RunResult => ({
  ...r,
  budgets: [{ id: 'queue p99', description: 'p99 of queue ≤ 1s', status: 'pass', observed: 1, limit: 1000, unit: 'ms', samples: 1, reason: '' }],
});

describe('compareRuns: one baseline', () => {
  // 10 s at 500/s: 5,000 samples per steady series, enough for p50…p99 (p999 needs 10,000)
  const base = syntheticReport({ seed: 1 });

  it('happy: the same distribution drawn with another seed is noise, not a regression', () => {
    const c = compareReports(base, syntheticReport({ seed: 2 }), { tolerance: 0.1 });
    expect(c.outcome).toBe('pass');
    expect(flagged(c)).toEqual([]);
    expect(c.series.length).toBeGreaterThan(0);
  });

  it('sad: ×1.3 is a regression at every conclusive percentile of total; p999 has too few samples', () => {
    const c = compareReports(base, syntheticReport({ seed: 2, scale: 1.3 }), { tolerance: 0.1 });
    expect(c.outcome).toBe('regression');
    expect(flagged(c)).toEqual(['p50', 'p90', 'p95', 'p99'].map((k) => `total primary steady ${k}`));
    expect(change(c, 'total', 'p999')?.status).toBe('insufficient');
  });

  it('happy: by default only total and the stages the budgets name are judged; --all-series judges the rest', () => {
    const cur = syntheticReport({ seed: 2, scale: 1.3 });
    const byDefault = compareReports(base, cur, { tolerance: 0.1 });
    expect(byDefault.series.map((s) => s.stage)).toEqual(['total']);
    expect(byDefault.notJudged.sort()).toEqual(['queue primary steady', 'unattributed primary steady']);
    const named = compareReports(base, withQueueBudget(cur), { tolerance: 0.1 });
    expect(named.series.map((s) => s.stage)).toEqual(['total', 'queue']);
    const all = compareReports(base, cur, { tolerance: 0.1, allSeries: true });
    expect(flagged(all)).toContain('queue primary steady p50');
    expect(all.notJudged).toEqual([]);
  });

  it('happy: judgedStages reads the stages of latency budgets (old reports have no other record of them)', () => {
    const r: RunResult = { ...base, budgets: [...withQueueBudget(base).budgets, { id: 'errorRate', description: 'error rate ≤ 1%', status: 'pass', observed: 0, limit: 0.01, unit: 'ratio', samples: 1, reason: '' }] };
    expect([...judgedStages(r)].sort()).toEqual(['queue', 'total']);
  });

  it('happy: ×1.3 is within a 40% tolerance (slower, but accepted); a per-percentile tolerance overrides it', () => {
    const cur = syntheticReport({ seed: 2, scale: 1.3 });
    expect(compareReports(base, cur, { tolerance: 0.4 }).outcome).toBe('pass');
    expect(flagged(compareReports(base, cur, { tolerance: 0.4, perKey: { p99: 0.05 } }))).toEqual(['total primary steady p99']);
  });

  it('sad: beyond tolerance but within noise is "slower", not a regression (60 samples a run)', () => {
    const small = (seed: number, scale = 1) => syntheticReport({ seed, rate: 20, seconds: 3, scale });
    const c = compareReports(small(1), small(1, 1.12), { tolerance: 0.05 });
    expect(change(c, 'total', 'p50')?.status).toBe('slower');
    expect(c.regressions).toBe(0);
  });

  it('happy: faster is reported, never flagged', () => {
    const c = compareReports(base, syntheticReport({ seed: 2, scale: 0.7 }), { tolerance: 0.1 });
    expect(c.regressions).toBe(0);
    expect(change(c, 'total', 'p50')?.status).toBe('faster');
  });

  it('happy: warmup phases are skipped and series on one side only are listed, not judged', () => {
    const c = compareReports(base, syntheticReport({ seed: 2, fallbackEvery: 10 }), { tolerance: 0.1, allSeries: true });
    expect(c.series.every((s) => s.phase === 'steady')).toBe(true);
    expect(c.onlyInCurrent).toEqual(expect.arrayContaining(['total fallback steady', 'queue fallback steady']));
    expect(c.onlyInBaseline).toEqual([]);
  });
});

describe('compareRuns: one baseline cannot measure run-to-run noise, so it is assumed (runNoise)', () => {
  it('sad: a 7% shift of a whole run is within the assumed 1.5% run-to-run spread (of each run); with none assumed it is a regression', () => {
    const base = syntheticReport({ seed: 1 });
    const cur = syntheticReport({ seed: 2, scale: 1.07 });
    expect(change(compareRuns([base], cur, { tolerance: 0.05 }), 'total', 'p50')?.status).toBe('slower');
    expect(change(compareRuns([base], cur, { tolerance: 0.05, runNoise: 0 }), 'total', 'p50')?.status).toBe('regression');
  });
});

describe('compareRuns: the min-change floor', () => {
  // a sub-millisecond stage: median 0.5 ms, 5,000 samples
  const tiny = (seed: number, scale = 1) => syntheticReport({ seed, medianMs: 0.5, scale });

  it('sad: +50% of a 0.5 ms stage is 0.25 ms, below the 1 ms floor: "same", though significant', () => {
    const c = compareReports(tiny(1), tiny(2, 1.5), { tolerance: 0.05 });
    expect(change(c, 'total', 'p50')?.status).toBe('same');
    expect(c.outcome).toBe('pass');
    // with the floor lowered the same change is a regression: the floor, not noise, decided
    expect(flagged(compareReports(tiny(1), tiny(2, 1.5), { tolerance: 0.05, minChangeMs: 0.1 }))).toContain('total primary steady p50');
  });

  it('happy: both sides below the floor → no ratio at all (no "−75%" of values near zero)', () => {
    const c = compareReports(tiny(1), tiny(2, 0.25), { tolerance: 0.05 });
    const p50 = change(c, 'total', 'p50');
    expect(p50?.change).toBeNull();
    expect(p50?.status).toBe('same');
  });

  it('happy: a change above the floor keeps its ratio and verdict', () => {
    const c = compareReports(tiny(1), tiny(2, 4), { tolerance: 0.05 });
    expect(change(c, 'total', 'p50')?.change).toBeGreaterThan(2);
    expect(change(c, 'total', 'p50')?.status).toBe('regression');
  });
});

describe('compareRuns: many comparisons, one verdict (Holm)', () => {
  it('happy: a regression is exactly a practically significant change whose p-value Holm rejects over every judged percentile', () => {
    const c = compareRuns([syntheticReport({ seed: 1, rate: 200, seconds: 6 })], syntheticReport({ seed: 2, rate: 200, seconds: 6, scale: 1.06 }), { tolerance: 0.03, allSeries: true, minChangeMs: 0.5 });
    const tests = c.series.flatMap((s) => s.changes.filter((x) => x.p !== null));
    const rejected = holm(tests.map((x) => x.p as number), c.options.alpha);
    tests.forEach((x, i) => {
      if (x.status === 'regression') expect(rejected[i]).toBe(true);
      if (rejected[i] === true && x.status !== 'regression') expect(['same', 'faster']).toContain(x.status);
    });
  });

  it('happy: a larger family does not raise the false-alarm rate: all series judged, 30 fixed seed pairs of one distribution → at most 1 flagged', () => {
    let n = 0;
    for (let k = 1; k <= 30; k++) {
      const c = compareRuns([syntheticReport({ seed: 2 * k - 1, rate: 300, seconds: 6 })], syntheticReport({ seed: 2 * k, rate: 300, seconds: 6 }), { tolerance: 0.05, allSeries: true });
      if (c.regressions > 0) n++;
    }
    expect(n).toBeLessThanOrEqual(1);
  });
});

describe('compareRuns: history (several baselines)', () => {
  // five nights whose whole runs differ by a few percent (run-to-run noise, not sampling noise)
  const nights = [0.94, 1.0, 1.06, 0.97, 1.03].map((scale, i) => syntheticReport({ seed: 10 + i, rate: 300, seconds: 6, scale }));

  it('happy: a shift within the baselines\' run-to-run spread is not a regression, though against the fastest night alone it is', () => {
    const cur = syntheticReport({ seed: 99, rate: 300, seconds: 6, scale: 1.08 });
    const history = compareRuns(nights, cur, { tolerance: 0.05 });
    expect(history.baselines).toHaveLength(5);
    expect(history.outcome).toBe('pass');
    expect(compareRuns([nights[0] as RunResult], cur, { tolerance: 0.05 }).outcome).toBe('regression');
  });

  it('sad: a slowdown well beyond the spread is a regression against the history', () => {
    const c = compareRuns(nights, syntheticReport({ seed: 99, rate: 300, seconds: 6, scale: 1.35 }), { tolerance: 0.05 });
    expect(c.outcome).toBe('regression');
    expect(flagged(c)).toContain('total primary steady p50');
  });

  it('happy: the baseline is the nights\' mean, and its interval is the interval of that mean', () => {
    const c = compareRuns(nights, syntheticReport({ seed: 99, rate: 300, seconds: 6 }), { tolerance: 0.05 });
    const p50 = change(c, 'total', 'p50');
    const values = nights.map((r) => r.series.find((s) => s.stage === 'total' && s.phase === 'steady')?.p50 as number);
    expect(p50?.baseline).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
    const [lo, hi] = p50?.baselineInterval as [number, number];
    expect(lo).toBeLessThan(p50?.baseline as number);
    expect(hi).toBeGreaterThan(p50?.baseline as number);
  });

  it('property: false-alarm rate — the current run and 4 baselines of one distribution, 20 fixed seed sets → at most 1 flagged', () => {
    let n = 0;
    for (let k = 0; k < 20; k++) {
      const bs = [1, 2, 3, 4].map((i) => syntheticReport({ seed: 1000 + 5 * k + i, rate: 200, seconds: 5 }));
      if (compareRuns(bs, syntheticReport({ seed: 1000 + 5 * k, rate: 200, seconds: 5 }), { tolerance: 0.05 }).regressions > 0) n++;
    }
    expect(n).toBeLessThanOrEqual(1);
  });
});

describe('compareRuns: outcomes', () => {
  const r = (o: SyntheticOptions = {}): RunResult => syntheticReport({ rate: 200, seconds: 5, ...o });
  it.each([
    ['sad: no baseline yet', () => compareRuns([], r(), { tolerance: 0.05 }), 'no-baseline', /no baseline yet/],
    ['sad: another profile', () => compareRuns([r({ profile: 'other' })], r(), { tolerance: 0.05 }), 'incomparable', /profile "other"/],
    ['sad: another schedule', () => compareRuns([{ ...r(), scheduleId: 'a' }], { ...r(), scheduleId: 'b' }, { tolerance: 0.05 }), 'incomparable', /another schedule/],
    ['sad: too few samples (10 a run: even p50 needs 20)', () => compareRuns([r({ rate: 5, seconds: 2 })], r({ rate: 5, seconds: 2 }), { tolerance: 0.05 }), 'incomparable', /too few samples/],
    ['sad: the current run was interrupted', () => compareRuns([r()], { ...r(), interrupted: true }, { tolerance: 0.05 }), 'incomparable', /interrupted/],
    ['sad: the current run did not deliver its load', () => compareRuns([r()], { ...r(), budgets: [{ id: 'load delivered', description: '', status: 'fail', observed: 0.5, limit: 0.95, unit: 'ratio', samples: 1, reason: 'load not delivered: sent 5 of 10' }] }, { tolerance: 0.05 }), 'incomparable', /did not deliver its load \(sent 5 of 10\)/],
    ['happy: a baseline of another profile is left out, the others used', () => compareRuns([r({ profile: 'other' }), r({ seed: 3 })], r({ seed: 4 }), { tolerance: 0.05 }), 'pass', undefined],
  ] as const)('%s', (_name, f, outcome, reason) => {
    const c = f();
    expect(c.outcome).toBe(outcome);
    if (reason) expect(c.reason).toMatch(reason);
    else expect(c.skipped).toHaveLength(1);
  });
});

describe('compareRuns: rates over fixed seeds (instead of the old "any two seeds → no regression", which was false)', () => {
  it('happy: the seed pairs that broke the old property ([142198, 1] flagged p95 at +11.5%, [999967, 609635] p99 at +15.9%) are not regressions now', () => {
    for (const [a, b] of [[142198, 1], [999967, 609635]] as const) {
      const c = compareRuns([syntheticReport({ seed: a, rate: 300, seconds: 5 })], syntheticReport({ seed: b, rate: 300, seconds: 5 }), { tolerance: 0.1 });
      expect(flagged(c)).toEqual([]);
    }
  });

  it('happy: false-alarm rate — same distribution, 40 fixed seed pairs, default settings → at most 1 flagged (α = 1% family-wise)', () => {
    let n = 0;
    for (let k = 0; k < 40; k++) if (compareRuns([syntheticReport({ seed: 7919 * k + 1, rate: 300, seconds: 5 })], syntheticReport({ seed: 7919 * k + 2, rate: 300, seconds: 5 }), { tolerance: 0.05 }).regressions > 0) n++;
    expect(n).toBeLessThanOrEqual(1);
  });

  it('property: a report compared with itself changes by 0 and has no regression, whatever the tolerance', () => {
    const r = syntheticReport({ seed: 3, rate: 200, seconds: 5 });
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (tolerance) => {
        const c = compareReports(r, r, { tolerance });
        expect(c.regressions).toBe(0);
        for (const s of c.series) for (const x of s.changes) if (x.change !== null) expect(x.change).toBe(0);
      }),
      { numRuns: 20 },
    );
  });

  it('property: any two seeds, current ×1.5 → p50 of total is flagged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 1_000_000 }), (a, b) => {
        const c = compareReports(syntheticReport({ seed: a, rate: 300, seconds: 5 }), syntheticReport({ seed: b, rate: 300, seconds: 5, scale: 1.5 }), { tolerance: 0.1 });
        expect(flagged(c)).toContain('total primary steady p50');
      }),
      { numRuns: 8 },
    );
  });
});

describe('parseTolerance', () => {
  it.each([
    ['happy: 10%', '10%', 0.1],
    ['happy: 2.5%', '2.5%', 0.025],
    ['happy: 0%', '0%', 0],
    ['sad: no percent sign', '0.1', null],
    ['sad: negative', '-5%', null],
    ['sad: words', 'ten%', null],
  ] as const)('%s', (_name, text, want) => {
    const got = parseTolerance(text);
    if (want === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(want, 12);
  });
});
