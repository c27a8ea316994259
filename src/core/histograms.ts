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

/** The fields of hdr-histogram-js 3.0.1's JsHistogram that recordValue updates (TypedArrayHistogram holds `_counts`). */
interface HdrFields {
  _counts: Uint32Array;
  _totalCount: number;
  maxValue: number;
  minNonZeroValue: number;
  countsArrayLength: number;
  unitMagnitude: number;
  unitMagnitudeMask: number;
  subBucketHalfCountMagnitude: number;
  lowestDiscernibleValueRounded: number;
}

/** whether createHistogram's histograms are laid out as recordFast assumes; else every value goes through recordValue */
export const FAST_RECORD = ((): boolean => {
  const f = createHistogram() as unknown as HdrFields;
  return f._counts instanceof Uint32Array && f.unitMagnitude === 0 && f.unitMagnitudeMask === 0 && f.subBucketHalfCountMagnitude === 10 && f.lowestDiscernibleValueRounded === 1 && typeof f._totalCount === 'number' && typeof f.countsArrayLength === 'number';
})();

/**
 * hdr-histogram-js's recordValue for this module's histograms (lowest discernible value 1, so
 * unitMagnitude 0; 3 digits, so subBucketHalfCountMagnitude 10), in integer arithmetic. For an
 * integer 0 ≤ v < 2³¹ the library computes, with Math.log2, Math.pow and a division,
 *
 *   bucket = max(⌊log₂ v⌋ − 10, 0) = max(21 − clz32(v), 0)        (⌊log₂ v⌋ = 31 − clz32(v); v = 0: bucket 0)
 *   sub    = ⌊v ÷ 2^bucket⌋        = v >>> bucket
 *   index  = (bucket + 1)·2¹⁰ + sub − 2¹⁰ = bucket·2¹⁰ + sub
 *
 * then counts[index] += 1, max/min non-zero, and the total count (at 57 ns a value, 7 values per
 * response, it was a fifth of budgetgate's own work per closed-model response). The library itself
 * records larger values and any value whose index needs a larger counts array (it resizes).
 * test/core/histograms.test.ts checks the index and the whole state against recordValue.
 */
function recordFast(h: Histogram, v: number): boolean {
  if (!(v < 2147483648)) return false;
  const f = h as unknown as HdrFields;
  // a histogram decoded from elsewhere may have other magnitudes: the library's own arithmetic then
  if (f.subBucketHalfCountMagnitude !== 10 || f.unitMagnitude !== 0) return false;
  const b = Math.max(21 - Math.clz32(v), 0);
  const i = (b << 10) + (v >>> b);
  if (i >= f.countsArrayLength) return false;
  f._counts[i] = (f._counts[i] as number) + 1;
  if (v > f.maxValue) f.maxValue = v;
  if (v !== 0 && v < f.minNonZeroValue) f.minNonZeroValue = v;
  f._totalCount++;
  return true;
}

/** Records a duration given in ms; negative or non-finite values are refused by the caller's contract. */
export function recordMs(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  const v = us < 0 ? 0 : us > HIGHEST_US ? HIGHEST_US : us;
  if (!FAST_RECORD || !recordFast(h, v)) h.recordValue(v);
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
 * histograms, so that those first calls are not also the slowest. Cold, on one window of 10,000
 * values, they took 1.9, 0.8–1.1 and 0.2–1.4 ms (encode, add, two quantiles); after this, 0.6,
 * 0.05 and 0.13 ms. The driver calls it before it opens its sockets. Pure (a fixed window);
 * returns a checksum so that no call is dead code.
 *
 * The window is decoded, not recorded: recording scratch values compiled the per-request record
 * path on values the run never records, and the first 0.5 s of a 5,000 req/s run came out later
 * than with no warm-up at all (p99 5.3 ms against 3.5, mean of 6 alternating runs); decoded, the
 * start is as before (3.6 against 3.4) and 1.0–1.5 s at 10,000 req/s is a little earlier (p99 2.08
 * against 2.38 ms, max 3.95 against 4.26, mean of 8 alternating runs).
 */
export function warmHistogramCode(rounds = WARM_ROUNDS): number {
  let sum = 0;
  const total = createHistogram();
  const window = createHistogram();
  const values = decodeHistogram(WARM_WINDOW);
  for (let r = 0; r < rounds; r++) {
    window.add(values);
    total.add(window);
    sum += encodeHistogram(window).length + quantileMs(window, 0.5) + quantileMs(total, 0.99);
    window.reset();
  }
  return sum;
}

/** 4 rounds (≈ 10 ms): with 12 the first real calls were no faster (encode 0.57–0.61 ms against 0.40–0.62) */
const WARM_ROUNDS = 4;

/** 2,000 values spread over 0.05–50 ms (value i: 0.05 + (7919·i mod 50,000) / 1000 ms), encoded: what a window of a loopback or an inference run holds */
export const WARM_WINDOW =
  'HISTFAAAAXl4nK2RPU7EMBCFH8+2VgFFWyAqQBTUW1Bzlq24CjfYkpYzcR4UO449tifxrrI/E/vN3zeTl+/LI3D/A+AOgEH4TGf8XX4R719889+zeJ4L9XO3qDKnJ+aDI488eTvylNl1VfqOfO7IGflaZLVqlTnvdHR84mF+Oh683VLDbV0NeUl9EPXcEiXVsaN7jLquf0stu7fUnt6GA+G/8ekImuw+LNYUUbU+CLWs3FKDXVelr60OnqLFZ6q6SXUV4fbkLVVOuN82JJ+2D1PMfvtGasZ99lHvubWRGGVIerMciHiCdKSIcIOiR2dT93+UnUQENEcGpZBdTZw3guboYtan3UJesNps/dAVAlZeUBey8h5UZqMgm5uJBQE0RwezuRkZVJjBDWgLS9jJcv5Nx8naTEZyRo1WaNIZj0KbOmYJQV6cVuTktSsYyxoGEkYOJWBS7QomAioDxKMYqoZJQ0EMxdZQcutchRFDNTdsxVBy69Rh5sLlhv8BlZQ1AA==';
