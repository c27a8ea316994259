/**
 * The time-aware interval (confidence.ts timedQuantileInterval) on synthetic series of windows: a
 * stall that hits one stretch of the run widens it; the same values spread independently over the run
 * do not. Rates are stated over fixed seeds, never "always".
 */
import { describe, expect, it } from 'vitest';
import { MIN_WINDOWS, quantileInterval, timedQuantileInterval } from '../../src/core/confidence.js';
import { createHistogram, mergeHistograms, recordMs, type Histogram } from '../../src/core/histograms.js';
import { mulberry32 } from '../../src/sim/prng.js';
import { lognormal } from '../report/synthetic.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => 1000 + i);

/** m windows of k lognormal samples (median 20 ms, σ 0.3); `stall` adds `extra` ms to whole windows */
function windows(seed: number, m: number, k: number, stall: (w: number, i: number, rng: () => number) => number = () => 0): Histogram[] {
  const next = lognormal(seed, 20, 0.3);
  const rng = mulberry32(seed * 7 + 3);
  return Array.from({ length: m }, (_, w) => {
    const h = createHistogram();
    for (let i = 0; i < k; i++) recordMs(h, next() + stall(w, i, rng));
    return h;
  });
}

const width = (i: [number, number]): number => i[1] - i[0];

function ratio(ws: Histogram[], q: number): number {
  const all = mergeHistograms(ws);
  const t = timedQuantileInterval(all, ws, q);
  const iid = quantileInterval(all, q);
  expect(t?.method).toBe('windows');
  return width(t?.interval as [number, number]) / width(iid as [number, number]);
}

describe('timedQuantileInterval', () => {
  it('happy: i.i.d. noise does not widen it: p50 and p99 of 30 windows × 200 samples stay within 1.5× the order-statistic interval in every one of 20 seeds (mean ≤ 1.25×)', () => {
    for (const q of [0.5, 0.99]) {
      const rs = SEEDS.map((s) => ratio(windows(s, 30, 200), q));
      expect(Math.max(...rs)).toBeLessThanOrEqual(1.5);
      expect(rs.reduce((a, b) => a + b, 0) / rs.length).toBeLessThanOrEqual(1.25);
    }
  });

  it('sad: a clustered stall widens it: 3 of 30 windows +40 ms widen p99 at least 2× in every one of 20 seeds', () => {
    const stalled = new Set([7, 8, 21]);
    for (const s of SEEDS) expect(ratio(windows(s, 30, 200, (w) => (stalled.has(w) ? 40 : 0)), 0.99)).toBeGreaterThanOrEqual(2);
  });

  it('happy: the same slow requests spread independently over the run (10% of requests +40 ms, any window) widen p99 by at most 1.5× in every one of 20 seeds', () => {
    for (const s of SEEDS) expect(ratio(windows(s, 30, 200, (_w, _i, rng) => (rng() < 0.1 ? 40 : 0)), 0.99)).toBeLessThanOrEqual(1.5);
  });

  it('sad: a drift across the run (the second half 15% slower) widens p50 at least 2× in every one of 20 seeds', () => {
    for (const s of SEEDS) expect(ratio(windows(s, 30, 200, (w) => (w >= 15 ? 3 : 0)), 0.5)).toBeGreaterThanOrEqual(2);
  });

  it('happy: never narrower than the i.i.d. interval, and it contains the point estimate', () => {
    for (const s of SEEDS) {
      const ws = windows(s, 12, 100);
      const all = mergeHistograms(ws);
      for (const q of [0.5, 0.9, 0.99]) {
        const t = timedQuantileInterval(all, ws, q)?.interval as [number, number];
        const iid = quantileInterval(all, q) as [number, number];
        expect(t[0]).toBeLessThanOrEqual(iid[0]);
        expect(t[1]).toBeGreaterThanOrEqual(iid[1]);
      }
    }
  });

  it.each([
    ['sad: no windows (a report written before them)', () => undefined],
    ['sad: fewer than MIN_WINDOWS windows', (ws: Histogram[]) => ws.slice(0, MIN_WINDOWS - 1)],
    ['sad: windows that do not hold every sample', (ws: Histogram[]) => ws.slice(1)],
  ])('%s → the i.i.d. interval, said so', (_name, pick) => {
    const ws = windows(5, 10, 100);
    const all = mergeHistograms(ws);
    const t = timedQuantileInterval(all, pick(ws), 0.9);
    expect(t?.method).toBe('iid');
    expect(t?.interval).toEqual(quantileInterval(all, 0.9));
  });

  it('happy: coverage under correlation — with a stall in a random 10% of windows, the median interval holds the true median of the process in at least 90% of 60 seeds (seen: 59); the i.i.d. one in under 80% (seen: 35)', () => {
    // the process: each window is slowed by 8 ms with probability 0.1; its true median is found from one huge run
    const proc = (seed: number, m: number) => windows(seed, m, 100, (w) => (mulberry32(seed * 31 + w)() < 0.1 ? 8 : 0));
    // 150,000 samples: the process's median to well within the width of a 3,000-sample interval
    const truth = quantileInterval(mergeHistograms(proc(99_999, 1500)), 0.5)?.[0] as number;
    let timed = 0;
    let iid = 0;
    for (let s = 1; s <= 60; s++) {
      const ws = proc(s, 30);
      const all = mergeHistograms(ws);
      const t = timedQuantileInterval(all, ws, 0.5)?.interval as [number, number];
      const i = quantileInterval(all, 0.5) as [number, number];
      if (t[0] <= truth && truth <= t[1]) timed++;
      if (i[0] <= truth && truth <= i[1]) iid++;
    }
    expect(timed).toBeGreaterThanOrEqual(54);
    expect(iid).toBeLessThan(48);
  });
});
