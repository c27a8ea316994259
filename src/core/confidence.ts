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
import { countAtOrBelowMs, countOf, quantileMs, type Histogram } from './histograms.js';
import { tQuantile } from './stats.js';

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

/** Fewer windows than this give too few batches for a variance: the i.i.d. interval is used. */
export const MIN_WINDOWS = 5;

export interface TimedInterval {
  interval: [number, number];
  /** 'windows': the batch (window) variance was used, bounded below by the i.i.d. one; 'iid': no windows */
  method: 'windows' | 'iid';
  /** windows the variance was read from (0 for iid) */
  windows: number;
  /** V_w / V_iid (see below): how much the time structure inflates the variance; 1 for iid */
  designEffect: number;
}

/**
 * The 95% interval of the q-quantile that respects time (Woodruff's interval with a batch-means
 * variance): requests are not independent draws (a stall, a GC pause or a noisy neighbour hits many
 * at once), so the binomial variance of the order-statistic interval above is too small for them.
 *
 * Let x̂ be the q-quantile of all n samples, and cut the run into m windows (windows.ts) of n_j
 * samples, c_j of them ≤ x̂. The sample CDF at x̂ is F̂ = Σc_j / n. Taking windows, not requests, as
 * the independent units (batch means; the ratio estimator of cluster sampling):
 *
 *   V_w   = m/(m−1) · Σ_j (c_j − F̂·n_j)² / n²      (the variance of F̂ between windows)
 *   V_iid = q·(1−q) / n                            (the binomial variance, as above)
 *   h     = max(z·√V_iid, t₍ₘ₋₁₎·√V_w)             (half-width in probability; z = 1.96, t at 97.5%)
 *
 * and the interval is [X₍ₗ₎, X₍ᵤ₎] with l = ⌊n·(q − h)⌋, u = ⌈n·(q + h)⌉, clamped to [1, n] (Woodruff:
 * an interval for F at the quantile, read back through the sample quantile function). For i.i.d.
 * samples E[Σ(c_j − F·n_j)²] = n·F·(1−F), so V_w ≈ V_iid and the interval is the order-statistic one
 * up to chance and t/z; when a stall piles one window's requests above x̂, c_j scatter far beyond
 * binomial and the interval widens by about √(V_w / V_iid), the design effect. The i.i.d. interval is a
 * floor, never replaced by a narrower one. With fewer than MIN_WINDOWS windows, or windows that do not
 * account for every sample, the i.i.d. interval is returned and said so (`method`).
 */
export function timedQuantileInterval(h: Histogram, windows: readonly Histogram[] | undefined, q: number): TimedInterval | null {
  const n = countOf(h);
  const iid = quantileInterval(h, q);
  if (iid === null) return null;
  const fallback: TimedInterval = { interval: iid, method: 'iid', windows: 0, designEffect: 1 };
  const ws = (windows ?? []).filter((w) => countOf(w) > 0);
  const m = ws.length;
  if (m < MIN_WINDOWS || ws.reduce((s, w) => s + countOf(w), 0) !== n) return fallback;
  const x = quantileMs(h, q);
  const c = ws.map((w) => countAtOrBelowMs(w, x));
  const F = c.reduce((s, k) => s + k, 0) / n;
  let ss = 0;
  for (const [j, w] of ws.entries()) ss += ((c[j] as number) - F * countOf(w)) ** 2;
  const vw = ((m / (m - 1)) * ss) / (n * n);
  const viid = (q * (1 - q)) / n;
  const half = Math.max(Z95 * Math.sqrt(viid), tQuantile(0.975, m - 1) * Math.sqrt(vw));
  const l = Math.min(n, Math.max(1, Math.floor(n * (q - half) + 1e-9)));
  const u = Math.min(n, Math.max(1, Math.ceil(n * (q + half) - 1e-9)));
  const lo = Math.min(valueAtRankMs(h, l), iid[0]);
  const hi = Math.max(valueAtRankMs(h, u), iid[1]);
  return { interval: [lo, hi], method: 'windows', windows: m, designEffect: viid > 0 ? vw / viid : 1 };
}
