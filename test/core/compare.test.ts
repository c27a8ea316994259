import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareReports, parseTolerance, type Comparison } from '../../src/core/compare.js';
import { syntheticReport } from '../report/synthetic.js';

const flagged = (c: Comparison): string[] =>
  c.series.flatMap((s) => s.changes.filter((x) => x.status === 'regression').map((x) => `${s.stage} ${s.path} ${s.phase} ${x.key}`));

describe('compareReports', () => {
  // 10 s at 500/s: 5,000 samples per steady series, enough for p50…p99 (p999 needs 10,000)
  const base = syntheticReport({ seed: 1 });

  it('happy: the same distribution drawn with another seed is noise, not a regression', () => {
    const c = compareReports(base, syntheticReport({ seed: 2 }), { tolerance: 0.1 });
    expect(c.regressions).toBe(0);
    expect(flagged(c)).toEqual([]);
    expect(c.series.length).toBeGreaterThan(0);
  });

  it('sad: the same distribution ×1.3 is a regression at every conclusive percentile of every stage', () => {
    const c = compareReports(base, syntheticReport({ seed: 2, scale: 1.3 }), { tolerance: 0.1 });
    const every = (keys: string[]): string[] => c.series.flatMap((s) => keys.map((k) => `${s.stage} ${s.path} ${s.phase} ${k}`));
    expect(c.series.map((s) => s.stage)).toEqual(expect.arrayContaining(['total', 'queue']));
    expect(flagged(c)).toEqual(every(['p50', 'p90', 'p95', 'p99']));
    const p999 = c.series[0]?.changes.find((x) => x.key === 'p999');
    expect(p999?.status).toBe('insufficient');
  });

  it('happy: ×1.3 is within a 40% tolerance (slower, but accepted)', () => {
    const c = compareReports(base, syntheticReport({ seed: 2, scale: 1.3 }), { tolerance: 0.4 });
    expect(c.regressions).toBe(0);
    expect(c.series[0]?.changes[0]?.status).toBe('same');
  });

  it('happy: a per-percentile tolerance overrides the global one', () => {
    const c = compareReports(base, syntheticReport({ seed: 2, scale: 1.3 }), { tolerance: 0.4, perKey: { p99: 0.05 } });
    expect(flagged(c)).toEqual(c.series.map((s) => `${s.stage} ${s.path} ${s.phase} p99`));
    expect(flagged(c)).toContain('total primary steady p99');
  });

  it('sad: a change beyond tolerance but within noise is "slower", not a regression (few samples)', () => {
    // 60 samples per run: p50 interval spans ranks 23..38, far wider than a 12% shift of a σ=0.5 lognormal
    const small = (seed: number, scale = 1) => syntheticReport({ seed, rate: 20, seconds: 3, scale });
    const c = compareReports(small(1), small(1, 1.12), { tolerance: 0.1 });
    const p50 = c.series.find((s) => s.stage === 'total')?.changes.find((x) => x.key === 'p50');
    expect(p50?.status).toBe('slower');
    expect(c.regressions).toBe(0);
  });

  it('happy: faster is reported, never flagged', () => {
    const c = compareReports(base, syntheticReport({ seed: 2, scale: 0.7 }), { tolerance: 0.1 });
    expect(c.regressions).toBe(0);
    expect(c.series[0]?.changes[0]?.status).toBe('faster');
  });

  it('happy: warmup phases are skipped and series in one report only are listed, not judged', () => {
    const cur = syntheticReport({ seed: 2, fallbackEvery: 10 });
    const c = compareReports(base, cur, { tolerance: 0.1 });
    expect(c.series.every((s) => s.phase === 'steady')).toBe(true);
    expect(c.onlyInCurrent).toEqual(expect.arrayContaining(['total fallback steady', 'queue fallback steady']));
    expect(c.onlyInBaseline).toEqual([]);
  });

  it('property: a report compared with itself changes by 0 and has no regression, whatever the tolerance', () => {
    const r = syntheticReport({ seed: 3, rate: 200, seconds: 5 });
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (tolerance) => {
        const c = compareReports(r, r, { tolerance });
        expect(c.regressions).toBe(0);
        for (const s of c.series) for (const x of s.changes) expect(x.change).toBe(0);
      }),
      { numRuns: 20 },
    );
  });

  it('property: same distribution, any two seeds → no regression at a 10% tolerance', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 1_000_000 }), (a, b) => {
        const c = compareReports(syntheticReport({ seed: a, rate: 300, seconds: 5 }), syntheticReport({ seed: b, rate: 300, seconds: 5 }), { tolerance: 0.1 });
        expect(flagged(c)).toEqual([]);
      }),
      { numRuns: 8 },
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
