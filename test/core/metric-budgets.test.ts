/**
 * `metrics:` and metric budgets: parsing (every problem with its path) and evaluation (ordinary
 * verdicts, fail-safe reasons in words).
 */
import { describe, expect, it } from 'vitest';
import { evaluateBudgets, type Measurements } from '../../src/core/budgets.js';
import { describeBudget, parseProfile, type ProfileResult } from '../../src/core/profile/index.js';
import type { Profile } from '../../src/core/profile-types.js';
import type { MetricValue } from '../../src/core/prom-text.js';
import { ServerMetricsRecorder } from '../../src/core/server-metrics.js';

const URL_ = 'http://127.0.0.1:8080/metrics';
const doc = (extra: Record<string, unknown>): Record<string, unknown> => ({
  name: 'p',
  phases: [
    { name: 'warm', duration: '1s', rate: 1, warmup: true },
    { name: 'steady', duration: '2s', rate: 5 },
    { name: 'spike', duration: '2s', rate: 50 },
  ],
  metrics: [{ url: URL_, preset: 'vllm', interval: '1s' }],
  ...extra,
});
const ok = (r: ProfileResult): Profile => {
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return r.profile;
};
const msgs = (r: ProfileResult): string[] => (r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`));
const parse = (extra: Record<string, unknown>): ProfileResult => parseProfile(doc(extra), () => undefined);

describe('metrics: section', () => {
  it('happy: defaults (name from the preset, timeout = interval) and keep', () => {
    const p = ok(parse({ metrics: [{ url: URL_, preset: 'llamacpp', interval: '250ms', keep: ['foo_total'] }] }));
    expect(p.metrics).toEqual([{ name: 'llamacpp', url: URL_, preset: 'llamacpp', intervalMs: 250, timeoutMs: 250, keep: ['foo_total'] }]);
  });
  it('happy: no preset: named by host:port; absent section: no sources', () => {
    expect(ok(parse({ metrics: [{ url: URL_ }] })).metrics[0]?.name).toBe('127.0.0.1:8080');
    expect(ok(parse({ metrics: undefined })).metrics).toEqual([]);
  });
  it.each([
    [{ url: 'ftp://x/metrics' }, 'metrics[0].url: expected an http(s) URL like "http://127.0.0.1:8080/metrics", got "ftp://x/metrics"'],
    [{ url: URL_, preset: 'vlm' }, 'metrics[0].preset: expected one of vllm, tgi, sglang, llamacpp, got "vlm"'],
    [{ url: URL_, interval: '10ms' }, 'metrics[0].interval: expected a duration of at least 100ms like "1s", got "10ms"'],
    [{ url: URL_, interval: '1s', timeout: '2s' }, 'metrics[0].timeout: 2s is longer than the interval 1s: a scrape must end before the next is due'],
    [{ url: URL_, keep: ['bad name'] }, 'metrics[0].keep[0]: expected a Prometheus metric name like "vllm:num_requests_waiting", got "bad name"'],
    [{ url: URL_, intervl: '1s' }, "metrics[0]: unknown key 'intervl' — did you mean 'interval'?"],
  ])('sad: %j', (source, want) => {
    expect(msgs(parse({ metrics: [source] }))).toContain(want);
  });
  it('sad: duplicate names', () => {
    expect(msgs(parse({ metrics: [{ url: URL_, preset: 'vllm' }, { url: 'http://127.0.0.1:9/metrics', preset: 'vllm' }] }))).toContain(
      "metrics[1].name: a source named 'vllm' is already listed: give each a distinct name",
    );
  });
});

describe('metric budgets: parsing', () => {
  it('happy: one entry, several statistics → one budget each, scoped and abortable', () => {
    const p = ok(parse({ budgets: [{ metric: 'vllm:num_requests_waiting', max: 50, mean: 10, phase: 'spike', abortOnFail: true, window: '5s', after: '1s' }] }));
    expect(p.budgets).toEqual([
      { kind: 'metric', id: 'vllm:num_requests_waiting{phase=spike} max', metric: 'vllm:num_requests_waiting', source: 'vllm', stat: 'max', limit: 50, phase: 'spike', abort: { windowMs: 5000, afterMs: 1000 } },
      { kind: 'metric', id: 'vllm:num_requests_waiting{phase=spike} mean', metric: 'vllm:num_requests_waiting', source: 'vllm', stat: 'mean', limit: 10, phase: 'spike', abort: { windowMs: 5000, afterMs: 1000 } },
    ]);
    expect(describeBudget(p.budgets[0] as Profile['budgets'][number])).toBe('max of vllm:num_requests_waiting (phase spike) ≤ 50; aborts the run when broken over 5s, from 1s on');
  });
  it('happy: a metric the preset does not name is accepted (its kind is checked when scraped)', () => {
    expect(ok(parse({ budgets: [{ metric: 'my_gauge', max: 1 }] })).budgets).toHaveLength(1);
  });
  it.each([
    [{ metric: 'vllm:num_requests_waiting', increase: 0 }, 'budgets[0].increase: vllm:num_requests_waiting is a gauge: bound it by max, mean, last'],
    [{ metric: 'vllm:num_preemptions_total', max: 0 }, 'budgets[0].max: vllm:num_preemptions_total is a counter: bound it by increase, rate, last'],
    [{ metric: 'vllm:num_requests_waiting', max: '50' }, 'budgets[0].max: expected a number in the metric’s own unit, got "50"'],
    [{ metric: 'vllm:num_requests_waiting' }, 'budgets[0]: expected at least one of max, mean, last, increase, rate, p50, p90, p95, p99 with a number, got none'],
    [{ metric: 'x', max: 1, path: 'primary' }, "budgets[0]: unknown key 'path' — did you mean 'rate'?"],
    [{ metric: 'x', max: 1, phase: 'warm' }, "budgets[0].phase: phase 'warm' is a warmup phase, and warmup phases are not budgeted"],
    [{ metric: 'x', max: 1, source: 'nope' }, 'budgets[0].source: no metrics source named "nope" (sources: vllm)'],
    [{ metric: 'not a name', max: 1 }, 'budgets[0].metric: expected a Prometheus metric name like "vllm:num_requests_waiting", got "not a name"'],
  ])('sad: %j', (b, want) => {
    expect(msgs(parse({ budgets: [b] }))).toContain(want);
  });
  it('sad: no metrics section, or several sources and no source named', () => {
    expect(msgs(parse({ metrics: undefined, budgets: [{ metric: 'x', max: 1 }] }))).toContain("budgets[0].metric: no server metrics are scraped: add a 'metrics:' section with the endpoint's URL");
    const two = [{ url: URL_, name: 'a' }, { url: URL_, name: 'b' }];
    expect(msgs(parse({ metrics: two, budgets: [{ metric: 'x', max: 1 }] }))).toContain('budgets[0].source: several metrics sources are scraped: name one (a, b)');
  });
});

/** Measurements with scrapes fed to a recorder over the profile's phases (warm 0–1s, steady 1–3s, spike 3–5s). */
function measured(feed: (rec: ServerMetricsRecorder) => void): Measurements {
  const phases = [
    { name: 'warm', startMs: 0, endMs: 1000 },
    { name: 'steady', startMs: 1000, endMs: 3000 },
    { name: 'spike', startMs: 3000, endMs: 5000 },
  ];
  const rec = new ServerMetricsRecorder([{ name: 'vllm', url: URL_, units: new Map() }], phases);
  feed(rec);
  const phaseData = phases.map((p) => ({ name: p.name, warmup: p.name === 'warm', scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0, fallbackErrors: 0 }));
  return { series: [], phases: phaseData, server: rec.data() };
}
const m = (pairs: Record<string, MetricValue>) => new Map(Object.entries(pairs));
const waiting = (v: number): MetricValue => ({ kind: 'gauge', value: v });
const preempt = (v: number): MetricValue => ({ kind: 'counter', value: v });

function verdictsOf(budgets: Record<string, unknown>[], meas: Measurements) {
  return evaluateBudgets(ok(parse({ budgets })).budgets, meas);
}

describe('metric budgets: evaluation', () => {
  const healthy = measured((rec) => {
    for (let t = 0; t <= 5000; t += 500) rec.scraped(0, t, m({ 'vllm:num_requests_waiting': waiting(t >= 3000 ? 60 : 5), 'vllm:num_preemptions_total': preempt(t >= 4000 ? 3 : 0) }));
  });

  it('happy: scoped by phase: passes in steady, fails in spike, with the observed value and its reason', () => {
    const [steady, spike] = verdictsOf([{ metric: 'vllm:num_requests_waiting', max: 50, phase: 'steady' }, { metric: 'vllm:num_requests_waiting', max: 50, phase: 'spike' }], healthy);
    expect(steady).toMatchObject({ status: 'pass', observed: 5, limit: 50, unit: 'number', samples: 4 });
    // 3s … 5s, and the scrape at 5s (the drain) belongs to the last phase
    expect(spike).toMatchObject({ status: 'fail', observed: 60, samples: 5 });
    expect(spike?.reason).toBe('max of vllm:num_requests_waiting was 60 > 50 over 5 scrapes in phase spike');
  });

  it('happy: counter increase over every non-warmup phase', () => {
    const [v] = verdictsOf([{ metric: 'vllm:num_preemptions_total', increase: 0 }], healthy);
    expect(v).toMatchObject({ status: 'fail', observed: 3 });
    expect(v?.reason).toBe('increase of vllm:num_preemptions_total was 3 > 0 over 9 scrapes in non-warmup phases');
  });

  it('sad: a source that could not be scraped at all is inconclusive, with its reasons', () => {
    const dead = measured((rec) => {
      for (let t = 0; t <= 5000; t += 1000) rec.failed(0, t, 'ECONNREFUSED');
    });
    const [v] = verdictsOf([{ metric: 'vllm:num_requests_waiting', max: 50 }], dead);
    expect(v).toMatchObject({ status: 'inconclusive', observed: null });
    expect(v?.reason).toBe(`metrics source vllm (${URL_}) could not be scraped in non-warmup phases: all 5 scrapes failed (ECONNREFUSED ×5)`);
  });

  it('sad: an absent metric is inconclusive', () => {
    const [v] = verdictsOf([{ metric: 'vllm:kv_cache_usage_perc', mean: 0.9 }], healthy);
    expect(v?.status).toBe('inconclusive');
    expect(v?.reason).toBe(`vllm:kv_cache_usage_perc was absent from all 9 successful scrapes of metrics source vllm (${URL_}) in non-warmup phases`);
  });

  it('sad: more than 10% failed scrapes: a pass cannot be told, but a breach of max still fails', () => {
    const gappy = measured((rec) => {
      for (let t = 1000; t <= 5000; t += 500) {
        if (t >= 4000) rec.failed(0, t, 'timeout after 1s');
        else rec.scraped(0, t, m({ 'vllm:num_requests_waiting': waiting(t >= 3000 ? 60 : 5) }));
      }
    });
    const [pass, breach] = verdictsOf([{ metric: 'vllm:num_requests_waiting', max: 100 }, { metric: 'vllm:num_requests_waiting', max: 50 }], gappy);
    expect(pass?.status).toBe('inconclusive');
    expect(pass?.reason).toMatch(/^3 of 9 scrapes of metrics source vllm \(.*\) failed in non-warmup phases \(33\.3% > 10%: timeout after 1s ×3\): max of vllm:num_requests_waiting cannot be told \(60 over the scrapes that succeeded\)$/);
    expect(breach?.status).toBe('fail');
    expect(breach?.reason).toMatch(/, which cannot undo the breach$/);
  });

  it('sad: a statistic of the wrong kind for an unknown metric is inconclusive', () => {
    const x = measured((rec) => {
      rec.scraped(0, 1500, m({ my_gauge: waiting(1) }));
      rec.scraped(0, 2500, m({ my_gauge: waiting(2) }));
    });
    const [v] = verdictsOf([{ metric: 'my_gauge', increase: 0 }], x);
    expect(v?.status).toBe('inconclusive');
    expect(v?.reason).toBe('my_gauge is a gauge, and increase applies only to counters and histograms (a gauge is bounded by max, mean, last)');
  });

  it('sad: a counter scraped once has no increase', () => {
    const once = measured((rec) => rec.scraped(0, 1500, m({ 'vllm:num_preemptions_total': preempt(1) })));
    const [v] = verdictsOf([{ metric: 'vllm:num_preemptions_total', increase: 0 }], once);
    expect(v?.status).toBe('inconclusive');
    expect(v?.reason).toBe('increase of vllm:num_preemptions_total needs two scrapes to measure a change (1 scrapes in non-warmup phases)');
  });

  it('happy: a saved report re-checks to the same verdicts (budgetgate check)', async () => {
    const { reevaluate } = await import('../../src/core/verdict.js');
    const budgets = ok(parse({ budgets: [{ metric: 'vllm:num_requests_waiting', max: 50, phase: 'spike' }, { metric: 'vllm:num_preemptions_total', increase: 5 }] })).budgets;
    const live = evaluateBudgets(budgets, healthy);
    const phases = healthy.phases.map((p, i) => ({ ...p, model: 'open' as const, concurrency: 0, concurrencyTo: 0, startMs: [0, 1000, 3000][i] ?? 0, endMs: [1000, 3000, 5000][i] ?? 0, rate: 1, to: 1, errorKinds: {}, fallbackSignals: {} }));
    const report = { series: [], phases, totals: { scheduled: 0, sent: 0, completed: 0, errors: 0, fallback: 0, late: 0 }, interrupted: false, serverMetrics: [...(healthy.server?.metrics ?? [])], scrapes: [...(healthy.server?.scrapes ?? [])] } as unknown as Parameters<typeof reevaluate>[0];
    const again = reevaluate(report, budgets, { allowInconclusive: false }).budgets.slice(0, 2);
    expect(again.map((v) => [v.status, v.observed, v.reason])).toEqual(live.map((v) => [v.status, v.observed, v.reason]));
  });

  it('sad: a report without server metrics is inconclusive', () => {
    const [v] = verdictsOf([{ metric: 'x', max: 1 }], { ...healthy, server: undefined });
    expect(v?.reason).toBe('no server metrics were scraped, so x is unknown in non-warmup phases');
  });
});

describe('metric budgets: early abort', () => {
  it('happy: an abortOnFail metric budget stops the run over its window; before `after`, and on a quiet window, it does not', async () => {
    const { AbortWatch } = await import('../../src/core/abort.js');
    const budgets = ok(parse({ budgets: [{ metric: 'vllm:num_requests_waiting', max: 50, abortOnFail: true, window: '2s', after: '3s' }] })).budgets;
    const phases = [
      { name: 'warm', startMs: 0, endMs: 1000 },
      { name: 'steady', startMs: 1000, endMs: 3000 },
      { name: 'spike', startMs: 3000, endMs: 10_000 },
    ];
    const rec = new ServerMetricsRecorder([{ name: 'vllm', url: URL_, units: new Map() }], phases, 2000);
    const watch = new AbortWatch(budgets, phases.map((p) => ({ name: p.name, warmup: p.name === 'warm' })), (from, to) => rec.window(from, to));
    for (let t = 0; t <= 6000; t += 500) {
      rec.scraped(0, t, m({ 'vllm:num_requests_waiting': waiting(t >= 2000 && t < 3000 ? 80 : t >= 5000 ? 70 : 5) }));
    }
    // 80 waiting at 2–2.5s, but abort starts at 3s; at 4.5s the last 2s held 5 only
    expect(watch.check(2500)).toBeUndefined();
    expect(watch.check(4500)).toBeUndefined();
    const d = watch.check(6000);
    expect(d?.verdict.status).toBe('fail');
    expect(d?.verdict.reason).toBe('aborted at 6.0s: over the last 2s, max of vllm:num_requests_waiting was 70 > 50 over 4 scrapes in non-warmup phases');
  });
});
