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
  const f = h as unknown as HdrFields;
  // a histogram decoded from elsewhere may have other magnitudes: the library's own arithmetic then
  if (f.subBucketHalfCountMagnitude !== 10 || f.unitMagnitude !== 0) return false;
  const i = indexOf(v);
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

/**
 * A histogram's bucket counts packed for keeping in memory (windows.ts keeps a run's closed windows
 * so), read back without zlib and without a new histogram: a window is encoded to the report's
 * compressed base64 once, and never decoded in the run. Decoding base64 made a new histogram (a 94 KB
 * counts array) and an inflate stream per window, all garbage outside V8's heap: re-binning 240
 * windows of 8 series at once held one record call for 40 ms and raised peak RSS by half (94 →
 * 150 MB, a 300 s run against a 60 s one), and glibc kept it. Packed: 9 ms cold, 1 ms a series after,
 * and 98 MB.
 *
 * Grammar (unsigned LEB128 varints, base 128 in arithmetic so values up to 2⁵³ pass):
 *
 *   packed := 0 (gap count)*      index form: bucket index i = previous i + 1 + gap (first: gap)
 *           | 1 (delta count)*    value form: value v = previous v + delta, its bucket's lowest; the
 *                                 last pair is the top bucket's highest value with count 0
 *
 * The index form is this module's layout (FAST_RECORD: lowest 1, 3 digits), where index i holds
 * the values from lowestOf(i) = sub·2ᵇ (b = max(⌊i / 2¹⁰⌋ − 1, 0), sub = i − b·2¹⁰) to the top of
 * its bucket; any other histogram takes the value form, through the library's public API. Read back,
 * a histogram's maximum is its top bucket's highest value and its minimum its lowest bucket's lowest,
 * as decoding base64 gives.
 */
export function packHistogram(h: Histogram, form: 'index' | 'value' = fastLayout(h) ? 'index' : 'value'): Uint8Array {
  const out = new Varints();
  if (form === 'index') {
    const f = h as unknown as HdrFields;
    out.put(0);
    const end = Math.min(f.countsArrayLength, indexOf(f.maxValue) + 1);
    let prev = -1;
    for (let i = 0; i < end; i++) {
      const c = f._counts[i] as number;
      if (c === 0) continue;
      out.put(i - prev - 1);
      out.put(c);
      prev = i;
    }
  } else {
    out.put(1);
    const it = (h as hdr.JsHistogram).recordedValuesIterator;
    it.reset();
    const js = h as hdr.JsHistogram;
    let prev = 0;
    let top = -1;
    while (it.hasNext()) {
      const v = it.next();
      const low = js.lowestEquivalentValue(v.valueIteratedTo);
      out.put(low - prev);
      out.put(v.countAtValueIteratedTo);
      prev = low;
      top = js.highestEquivalentValue(v.valueIteratedTo);
    }
    // each bucket at its lowest value (the minimum decoding gives); a count of 0 at the top bucket's highest sets the maximum
    if (top >= 0) {
      out.put(top - prev);
      out.put(0);
    }
  }
  return out.bytes();
}

/** Adds a packed histogram's counts to `h` (resized by the library when it must be). */
export function addPacked(h: Histogram, packed: Uint8Array): void {
  const r = new VarintReader(packed);
  const form = r.next();
  const js = h as hdr.JsHistogram;
  if (form === 1) {
    for (let v = 0; r.more(); ) {
      v += r.next();
      js.recordValueWithCount(v, r.next());
    }
    return;
  }
  if (form !== 0) throw new Error(`packed histogram: unknown form ${form}`);
  const f = h as unknown as HdrFields;
  const fast = fastLayout(h);
  let sum = 0;
  let minIdx = -1;
  let maxIdx = -1;
  let slowMax = -1;
  for (let i = -1; r.more(); ) {
    i += r.next() + 1;
    const c = r.next();
    if (fast && i < f.countsArrayLength) {
      f._counts[i] = (f._counts[i] as number) + c;
      sum += c;
      if (minIdx < 0 && i !== 0) minIdx = i;
      maxIdx = i;
    } else {
      js.recordValueWithCount(lowestOf(i), c);
      slowMax = i;
    }
  }
  if (slowMax >= 0) js.recordValueWithCount(topOf(slowMax), 0);
  if (sum === 0) return;
  f._totalCount += sum;
  if (maxIdx >= 0) f.maxValue = Math.max(f.maxValue, topOf(maxIdx));
  if (minIdx >= 0) f.minNonZeroValue = Math.min(f.minNonZeroValue, lowestOf(minIdx));
}

/**
 * Several packed histograms as one: a single one is returned as it is, else the same bytes as packing
 * the sum of them. Inputs in the index form merge as sorted lists (index by index, counts added: no
 * histogram, no scan of empty buckets); any in the value form go through `scratch` (left reset).
 */
export function mergePacked(list: readonly Uint8Array[], scratch: Histogram): Uint8Array {
  if (list.length === 1) return list[0] as Uint8Array;
  if (list.every((p) => p[0] === 0) && fastLayout(scratch)) return list.reduce((a, b) => mergeIndexForms(a, b));
  try {
    for (const p of list) addPacked(scratch, p);
    return packHistogram(scratch);
  } finally {
    scratch.reset();
  }
}

/** two index forms merged: walk both (index, count) lists in index order, adding counts at a common index */
function mergeIndexForms(a: Uint8Array, b: Uint8Array): Uint8Array {
  const ra = new IndexReader(a);
  const rb = new IndexReader(b);
  const out = new Varints();
  out.put(0);
  let prev = -1;
  while (ra.i !== Infinity || rb.i !== Infinity) {
    const i = Math.min(ra.i, rb.i);
    let c = 0;
    if (ra.i === i) {
      c += ra.c;
      ra.advance();
    }
    if (rb.i === i) {
      c += rb.c;
      rb.advance();
    }
    out.put(i - prev - 1);
    out.put(c);
    prev = i;
  }
  return out.bytes();
}

/** the (index, count) entries of an index form, one at a time; i = Infinity past the last */
class IndexReader {
  i = -1;
  c = 0;
  private readonly r: VarintReader;
  constructor(packed: Uint8Array) {
    this.r = new VarintReader(packed);
    this.r.next(); // the form
    this.advance();
  }
  advance(): void {
    if (!this.r.more()) {
      this.i = Infinity;
      return;
    }
    this.i += this.r.next() + 1;
    this.c = this.r.next();
  }
}

/** whether `h` is laid out as recordFast and the index form assume */
function fastLayout(h: Histogram): boolean {
  const f = h as unknown as HdrFields;
  return FAST_RECORD && f.subBucketHalfCountMagnitude === 10 && f.unitMagnitude === 0 && f._counts instanceof Uint32Array;
}

/** recordFast's index of an integer value 0 ≤ v < 2³¹ (larger: past any index of this layout) */
function indexOf(v: number): number {
  if (!(v < 2147483648)) return Number.MAX_SAFE_INTEGER;
  const b = Math.max(21 - Math.clz32(v), 0);
  return (b << 10) + (v >>> b);
}

/** the lowest value index i holds: sub·2ᵇ with b = max(⌊i / 2¹⁰⌋ − 1, 0), sub = i − b·2¹⁰ */
function lowestOf(i: number): number {
  const b = Math.max(Math.floor(i / 1024) - 1, 0);
  return (i - b * 1024) * 2 ** b;
}

/** the highest value index i holds: the next index's lowest − 1 */
function topOf(i: number): number {
  return lowestOf(i + 1) - 1;
}

/** An append-only list of unsigned LEB128 varints, grown by doubling. */
class Varints {
  private buf = new Uint8Array(256);
  private n = 0;
  put(x: number): void {
    if (this.n + 8 > this.buf.length) {
      const b = new Uint8Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    while (x >= 128) {
      this.buf[this.n++] = (x % 128) + 128;
      x = Math.floor(x / 128);
    }
    this.buf[this.n++] = x;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

class VarintReader {
  private at = 0;
  constructor(private readonly b: Uint8Array) {}
  more(): boolean {
    return this.at < this.b.length;
  }
  next(): number {
    let x = 0;
    let scale = 1;
    for (;;) {
      const byte = this.b[this.at++];
      if (byte === undefined) throw new Error('packed histogram: truncated');
      x += (byte & 127) * scale;
      if (byte < 128) return x;
      scale *= 128;
    }
  }
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
 * Runs the histogram code a run first calls at its first second boundary (pack, add, encode, two
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
    sum += packHistogram(window).length + encodeHistogram(window).length + quantileMs(window, 0.5) + quantileMs(total, 0.99);
    window.reset();
  }
  return sum;
}

/** 4 rounds (≈ 10 ms): with 12 the first real calls were no faster (encode 0.57–0.61 ms against 0.40–0.62) */
const WARM_ROUNDS = 4;

/** 2,000 values spread over 0.05–50 ms (value i: 0.05 + (7919·i mod 50,000) / 1000 ms), encoded: what a window of a loopback or an inference run holds */
export const WARM_WINDOW =
  'HISTFAAAAXl4nK2RPU7EMBCFH8+2VgFFWyAqQBTUW1Bzlq24CjfYkpYzcR4UO449tifxrrI/E/vN3zeTl+/LI3D/A+AOgEH4TGf8XX4R719889+zeJ4L9XO3qDKnJ+aDI488eTvylNl1VfqOfO7IGflaZLVqlTnvdHR84mF+Oh683VLDbV0NeUl9EPXcEiXVsaN7jLquf0stu7fUnt6GA+G/8ekImuw+LNYUUbU+CLWs3FKDXVelr60OnqLFZ6q6SXUV4fbkLVVOuN82JJ+2D1PMfvtGasZ99lHvubWRGGVIerMciHiCdKSIcIOiR2dT93+UnUQENEcGpZBdTZw3guboYtan3UJesNps/dAVAlZeUBey8h5UZqMgm5uJBQE0RwezuRkZVJjBDWgLS9jJcv5Nx8naTEZyRo1WaNIZj0KbOmYJQV6cVuTktSsYyxoGEkYOJWBS7QomAioDxKMYqoZJQ0EMxdZQcutchRFDNTdsxVBy69Rh5sLlhv8BlZQ1AA==';
