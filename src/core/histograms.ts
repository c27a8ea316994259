/**
 * The only importer of hdr-histogram-js. Values are recorded as integer microseconds (the library
 * truncates fractions, so we round ourselves) and reported in milliseconds.
 *
 * Precision: 3 significant digits. HDR guarantees that a reported value v̂ for a recorded value v
 * satisfies |v̂ − v| ≤ v · 10⁻³ (value units equivalent within 0.1%), so a percentile read here is the
 * true order statistic to within 0.1% (plus the ≤ 0.5 µs rounding on entry). Memory is a function of
 * the value range only, never of the sample count: constant however long the run.
 *
 * Only the JS implementation is used: WebAssembly histograms leak unless destroyed and cannot be added
 * to JS ones, and reports are merged across processes.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

export interface LatencySummary {
  count: number;
  /** all in milliseconds */
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

const HIGHEST_US = 3_600_000_000; // one hour: longer than any request timeout we accept

export function createHistogram(): Histogram {
  return hdr.build({
    useWebAssembly: false,
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records a duration given in ms; negative or non-finite values are refused by the caller's contract. */
export function recordMs(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  h.recordValue(us < 0 ? 0 : us > HIGHEST_US ? HIGHEST_US : us);
}

/** A new histogram holding every value of every input (HDR addition is exact). */
export function mergeHistograms(hs: readonly Histogram[]): Histogram {
  const out = createHistogram();
  for (const h of hs) out.add(h);
  return out;
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/**
 * Throws a plain Error on a malformed string; callers that read files wrap it in a typed error.
 * The encoding keeps bucket counts only, so the decoded maximum is its bucket's top; pass the exact
 * maximum the report kept beside the histogram (`series[].max`) and quantiles read exactly as live.
 */
export function decodeHistogram(encoded: string, exactMaxMs?: number | null): Histogram {
  const h = hdr.decodeFromCompressedBase64(encoded, 32, false) as hdr.JsHistogram;
  h.autoResize = true;
  if (exactMaxMs !== undefined && exactMaxMs !== null && h.totalCount > 0) {
    const us = Math.round(exactMaxMs * 1000);
    // only within the decoded max's bucket: a max from another histogram must not corrupt this one
    if (us <= h.maxValue && h.lowestEquivalentValue(h.maxValue) <= us) h.maxValue = us;
  }
  return h;
}

/**
 * The value at quantile q ∈ [0, 1] in ms: the highest value equivalent to that order statistic
 * (HdrHistogram's convention, the conservative side for a budget), but never above the recorded
 * maximum, so 1,000 samples of 999.95 ms read as p99 = 999.95 ms, not the bucket's top 1000.447 ms.
 */
export function quantileMs(h: Histogram, q: number): number {
  if (h.totalCount === 0) return Number.NaN;
  return Math.min(h.getValueAtPercentile(q * 100), h.maxValue) / 1000;
}

export function countOf(h: Histogram): number {
  return h.totalCount;
}

export function meanMs(h: Histogram): number {
  return h.totalCount === 0 ? Number.NaN : Math.min(h.mean, h.maxValue) / 1000;
}

export function maxMs(h: Histogram): number {
  return h.totalCount === 0 ? Number.NaN : h.maxValue / 1000;
}

export function summarize(h: Histogram): LatencySummary {
  return {
    count: h.totalCount,
    mean: meanMs(h),
    p50: quantileMs(h, 0.5),
    p90: quantileMs(h, 0.9),
    p95: quantileMs(h, 0.95),
    p99: quantileMs(h, 0.99),
    p999: quantileMs(h, 0.999),
    max: maxMs(h),
  };
}

/**
 * How many recorded values are ≤ `ms` (a value read from a histogram of the same configuration, so
 * bucket boundaries coincide): the buckets whose lowest equivalent value is ≤ it.
 */
export function countAtOrBelowMs(h: Histogram, ms: number): number {
  const js = h as hdr.JsHistogram;
  const us = Math.round(ms * 1000);
  const it = js.recordedValuesIterator;
  it.reset();
  let c = 0;
  while (it.hasNext()) {
    const v = it.next();
    if (js.lowestEquivalentValue(v.valueIteratedTo) > us) break;
    c = v.totalCountToThisValue;
  }
  return c;
}

/**
 * Runs the histogram code a run first calls at its first second boundary (encode, add, two
 * quantiles, reset: windows.ts settles a closed window, the recorder closes a second) on scratch
 * histograms, so that those first calls are not also the slowest. Cold, they held the sender's loop
 * 4–6 ms at t = 1 s and 2–3 ms at t = 2 s (measured on one window of 10,000 values: encode 1.7 ms,
 * add 1.1 ms, two quantiles 1.4 ms; warm 0.3, 0.05 and 0.07 ms): at 10,000 req/s that put 50 sends
 * 3–6 ms late every run. The driver calls it before t = 0. Pure (fixed values); returns a checksum
 * so that no call is dead code.
 */
export function warmHistogramCode(rounds = WARM_ROUNDS): number {
  let sum = 0;
  const total = createHistogram();
  const window = createHistogram();
  for (let r = 0; r < rounds; r++) {
    // 0.05–50 ms, spread over the buckets a loopback or an inference run fills
    for (let i = 0; i < 2000; i++) recordMs(window, 0.05 + ((i * 7919 + r * 104729) % 50_000) / 1000);
    total.add(window);
    sum += encodeHistogram(window).length + quantileMs(window, 0.5) + quantileMs(total, 0.99);
    window.reset();
  }
  return sum;
}

/** 4 calls (≈ 10 ms) left the first real ones as fast as the 12th; 3 already did */
const WARM_ROUNDS = 4;
