/**
 * Recovery budgets (core/recovery.ts): the time-to-recover scan over intended-time bins, its
 * fail-safe cases, the verdict from a live recorder and from a saved report, and exact merging.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateBudgets, measurementsFromReport } from '../../src/core/budgets.js';
import { createHistogram, encodeHistogram, recordMs } from '../../src/core/histograms.js';
import { parseProfile } from '../../src/core/profile/index.js';
import type { Budget } from '../../src/core/profile-types.js';
import { Recorder } from '../../src/core/recorder.js';
import { binsOf, mergeRecoveryTracks, scanRecovery, type Bin, type RecoveryLimits, type RecoveryTrackReport } from '../../src/core/recovery.js';
import type { RunResult } from '../../src/core/report.js';

const BIN = 100;
/** p95 over 1 s windows of 30 samples a bin (300 a window): one bad bin in a window is 10% > 5%, so a window is good iff all its bins are */
const L: RecoveryLimits = { limits: [{ key: 'p95', limitMs: 250 }], maxErrorRate: 0.01, windowMs: 1000, holdMs: 3000 };

type Kind = 'good' | 'bad' | 'thin' | 'errors' | 'empty';
/** bins 0 … n−1 from a pattern: good = 30 × 20 ms, bad = 30 × 1 s, thin = 5 × 20 ms, errors = 27 × 20 ms + 3 errors */
function bins(kinds: readonly Kind[]): Map<number, Bin> {
  const m = new Map<number, Bin>();
  kinds.forEach((k, i) => {
    if (k === 'empty') return;
    const h = createHistogram();
    const n = k === 'thin' ? 5 : k === 'errors' ? 27 : 30;
    for (let j = 0; j < n; j++) recordMs(h, k === 'bad' ? 1000 : 20);
    m.set(i, { hist: h, errors: k === 'errors' ? 3 : 0, unmeasured: 0 });
  });
  return m;
}
const run = (segments: [Kind, number][]): Kind[] => segments.flatMap(([k, n]) => Array<Kind>(n).fill(k));

describe('scanRecovery: time-to-recover (bins of 100 ms, fault at 5 s, run ends at 15 s)', () => {
  it.each([
    ['happy', 'recovers: 2 s bad, then good to the end', run([['good', 50], ['bad', 20], ['good', 80]]), 2000, 600],
    ['happy', 'fault not a bin multiple: counted from the next bin', run([['good', 50], ['bad', 20], ['good', 80]]), 2000, 600],
    ['sad', 'never recovers: bad to the end', run([['good', 50], ['bad', 100]]), null, 3000],
    ['sad', 'thin windows after the fault: too few samples for p95 is not recovered', run([['good', 50], ['thin', 100]]), null, 500],
    ['sad', 'recovers, then relapses within hold: the clock restarts after the relapse', run([['good', 50], ['bad', 20], ['good', 20], ['bad', 10], ['good', 50]]), 5000, 1500],
    ['sad', 'errors above 1% in every window are not recovered', run([['good', 50], ['errors', 100]]), null, 3000],
    ['sad', 'good again too close to the end to hold for 3 s', run([['good', 50], ['bad', 75], ['good', 25]]), null, 3000],
    ['sad', 'an empty stretch (nothing sent) is not recovered', run([['good', 50], ['empty', 30], ['good', 25], ['bad', 45]]), null, 2100],
  ])('%s: %s', (_l, what, kinds, ttr, affected) => {
    const faultMs = what.startsWith('fault not') ? 4950 : 5000;
    const o = scanRecovery(bins(kinds), BIN, faultMs, 15_000, L);
    expect(o.timeToRecoverMs).toBe(ttr === null ? null : ttr + (5000 - faultMs));
    expect(o.recoveredMs).toBe(ttr === null ? null : 5000 + ttr);
    expect(o.affected).toBe(affected);
    if (ttr !== null && kinds[50] === 'bad') expect(o.worst?.values.p95).toBeGreaterThan(250);
  });

  it('happy: a generous within passes and a tight one fails on the same data (via the verdict)', () => {
    const data = bins(run([['good', 50], ['bad', 20], ['good', 80]]));
    const tracks: RecoveryTrackReport[] = [toTrack(data)];
    const phases = [{ name: 'steady', startMs: 0, endMs: 5000 }, { name: 'outage', startMs: 5000, endMs: 15_000 }];
    const budget = (withinMs: number): Budget => ({ kind: 'recovery', id: `r${withinMs}`, stage: 'total', ...L, withinMs, after: 'outage' });
    const [loose, tight] = evaluateBudgets([budget(5000), budget(1000)], { series: [], phases: [], recovery: { tracks: () => tracks, phases } });
    expect([loose?.status, loose?.observed]).toEqual(['pass', 2000]);
    expect([tight?.status, tight?.observed]).toEqual(['fail', 2000]);
    expect(tight?.reason, tight?.reason).toMatch(/recovered 2s after the fault at 5s \(at 7s\) > 1s; 600 requests affected; worst window before it: p95 1(\.\d+)?s/);
  });

  it('sad: no recovery data at all fails (fail-safe), and a run that never recovers says so', () => {
    const b: Budget = { kind: 'recovery', id: 'r', stage: 'total', ...L, withinMs: 5000, after: 'outage' };
    const [none] = evaluateBudgets([b], { series: [], phases: [] });
    expect(none?.status).toBe('fail');
    const tracks = [toTrack(bins(run([['good', 50], ['bad', 100]])))];
    const [never] = evaluateBudgets([b], { series: [], phases: [], recovery: { tracks: () => tracks, phases: [{ name: 'outage', startMs: 5000, endMs: 15_000 }] } });
    expect([never?.status, never?.observed]).toEqual(['fail', null]);
    expect(never?.reason).toMatch(/^not recovered by the end of the run/);
  });
});

function toTrack(m: ReadonlyMap<number, Bin>, path: 'primary' | 'fallback' = 'primary'): RecoveryTrackReport {
  const at = [...m.keys()].sort((a, b) => a - b);
  return {
    stage: 'total', path, binMs: BIN, at,
    hdr: at.map((i) => { const h = m.get(i)?.hist; return h && h.totalCount > 0 ? encodeHistogram(h) : ''; }),
    errors: at.map((i) => m.get(i)?.errors ?? 0),
    unmeasured: at.map((i) => m.get(i)?.unmeasured ?? 0),
  };
}

describe('properties', () => {
  const pattern = fc.array(fc.constantFrom<Kind>('good', 'bad'), { minLength: 60, maxLength: 160 });

  it('happy: the scan equals the definition: the least s ≥ f with bins [s, s + hold) all good and inside the run', () => {
    fc.assert(
      fc.property(pattern, fc.integer({ min: 0, max: 40 }), (kinds, f) => {
        const end = kinds.length * BIN;
        const o = scanRecovery(bins(kinds), BIN, f * BIN, end, L);
        let want: number | null = null;
        for (let s = f; s + 30 <= kinds.length && want === null; s++) if (kinds.slice(s, s + 30).every((k) => k === 'good')) want = s;
        expect(o.recoveredMs).toBe(want === null ? null : want * BIN);
        const upto = want ?? kinds.length;
        expect(o.affected).toBe(30 * Math.max(0, upto - f));
      }),
    );
  });

  it('happy: tracks split between two shards (or paths) merge to the same outcome as one', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<Kind>('good', 'bad'), { minLength: 50, maxLength: 80 }), fc.integer({ min: 1, max: 29 }), (kinds, cut) => {
        const whole = bins(kinds);
        const a = new Map<number, Bin>();
        const b = new Map<number, Bin>();
        for (const [i, bin] of whole) {
          const v = (bin.hist?.maxValue ?? 0) / 1000;
          const ha = createHistogram();
          const hb = createHistogram();
          for (let j = 0; j < 30; j++) recordMs(j < cut ? ha : hb, v);
          a.set(i, { hist: ha, errors: 0, unmeasured: 0 });
          b.set(i, { hist: hb, errors: 0, unmeasured: 0 });
        }
        const end = kinds.length * BIN;
        // as a run judges it: through the encoding its report keeps (live and offline alike)
        const one = scanRecovery(binsOf([toTrack(whole)], 'total', undefined)?.bins ?? new Map(), BIN, 1000, end, L);
        const merged = binsOf(mergeRecoveryTracks([[toTrack(a)], [toTrack(b)]]) ?? [], 'total', undefined);
        const paths = binsOf([toTrack(a, 'primary'), toTrack(b, 'fallback')], 'total', undefined);
        expect(scanRecovery(merged?.bins ?? new Map(), BIN, 1000, end, L)).toEqual(one);
        expect(scanRecovery(paths?.bins ?? new Map(), BIN, 1000, end, L)).toEqual(one);
      }),
      { numRuns: 15 },
    );
  });
});

describe('recorder → report → check: recovery is re-evaluated offline to the same verdict', () => {
  it('happy: bins by intended send time; the saved report gives the live verdict', () => {
    const r = parseProfile({
      name: 'rec',
      phases: [{ name: 'steady', duration: '5s', rate: 300 }, { name: 'outage', duration: '10s', rate: 300 }],
      budgets: [{ recovery: { p95: '250ms', errorRate: '1%', within: '5s', after: 'outage' } }],
    }, () => undefined);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const phases = [
      { name: 'steady', warmup: false, model: 'open' as const, startMs: 0, endMs: 5000, rate: 300, to: 300, concurrency: 0, concurrencyTo: 0, requests: 1500 },
      { name: 'outage', warmup: false, model: 'open' as const, startMs: 5000, endMs: 15_000, rate: 300, to: 300, concurrency: 0, concurrencyTo: 0, requests: 3000 },
    ];
    const rec = new Recorder(phases, { recoveryStages: ['total'] });
    for (let i = 0; i < 4500; i++) {
      const t = i * (1000 / 300);
      const phase = t < 5000 ? 0 : 1;
      // intended in [5 s, 6.5 s): stalled until 8 s (completes late, long latency) or failed
      if (t >= 5000 && t < 6500) {
        if (i % 10 === 0) rec.failed(phase, 8000, 'http 503', 'primary', t);
        else rec.completed(phase, t, 8000, { stages: new Map(), unmeasured: [], path: 'primary' });
      } else rec.completed(phase, t, t + 20, { stages: new Map(), unmeasured: [], path: 'primary' });
    }
    const live = evaluateBudgets(r.profile.budgets, rec.measurements());
    expect(live[0]?.status).toBe('pass');
    expect(live[0]?.observed).toBe(1500);
    expect(live[0]?.recovery?.affected).toBe(450);
    const saved = JSON.parse(JSON.stringify({ ...rec.report(), budgets: live })) as RunResult;
    expect(evaluateBudgets(r.profile.budgets, measurementsFromReport(saved))).toEqual(live);
  });
});
