import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Measurements,
  type PhaseData,
  type SeriesData,
  LOAD_DELIVERED_MIN,
  MISSING_STAGE_LIMIT,
  evaluateBudgets,
  loadDeliveredVerdict,
  minSamples,
} from '../../src/core/budgets.js';
import { createHistogram, recordMs } from '../../src/core/histograms.js';
import type { Budget, BudgetScope, LatencyKey, PathName } from '../../src/core/profile-types.js';
import type { Counts, Verdict } from '../../src/core/report.js';

// Values below 2.048 ms (2048 µs) are stored exactly by HDR at 3 significant digits, so observed values
// and the numbers in reasons are exact in these tests.

/** `n` samples of `ms` each, plus optional extra values. */
function series(stage: string, path: PathName, phase: string, n: number, ms: number, o: { extra?: number[]; unmeasured?: number } = {}): SeriesData {
  const hist = createHistogram();
  for (let i = 0; i < n; i++) recordMs(hist, ms);
  for (const v of o.extra ?? []) recordMs(hist, v);
  return { stage, path, phase, hist, unmeasured: o.unmeasured ?? 0 };
}

function phase(name: string, c: Partial<Omit<PhaseData, 'name'>> = {}): PhaseData {
  return { name, warmup: false, scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0, fallbackErrors: 0, ...c };
}

const latency = (stage: string, key: LatencyKey, limitMs: number, scope: BudgetScope = {}): Budget => ({
  kind: 'latency',
  id: `${stage}.${key}`,
  stage,
  key,
  limitMs,
  ...scope,
});
const errorRate = (max: number, scope: BudgetScope = {}): Budget => ({ kind: 'errorRate', id: 'errors', max, ...scope });
const fallbackRate = (max: number, scope: BudgetScope = {}): Budget => ({ kind: 'fallbackRate', id: 'fallback', max, ...scope });

const one = (b: Budget, m: Measurements): Verdict => {
  const vs = evaluateBudgets([b], m);
  expect(vs).toHaveLength(1);
  return vs[0] as Verdict;
};

const STEADY: PhaseData[] = [phase('steady')];

describe('minSamples', () => {
  it.each([
    ['happy: p50', 'p50', 20],
    ['happy: p90', 'p90', 100],
    ['happy: p95', 'p95', 200],
    ['happy: p99', 'p99', 1000],
    ['happy: p999', 'p999', 10_000],
    ['happy: mean', 'mean', 20],
    ['happy: max', 'max', 1],
  ] as const)('%s', (_name, key, n) => {
    expect(minSamples(key)).toBe(n);
  });
});

describe('latency budgets', () => {
  it.each([
    // name, samples, value ms, key, limit ms, status, observed
    ['happy: p99 under the limit with 1000 samples passes', 1000, 1, 'p99', 1.5, 'pass', 1],
    ['happy: p99 equal to the limit passes (≤)', 1000, 1.5, 'p99', 1.5, 'pass', 1.5],
    ['sad: p99 over the limit fails', 1000, 1.5, 'p99', 1, 'fail', 1.5],
    ['sad: p99 with 999 samples is inconclusive', 999, 1, 'p99', 1.5, 'inconclusive', 1],
    ['sad: p50 with 19 samples is inconclusive', 19, 1, 'p50', 1.5, 'inconclusive', 1],
    ['happy: p50 with 20 samples is conclusive', 20, 1, 'p50', 1.5, 'pass', 1],
    ['happy: max with one sample is conclusive', 1, 1, 'max', 1.5, 'pass', 1],
    ['sad: max over the limit fails', 1, 2, 'max', 1.5, 'fail', 2],
    ['happy: mean with 20 samples is conclusive', 20, 1.25, 'mean', 1.5, 'pass', 1.25],
    ['sad: mean with 19 samples is inconclusive', 19, 1.25, 'mean', 1.5, 'inconclusive', 1.25],
  ] as const)('%s', (_name, n, value, key, limit, status, observed) => {
    const v = one(latency('total', key, limit), { series: [series('total', 'primary', 'steady', n, value)], phases: STEADY });
    expect(v.status).toBe(status);
    expect(v.observed).toBeCloseTo(observed, 9);
    expect(v.samples).toBe(n);
    expect(v.limit).toBe(limit);
    expect(v.unit).toBe('ms');
    expect(v.id).toBe(`total.${key}`);
  });

  it('happy: a pass names the observed value, the limit and the sample count', () => {
    const v = one(latency('total', 'p99', 1.5), { series: [series('total', 'primary', 'steady', 1000, 1)], phases: STEADY });
    expect(v.reason).toBe('p99 of total was 1ms ≤ 1.5ms over 1000 samples in non-warmup phases');
    expect(v.description).toBe('p99 of total ≤ 1.5ms');
  });

  it('sad: a failure reason mentions both the observed value and the limit', () => {
    // 980 fast + 20 slow: the 990th value (p99) is slow.
    const s = series('total', 'primary', 'steady', 980, 0.5, { extra: Array<number>(20).fill(1.75) });
    const v = one(latency('total', 'p99', 1.2), { series: [s], phases: STEADY });
    expect(v.status).toBe('fail');
    expect(v.observed).toBe(1.75);
    expect(v.reason).toContain('1.75ms');
    expect(v.reason).toContain('1.2ms');
    expect(v.reason).toContain('>');
  });

  it('sad: the tail decides p99 but not p50 (same data, two budgets)', () => {
    const s = series('total', 'primary', 'steady', 980, 0.5, { extra: Array<number>(20).fill(1.75) });
    const [p50, p99] = evaluateBudgets([latency('total', 'p50', 1), latency('total', 'p99', 1)], { series: [s], phases: STEADY });
    expect(p50?.status).toBe('pass');
    expect(p50?.observed).toBe(0.5);
    expect(p99?.status).toBe('fail');
  });

  it('sad: inconclusive reason names the count and the minimum', () => {
    const v = one(latency('total', 'p99', 1.5), { series: [series('total', 'primary', 'steady', 999, 1)], phases: STEADY });
    expect(v.status).toBe('inconclusive');
    expect(v.reason).toContain('999 samples');
    expect(v.reason).toContain('at least 1000');
  });

  it.each([
    ['sad: no series at all', [] as SeriesData[]],
    ['sad: a series of another stage only', [series('queue', 'primary', 'steady', 50, 1)]],
    ['sad: an empty series of the stage', [series('total', 'primary', 'steady', 0, 1)]],
  ])('%s → inconclusive with observed null', (_name, ss) => {
    const v = one(latency('total', 'p50', 1), { series: ss, phases: STEADY });
    expect(v.status).toBe('inconclusive');
    expect(v.observed).toBeNull();
    expect(v.samples).toBe(0);
    expect(v.reason).toContain('no total samples');
  });

  it('property: for every key, minSamples − 1 samples is inconclusive and minSamples is conclusive', () => {
    fc.assert(
      fc.property(fc.constantFrom<LatencyKey>('p50', 'p90', 'p95', 'p99', 'max', 'mean'), fc.integer({ min: 1, max: 2000 }), (key, us) => {
        const need = minSamples(key);
        const ms = us / 1000;
        const b = latency('total', key, 2.5);
        const below = one(b, { series: [series('total', 'primary', 'steady', need - 1, ms)], phases: STEADY });
        const at = one(b, { series: [series('total', 'primary', 'steady', need, ms)], phases: STEADY });
        expect(below.status).toBe('inconclusive');
        expect(at.status).toBe('pass');
        expect(at.observed).toBeCloseTo(ms, 9);
      }),
      { numRuns: 30 },
    );
  });

  it('happy: p999 needs 10,000 samples', () => {
    const b = latency('total', 'p999', 2);
    expect(one(b, { series: [series('total', 'primary', 'steady', 9999, 1)], phases: STEADY }).status).toBe('inconclusive');
    expect(one(b, { series: [series('total', 'primary', 'steady', 10_000, 1)], phases: STEADY }).status).toBe('pass');
  });

  it('property: a conclusive verdict passes exactly when the observed value is ≤ the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2047 }), { minLength: 20, maxLength: 300 }), fc.integer({ min: 0, max: 2047 }), (us, limitUs) => {
        const hist = createHistogram();
        for (const u of us) recordMs(hist, u / 1000);
        const sorted = [...us].sort((a, b) => a - b);
        const p50 = (sorted[Math.ceil(0.5 * sorted.length) - 1] as number) / 1000;
        const v = one(latency('total', 'p50', limitUs / 1000), { series: [{ stage: 'total', path: 'primary', phase: 'steady', hist, unmeasured: 0 }], phases: STEADY });
        expect(v.observed).toBeCloseTo(p50, 9);
        expect(v.status).toBe(p50 <= limitUs / 1000 ? 'pass' : 'fail');
      }),
      { numRuns: 100 },
    );
  });
});

describe('percentile vs max consistency', () => {

  it('sad: every sample under the limit → the p99 budget passes, as the max budget does', () => {
    const m: Measurements = { series: [series('total', 'primary', 'steady', 1000, 999.95)], phases: STEADY };
    const [p99, max] = evaluateBudgets([latency('total', 'p99', 1000), latency('total', 'max', 1000)], m);
    expect(max?.status).toBe('pass');
    expect(p99?.status).toBe('pass');
    expect(p99?.observed ?? Infinity).toBeLessThanOrEqual(999.95);
  });
});

describe('missing stages', () => {
  it('sad: 2% of responses unmeasured fails, naming the missing count', () => {
    const v = one(latency('queue', 'p50', 1.5), { series: [series('queue', 'primary', 'steady', 980, 1, { unmeasured: 20 })], phases: STEADY });
    expect(v.status).toBe('fail');
    expect(v.reason).toContain('missing');
    expect(v.reason).toContain('20 of 1000');
    expect(v.observed).toBe(1);
    expect(v.samples).toBe(980);
  });

  it('happy: exactly 1% unmeasured is not failed by the missing-stage rule', () => {
    expect(MISSING_STAGE_LIMIT).toBe(0.01);
    const v = one(latency('queue', 'p50', 1.5), { series: [series('queue', 'primary', 'steady', 990, 1, { unmeasured: 10 })], phases: STEADY });
    expect(v.status).toBe('pass');
    expect(v.reason).not.toContain('missing');
  });

  it('sad: unmeasured counts add up across series in scope (0.8% + 1.5% → 1.15%)', () => {
    const v = one(latency('queue', 'p50', 1.5), {
      series: [series('queue', 'primary', 'steady', 992, 1, { unmeasured: 8 }), series('queue', 'fallback', 'steady', 985, 1, { unmeasured: 15 })],
      phases: STEADY,
    });
    expect(v.status).toBe('fail');
    expect(v.reason).toContain('23 of 2000');
  });

  it('happy: unmeasured responses outside the scope do not count', () => {
    const v = one(latency('queue', 'p50', 1.5, { path: 'primary' }), {
      series: [series('queue', 'primary', 'steady', 100, 1), series('queue', 'fallback', 'steady', 0, 1, { unmeasured: 100 })],
      phases: STEADY,
    });
    expect(v.status).toBe('pass');
  });

  it('sad: a stage that was never measured at all fails with observed null', () => {
    const v = one(latency('queue', 'p50', 1.5), { series: [series('queue', 'primary', 'steady', 0, 1, { unmeasured: 50 })], phases: STEADY });
    expect(v.status).toBe('fail');
    expect(v.observed).toBeNull();
    expect(v.reason).toContain('missing');
  });
});

describe('scope', () => {
  const phases = [phase('warm', { warmup: true }), phase('steady'), phase('spike')];
  const m: Measurements = {
    phases,
    series: [
      series('total', 'primary', 'warm', 100, 2), // slow warmup
      series('total', 'primary', 'steady', 100, 0.5),
      series('total', 'fallback', 'steady', 100, 1.5),
      series('total', 'primary', 'spike', 100, 1),
      series('total', 'primary', 'nosuchphase', 100, 2), // a phase the measurements do not list: never in scope
    ],
  };

  it.each([
    // name, scope, key, observed, samples
    ['happy: no scope: every non-warmup phase, both paths', {}, 'max', 1.5, 300],
    ['happy: primary path only', { path: 'primary' }, 'max', 1, 200],
    ['happy: fallback path only', { path: 'fallback' }, 'max', 1.5, 100],
    ['happy: phase filter', { phase: 'spike' }, 'max', 1, 100],
    ['happy: phase and path filter', { phase: 'steady', path: 'primary' }, 'max', 0.5, 100],
    ['happy: a warmup phase named explicitly is included', { phase: 'warm' }, 'max', 2, 100],
    ['sad: a phase without that path has no samples', { phase: 'spike', path: 'fallback' }, 'max', null, 0],
  ] as const)('%s', (_name, scope, key, observed, samples) => {
    const v = one(latency('total', key, 5, scope), m);
    expect(v.observed === null ? null : v.observed).toBe(observed);
    expect(v.samples).toBe(samples);
  });

  it('happy: scope words appear in the reason and description', () => {
    const v = one(latency('total', 'max', 5, { path: 'fallback', phase: 'steady' }), m);
    expect(v.reason).toContain('fallback path, phase steady');
    expect(v.description).toBe('max of total (fallback path, phase steady) ≤ 5ms');
  });

  it('sad: warmup values are excluded by default, so a slow warmup cannot fail the budget', () => {
    expect(one(latency('total', 'max', 1.6), m).status).toBe('pass');
    expect(one(latency('total', 'max', 1.6, { phase: 'warm' }), m).status).toBe('fail');
  });
});

describe('error rate and fallback rate', () => {
  // steady: 1000 finished = 990 completed (96 fallback) + 10 errors (4 on the fallback path)
  const phases = [
    phase('warm', { warmup: true, completed: 10, errors: 90 }),
    phase('steady', { completed: 990, errors: 10, fallback: 96, fallbackErrors: 4 }),
  ];
  const m: Measurements = { series: [], phases };

  it.each([
    // name, budget, status, observed, samples
    ['happy: 1% errors ≤ 1% passes', errorRate(0.01), 'pass', 10 / 1000, 1000],
    ['sad: 1% errors > 0.5% fails', errorRate(0.005), 'fail', 10 / 1000, 1000],
    ['sad: fallback path errors: 4 of 100', errorRate(0.01, { path: 'fallback' }), 'fail', 4 / 100, 100],
    ['happy: primary path errors: 6 of 900', errorRate(0.01, { path: 'primary' }), 'pass', 6 / 900, 900],
    ['sad: warmup named explicitly: 90 of 100', errorRate(0.5, { phase: 'warm' }), 'fail', 0.9, 100],
    ['happy: fallback rate 96 of 990', fallbackRate(0.1), 'pass', 96 / 990, 990],
    ['sad: fallback rate over 5%', fallbackRate(0.05), 'fail', 96 / 990, 990],
  ] as const)('%s', (_name, b, status, observed, samples) => {
    const v = one(b, m);
    expect(v.status).toBe(status);
    expect(v.observed).toBeCloseTo(observed, 12);
    expect(v.samples).toBe(samples);
    expect(v.unit).toBe('ratio');
  });

  it('sad: an error-rate failure names the counts', () => {
    const v = one(errorRate(0.005), m);
    expect(v.reason).toContain('10 of 1000');
    expect(v.reason).toContain('1%');
    expect(v.reason).toContain('0.5%');
  });

  it.each([
    ['sad: error rate with nothing finished', errorRate(0.01)],
    ['sad: fallback rate with nothing completed', fallbackRate(0.01)],
    ['sad: error rate of an idle phase', errorRate(0.01, { phase: 'idle' })],
  ])('%s → inconclusive, observed null', (_name, b) => {
    const v = one(b, { series: [], phases: [phase('steady'), phase('idle')] });
    expect(v.status).toBe('inconclusive');
    expect(v.observed).toBeNull();
    expect(v.samples).toBe(0);
  });

  it('property: error rate = Σ errors / Σ (errors + completed) over non-warmup phases', () => {
    const counts = fc.record({ completed: fc.nat(500), errors: fc.nat(500), warmup: fc.boolean() });
    fc.assert(
      fc.property(fc.array(counts, { minLength: 1, maxLength: 5 }), fc.double({ min: 0, max: 1, noNaN: true }), (cs, max) => {
        const ps = cs.map((c, i) => phase(`p${i}`, c));
        const v = one(errorRate(max), { series: [], phases: ps });
        const live = cs.filter((c) => !c.warmup);
        const num = live.reduce((n, c) => n + c.errors, 0);
        const den = live.reduce((n, c) => n + c.errors + c.completed, 0);
        if (den === 0) return v.status === 'inconclusive';
        return v.observed === num / den && v.status === (num / den <= max ? 'pass' : 'fail') && v.samples === den;
      }),
      { numRuns: 200 },
    );
  });
});

describe('loadDeliveredVerdict', () => {
  const counts = (c: Partial<Counts>): Counts => ({ scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0, ...c });

  it.each([
    ['happy: everything on time', counts({ scheduled: 1000, sent: 1000 }), 'pass', 1],
    ['happy: exactly 95% on time passes', counts({ scheduled: 1000, sent: 1000, late: 50 }), 'pass', 0.95],
    ['sad: 94.9% on time fails', counts({ scheduled: 1000, sent: 1000, late: 51 }), 'fail', 0.949],
    ['sad: 94.9% sent at all fails', counts({ scheduled: 1000, sent: 949 }), 'fail', 0.949],
    ['happy: nothing scheduled counts as delivered', counts({}), 'pass', 1],
  ] as const)('%s', (_name, c, status, observed) => {
    const v = loadDeliveredVerdict(c);
    expect(v.status).toBe(status);
    expect(v.observed).toBeCloseTo(observed, 12);
    expect(v.limit).toBe(LOAD_DELIVERED_MIN);
    expect(v.id).toBe('load delivered');
    expect(v.samples).toBe(c.scheduled);
  });

  it('sad: the failure reason says the load was not delivered, with counts', () => {
    const v = loadDeliveredVerdict(counts({ scheduled: 1000, sent: 1000, late: 51 }));
    expect(v.reason).toContain('load not delivered');
    expect(v.reason).toContain('949 of 1000');
    expect(v.reason).toContain('94.9%');
  });
});

describe('confidence on percentile verdicts', () => {
  // n samples at 0.001·k ms, k = 1..n: stored exactly, so rank r reads r µs and intervals are exact
  const rampSeries = (n: number): SeriesData => {
    const hist = createHistogram();
    for (let k = 1; k <= n; k++) recordMs(hist, k / 1000);
    return { stage: 'total', path: 'primary', phase: 'steady', hist, unmeasured: 0 };
  };
  const m = (n: number): Measurements => ({ series: [rampSeries(n)], phases: STEADY });

  it.each([
    // 1000 samples: p99 reads rank 990 = 0.990 ms, its 95% interval ranks 983..997 = [0.983, 0.997] ms
    ['happy: limit above the interval → pass, not borderline', 1.0, 'pass', false],
    ['sad: limit inside the interval, point under it → pass but borderline', 0.995, 'pass', true],
    ['sad: limit inside the interval, point over it → fail and borderline', 0.985, 'fail', true],
    ['happy: limit below the interval → fail, not borderline', 0.98, 'fail', false],
  ] as const)('%s', (_name, limit, status, borderline) => {
    const v = one(latency('total', 'p99', limit), m(1000));
    expect(v.status).toBe(status);
    expect(v.borderline).toBe(borderline);
    expect(v.interval?.[0]).toBeCloseTo(0.983, 9);
    expect(v.interval?.[1]).toBeCloseTo(0.997, 9);
  });

  it.each([
    ['happy: max has no order-statistic interval', 'max'],
    ['happy: mean has no order-statistic interval', 'mean'],
  ] as const)('%s', (_name, key) => {
    const v = one(latency('total', key, 10), m(1000));
    expect(v.interval).toBeNull();
    expect(v.borderline).toBe(false);
  });

  it('sad: an inconclusive verdict keeps its interval but is never borderline', () => {
    const v = one(latency('total', 'p99', 0.5), m(500));
    expect(v.status).toBe('inconclusive');
    expect(v.interval).not.toBeNull();
    expect(v.borderline).toBe(false);
  });

  it('happy: rate budgets carry no interval', () => {
    const v = one(errorRate(0.01), { series: [], phases: [phase('steady', { completed: 100, errors: 0 })] });
    expect(v.interval).toBeNull();
    expect(v.borderline).toBe(false);
  });

  it('property: borderline ⇔ lo ≤ limit < hi, and status follows the point estimate', () => {
    const mm = m(2000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2100 }), (limitUs) => {
        const limit = limitUs / 1000;
        const v = one(latency('total', 'p90', limit), mm);
        const [lo, hi] = v.interval as [number, number];
        expect(v.borderline).toBe(lo <= limit && limit < hi);
        expect(v.status).toBe((v.observed as number) <= limit ? 'pass' : 'fail');
      }),
    );
  });
});

describe('reevaluate', () => {
  it('happy: a saved report re-evaluates to the verdicts computed live (decoded with the exact max)', async () => {
    const { Recorder } = await import('../../src/core/recorder.js');
    const { reevaluate } = await import('../../src/core/verdict.js');
    const rec = new Recorder([{ name: 'steady', warmup: false, model: 'open', startMs: 0, endMs: 10_000, rate: 150, to: 150, concurrency: 0, concurrencyTo: 0, requests: 1500 }]);
    for (let i = 0; i < 1500; i++) {
      const t = (i * 1000) / 150;
      rec.due(t);
      rec.sent(0, t, t, false);
      rec.completed(0, t, t + 50 + ((i * 7919) % 997) / 3.3, { stages: new Map([['queue', ((i * 31) % 101) / 7]]), unmeasured: [], path: 'primary' });
    }
    const budgets: Budget[] = [latency('total', 'p99', 330), latency('total', 'p50', 200), latency('queue', 'p90', 13), latency('total', 'max', 400), errorRate(0.01)];
    const live = [...evaluateBudgets(budgets, rec.measurements()), loadDeliveredVerdict(rec.totals())];
    const parts = JSON.parse(JSON.stringify(rec.report())) as ReturnType<typeof rec.report>;
    const again = reevaluate({ ...parts, interrupted: false } as never, budgets, { allowInconclusive: false });
    expect(again.budgets).toEqual(live);
  });
});
