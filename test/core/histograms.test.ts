import fc from 'fast-check';
import * as hdrBuild from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import {
  type Histogram,
  countOf,
  createHistogram,
  decodeHistogram,
  encodeHistogram,
  FAST_RECORD,
  maxMs,
  meanMs,
  mergeHistograms,
  addPacked,
  mergePacked,
  packHistogram,
  quantileMs,
  recordMs,
  summarize,
  WARM_WINDOW,
  warmHistogramCode,
} from '../../src/core/histograms.js';

const histOf = (values: readonly number[]): Histogram => {
  const h = createHistogram();
  for (const v of values) recordMs(h, v);
  return h;
};

/** Exact nearest-rank order statistic: the ⌈q·n⌉-th smallest (1-based), at least the first. */
const nearestRank = (sorted: readonly number[], rank: number): number => sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;

/** HDR with 3 significant digits: within 0.1% of the value, plus ≤ 0.5 µs rounding on entry (1 µs slack). */
const close = (got: number, want: number): boolean => Math.abs(got - want) <= want * 1e-3 + 1e-3;

const QS = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

// Positive doubles up to 60 s, as ms.
const latency = fc.double({ min: 0, max: 60_000, noNaN: true, noDefaultInfinity: true }).filter((x) => x > 0);

describe('recordMs', () => {
  it.each([
    // name, recorded ms, reported ms (values < 2048 µs are exact in HDR at 3 digits)
    ['happy: 1.2345 ms rounds half up to 1235 µs', 1.2345, 1.235],
    ['happy: 1.2344 ms rounds down to 1234 µs', 1.2344, 1.234],
    ['happy: 0.0005 ms rounds to 1 µs', 0.0005, 0.001],
    ['happy: 0.0004 ms rounds to 0 µs', 0.0004, 0],
    ['happy: integer ms is exact', 2, 2],
    ['sad: negative clamps to 0', -5, 0],
  ])('%s', (_name, recorded, reported) => {
    const h = histOf([recorded]);
    expect(countOf(h)).toBe(1);
    expect(maxMs(h)).toBeCloseTo(reported, 9);
    expect(quantileMs(h, 0.5)).toBeCloseTo(reported, 9);
  });

  it('happy: a large value is HDR-equivalent within 0.1% (12345.678 ms)', () => {
    const h = histOf([12_345.678]);
    const p50 = quantileMs(h, 0.5);
    expect(Math.abs(p50 - 12_345.678) / 12_345.678).toBeLessThanOrEqual(1e-3);
    expect(maxMs(h)).toBeCloseTo(12_345.678, 3); // max is the exact recorded integer µs
  });

  it('sad: values beyond one hour clamp to one hour instead of throwing', () => {
    const h = histOf([1e12]);
    expect(countOf(h)).toBe(1);
    expect(maxMs(h)).toBe(3_600_000);
  });

  it('property: a single recorded value reads back within 0.1% + 1 µs at every quantile', () => {
    fc.assert(
      fc.property(latency, fc.constantFrom(...QS), (v, q) => close(quantileMs(histOf([v]), q), v)),
      { numRuns: 300 },
    );
  });
});

describe('recordMs without the library arithmetic (FAST_RECORD)', () => {
  /** what recordValue leaves behind: every count, the total, min non-zero and max */
  const state = (h: Histogram): unknown => {
    const f = h as unknown as { _counts: Uint32Array; _totalCount: number; maxValue: number; minNonZeroValue: number; countsArrayLength: number };
    return { counts: Array.from(f._counts.subarray(0, f.countsArrayLength)), total: f._totalCount, max: f.maxValue, min: f.minNonZeroValue, len: f.countsArrayLength, encoded: encodeHistogram(h) };
  };
  const viaLibrary = (ms: readonly number[]): Histogram => {
    const h = createHistogram();
    for (const v of ms) {
      const us = Math.round(v * 1000);
      h.recordValue(us < 0 ? 0 : us > 3_600_000_000 ? 3_600_000_000 : us);
    }
    return h;
  };

  it('happy: the layout it relies on is the installed library\'s (else it falls back, and this says so)', () => {
    expect(FAST_RECORD).toBe(true);
  });

  // 0, bucket edges 2^k − 1, 2^k, 2^k + 1 for every bucket, 2^31 ± 1 (the fallback's edge), one hour
  const edges = [0, 1, 2047, 2048, 2049, ...Array.from({ length: 22 }, (_, k) => [2 ** (k + 11) - 1, 2 ** (k + 11), 2 ** (k + 11) + 1]).flat(), 3_600_000_000];
  it.each(edges)('happy: %i µs lands where recordValue puts it', (us) => {
    expect(state(histOf([us / 1000]))).toEqual(state(viaLibrary([us / 1000])));
  });

  it('property: any sequence of values (resizes and the > 2^31 µs fallback included) leaves the same state as recordValue (seed printed on failure)', () => {
    const value = fc.oneof(
      fc.integer({ min: 0, max: 20_000 }).map((us) => us / 1000),
      fc.double({ min: -1, max: 3_700_000_000 / 1000, noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: 0, max: 31 }).chain((k) => fc.integer({ min: -2, max: 2 }).map((d) => Math.max(0, 2 ** k + d) / 1000)),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 60 }), (ms) => {
        expect(state(histOf(ms))).toEqual(state(viaLibrary(ms)));
      }),
      { numRuns: 600 },
    );
  });

  it('happy: a decoded histogram with other magnitudes (2 digits) records through the library, the same as recordValue', () => {
    const { build } = hdrBuild;
    const h2 = build({ useWebAssembly: false, bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2 });
    const ref = build({ useWebAssembly: false, bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2 });
    for (const ms of [0.5, 3, 17.25, 4000]) {
      recordMs(h2, ms);
      ref.recordValue(Math.round(ms * 1000));
    }
    expect(state(h2)).toEqual(state(ref));
  });
});

describe('quantileMs vs exact order statistics', () => {
  it.each([
    ['happy: 1..100, p50 = 50th', 0.5, 50],
    ['happy: 1..100, p90 = 90th', 0.9, 90],
    ['happy: 1..100, p99 = 99th', 0.99, 99],
    ['happy: 1..100, q=1 is the max', 1, 100],
    ['happy: 1..100, q=0.505 → rank ⌈50.5⌉ = 51', 0.505, 51],
    ['happy: 1..100, tiny q → the first', 0.001, 1],
  ])('%s', (_name, q, want) => {
    const h = histOf(Array.from({ length: 100 }, (_, i) => i + 1));
    const got = quantileMs(h, q);
    expect(close(got, want), `got ${got}, want ≈${want}`).toBe(true);
    // and not the neighbouring order statistic (1% away here)
    expect(close(got, want - 1)).toBe(false);
    expect(close(got, want + 1)).toBe(false);
  });

  it('sad: an empty histogram has NaN quantiles', () => {
    expect(quantileMs(createHistogram(), 0.5)).toBeNaN();
  });

  it('property: quantileMs is within 0.1% (+1 µs) of the ⌈q·n⌉-th order statistic', () => {
    fc.assert(
      fc.property(
        fc.array(latency, { minLength: 1, maxLength: 2000 }),
        fc.oneof(fc.constantFrom(...QS), fc.double({ min: 0.0001, max: 1, noNaN: true })),
        (values, q) => {
          const sorted = [...values].sort((a, b) => a - b);
          const n = sorted.length;
          const h = histOf(values);
          const got = quantileMs(h, q);
          // When q·n sits on an integer, float noise may pick either neighbour: accept both ranks.
          const lo = Math.ceil(q * n - 1e-7);
          const hi = Math.ceil(q * n + 1e-7);
          return close(got, nearestRank(sorted, lo)) || close(got, nearestRank(sorted, hi));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('quantiles never exceed the recorded maximum', () => {

  it('property: quantileMs(h, q) ≤ maxMs(h) for every q', () => {
    fc.assert(
      fc.property(fc.array(latency, { minLength: 1, maxLength: 200 }), fc.constantFrom(...QS), (values, q) => {
        const h = histOf(values);
        return quantileMs(h, q) <= maxMs(h);
      }),
      { numRuns: 200 },
    );
  });

  it('sad: 1000 × 999.95 ms reads p99 = 999.95 ms, not 1000.447 ms', () => {
    const h = histOf(Array<number>(1000).fill(999.95));
    expect(maxMs(h)).toBe(999.95);
    expect(quantileMs(h, 0.99)).toBeLessThanOrEqual(999.95);
  });
});

describe('mergeHistograms', () => {
  it('happy: merging nothing gives an empty histogram', () => {
    expect(countOf(mergeHistograms([]))).toBe(0);
  });

  it('happy: inputs are left untouched', () => {
    const a = histOf([1, 2, 3]);
    const b = histOf([4]);
    const m = mergeHistograms([a, b]);
    expect(countOf(m)).toBe(4);
    expect(countOf(a)).toBe(3);
    expect(countOf(b)).toBe(1);
    expect(maxMs(a)).toBe(3);
  });

  it('property: merging the histograms of a split equals the histogram of the whole', () => {
    fc.assert(
      fc.property(
        fc.array(latency, { minLength: 0, maxLength: 1500 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (values, cutsRaw) => {
          const cuts = [...new Set(cutsRaw.map((c) => (values.length === 0 ? 0 : c % (values.length + 1))))].sort((a, b) => a - b);
          const parts: number[][] = [];
          let from = 0;
          for (const c of [...cuts, values.length]) {
            parts.push(values.slice(from, c));
            from = c;
          }
          const whole = histOf(values);
          const merged = mergeHistograms(parts.map(histOf));
          expect(countOf(merged)).toBe(values.length);
          expect(countOf(merged)).toBe(countOf(whole));
          if (values.length === 0) return;
          for (const q of [...QS, 0.333, 0.667, 0.123]) expect(quantileMs(merged, q)).toBe(quantileMs(whole, q));
          expect(maxMs(merged)).toBe(maxMs(whole));
          expect(meanMs(merged)).toBeCloseTo(meanMs(whole), 6);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('encode / decode', () => {
  it('happy: an empty histogram round-trips as empty', () => {
    const d = decodeHistogram(encodeHistogram(createHistogram()));
    expect(countOf(d)).toBe(0);
    expect(summarize(d).p99).toBeNaN();
  });

  it('happy: a decoded histogram can keep recording (auto-resize) beyond its old range', () => {
    const d = decodeHistogram(encodeHistogram(histOf([1])));
    recordMs(d, 3_000_000);
    expect(countOf(d)).toBe(2);
    expect(Math.abs(maxMs(d) - 3_000_000) / 3_000_000).toBeLessThanOrEqual(1e-3);
  });

  it('property: round trip preserves count, percentiles, max and mean', () => {
    fc.assert(
      fc.property(fc.array(latency, { minLength: 1, maxLength: 1000 }), (values) => {
        const h = histOf(values);
        const d = decodeHistogram(encodeHistogram(h));
        expect(countOf(d)).toBe(values.length);
        // without the exact max, decode rebuilds it from the buckets: equal within HDR equivalence
        expect(close(maxMs(d), maxMs(h))).toBe(true);
        for (const q of QS) expect(close(quantileMs(d, q), quantileMs(h, q))).toBe(true);
        // with the exact max the report keeps beside the histogram, every reading is identical
        const exact = decodeHistogram(encodeHistogram(h), maxMs(h));
        expect(maxMs(exact)).toBe(maxMs(h));
        for (const q of QS) expect(quantileMs(exact, q)).toBe(quantileMs(h, q));
        expect(close(meanMs(d), meanMs(h))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it.each([
    ['sad: empty string', ''],
    ['sad: not base64', 'garbage'],
    ['sad: wrong header', '!!!!'],
    ['sad: truncated', 'HISTFAAAA'],
    ['sad: corrupt body', 'HISTFAAAACR4nJNpmSzMwMDAzAABTBDKT4GBgcEJAEaiAjM='],
  ])('%s throws', (_name, s) => {
    expect(() => decodeHistogram(s)).toThrow();
  });
});

describe('summarize', () => {
  it('sad: empty histogram → count 0 and NaN everywhere', () => {
    const s = summarize(createHistogram());
    expect(s.count).toBe(0);
    for (const k of ['mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const) expect(s[k]).toBeNaN();
  });

  it('happy: 1..1000 ms gives the nearest-rank percentiles within 0.1%', () => {
    const s = summarize(histOf(Array.from({ length: 1000 }, (_, i) => i + 1)));
    expect(s.count).toBe(1000);
    const want = { p50: 500, p90: 900, p95: 950, p99: 990, p999: 999, max: 1000, mean: 500.5 };
    for (const [k, v] of Object.entries(want)) expect(close(s[k as keyof typeof want], v), `${k}=${s[k as keyof typeof want]}`).toBe(true);
  });
});

describe('warmHistogramCode (run before t = 0 so the first second boundary runs compiled code)', () => {
  it('happy: pure: the same checksum every call, and a histogram made before it reads the same after', () => {
    const h = histOf([0.2, 0.5, 1, 2, 40]);
    const before = { enc: encodeHistogram(h), p50: quantileMs(h, 0.5), p99: quantileMs(h, 0.99) };
    const a = warmHistogramCode();
    expect(Number.isFinite(a) && a > 0).toBe(true);
    expect(warmHistogramCode()).toBe(a);
    expect({ enc: encodeHistogram(h), p50: quantileMs(h, 0.5), p99: quantileMs(h, 0.99) }).toEqual(before);
  });

  it('happy: its fixed window is what its comment says (2,000 values, 0.05 + (7919·i mod 50,000)/1000 ms)', () => {
    const h = createHistogram();
    for (let i = 0; i < 2000; i++) recordMs(h, 0.05 + ((i * 7919) % 50_000) / 1000);
    expect(WARM_WINDOW).toBe(encodeHistogram(h));
  });

  it('sad: zero rounds do nothing and return 0', () => {
    expect(warmHistogramCode(0)).toBe(0);
  });
});

describe('packHistogram / addPacked (windows kept in memory)', () => {
  const state = (h: Histogram): unknown => {
    const f = h as unknown as { _counts: Uint32Array; _totalCount: number; maxValue: number; minNonZeroValue: number; countsArrayLength: number };
    // with no non-zero value, the minimum is a sentinel that differs between a new and a decoded histogram
    return { counts: Array.from(f._counts.subarray(0, f.countsArrayLength)), total: f._totalCount, max: f.maxValue, min: f.minNonZeroValue >= Number.MAX_SAFE_INTEGER ? 'none' : f.minNonZeroValue, len: f.countsArrayLength, encoded: encodeHistogram(h) };
  };
  const viaBase64 = (h: Histogram): Histogram => decodeHistogram(encodeHistogram(h));
  const unpacked = (h: Histogram, form?: 'index' | 'value'): Histogram => {
    const out = createHistogram();
    addPacked(out, packHistogram(h, form));
    return out;
  };
  const value = fc.oneof(
    fc.integer({ min: 0, max: 20_000 }).map((us) => us / 1000),
    fc.double({ min: 0, max: 3_700_000_000 / 1000, noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: 0, max: 31 }).chain((k) => fc.integer({ min: -2, max: 2 }).map((d) => Math.max(0, 2 ** k + d) / 1000)),
  );

  it.each(['index', 'value'] as const)('property (%s form): read back, a histogram is what decoding its base64 gives: every count, total, min and max (seed printed on failure)', (form) => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 80 }), (ms) => {
        const h = histOf(ms);
        expect(state(unpacked(h, form))).toEqual(state(viaBase64(h)));
      }),
      { numRuns: 400 },
    );
  });

  it('property: added to a histogram that holds values, the same as adding the decoded one', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 40 }), fc.array(value, { maxLength: 40 }), (a, b) => {
        const viaPack = histOf(a);
        addPacked(viaPack, packHistogram(histOf(b)));
        const viaAdd = histOf(a);
        viaAdd.add(viaBase64(histOf(b)));
        expect(state(viaPack)).toEqual(state(viaAdd));
      }),
      { numRuns: 300 },
    );
  });

  it('property: merged packed (index forms as sorted lists, or a value form through the scratch) read back as the sum, byte for byte the sum packed, and the scratch is left empty', () => {
    fc.assert(
      fc.property(fc.array(fc.array(value, { maxLength: 30 }), { minLength: 1, maxLength: 4 }), fc.boolean(), (parts, oneAsValue) => {
        const packed = parts.map((ms, k) => packHistogram(histOf(ms), oneAsValue && k === 0 ? 'value' : 'index'));
        const scratch = createHistogram();
        const merged = mergePacked(packed, scratch);
        expect(countOf(scratch)).toBe(0);
        const all = histOf(parts.flat());
        // read back it is the sum; in index forms (any but a lone value form, returned as it is) byte for byte the sum packed
        const back = createHistogram();
        addPacked(back, merged);
        expect(state(back)).toEqual(state(unpacked(all)));
        if (!(oneAsValue && parts.length === 1)) expect(Array.from(merged)).toEqual(Array.from(packHistogram(all)));
      }),
      { numRuns: 400 },
    );
  });

  it('happy: a histogram of another layout (2 digits) packs in the value form and adds as the library adds it (to its 1% precision)', () => {
    const h2 = hdrBuild.build({ useWebAssembly: false, bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2 });
    for (const us of [0, 500, 3000, 17_250, 4_000_000]) h2.recordValue(us);
    const packed = packHistogram(h2);
    expect(packed[0]).toBe(1);
    const a = createHistogram();
    addPacked(a, packed);
    const b = createHistogram();
    b.add(h2);
    expect(countOf(a)).toBe(countOf(b));
    for (const q of QS) expect(Math.abs(quantileMs(a, q) - quantileMs(b, q))).toBeLessThanOrEqual(quantileMs(b, q) * 0.01);
  });

  it('happy: an empty histogram packs to one byte and adds nothing', () => {
    const e = packHistogram(createHistogram());
    expect(Array.from(e)).toEqual([0]);
    const h = histOf([1, 2]);
    addPacked(h, e);
    expect(state(h)).toEqual(state(histOf([1, 2])));
  });

  it('happy: a second of 1,000 responses over 2–42 ms packs in 2 bytes per occupied bucket (+2: the form, the first gap’s second byte)', () => {
    const h = histOf(Array.from({ length: 1000 }, (_, i) => 2 + ((i * 7919) % 40_000) / 1000));
    const f = h as unknown as { _counts: Uint32Array };
    const occupied = f._counts.filter((c) => c > 0).length;
    expect(packHistogram(h).length).toBeLessThanOrEqual(2 * occupied + 2);
  });

  it.each([
    ['sad: truncated', Uint8Array.from([0, 3, 200]), /truncated/],
    ['sad: an unknown form', Uint8Array.from([7, 1, 1]), /unknown form 7/],
  ])('%s packing throws a plain error', (_label, bytes, message) => {
    expect(() => addPacked(createHistogram(), bytes)).toThrow(message);
  });
});
