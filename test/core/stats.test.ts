import { describe, expect, it } from 'vitest';
import { holm, normalCdf, normalQuantile, tQuantile, tSurvival } from '../../src/core/stats.js';

describe('distribution functions against their tables', () => {
  it.each([
    ['happy: Φ⁻¹(0.975)', () => normalQuantile(0.975), 1.959964, 1e-5],
    ['happy: Φ⁻¹(0.001) (lower tail branch)', () => normalQuantile(0.001), -3.090232, 1e-5],
    ['happy: Φ(1.96)', () => normalCdf(1.96), 0.975002, 1e-6],
    ['happy: t(0.975, 1) exact', () => tQuantile(0.975, 1), 12.7062, 1e-3],
    ['happy: t(0.975, 2) exact', () => tQuantile(0.975, 2), 4.3027, 1e-3],
    ['happy: t(0.975, 5)', () => tQuantile(0.975, 5), 2.5706, 5e-3],
    ['happy: t(0.975, 14)', () => tQuantile(0.975, 14), 2.1448, 1e-3],
    ['happy: t(0.995, 29)', () => tQuantile(0.995, 29), 2.7564, 1e-3],
    ['happy: P(T > 2.086) at ν = 20', () => tSurvival(2.086, 20), 0.025, 1e-3],
    ['happy: P(T > 1.96) at ν = ∞', () => tSurvival(1.96, Number.POSITIVE_INFINITY), 0.025, 1e-4],
  ] as const)('%s', (_name, f, want, tol) => {
    expect(Math.abs(f() - want)).toBeLessThanOrEqual(tol);
  });

  it('sad: at small ν the t tail is over-estimated, never under (conservative for a gate)', () => {
    expect(tSurvival(2.5706, 5)).toBeGreaterThanOrEqual(0.025);
    expect(tSurvival(5.8409, 3)).toBeGreaterThanOrEqual(0.005);
  });
});

describe('holm', () => {
  it.each([
    // α = 0.05, m = 4: thresholds 0.0125, 0.0167, 0.025, 0.05 for the sorted p-values
    ['happy: the textbook case rejects the two smallest', [0.01, 0.04, 0.03, 0.005], [true, false, false, true]],
    ['happy: all below their thresholds → all rejected', [0.001, 0.002, 0.003, 0.04], [true, true, true, true]],
    ['sad: the smallest fails α/m → nothing rejected, though each is below α', [0.02, 0.03, 0.04, 0.045], [false, false, false, false]],
    ['sad: stops at the first non-rejection (0.04 ≤ 0.05 but comes after 0.03 > 0.025)', [0.001, 0.01, 0.03, 0.04], [true, true, false, false]],
    ['sad: no tests', [], []],
  ] as const)('%s', (_name, ps, want) => {
    expect(holm(ps, 0.05)).toEqual(want);
  });
});
