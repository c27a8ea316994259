import { describe, expect, it } from 'vitest';
import { evaluateBudgets } from '../../src/core/budgets.js';
import { decodeHistogram, maxMs, quantileMs } from '../../src/core/histograms.js';
import type { PathName } from '../../src/core/profile-types.js';
import { type ObservedTimings, type RecorderPhase, Recorder } from '../../src/core/recorder.js';
import { TOTAL_STAGE } from '../../src/core/stages.js';
import type { SeriesReport } from '../../src/core/report.js';

const PHASES: RecorderPhase[] = [
  { name: 'warm', warmup: true, model: 'open', startMs: 0, endMs: 1000, rate: 2, to: 2, concurrency: 0, concurrencyTo: 0, requests: 2 },
  { name: 'steady', warmup: false, model: 'open', startMs: 1000, endMs: 3000, rate: 2, to: 3, concurrency: 0, concurrencyTo: 0, requests: 5 },
];

const timings = (path: PathName, stages: Record<string, number> = {}, unmeasured: string[] = []): ObservedTimings => ({
  stages: new Map(Object.entries(stages)),
  unmeasured,
  path,
});

/** HDR equivalence at 3 significant digits, plus rounding to integer µs. */
const close = (got: number | null | undefined, want: number): boolean =>
  typeof got === 'number' && Math.abs(got - want) <= want * 1e-3 + 1e-3;

/**
 * The script (ms since start). Seven requests are due, six are sent, four complete, two fail.
 *   #  phase  intended  sent  late   outcome
 *   1  warm      0        5    no    ok 300 (queue 100), primary
 *   2  warm    500      520    no    http 503 at 1100, primary
 *   3  steady 1000     1000    no    ok 1250 (queue 50, gen 150), primary     → total 250
 *   4  steady 1500     2100    yes   ok 2200 (gen 400, queue missing), fallback → total 700
 *   5  steady 2000     2001    no    timeout at 2500, fallback
 *   6  steady 2500     3100    yes   ok 3900 (no stages), primary             → total 1400
 *   7  steady 2900     —      —     never sent
 */
function scripted(): Recorder {
  const r = new Recorder(PHASES);
  r.due(0);
  r.sent(0, 0, 5, false);
  r.due(500);
  r.sent(0, 500, 520, false);
  r.completed(0, 0, 300, timings('primary', { queue: 100 }));
  r.due(1000);
  r.sent(1, 1000, 1000, false);
  r.failed(0, 1100, 'http 503', 'primary');
  r.completed(1, 1000, 1250, timings('primary', { queue: 50, gen: 150 }));
  r.due(1500);
  r.due(2000);
  r.sent(1, 2000, 2001, false);
  r.sent(1, 1500, 2100, true);
  r.completed(1, 1500, 2200, timings('fallback', { gen: 400 }, ['queue']));
  r.due(2500);
  r.failed(1, 2500, 'timeout', 'fallback');
  r.due(2900);
  r.sent(1, 2500, 3100, true);
  r.completed(1, 2500, 3900, timings('primary'));
  return r;
}

describe('Recorder: counts', () => {
  it('happy: phases count what happened in each phase; scheduled comes from the plan', () => {
    const { phases } = scripted().report();
    expect(phases).toMatchObject([
      { name: 'warm', warmup: true, model: 'open', startMs: 0, endMs: 1000, rate: 2, to: 2, concurrency: 0, concurrencyTo: 0, scheduled: 2, sent: 2, completed: 1, errors: 1, fallback: 0, late: 0, fallbackErrors: 0, errorKinds: { 'http 503': 1 }, fallbackSignals: {} },
      { name: 'steady', warmup: false, model: 'open', startMs: 1000, endMs: 3000, rate: 2, to: 3, concurrency: 0, concurrencyTo: 0, scheduled: 5, sent: 4, completed: 3, errors: 1, fallback: 1, late: 2, fallbackErrors: 1, errorKinds: { timeout: 1 }, fallbackSignals: {} },
    ]);
  });

  it('happy: tokens per phase from usage or counted events, with throughputs over the phase and the run', () => {
    const r = new Recorder(PHASES);
    const t = (tokens?: { input?: number; output: number; source: 'usage' | 'events' }) => ({ stages: new Map(), unmeasured: [], path: 'primary' as const, ...(tokens ? { tokens } : {}) });
    r.completed(1, 1000, 1100, t({ input: 10, output: 20, source: 'usage' }));
    r.completed(1, 1500, 1600, t({ output: 7, source: 'events' }));
    r.completed(1, 2000, 2100, t());
    const rep = r.report(4000);
    // steady lasts 2s: 3 requests, 27 output and 37 total tokens
    expect(rep.phases[1]).toMatchObject({ inputTokens: 10, outputTokens: 27, tokenSources: { usage: 1, events: 1, none: 1 }, requestThroughput: 1.5, outputTokensPerS: 13.5, totalTokensPerS: 18.5 });
    // totals over the run's 4s
    expect(rep.totals).toMatchObject({ inputTokens: 10, outputTokens: 27, requestThroughput: 0.75, outputTokensPerS: 6.75, totalTokensPerS: 9.25 });
  });

  it('happy: totals add the phases', () => {
    expect(scripted().totals()).toEqual({ scheduled: 7, sent: 6, completed: 4, errors: 2, fallback: 1, late: 2 });
  });

  it('happy: error kinds accumulate per kind', () => {
    const r = new Recorder(PHASES);
    r.failed(1, 10, 'http 503', 'primary');
    r.failed(1, 20, 'http 503', 'primary');
    r.failed(1, 30, 'ECONNRESET', 'primary');
    expect(r.report().phases[1]?.errorKinds).toEqual({ 'http 503': 2, ECONNRESET: 1 });
    expect(r.report().phases[0]?.errorKinds).toEqual({});
  });

  it.each([
    ['sad: sent in an unknown phase', (r: Recorder) => r.sent(2, 0, 0, false)],
    ['sad: completed in an unknown phase', (r: Recorder) => r.completed(5, 0, 1, timings('primary'))],
    ['sad: failed in a negative phase', (r: Recorder) => r.failed(-1, 0, 'timeout', 'primary')],
  ])('%s throws a RangeError', (_name, act) => {
    expect(() => act(new Recorder(PHASES))).toThrow(RangeError);
  });

  it('happy: a fresh recorder reports the planned schedule and nothing else', () => {
    const rep = new Recorder(PHASES).report();
    expect(rep.totals).toMatchObject({ scheduled: 7, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0, inputTokens: 0, outputTokens: 0 });
    expect(rep.series).toEqual([]);
    expect(rep.timeline).toEqual([]);
    expect(rep.lateness.p50).toBeNull();
    expect(rep.lateness.max).toBeNull();
  });
});

describe('Recorder: timeline', () => {
  it('happy: scheduled/late by intended second, sent by send second, outcomes by completion second', () => {
    expect(scripted().timeline()).toEqual([
      { t: 0, scheduled: 2, sent: 2, completed: 1, errors: 0, fallback: 0, late: 0, inFlight: 0, p50: 300, p99: 300 },
      { t: 1000, scheduled: 2, sent: 1, completed: 1, errors: 1, fallback: 0, late: 1, inFlight: 0, p50: 250, p99: 250 },
      { t: 2000, scheduled: 3, sent: 2, completed: 1, errors: 1, fallback: 1, late: 1, inFlight: 0, p50: 700, p99: 700, paths: { fallback: 1 } },
      { t: 3000, scheduled: 0, sent: 1, completed: 1, errors: 0, fallback: 0, late: 0, inFlight: 0, p50: 1400, p99: 1400 },
    ]);
  });

  it('happy: per-second p50/p99 of total cover only that second\'s completions; inFlight is sampled', () => {
    const r = new Recorder(PHASES);
    // second 0: 100 completions of 10..1000 ms; second 1: one of 5 ms
    for (let i = 1; i <= 100; i++) r.completed(1, 0, i * 10 - 5, timings('primary'));
    r.inFlight(999, 7);
    r.completed(1, 1000, 1005, timings('primary'));
    const tl = r.timeline();
    expect(close(tl[0]?.p50, 495)).toBe(true);
    expect(close(tl[0]?.p99, 985)).toBe(true);
    expect(tl[0]?.inFlight).toBe(7);
    expect(tl[1]).toMatchObject({ p50: 5, p99: 5, completed: 1 });
  });

  it('happy: a second with no completions has null percentiles', () => {
    const r = new Recorder(PHASES);
    r.due(0);
    r.completed(1, 1500, 2000, timings('primary'));
    expect(r.timeline().map((p) => p.p99)).toEqual([null, null, 500]);
  });

  it('happy: closed-model requests are scheduled as they are issued', () => {
    const closed: RecorderPhase[] = [{ name: 'users', warmup: false, model: 'closed', startMs: 0, endMs: 2000, rate: 0, to: 0, concurrency: 4, concurrencyTo: 4, requests: 0 }];
    const r = new Recorder(closed);
    r.issued(0, 10);
    r.issued(0, 1200);
    const rep = r.report();
    expect(rep.phases[0]).toMatchObject({ model: 'closed', scheduled: 2, concurrency: 4 });
    expect(rep.timeline.map((p) => p.scheduled)).toEqual([1, 1]);
  });

  it.each([
    ['happy: 999.999 ms is second 0', 999.999, 0],
    ['happy: 1000 ms is second 1', 1000, 1],
    ['sad: a negative time folds into second 0', -5, 0],
    ['happy: 4500 ms fills the seconds before it', 4500, 4],
  ])('%s', (_name, t, sec) => {
    const r = new Recorder(PHASES);
    r.due(t);
    const tl = r.timeline();
    expect(tl).toHaveLength(sec + 1);
    expect(tl[sec]?.scheduled).toBe(1);
    expect(tl.reduce((n, p) => n + p.scheduled, 0)).toBe(1);
  });
});

describe('Recorder: series', () => {
  const find = (ss: readonly SeriesReport[], stage: string, path: PathName, phase: string): SeriesReport | undefined =>
    ss.find((s) => s.stage === stage && s.path === path && s.phase === phase);

  it('happy: one series per stage × path × phase, with counts and unmeasured', () => {
    const ss = scripted().report().series;
    const got = ss.map((s) => [s.stage, s.path, s.phase, s.count, s.unmeasured]);
    // total first, then stages by name; paths by name; phases in order of first appearance
    expect(got).toEqual([
      ['total', 'fallback', 'steady', 1, 0],
      ['total', 'primary', 'warm', 1, 0],
      ['total', 'primary', 'steady', 2, 0],
      ['gen', 'fallback', 'steady', 1, 0],
      ['gen', 'primary', 'steady', 1, 0],
      ['queue', 'fallback', 'steady', 0, 1],
      ['queue', 'primary', 'warm', 1, 0],
      ['queue', 'primary', 'steady', 1, 0],
      // total − Σ server stages, for the responses that reported any stage (#6 reported none)
      ['unattributed', 'fallback', 'steady', 1, 0],
      ['unattributed', 'primary', 'warm', 1, 0],
      ['unattributed', 'primary', 'steady', 1, 0],
    ]);
  });

  it.each([
    ['happy: warm: 300 total − 100 queue', 'primary', 'warm', 200],
    ['happy: steady: 250 total − (50 queue + 150 gen)', 'primary', 'steady', 50],
    ['happy: fallback: 700 total − 400 gen', 'fallback', 'steady', 300],
  ])('unattributed %s', (_name, path, phase, want) => {
    const s = find(scripted().report().series, 'unattributed', path as PathName, phase);
    expect(close(s?.max, want)).toBe(true);
  });

  it('happy: goodput counts requests that met every limit; a missing stage is not good', () => {
    const r = new Recorder(PHASES, { goodput: { total: 500, queue: 80 } });
    r.completed(1, 0, 100, timings('primary', { queue: 50 })); // good
    r.completed(1, 0, 600, timings('primary', { queue: 50 })); // total over
    r.completed(1, 0, 100, timings('fallback')); // queue missing: not good
    r.completed(1, 0, 100, timings('fallback', { queue: 10 })); // good, fallback
    const p = r.report().phases[1];
    expect(p).toMatchObject({ good: 2, goodFallback: 1, completed: 4 });
    expect(new Recorder(PHASES).report().phases[1]?.good).toBeUndefined();
  });

  it.each([
    // name, stage, path, phase, p50, max
    ['happy: total is measured from the intended time (1000 → 1250 = 250 ms)', 'total', 'primary', 'steady', 250, 1400],
    ['happy: total of a late request includes its lateness (1500 → 2200 = 700 ms)', 'total', 'fallback', 'steady', 700, 700],
    ['happy: warm total 300 ms', 'total', 'primary', 'warm', 300, 300],
    ['happy: server-reported stage as given', 'gen', 'fallback', 'steady', 400, 400],
    ['happy: queue 50 ms in steady', 'queue', 'primary', 'steady', 50, 50],
  ] as const)('%s', (_name, stage, path, phase, p50, max) => {
    const s = find(scripted().report().series, stage, path, phase);
    expect(s).toBeDefined();
    expect(close(s?.p50, p50), `p50 ${s?.p50}`).toBe(true);
    expect(close(s?.max, max), `max ${s?.max}`).toBe(true);
    // the encoded histogram carries the same data
    const h = decodeHistogram(s?.hdr ?? '');
    expect(close(quantileMs(h, 0.5), p50)).toBe(true);
  });

  it('sad: a series with only unmeasured responses reports null statistics', () => {
    const s = find(scripted().report().series, 'queue', 'fallback', 'steady');
    expect(s).toMatchObject({ count: 0, unmeasured: 1, mean: null, p50: null, p99: null, max: null });
  });

  it('happy: TOTAL_STAGE is "total" and sorts before a stage named "a"', () => {
    const r = new Recorder(PHASES);
    r.completed(1, 0, 10, timings('primary', { a: 1, zz: 2 }));
    expect(TOTAL_STAGE).toBe('total');
    expect(r.report().series.map((s) => s.stage)).toEqual(['total', 'a', 'unattributed', 'zz']);
  });

  it('sad: a response completing before its intended time records 0, not a negative', () => {
    const r = new Recorder(PHASES);
    r.completed(1, 1000, 900, timings('primary'));
    expect(r.report().series[0]?.max).toBe(0);
  });

  it('happy: measurements() feed budgets: 1 of 2 queue values missing in steady fails', () => {
    const r = scripted();
    const [queue, total] = evaluateBudgets(
      [
        { kind: 'latency', id: 'q', stage: 'queue', key: 'max', limitMs: 1000 },
        { kind: 'latency', id: 't', stage: 'total', key: 'max', limitMs: 1000, path: 'primary' },
      ],
      r.measurements(),
    );
    expect(queue?.status).toBe('fail');
    expect(queue?.reason).toContain('missing');
    expect(total?.status).toBe('fail'); // 1400 ms > 1 s; the warm 300 ms is out of scope
    expect(total?.samples).toBe(2);
  });
});

describe('Recorder: lateness', () => {
  it('happy: lateness is send − intended per sent request (0, 1, 5, 20, 600, 600 ms)', () => {
    const r = scripted();
    const l = r.report().lateness;
    expect(close(l.p50, 5)).toBe(true);
    expect(close(l.p99, 600)).toBe(true);
    expect(close(l.max, 600)).toBe(true);
    expect(close(r.latenessMs(0.5), 5)).toBe(true);
    expect(close(r.latenessMs(1 / 6), 0)).toBe(true);
    expect(close(r.latenessMs(2 / 6), 1)).toBe(true);
    const h = decodeHistogram(l.hdr);
    expect(h.totalCount).toBe(6);
    expect(close(maxMs(h), 600)).toBe(true);
  });

  it('sad: a send before its intended time counts as 0 lateness, not negative', () => {
    const r = new Recorder(PHASES);
    r.sent(0, 100, 50, false);
    expect(r.latenessMs(1)).toBe(0);
  });
});
