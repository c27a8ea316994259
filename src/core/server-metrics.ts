/**
 * Scraped server metrics → per-phase figures. Pure: the engine's scraper hands in each scrape's
 * values (or its failure) with its run time; this aggregates as they come, bounded in memory.
 *
 * Each scrape is tagged with the phase under way at its time (before the first phase: the first;
 * after the last, while requests drain: the last). Per source × metric × phase:
 * - gauge: samples, min, mean, max, last of the scraped values.
 * - counter: increase = Σ deltas between consecutive scrapes, attributed to the later scrape's phase,
 *   where a value below its predecessor is a reset and counts as the delta itself (Prometheus's
 *   `increase()` without extrapolation); rate = increase ÷ the seconds those deltas span.
 * - histogram: the same deltas bucket by bucket (and for count and sum); mean = Δsum ÷ Δcount;
 *   quantiles estimated from the bucket deltas as Prometheus's `histogram_quantile` does: find the
 *   bucket holding rank q·n and interpolate linearly inside it (lower bound 0 for the first bucket;
 *   a rank in the +Inf bucket reads as the highest finite bound).
 * Scrape attempts, successes and failure reasons are counted per source × phase, so a budget can
 * say why it could not be judged.
 */
import type { MetricKind } from './metric-presets.js';
import type { MetricValue } from './prom-text.js';

export interface ServerPhase {
  name: string;
  startMs: number;
  endMs: number;
}

/** One metric of one source over one phase (or a budget's scope); report.json's `serverMetrics`. */
export interface ServerMetricReport {
  source: string;
  name: string;
  kind: MetricKind;
  unit?: string;
  phase: string;
  /** scrapes that carried the metric */
  samples: number;
  /** gauge and counter values as scraped; null for histograms */
  min: number | null;
  mean: number | null;
  max: number | null;
  last: number | null;
  /** counters: the increase; histograms: observations added (Δcount) */
  increase?: number;
  /** increase per second */
  rate?: number | null;
  /** the seconds the deltas span */
  seconds?: number;
  /** histograms: Δsum, cumulative bucket deltas [upper bound, count] (+Inf last), estimated quantiles */
  sum?: number;
  buckets?: [number | '+Inf', number][];
  p50?: number | null;
  p90?: number | null;
  p95?: number | null;
  p99?: number | null;
}

/** Scrapes of one source in one phase. */
export interface ScrapeReport {
  source: string;
  url: string;
  phase: string;
  attempts: number;
  ok: number;
  /** failure reason → count ("timeout after 1s", "HTTP 503", "ECONNREFUSED", "not Prometheus text …") */
  failures: Record<string, number>;
}

export interface ServerMetricsData {
  metrics: readonly ServerMetricReport[];
  scrapes: readonly ScrapeReport[];
}

export interface SourceInfo {
  name: string;
  url: string;
  /** metric name → unit, for the report (a preset's) */
  units: ReadonlyMap<string, string>;
}

type Contribution =
  | { kind: 'gauge'; value: number }
  | { kind: 'counter'; value: number; delta?: number; dt?: number }
  | { kind: 'histogram'; delta?: { buckets: Map<number, number>; count: number; sum: number }; dt?: number };

interface Acc {
  kind: MetricKind;
  samples: number;
  min: number;
  max: number;
  total: number;
  last: number | null;
  increase: number;
  seconds: number;
  deltas: number;
  sum: number;
  buckets: Map<number, number>;
}

const newAcc = (kind: MetricKind): Acc => ({ kind, samples: 0, min: Infinity, max: -Infinity, total: 0, last: null, increase: 0, seconds: 0, deltas: 0, sum: 0, buckets: new Map() });

function add(acc: Acc, c: Contribution): void {
  acc.samples++;
  if (c.kind !== 'histogram') {
    acc.min = Math.min(acc.min, c.value);
    acc.max = Math.max(acc.max, c.value);
    acc.total += c.value;
    acc.last = c.value;
  }
  if (c.kind === 'counter' && c.delta !== undefined) {
    acc.increase += c.delta;
    acc.seconds += (c.dt ?? 0) / 1000;
    acc.deltas++;
  }
  if (c.kind === 'histogram' && c.delta) {
    acc.increase += c.delta.count;
    acc.sum += c.delta.sum;
    acc.seconds += (c.dt ?? 0) / 1000;
    acc.deltas++;
    for (const [le, n] of c.delta.buckets) acc.buckets.set(le, (acc.buckets.get(le) ?? 0) + n);
  }
}

/** Prometheus's histogram_quantile over cumulative buckets (see the module comment); null without observations. */
export function bucketQuantile(buckets: readonly (readonly [number, number])[], q: number): number | null {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.length > 0 ? (sorted[sorted.length - 1] as readonly [number, number])[1] : 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      if (count === prevCount) return le;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

function report(acc: Acc, source: string, name: string, phase: string, unit: string | undefined): ServerMetricReport {
  const base = { source, name, kind: acc.kind, ...(unit ? { unit } : {}), phase, samples: acc.samples };
  const rate = acc.seconds > 0 ? acc.increase / acc.seconds : null;
  if (acc.kind === 'histogram') {
    const buckets = [...acc.buckets.entries()].sort((a, b) => a[0] - b[0]);
    return {
      ...base, min: null, max: null, last: null, mean: acc.increase > 0 ? acc.sum / acc.increase : null,
      increase: acc.increase, rate, seconds: acc.seconds, sum: acc.sum,
      buckets: buckets.map(([le, n]) => [le === Infinity ? '+Inf' : le, n]),
      p50: bucketQuantile(buckets, 0.5), p90: bucketQuantile(buckets, 0.9), p95: bucketQuantile(buckets, 0.95), p99: bucketQuantile(buckets, 0.99),
    };
  }
  const stats = { min: finite(acc.min), max: finite(acc.max), mean: acc.samples > 0 ? acc.total / acc.samples : null, last: acc.last };
  return acc.kind === 'counter' ? { ...base, ...stats, increase: acc.increase, rate, seconds: acc.seconds } : { ...base, ...stats };
}

/** Phase index of run time t: before the first phase the first, after the last the last (the drain). */
export function phaseIndexAt(phases: readonly ServerPhase[], t: number): number {
  for (let i = 0; i < phases.length; i++) if (t < (phases[i] as ServerPhase).endMs) return i;
  return Math.max(0, phases.length - 1);
}

interface Entry {
  t: number;
  phase: number;
  source: number;
  values?: Map<string, Contribution>;
  failure?: string;
}

/** One point of the report's time series: per metric a gauge's value, a counter's rate since the previous scrape, a histogram's mean since the previous scrape. */
export interface ServerSeriesPoint {
  t: number;
  values: Record<string, number | null>;
}

export interface ServerSeries {
  source: string;
  /** every `stride`-th scrape is kept, so the series stays under its bound whatever the run's length */
  stride: number;
  points: ServerSeriesPoint[];
}

export const MAX_SERIES_POINTS = 600;

export class ServerMetricsRecorder {
  private readonly prev = new Map<string, { t: number; value: MetricValue }>();
  private readonly accs = new Map<string, Acc>();
  private readonly scrapeStats = new Map<string, ScrapeReport>();
  /** the last windowMs of entries, for early abort */
  private readonly recent: Entry[] = [];
  private readonly series: ServerSeries[];
  private readonly seen: number[];

  constructor(
    private readonly sources: readonly SourceInfo[],
    private readonly phases: readonly ServerPhase[],
    /** how much history early-abort windows need, ms (0: none kept) */
    private readonly windowMs = 0,
  ) {
    this.series = sources.map((s) => ({ source: s.name, stride: 1, points: [] }));
    this.seen = sources.map(() => 0);
  }

  private stats(source: number, phase: number): ScrapeReport {
    const key = `${source}|${phase}`;
    let s = this.scrapeStats.get(key);
    if (!s) {
      const src = this.sources[source] as SourceInfo;
      s = { source: src.name, url: src.url, phase: this.phases[phase]?.name ?? '', attempts: 0, ok: 0, failures: {} };
      this.scrapeStats.set(key, s);
    }
    return s;
  }

  private remember(e: Entry): void {
    if (this.windowMs <= 0) return;
    this.recent.push(e);
    while (this.recent.length > 0 && (this.recent[0] as Entry).t < e.t - this.windowMs - 1000) this.recent.shift();
  }

  /** A scrape of source `source` that answered at run time t with these values. */
  scraped(source: number, t: number, metrics: ReadonlyMap<string, MetricValue>): void {
    const phase = phaseIndexAt(this.phases, t);
    const st = this.stats(source, phase);
    st.attempts++;
    st.ok++;
    const values = new Map<string, Contribution>();
    const point: Record<string, number | null> = {};
    for (const [name, v] of metrics) {
      const key = `${source}|${name}`;
      const before = this.prev.get(key);
      this.prev.set(key, { t, value: v });
      const c = contribution(v, before, t);
      values.set(name, c);
      const accKey = `${source}|${name}|${phase}`;
      let acc = this.accs.get(accKey);
      if (!acc || acc.kind !== v.kind) {
        acc = newAcc(v.kind);
        this.accs.set(accKey, acc);
      }
      add(acc, c);
      point[name] = pointValue(c);
    }
    this.remember({ t, phase, source, values });
    this.addPoint(source, { t, values: point });
  }

  /** A scrape that failed (timeout, connection refused, HTTP error, not exposition text). */
  failed(source: number, t: number, reason: string): void {
    const phase = phaseIndexAt(this.phases, t);
    const st = this.stats(source, phase);
    st.attempts++;
    st.failures[reason] = (st.failures[reason] ?? 0) + 1;
    this.remember({ t, phase, source, failure: reason });
  }

  private addPoint(source: number, p: ServerSeriesPoint): void {
    const s = this.series[source] as ServerSeries;
    const n = this.seen[source] as number;
    this.seen[source] = n + 1;
    if (n % s.stride !== 0) return;
    s.points.push(p);
    if (s.points.length >= MAX_SERIES_POINTS) {
      // halve: keep every other point, and from now on every 2·stride-th scrape
      s.points = s.points.filter((_, i) => i % 2 === 0);
      s.stride *= 2;
    }
  }

  data(): ServerMetricsData {
    const metrics: ServerMetricReport[] = [];
    for (const [key, acc] of this.accs) {
      const [src, name, ph] = key.split('|') as [string, string, string];
      const source = this.sources[Number(src)] as SourceInfo;
      metrics.push(report(acc, source.name, name, this.phases[Number(ph)]?.name ?? '', source.units.get(name)));
    }
    return { metrics: sortReports(metrics, this.phases), scrapes: [...this.scrapeStats.values()] };
  }

  /** The same figures over entries with t in (fromMs, toMs] only: an early-abort window. */
  window(fromMs: number, toMs: number): ServerMetricsData {
    const accs = new Map<string, Acc>();
    const scrapes = new Map<string, ScrapeReport>();
    for (const e of this.recent) {
      if (e.t <= fromMs || e.t > toMs) continue;
      const src = this.sources[e.source] as SourceInfo;
      const phase = this.phases[e.phase]?.name ?? '';
      const sk = `${e.source}|${e.phase}`;
      const st = scrapes.get(sk) ?? { source: src.name, url: src.url, phase, attempts: 0, ok: 0, failures: {} };
      scrapes.set(sk, st);
      st.attempts++;
      if (e.failure !== undefined) st.failures[e.failure] = (st.failures[e.failure] ?? 0) + 1;
      else st.ok++;
      for (const [name, c] of e.values ?? []) {
        const k = `${e.source}|${name}|${e.phase}`;
        const acc = accs.get(k) ?? newAcc(c.kind);
        accs.set(k, acc);
        add(acc, c);
      }
    }
    const metrics = [...accs.entries()].map(([k, acc]) => {
      const [src, name, ph] = k.split('|') as [string, string, string];
      const source = this.sources[Number(src)] as SourceInfo;
      return report(acc, source.name, name, this.phases[Number(ph)]?.name ?? '', source.units.get(name));
    });
    return { metrics, scrapes: [...scrapes.values()] };
  }

  timeSeries(): ServerSeries[] {
    return this.series.map((s) => ({ ...s, points: [...s.points] }));
  }
}

function contribution(v: MetricValue, before: { t: number; value: MetricValue } | undefined, t: number): Contribution {
  if (v.kind === 'gauge') return { kind: 'gauge', value: v.value };
  const dt = before ? Math.max(0, t - before.t) : 0;
  if (v.kind === 'counter') {
    if (!before || before.value.kind !== 'counter') return { kind: 'counter', value: v.value };
    const p = before.value.value;
    return { kind: 'counter', value: v.value, delta: v.value >= p ? v.value - p : v.value, dt };
  }
  if (!before || before.value.kind !== 'histogram') return { kind: 'histogram' };
  const p = before.value;
  const reset = v.count < p.count;
  const prevBuckets = new Map(p.buckets);
  const buckets = new Map<number, number>();
  for (const [le, n] of v.buckets) buckets.set(le, reset ? n : Math.max(0, n - (prevBuckets.get(le) ?? 0)));
  return { kind: 'histogram', delta: { buckets, count: reset ? v.count : v.count - p.count, sum: reset ? v.sum : v.sum - p.sum }, dt };
}

function pointValue(c: Contribution): number | null {
  if (c.kind === 'gauge') return c.value;
  if (c.kind === 'counter') return c.delta !== undefined && (c.dt ?? 0) > 0 ? (c.delta * 1000) / (c.dt as number) : null;
  return c.delta && c.delta.count > 0 ? c.delta.sum / c.delta.count : null;
}

function sortReports(rs: ServerMetricReport[], phases: readonly ServerPhase[]): ServerMetricReport[] {
  const order = new Map(phases.map((p, i) => [p.name, i]));
  return rs.sort((a, b) => a.source.localeCompare(b.source) || a.name.localeCompare(b.name) || (order.get(a.phase) ?? 0) - (order.get(b.phase) ?? 0));
}

/**
 * Several phases' reports of one metric as one (a budget over every non-warmup phase): samples and
 * increases add, min/max/mean combine, last is the last phase's, rate = Σ increase ÷ Σ seconds, and
 * histogram buckets add before the quantiles are estimated again.
 */
export function combineReports(rs: readonly ServerMetricReport[], phase: string): ServerMetricReport | undefined {
  const first = rs[0];
  if (!first) return undefined;
  if (rs.length === 1) return { ...first, phase };
  const acc = newAcc(first.kind);
  for (const r of rs) {
    acc.samples += r.samples;
    if (r.min !== null) acc.min = Math.min(acc.min, r.min);
    if (r.max !== null) acc.max = Math.max(acc.max, r.max);
    if (r.mean !== null && first.kind !== 'histogram') acc.total += r.mean * r.samples;
    if (r.last !== null) acc.last = r.last;
    acc.increase += r.increase ?? 0;
    acc.seconds += r.seconds ?? 0;
    acc.sum += r.sum ?? 0;
    for (const [le, n] of r.buckets ?? []) {
      const k = le === '+Inf' ? Infinity : le;
      acc.buckets.set(k, (acc.buckets.get(k) ?? 0) + n);
    }
  }
  return report(acc, first.source, first.name, phase, first.unit);
}
