/**
 * How far a percentile read from a run could be from the endpoint's true percentile, without assuming
 * any shape for the latency distribution.
 *
 * Order statistics: with n independent samples and X₍₁₎ ≤ … ≤ X₍ₙ₎ sorted, the number of samples below
 * the true q-quantile ξ is Binomial(n, q). So P(X₍ₗ₎ ≤ ξ ≤ X₍ᵤ₎) = P(l ≤ B < u) for B ~ Binomial(n, q),
 * and with the normal approximation of the binomial (mean n·q, sd √(n·q·(1−q))) the 95% interval is
 *
 *   l = ⌊n·q − 1.96·√(n·q·(1−q))⌋,  u = ⌈n·q + 1.96·√(n·q·(1−q))⌉,  both clamped to [1, n],
 *
 * read as [X₍ₗ₎, X₍ᵤ₎]. Flooring and ceiling widen the interval, so coverage is at least nominal where
 * the approximation holds (n·q·(1−q) ≳ 5; the minimum-sample rule in budgets.ts keeps n·(1−q) ≥ 10).
 * When the clamp bites (too few samples in the tail) the interval is simply as wide as the data allows.
 *
 * Each X₍ᵣ₎ is read from the HDR histogram like any percentile (the highest value equivalent to that
 * rank, never above the recorded maximum), so it carries the histogram's 0.1% precision too.
 */
import { countOf, quantileMs, type Histogram } from './histograms.js';

/** two-sided 95%: Φ⁻¹(0.975) */
export const Z95 = 1.96;

/** The 1-based ranks [l, u] bounding the q-quantile of n samples (see the module comment); null when n = 0. */
export function quantileRanks(n: number, q: number, z = Z95): [number, number] | null {
  if (n <= 0) return null;
  const centre = n * q;
  const half = z * Math.sqrt(n * q * (1 - q));
  // 1e-9 absorbs float noise so that an exact integer rank is not pushed one step outward
  const l = Math.min(n, Math.max(1, Math.floor(centre - half + 1e-9)));
  const u = Math.min(n, Math.max(1, Math.ceil(centre + half - 1e-9)));
  return [l, u];
}

/**
 * The value of the r-th smallest sample (1-based), ms. HdrHistogram rounds the requested count up
 * (count = ⌈p·n⌉), so asking for p = (r − ½)/n lands on rank r whatever the floating-point error.
 */
export function valueAtRankMs(h: Histogram, r: number): number {
  const n = countOf(h);
  if (n === 0) return Number.NaN;
  const rank = Math.min(n, Math.max(1, Math.round(r)));
  return quantileMs(h, (rank - 0.5) / n);
}

/** The 95% confidence interval of the q-quantile, [lo, hi] in ms; null for an empty histogram. */
export function quantileInterval(h: Histogram, q: number, z = Z95): [number, number] | null {
  const ranks = quantileRanks(countOf(h), q, z);
  if (!ranks) return null;
  return [valueAtRankMs(h, ranks[0]), valueAtRankMs(h, ranks[1])];
}

/**
 * An interval straddles a limit when the limit lies inside it: lo ≤ limit < hi. Then the data cannot
 * tell whether the true percentile is under or over the limit, whichever side the point estimate fell.
 */
export function straddles(interval: readonly [number, number] | null, limit: number): boolean {
  return interval !== null && interval[0] <= limit && limit < interval[1];
}
