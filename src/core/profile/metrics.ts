/**
 * The profile's `metrics:` section (where to scrape server metrics) and its metric budgets
 * (`{ metric: vllm:num_requests_waiting, max: 50 }`). Self-contained: profile/index.ts calls these two
 * checks and passes its problem list; nothing here reaches into the rest of the profile's parsing.
 *
 *   metrics:
 *     - { url: "http://127.0.0.1:8080/metrics", preset: llamacpp, interval: 1s, timeout: 500ms, name: llama, keep: [other_metric] }
 *
 * interval: how often to scrape (default 1s, at least 100ms); timeout: one scrape's limit (default
 * the interval, at most 10s, never above the interval: at most one scrape per source is in flight).
 * name: what budgets and reports call the source (default the preset's name, else host:port).
 * keep: metrics kept besides the preset's (a metric a budget names is kept as well).
 *
 * A metric budget bounds one statistic of one metric from above, per phase scope like the others:
 * gauges max, mean, last; counters increase, rate (per second) and last; histograms increase
 * (observations), rate, mean and p50/p90/p95/p99 (in the histogram's unit, e.g. seconds).
 */
import { isMetricPresetName, METRIC_PRESET_NAMES, presetSpec, type MetricPresetName } from '../metric-presets.js';
import { parseDuration, formatDuration } from '../units.js';
import type { BudgetScope } from '../profile-types.js';
import { METRIC_BUDGET_KEYS, METRIC_SOURCE_KEYS as SOURCE_KEYS, METRIC_STATS } from './keys.js';
import { absent, isObj, own, type Obj } from './values.js';

export interface MetricSource {
  name: string;
  url: string;
  preset?: MetricPresetName;
  intervalMs: number;
  timeoutMs: number;
  /** metrics kept besides the preset's */
  keep: string[];
}

export { METRIC_STATS };
export type MetricStat = (typeof METRIC_STATS)[number];

export type MetricBudget = { kind: 'metric'; id: string; metric: string; source: string; stat: MetricStat; limit: number } & BudgetScope;
export type UnnamedMetricBudget = Omit<MetricBudget, 'id'>;

/** The slice of the profile's problem list (problems.ts) these checks use. */
export interface ProblemSink {
  add(path: string, message: string): void;
  expected(path: string, what: string, got: unknown): void;
  unknownKeys(path: string, o: Record<string, unknown>, allowed: readonly string[]): void;
}

const DEFAULT_INTERVAL_MS = 1000;
const MIN_INTERVAL_MS = 100;
const MAX_TIMEOUT_MS = 10_000;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;


function defaultName(url: string, preset: MetricPresetName | undefined): string {
  if (preset) return preset;
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function checkUrl(v: unknown, path: string, p: ProblemSink): string | undefined {
  if (typeof v === 'string') {
    try {
      const u = new URL(v);
      if (u.protocol === 'http:' || u.protocol === 'https:') return v;
    } catch {
      /* reported below */
    }
  }
  p.expected(path, 'an http(s) URL like "http://127.0.0.1:8080/metrics"', v);
  return undefined;
}

function checkSource(raw: unknown, path: string, p: ProblemSink): MetricSource | undefined {
  if (!isObj(raw)) {
    p.expected(path, 'a source like { url: "http://host:port/metrics", preset: vllm }', raw);
    return undefined;
  }
  p.unknownKeys(path, raw, SOURCE_KEYS);
  const url = checkUrl(own(raw, 'url'), `${path}.url`, p);
  const presetRaw = own(raw, 'preset');
  let preset: MetricPresetName | undefined;
  let ok = url !== undefined;
  if (!absent(presetRaw)) {
    if (isMetricPresetName(presetRaw)) preset = presetRaw;
    else {
      p.expected(`${path}.preset`, `one of ${METRIC_PRESET_NAMES.join(', ')}`, presetRaw);
      ok = false;
    }
  }
  const intervalRaw = own(raw, 'interval');
  const intervalMs = absent(intervalRaw) ? DEFAULT_INTERVAL_MS : parseDuration(intervalRaw);
  if (intervalMs === undefined || intervalMs < MIN_INTERVAL_MS) {
    p.expected(`${path}.interval`, `a duration of at least ${formatDuration(MIN_INTERVAL_MS)} like "1s"`, intervalRaw);
    ok = false;
  }
  const timeoutRaw = own(raw, 'timeout');
  const timeoutMs = absent(timeoutRaw) ? Math.min(intervalMs ?? DEFAULT_INTERVAL_MS, MAX_TIMEOUT_MS) : parseDuration(timeoutRaw);
  if (timeoutMs === undefined || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    p.expected(`${path}.timeout`, `a duration up to ${formatDuration(MAX_TIMEOUT_MS)} like "500ms"`, timeoutRaw);
    ok = false;
  } else if (intervalMs !== undefined && timeoutMs > intervalMs) {
    p.add(`${path}.timeout`, `${formatDuration(timeoutMs)} is longer than the interval ${formatDuration(intervalMs)}: a scrape must end before the next is due`);
    ok = false;
  }
  const keepRaw = own(raw, 'keep');
  const keep: string[] = [];
  if (!absent(keepRaw)) {
    if (!Array.isArray(keepRaw)) {
      p.expected(`${path}.keep`, 'a list of metric names', keepRaw);
      ok = false;
    } else {
      keepRaw.forEach((k: unknown, i) => {
        if (typeof k === 'string' && METRIC_NAME.test(k)) keep.push(k);
        else {
          p.expected(`${path}.keep[${i}]`, 'a Prometheus metric name like "vllm:num_requests_waiting"', k);
          ok = false;
        }
      });
    }
  }
  const nameRaw = own(raw, 'name');
  if (!absent(nameRaw) && (typeof nameRaw !== 'string' || nameRaw.trim() === '')) {
    p.expected(`${path}.name`, 'a non-empty name', nameRaw);
    ok = false;
  }
  if (!ok || url === undefined || intervalMs === undefined || timeoutMs === undefined) return undefined;
  const name = typeof nameRaw === 'string' ? nameRaw : defaultName(url, preset);
  return { name, url, ...(preset ? { preset } : {}), intervalMs, timeoutMs, keep };
}

/** `metrics:` → sources; every problem goes to p. Absent: no scraping. */
export function checkMetricSources(v: unknown, p: ProblemSink): MetricSource[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) {
    p.expected('metrics', 'a list of sources like [{ url: "http://host:port/metrics", preset: vllm }]', v);
    return [];
  }
  const out: MetricSource[] = [];
  v.forEach((raw: unknown, i) => {
    const s = checkSource(raw, `metrics[${i}]`, p);
    if (!s) return;
    if (out.some((o) => o.name === s.name)) p.add(`metrics[${i}].name`, `a source named '${s.name}' is already listed: give each a distinct name`);
    else out.push(s);
  });
  return out;
}

/** The statistics that mean something for a kind (see the module comment). */
export const STATS_OF = {
  gauge: ['max', 'mean', 'last'],
  counter: ['increase', 'rate', 'last'],
  histogram: ['increase', 'rate', 'mean', 'p50', 'p90', 'p95', 'p99'],
} as const satisfies Record<string, readonly MetricStat[]>;

function resolveSource(raw: Obj, path: string, sources: readonly MetricSource[], p: ProblemSink): MetricSource | undefined {
  const v = own(raw, 'source');
  if (!absent(v)) {
    const found = sources.find((s) => s.name === v);
    if (!found) p.add(`${path}.source`, `no metrics source named ${JSON.stringify(v)} (sources: ${sources.map((s) => s.name).join(', ') || 'none'})`);
    return found;
  }
  if (sources.length === 1) return sources[0];
  if (sources.length === 0) p.add(`${path}.metric`, "no server metrics are scraped: add a 'metrics:' section with the endpoint's URL");
  else p.add(`${path}.source`, `several metrics sources are scraped: name one (${sources.map((s) => s.name).join(', ')})`);
  return undefined;
}

/**
 * One `budgets:` entry with a `metric:` key → one budget per statistic it bounds. `scope` is
 * the budgets section's own phase/abort check (budget-scope.ts) (metric budgets take no `path`).
 */
export function checkMetricBudget(raw: Obj, path: string, sources: readonly MetricSource[], p: ProblemSink, scope: () => BudgetScope | undefined): UnnamedMetricBudget[] {
  p.unknownKeys(path, raw, METRIC_BUDGET_KEYS);
  const metric = own(raw, 'metric');
  const nameOk = typeof metric === 'string' && METRIC_NAME.test(metric);
  if (!nameOk) p.expected(`${path}.metric`, 'a Prometheus metric name like "vllm:num_requests_waiting"', metric);
  const source = resolveSource(raw, path, sources, p);
  const sc = scope();
  const spec = nameOk && source ? presetSpec(source.preset, metric as string) : undefined;
  const limits: [MetricStat, number][] = [];
  let ok = nameOk && source !== undefined && sc !== undefined;
  for (const stat of METRIC_STATS) {
    const v = own(raw, stat);
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      p.expected(`${path}.${stat}`, 'a number in the metric’s own unit', v);
      ok = false;
      continue;
    }
    if (spec && !(STATS_OF[spec.kind] as readonly string[]).includes(stat)) {
      p.add(`${path}.${stat}`, `${spec.name} is a ${spec.kind}: bound it by ${STATS_OF[spec.kind].join(', ')}`);
      ok = false;
      continue;
    }
    limits.push([stat, v]);
  }
  if (limits.length === 0 && ok) {
    p.add(path, `expected at least one of ${METRIC_STATS.join(', ')} with a number, got none`);
    ok = false;
  }
  if (!ok || !source || !sc) return [];
  return limits.map(([stat, limit]) => ({ kind: 'metric', metric: metric as string, source: source.name, stat, limit, ...sc }));
}

/** Every metric each source keeps: its preset's, its `keep:`, and those its budgets name. */
export function keptMetrics(source: MetricSource, budgets: readonly { kind: string; metric?: string; source?: string }[]): Set<string> {
  const out = new Set<string>(source.keep);
  for (const b of budgets) if (b.kind === 'metric' && b.source === source.name && b.metric) out.add(b.metric);
  return out;
}
