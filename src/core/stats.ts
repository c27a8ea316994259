/**
 * The few distribution functions the intervals and tests need, in closed form or by standard
 * approximations (accuracy noted beside each; ample for 95%–99.9% critical values and for ordering
 * p-values in Holm's procedure).
 */

/** Φ(x), the standard normal CDF. Abramowitz & Stegun 7.1.26 for erf: |error| < 1.5·10⁻⁷. */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Φ⁻¹(p) for p ∈ (0, 1): Acklam's rational approximation, relative error < 1.2·10⁻⁹. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p <= 0 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  // the tails: x = C(q) / (D(q)·q + 1) with q = √(−2 ln p), C and D polynomials by Horner's rule
  const tail = (q: number): number => c.reduce((s, k) => s * q + k, 0) / (d.reduce((s, k) => s * q + k, 0) * q + 1);
  if (p < lo) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - lo) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (q * a.reduce((s, k) => s * r + k, 0)) / (b.reduce((s, k) => s * r + k, 0) * r + 1);
}

/**
 * The p-quantile of Student's t with ν degrees of freedom: exact for ν = 1, 2; otherwise the
 * Cornish–Fisher expansion (A&S 26.7.5), within 10⁻³ of the table for ν ≥ 3 at p ≤ 0.999; ν = ∞ → Φ⁻¹.
 */
export function tQuantile(p: number, nu: number): number {
  if (!Number.isFinite(nu)) return normalQuantile(p);
  if (nu <= 1) return Math.tan(Math.PI * (p - 0.5));
  if (nu <= 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const z = normalQuantile(p);
  const z2 = z * z;
  const g1 = (z2 + 1) * z / 4;
  const g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
  const g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
  return z + g1 / nu + g2 / nu ** 2 + g3 / nu ** 3 + g4 / nu ** 4;
}

/**
 * P(T > t) for Student's t with ν degrees of freedom: exact for ν = 1, 2; otherwise the normal
 * approximation z = t·(1 − 1/(4ν)) / √(1 + t²/(2ν)) (A&S 26.7.8): within ~5% of p for ν ≥ 20, and
 * larger than the true p (conservative) for small ν: 0.029 for 0.025 at ν = 5, 0.019 for 0.005 at ν = 3.
 */
export function tSurvival(t: number, nu: number): number {
  if (!Number.isFinite(nu)) return 1 - normalCdf(t);
  if (nu <= 1) return 0.5 - Math.atan(t) / Math.PI;
  if (nu <= 2) return 0.5 - t / (2 * Math.sqrt(2 + t * t));
  return 1 - normalCdf((t * (1 - 1 / (4 * nu))) / Math.sqrt(1 + (t * t) / (2 * nu)));
}

/**
 * Holm–Bonferroni: which of m one-sided p-values are rejected with family-wise error ≤ α. Sorted
 * ascending p₍₁₎ ≤ … ≤ p₍ₘ₎, reject p₍ₖ₎ while p₍ₖ₎ ≤ α / (m − k + 1) for every k up to it; stop at the
 * first that is not. Returns a flag per input, in input order.
 */
export function holm(pValues: readonly number[], alpha: number): boolean[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<boolean>(m).fill(false);
  for (let k = 0; k < m; k++) {
    const [p, i] = order[k] as readonly [number, number];
    if (!(p <= alpha / (m - k))) break;
    out[i] = true;
  }
  return out;
}
