/**
 * Percentile curves for the HTML report's plots (x = 1/(1−q) on a log axis; see html.ts): the grid
 * of 24 points per decade from 1 up to and including xMax, and a histogram read on it.
 */
import { countOf, quantileMs, type Histogram } from '../../core/histograms.js';

/** x = 1/(1−q) grid: 24 points per decade from 1 up to and including xMax */
export function percentileGrid(xMax: number): number[] {
  const out: number[] = [];
  for (let i = 0; ; i++) {
    const x = 10 ** (i / 24);
    if (x >= xMax) break;
    out.push(x);
  }
  out.push(Math.max(1, xMax));
  return out;
}

/**
 * Latency (ms) at each x: q = 1 − 1/x (x = 1: q = 0, the smallest sample); the last point, x = n, is
 * the largest sample, which q = 1 − 1/n (rank n − 1) would miss; past n a histogram has nothing to say.
 */
export function curveOf(h: Histogram, x: readonly number[]): (number | null)[] {
  const n = countOf(h);
  return x.map((xi) => (xi > n * (1 + 1e-9) ? null : xi >= n * (1 - 1e-9) ? quantileMs(h, 1) : quantileMs(h, 1 - 1 / xi)));
}
