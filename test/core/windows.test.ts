import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reevaluate } from '../../src/core/verdict.js';
import { compareRuns } from '../../src/core/compare.js';
import { quantileInterval } from '../../src/core/confidence.js';
import { countOf, createHistogram, decodeHistogram, encodeHistogram, mergeHistograms, recordMs, type Histogram } from '../../src/core/histograms.js';
import { Recorder } from '../../src/core/recorder.js';
import type { Budget } from '../../src/core/profile-types.js';
import type { RunResult } from '../../src/core/report.js';
import { decodeWindows, fitWindows, MAX_WINDOWS, unionWindows, WindowClock, WindowSet } from '../../src/core/windows.js';
import { syntheticReport } from '../report/synthetic.js';

function histOf(values: readonly number[]): Histogram {
  const h = createHistogram();
  for (const v of values) recordMs(h, v);
  return h;
}

const P50: Budget = { kind: 'latency', id: 'total p50', stage: 'total', key: 'p50', limitMs: 1000 };

describe('windows in the report', () => {
  it('happy: every series keeps windows that hold exactly its samples, one width for all', () => {
    const r = syntheticReport({ seed: 1, rate: 200, seconds: 8 });
    const widths = new Set(r.series.map((s) => s.windows?.widthMs));
    expect([...widths]).toEqual([1000]);
    for (const s of r.series) {
      const w = decodeWindows(s.windows);
      expect(w?.windows.reduce((n, x) => n + countOf(x.hist), 0)).toBe(s.count);
      // the steady phase spans 8 s (completions may spill into a 10th second); warmup one or two
      expect(w?.windows.length).toBeGreaterThanOrEqual(s.phase === 'steady' ? 8 : 1);
    }
  });

  it('sad: a long run is bounded: 20 minutes at 1 s per window → at most MAX_WINDOWS per series, wider windows, nothing lost', () => {
    const rec = new Recorder([{ name: 'soak', warmup: false, model: 'open', startMs: 0, endMs: 1_200_000, rate: 5, to: 5, concurrency: 0, concurrencyTo: 0, requests: 6000 }]);
    for (let i = 0; i < 6000; i++) {
      const t = i * 200;
      rec.sent(0, t, t, false);
      rec.completed(0, t, t + 10 + (i % 7), { stages: new Map(), unmeasured: [], path: 'primary' });
    }
    const s = rec.report().series[0];
    expect(s?.windows?.at.length).toBeLessThanOrEqual(MAX_WINDOWS);
    expect(s?.windows?.widthMs).toBe(32_000);
    expect(decodeWindows(s?.windows)?.windows.reduce((n, x) => n + countOf(x.hist), 0)).toBe(6000);
  });

  it('happy: WindowSet coarsens in memory past 2·MAX_WINDOWS windows and keeps every sample', () => {
    const clock = new WindowClock();
    const set = new WindowSet(clock);
    for (let t = 0; t < 300_000; t += 100) set.record(t, 5);
    expect(clock.widthMs).toBe(4000); // 300 one-second windows → doubled twice past 120
    const w = set.report();
    expect(w.at.length).toBe(75);
    expect(decodeWindows(w)?.windows.reduce((n, x) => n + countOf(x.hist), 0)).toBe(3000);
    // the whole series (closed windows' total + the open one) counts each sample once, re-bins included
    expect(countOf(set.whole())).toBe(3000);
  });

  it('property: settling closed windows late (settleOne between records, or only on reading) gives the windows and totals of settling at once', () => {
    // records at growing times (some out of order), on three series that share a clock, past the
    // 2·MAX_WINDOWS re-bin; `settle` k: after each record, k calls of settleOne (0: reading settles)
    const step = fc.record({ dt: fc.integer({ min: -300, max: 4000 }), series: fc.nat(2), v: fc.integer({ min: 0, max: 5000 }), settle: fc.nat(2) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 400 }), (steps) => {
        const eagerClock = new WindowClock();
        const lazyClock = new WindowClock();
        const eager = [0, 1, 2].map(() => new WindowSet(eagerClock));
        const lazy = [0, 1, 2].map(() => new WindowSet(lazyClock));
        let t = 0;
        for (const s of steps) {
          t = Math.max(0, t + s.dt);
          eager[s.series]!.record(t, s.v / 10);
          while (eagerClock.settleOne());
          lazy[s.series]!.record(t, s.v / 10);
          for (let i = 0; i < s.settle; i++) lazyClock.settleOne();
        }
        expect(lazyClock.widthMs).toBe(eagerClock.widthMs);
        for (let i = 0; i < 3; i++) {
          // whole() first: each read must settle on its own
          const [a, b] = [lazy[i]!.whole(), eager[i]!.whole()];
          expect([countOf(a), a.maxValue, a.getValueAtPercentile(50)]).toEqual([countOf(b), b.maxValue, b.getValueAtPercentile(50)]);
          expect(lazy[i]!.report()).toEqual(eager[i]!.report());
        }
      }),
      { numRuns: 300 },
    );
  });

  it('happy: settle units encode every closed window ahead of a report (a unit to pack and one to encode per window, one per merged window after a re-bin), and the report is the same as encoding at once', () => {
    const clock = new WindowClock();
    const set = new WindowSet(clock);
    const lazy = new WindowSet(new WindowClock());
    let units = 0;
    for (let t = 0; t < 300_000; t += 100) {
      set.record(t, 5 + (t % 7));
      lazy.record(t, 5 + (t % 7));
      while (clock.settleOne()) units++;
    }
    const closedOf = (w: WindowSet): { hdr?: string }[] => (w as unknown as { closed: { hdr?: string }[] }).closed;
    expect(closedOf(set).length).toBeGreaterThan(0);
    expect(closedOf(set).every((w) => w.hdr !== undefined)).toBe(true);
    expect(units).toBeGreaterThanOrEqual(299);
    // never settled by units, the other set's windows are packed (by its rolls) but not encoded: its report encodes them
    expect(closedOf(lazy).some((w) => w.hdr === undefined)).toBe(true);
    expect(set.report()).toEqual(lazy.report());
  });

  it('property: with times in order, each reported window (re-bins, reopened windows and packing included) is exactly a histogram of its own samples, and whole() of all', () => {
    const step = fc.record({ dt: fc.integer({ min: 0, max: 6000 }), v: fc.integer({ min: 0, max: 2_000_000 }), settle: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 500 }), (steps) => {
        const clock = new WindowClock();
        const set = new WindowSet(clock);
        const samples: { t: number; ms: number }[] = [];
        let t = 0;
        for (const s of steps) {
          t += s.dt;
          set.record(t, s.v / 1000);
          samples.push({ t, ms: s.v / 1000 });
          if (s.settle) clock.settleOne();
        }
        const w = set.report();
        const want = new Map<number, number[]>();
        for (const x of samples) want.set(Math.floor(x.t / w.widthMs), [...(want.get(Math.floor(x.t / w.widthMs)) ?? []), x.ms]);
        expect(w.at).toEqual([...want.keys()]);
        w.at.forEach((at, i) => expect(w.hdr[i]).toBe(encodeHistogram(histOf(want.get(at) ?? []))));
        expect(encodeHistogram(set.whole())).toBe(encodeHistogram(histOf(samples.map((x) => x.ms))));
      }),
      { numRuns: 200 },
    );
  });

  it('happy: shards\' windows merge by index (union) and fit to one width', () => {
    const steady = (seed: number) => syntheticReport({ seed, rate: 100, seconds: 4 }).series.find((s) => s.stage === 'total' && s.phase === 'steady')?.windows;
    const a = steady(1);
    const b = steady(2);
    const u = unionWindows([a, b]);
    expect(u?.at).toEqual(a?.at);
    expect(unionWindows([a, undefined])).toBeUndefined();
    const [fitted] = fitWindows([u!], 3);
    expect(fitted?.widthMs).toBe(2000);
  });
});

describe('reports written before windows existed', () => {
  const strip = (r: RunResult): RunResult => ({ ...r, series: r.series.map(({ windows: _w, ...s }) => s) });
  const r = syntheticReport({ seed: 4, rate: 200, seconds: 6 });

  it('sad: still load and re-check, with the i.i.d. order-statistic interval', () => {
    const old = reevaluate(strip(r), [P50], { allowInconclusive: false });
    const h = mergeHistograms(r.series.filter((s) => s.stage === 'total' && s.phase === 'steady').map((s) => decodeHistogram(s.hdr, s.max)));
    expect(old.budgets[0]?.interval).toEqual(quantileInterval(h, 0.5));
    const now = reevaluate(r, [P50], { allowInconclusive: false });
    expect(now.budgets[0]?.interval?.[0]).toBeLessThanOrEqual(old.budgets[0]?.interval?.[0] as number);
  });

  it('sad: still compare, old against new', () => {
    const c = compareRuns([strip(r)], syntheticReport({ seed: 5, rate: 200, seconds: 6 }), { tolerance: 0.05 });
    expect(c.outcome).toBe('pass');
  });
});

describe('budgets use the same time-aware interval (borderline, --strict)', () => {
  /** 30 s at 100/s, median 20 ms; the second half of the run 3 ms slower (a drift the i.i.d. interval ignores) */
  function drifting(): RunResult {
    const rec = new Recorder([{ name: 'steady', warmup: false, model: 'open', startMs: 0, endMs: 30_000, rate: 100, to: 100, concurrency: 0, concurrencyTo: 0, requests: 3000 }]);
    let x = 1;
    for (let i = 0; i < 3000; i++) {
      const t = i * 10;
      x = (x * 48271) % 2147483647;
      const ms = 18 + 4 * (x / 2147483647) + (t >= 15_000 ? 3 : 0);
      rec.due(t);
      rec.sent(0, t, t, false);
      rec.completed(0, t, t + ms, { stages: new Map(), unmeasured: [], path: 'primary' });
    }
    return { ...syntheticReport({ rate: 1, seconds: 1 }), durationMs: 30_000, ...rec.report() };
  }

  it('sad: a limit just above the i.i.d. interval is borderline by the windows, and --strict fails it', () => {
    const r = drifting();
    const stripped: RunResult = { ...r, series: r.series.map(({ windows: _w, ...s }) => s) };
    const h = decodeHistogram(r.series[0]?.hdr as string, r.series[0]?.max);
    const iid = quantileInterval(h, 0.5) as [number, number];
    const limit: Budget = { ...P50, limitMs: iid[1] + 0.01 };
    const plain = reevaluate(stripped, [limit], { allowInconclusive: false, strict: true });
    expect(plain.budgets[0]?.borderline).toBe(false);
    expect(plain.verdict).toBe('pass');
    const timed = reevaluate(r, [limit], { allowInconclusive: false, strict: true });
    expect(timed.budgets[0]?.status).toBe('pass');
    expect(timed.budgets[0]?.borderline).toBe(true);
    expect(timed.verdict).toBe('fail');
  });
});
