import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quantileInterval, quantileRanks, straddles, valueAtRankMs } from '../../src/core/confidence.js';
import { createHistogram, recordMs } from '../../src/core/histograms.js';
import { lognormal } from '../report/synthetic.js';

/** n samples of 0.001·k ms for k = 1..n: below 2.048 ms HDR stores them exactly, so rank r reads r µs */
function ramp(n: number) {
  const h = createHistogram();
  for (let k = 1; k <= n; k++) recordMs(h, k / 1000);
  return h;
}

describe('quantileRanks', () => {
  it.each([
    // n·q ∓ 1.96·√(n·q·(1−q))
    ['happy: median of 100 → 50 ∓ 9.8 → [40, 60]', 100, 0.5, [40, 60]],
    ['happy: p99 of 1000 → 990 ∓ 6.17 → [983, 997]', 1000, 0.99, [983, 997]],
    ['happy: p90 of 10000 → 9000 ∓ 58.8 → [8941, 9059]', 10_000, 0.9, [8941, 9059]],
    ['sad: p99 of 50 clamps the upper rank to n (49.5 ∓ 1.38 → [48, 51] → [48, 50])', 50, 0.99, [48, 50]],
    ['sad: a single sample is its own interval', 1, 0.5, [1, 1]],
    ['sad: no samples, no interval', 0, 0.5, null],
  ] as const)('%s', (_name, n, q, want) => {
    expect(quantileRanks(n, q)).toEqual(want);
  });

  it('property: 1 ≤ l ≤ n·q ≤ u ≤ n (clamped), and the interval narrows relative to n as n grows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0.01, max: 0.999, noNaN: true }), (n, q) => {
        const r = quantileRanks(n, q);
        expect(r).not.toBeNull();
        const [l, u] = r as [number, number];
        expect(1 <= l && l <= u && u <= n).toBe(true);
        expect(l).toBeLessThanOrEqual(Math.max(1, Math.ceil(n * q)));
        expect(u).toBeGreaterThanOrEqual(Math.min(n, Math.floor(n * q)));
        const [l4, u4] = quantileRanks(n * 4, q) as [number, number];
        expect((u4 - l4) / (4 * n)).toBeLessThanOrEqual((u - l) / n + 2 / n);
      }),
    );
  });
});

describe('valueAtRankMs / quantileInterval', () => {
  it('property: the r-th smallest of an exactly stored ramp is r µs', () => {
    const h = ramp(2000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), (r) => {
        expect(valueAtRankMs(h, r)).toBeCloseTo(r / 1000, 9);
      }),
    );
  });

  it.each([
    ['happy: median of a 1..100 µs ramp reads ranks 40 and 60', 100, 0.5, [0.04, 0.06]],
    ['happy: p99 of a 1..1000 µs ramp reads ranks 983 and 997', 1000, 0.99, [0.983, 0.997]],
  ] as const)('%s', (_name, n, q, want) => {
    const i = quantileInterval(ramp(n), q);
    expect(i?.[0]).toBeCloseTo(want[0], 9);
    expect(i?.[1]).toBeCloseTo(want[1], 9);
  });

  it('sad: an empty histogram has no interval', () => {
    expect(quantileInterval(createHistogram(), 0.99)).toBeNull();
  });

  it('property: coverage — the 95% interval of the median of 400 lognormal samples holds the true median (100 ms) in about 95% of seeds', () => {
    let hits = 0;
    const runs = 200;
    for (let seed = 1; seed <= runs; seed++) {
      const next = lognormal(seed, 100, 0.5);
      const h = createHistogram();
      for (let i = 0; i < 400; i++) recordMs(h, next());
      const [lo, hi] = quantileInterval(h, 0.5) as [number, number];
      if (lo <= 100 * 1.001 && 100 <= hi * 1.001) hits++;
    }
    // Binomial(200, 0.95) has sd ≈ 3.1: 0.88 is more than 4 sd below the nominal 0.95
    expect(hits / runs).toBeGreaterThan(0.88);
  });
});

describe('straddles', () => {
  it.each([
    ['happy: limit inside the interval', [90, 110], 100, true],
    ['happy: limit at the lower bound counts as inside', [100, 110], 100, true],
    ['sad: limit at the upper bound does not (the whole interval is ≤ limit)', [90, 100], 100, false],
    ['sad: interval wholly below the limit', [80, 90], 100, false],
    ['sad: interval wholly above the limit', [110, 120], 100, false],
    ['sad: no interval', null, 100, false],
  ] as const)('%s', (_name, interval, limit, want) => {
    expect(straddles(interval as [number, number] | null, limit)).toBe(want);
  });
});
