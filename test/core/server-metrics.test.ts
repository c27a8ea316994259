import { describe, expect, it } from 'vitest';
import type { MetricValue } from '../../src/core/prom-text.js';
import { bucketQuantile, combineReports, MAX_SERIES_POINTS, phaseIndexAt, ServerMetricsRecorder } from '../../src/core/server-metrics.js';

const phases = [
  { name: 'ramp', startMs: 0, endMs: 2000 },
  { name: 'spike', startMs: 2000, endMs: 4000 },
];
const src = [{ name: 's', url: 'http://127.0.0.1:1/metrics', units: new Map([['q', 'requests']]) }];
const g = (value: number): MetricValue => ({ kind: 'gauge', value });
const c = (value: number): MetricValue => ({ kind: 'counter', value });
const h = (b: [number, number][], sum: number): MetricValue => ({ kind: 'histogram', buckets: b, count: (b[b.length - 1] as [number, number])[1], sum });

function feed(rec: ServerMetricsRecorder, points: [number, Record<string, MetricValue>][]): void {
  for (const [t, m] of points) rec.scraped(0, t, new Map(Object.entries(m)));
}

describe('ServerMetricsRecorder', () => {
  it('happy: gauges per phase (min, mean, max, last); the baseline before t=0 and the drain join the edge phases', () => {
    const rec = new ServerMetricsRecorder(src, phases);
    feed(rec, [[-0.001, { q: g(1) }], [1000, { q: g(3) }], [2000, { q: g(10) }], [3000, { q: g(20) }], [4500, { q: g(0) }]]);
    const d = rec.data();
    const ramp = d.metrics.find((m) => m.phase === 'ramp');
    const spike = d.metrics.find((m) => m.phase === 'spike');
    expect(ramp).toMatchObject({ name: 'q', kind: 'gauge', unit: 'requests', samples: 2, min: 1, max: 3, mean: 2, last: 3 });
    expect(spike).toMatchObject({ samples: 3, min: 0, max: 20, mean: 10, last: 0 });
    expect(d.scrapes).toEqual([
      { source: 's', url: src[0]?.url, phase: 'ramp', attempts: 2, ok: 2, failures: {} },
      { source: 's', url: src[0]?.url, phase: 'spike', attempts: 3, ok: 3, failures: {} },
    ]);
  });

  it('happy: counters: deltas go to the later scrape’s phase; a drop is a reset counted as its own value', () => {
    const rec = new ServerMetricsRecorder(src, phases);
    feed(rec, [[0, { t: c(100) }], [1000, { t: c(110) }], [2000, { t: c(130) }], [3000, { t: c(5) }], [4000, { t: c(15) }]]);
    const [ramp, spike] = rec.data().metrics;
    expect(ramp).toMatchObject({ kind: 'counter', increase: 10, seconds: 1, rate: 10 });
    // 20 (110→130) + 5 (reset to 5) + 10
    expect(spike).toMatchObject({ increase: 35, seconds: 3 });
    expect(spike?.rate).toBeCloseTo(35 / 3, 9);
  });

  it('happy: histograms: bucket deltas, Δcount, Δsum, mean and quantiles per phase', () => {
    const rec = new ServerMetricsRecorder(src, phases);
    feed(rec, [
      [0, { l: h([[0.1, 0], [1, 0], [Infinity, 0]], 0) }],
      [1000, { l: h([[0.1, 50], [1, 100], [Infinity, 100]], 20) }],
      [2500, { l: h([[0.1, 50], [1, 300], [Infinity, 300]], 120) }],
    ]);
    const [ramp, spike] = rec.data().metrics;
    expect(ramp).toMatchObject({ kind: 'histogram', increase: 100, sum: 20, mean: 0.2, buckets: [[0.1, 50], [1, 100], ['+Inf', 100]] });
    expect(ramp?.p50).toBeCloseTo(0.1, 9);
    expect(ramp?.p90).toBeCloseTo(0.1 + 0.9 * 0.8, 9);
    expect(spike).toMatchObject({ increase: 200, mean: 0.5, buckets: [[0.1, 0], [1, 200], ['+Inf', 200]] });
  });

  it('happy: failures are counted by reason per phase', () => {
    const rec = new ServerMetricsRecorder(src, phases);
    rec.failed(0, 100, 'timeout after 1s');
    rec.failed(0, 200, 'timeout after 1s');
    rec.failed(0, 2100, 'ECONNREFUSED');
    expect(rec.data().scrapes.map((s) => [s.phase, s.attempts, s.ok, s.failures])).toEqual([
      ['ramp', 2, 0, { 'timeout after 1s': 2 }],
      ['spike', 1, 0, { ECONNREFUSED: 1 }],
    ]);
  });

  it('happy: window() folds only the entries in (from, to]', () => {
    const rec = new ServerMetricsRecorder(src, phases, 2000);
    feed(rec, [[0, { q: g(1), t: c(0) }], [1000, { q: g(9), t: c(5) }], [2000, { q: g(2), t: c(7) }], [3000, { q: g(4), t: c(20) }]]);
    const w = rec.window(1000, 3000);
    const q = w.metrics.filter((m) => m.name === 'q');
    expect(q.map((m) => [m.phase, m.max])).toEqual([['spike', 4]]);
    expect(w.metrics.find((m) => m.name === 't')?.increase).toBe(15);
    expect(w.scrapes.map((s) => s.attempts)).toEqual([2]);
  });

  it('happy: the time series stays under its bound however long the run', () => {
    const rec = new ServerMetricsRecorder(src, phases);
    for (let i = 0; i < 5000; i++) rec.scraped(0, i, new Map([['q', g(i)]]));
    const [s] = rec.timeSeries();
    expect(s?.points.length).toBeLessThanOrEqual(MAX_SERIES_POINTS);
    expect(s?.points.length).toBeGreaterThan(MAX_SERIES_POINTS / 4);
    expect(s?.points[0]).toEqual({ t: 0, values: { q: 0 } });
  });

  it('happy: counters chart as a rate per second, histograms as the mean since the last scrape', () => {
    const rec = new ServerMetricsRecorder(src, phases);
    feed(rec, [[0, { t: c(0), l: h([[Infinity, 0]], 0) }], [500, { t: c(10), l: h([[Infinity, 4]], 2) }]]);
    expect(rec.timeSeries()[0]?.points).toEqual([{ t: 0, values: { t: null, l: null } }, { t: 500, values: { t: 20, l: 0.5 } }]);
  });
});

describe('bucketQuantile', () => {
  it.each([
    ['happy: interpolates inside the bucket', [[1, 10], [2, 20], [Infinity, 20]], 0.75, 1.5],
    ['happy: the first bucket starts at 0', [[1, 10], [Infinity, 10]], 0.5, 0.5],
    ['happy: a rank in +Inf reads as the highest finite bound', [[1, 10], [Infinity, 20]], 0.99, 1],
    ['sad: no observations', [[1, 0], [Infinity, 0]], 0.5, null],
  ] as [string, [number, number][], number, number | null][])('%s', (_, b, q, want) => {
    const v = bucketQuantile(b, q);
    if (want === null) expect(v).toBeNull();
    else expect(v).toBeCloseTo(want, 9);
  });
});

describe('combineReports and phaseIndexAt', () => {
  it('happy: phases combine: max of maxes, weighted mean, Σ increase ÷ Σ seconds, last of the last', () => {
    const rec = new ServerMetricsRecorder(src, phases);
    feed(rec, [[0, { q: g(1), t: c(0) }], [1000, { q: g(3), t: c(10) }], [3000, { q: g(8), t: c(40) }]]);
    const all = combineReports(rec.data().metrics.filter((m) => m.name === 'q'), 'all');
    expect(all).toMatchObject({ phase: 'all', samples: 3, max: 8, min: 1, mean: 4, last: 8 });
    const t = combineReports(rec.data().metrics.filter((m) => m.name === 't'), 'all');
    expect(t).toMatchObject({ increase: 40, seconds: 3 });
  });
  it('happy: times map to phases, clamped at both ends', () => {
    expect([-5, 0, 1999, 2000, 9999].map((t) => phaseIndexAt(phases, t))).toEqual([0, 0, 0, 1, 1]);
  });
});

describe('METRIC_PRESETS', () => {
  it('happy: names are unique per preset; each names the metrics the issue asks for; token counters are counters or histograms', async () => {
    const { METRIC_PRESETS } = await import('../../src/core/metric-presets.js');
    for (const p of Object.values(METRIC_PRESETS)) {
      const names = p.metrics.map((m) => m.name);
      expect(new Set(names).size, p.name).toBe(names.length);
      for (const m of p.metrics) if (m.tokens) expect(['counter', 'histogram']).toContain(m.kind);
    }
    const has = (preset: keyof typeof METRIC_PRESETS, name: string) => METRIC_PRESETS[preset].metrics.some((m) => m.name === name);
    for (const n of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc', 'vllm:num_preemptions_total', 'vllm:prefix_cache_hits_total', 'vllm:time_to_first_token_seconds']) expect(has('vllm', n)).toBe(true);
    for (const n of ['tgi_queue_size', 'tgi_batch_current_size']) expect(has('tgi', n)).toBe(true);
    for (const n of ['llamacpp:requests_processing', 'llamacpp:requests_deferred', 'llamacpp:tokens_predicted_total']) expect(has('llamacpp', n)).toBe(true);
    expect(has('sglang', 'sglang:num_queue_reqs')).toBe(true);
  });
});
