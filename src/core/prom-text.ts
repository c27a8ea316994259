/**
 * The Prometheus text exposition format → the values of the metrics a run keeps, one value per
 * metric name (label sets combined). The grammar is parse-prometheus-text-format's; this file only
 * picks lines and folds the library's output.
 *
 * Two steps, so a large or hostile body never costs one long block of the event loop:
 * 1. `ExpositionFilter` takes the body chunk by chunk as it arrives and keeps only the lines of wanted
 *    families (their `# TYPE` / `# HELP` and sample lines); it also counts well-formed sample lines of
 *    any family, so a body that is not exposition text at all (an HTML page, garbage) is told apart
 *    from one that merely lacks the wanted metrics.
 * 2. `parseKept` parses the kept lines with the library and folds them.
 *
 * Histograms: parse-prometheus-text-format 1.1.1 folds every labelled histogram series of a family into
 * one and drops their `_count` and `_sum` (test/core/prom-text.test.ts pins this), and vLLM's and
 * SGLang's histograms always carry labels. So a histogram's `# TYPE` line is withheld from the library,
 * which then reads `x_bucket`, `x_count` and `x_sum` as plain labelled samples, and they are regrouped
 * here: per label set, then summed across label sets bucket by bucket.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { MetricKind } from './metric-presets.js';

export type MetricValue =
  | { kind: 'gauge'; value: number }
  | { kind: 'counter'; value: number }
  /** cumulative buckets [upper bound, count] ascending (the last is +Inf), and the series' count and sum */
  | { kind: 'histogram'; buckets: [number, number][]; count: number; sum: number };

export interface KeepRule {
  /** whether a family (metric name without _bucket/_count/_sum) is kept */
  wanted(name: string): boolean;
  /** how label sets combine for a gauge or counter (default sum) */
  combine(name: string): 'sum' | 'max';
  /** the kind to read a family as when its `# TYPE` is absent or untyped (a preset's kind) */
  kindOf(name: string): MetricKind | undefined;
}

export type ParseResult = { ok: true; metrics: Map<string, MetricValue> } | { ok: false; error: string };

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{.*\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const TYPE_LINE = /^#\s*(TYPE|HELP)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(\S+))?/;
const SUFFIXES = ['_bucket', '_count', '_sum'] as const;
/** a line longer than this is garbage whatever it holds; dropped without being kept */
const MAX_LINE = 64 * 1024;

/** Prometheus sample values: floats, plus +Inf, -Inf and NaN. */
export function sampleValue(s: string): number | undefined {
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (s === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

export class ExpositionFilter {
  private partial = '';
  private readonly kept: string[] = [];
  private readonly types = new Map<string, string>();
  /** well-formed sample lines of any family */
  samples = 0;
  /** the first line that is neither a comment, blank, nor a well-formed sample */
  firstBad: string | undefined;

  constructor(private readonly rule: KeepRule) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > MAX_LINE) {
      this.firstBad ??= `${this.partial.slice(0, 40)}… (a line of more than ${MAX_LINE} characters)`;
      this.partial = '';
    }
    for (const line of lines) this.line(line);
  }

  private family(name: string): string {
    for (const s of SUFFIXES) {
      if (name.endsWith(s)) {
        const base = name.slice(0, -s.length);
        const t = this.types.get(base);
        if (t === 'histogram' || t === 'summary' || (t === undefined && this.rule.kindOf(base) === 'histogram')) return base;
      }
    }
    return name;
  }

  private line(raw: string): void {
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = TYPE_LINE.exec(line);
      if (!m) return;
      const name = m[2] as string;
      if (m[1] === 'TYPE') this.types.set(name, (m[3] ?? 'untyped').toLowerCase());
      const t = this.types.get(name);
      // a histogram's TYPE is withheld from the library (see the module comment)
      if (this.rule.wanted(name) && t !== 'histogram' && t !== 'summary') this.kept.push(line);
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m || sampleValue(m[2] as string) === undefined) {
      this.firstBad ??= line.slice(0, 80);
      return;
    }
    this.samples++;
    if (this.rule.wanted(this.family(m[1] as string))) this.kept.push(line);
  }

  end(): { text: string; types: ReadonlyMap<string, string> } {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
    // the library drops the last line unless the text ends with a newline
    return { text: `${this.kept.join('\n')}\n`, types: this.types };
  }
}

interface LibMetric {
  value?: string;
  labels?: Record<string, string>;
}
interface LibFamily {
  name: string;
  type: string;
  metrics: LibMetric[];
}

function labelKey(labels: Record<string, string> | undefined, drop?: string): string {
  if (!labels) return '';
  return Object.keys(labels)
    .filter((k) => k !== drop)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

interface HistParts {
  buckets: Map<string, Map<number, number>>;
  count: Map<string, number>;
  sum: Map<string, number>;
}

/**
 * The filtered text → kept metrics. A body with lines but no well-formed sample line at all is not
 * exposition text; a line the library rejects fails the whole scrape (as it fails Prometheus's).
 */
export function parseKept(filter: ExpositionFilter, rule: KeepRule): ParseResult {
  const { text, types } = filter.end();
  if (filter.samples === 0 && filter.firstBad !== undefined) return { ok: false, error: `not Prometheus text exposition (first line: ${JSON.stringify(filter.firstBad)})` };
  let families: LibFamily[];
  try {
    families = parsePrometheusTextFormat(text) as LibFamily[];
  } catch (e) {
    return { ok: false, error: `not Prometheus text exposition (${(e as Error).message})` };
  }
  const out = new Map<string, MetricValue>();
  const hists = new Map<string, HistParts>();
  for (const f of families) {
    const base = baseOf(f.name, types, rule);
    if (base !== undefined) {
      const parts = hists.get(base.name) ?? { buckets: new Map(), count: new Map(), sum: new Map() };
      hists.set(base.name, parts);
      addHistogramSamples(parts, base.suffix, f.metrics);
      continue;
    }
    const declared = types.get(f.name);
    const kind: 'gauge' | 'counter' = declared === 'counter' || (declared !== 'gauge' && rule.kindOf(f.name) === 'counter') ? 'counter' : 'gauge';
    const values = f.metrics.map((m) => sampleValue(m.value ?? '')).filter((v): v is number => v !== undefined && !Number.isNaN(v));
    if (values.length === 0) continue;
    const value = rule.combine(f.name) === 'max' ? Math.max(...values) : values.reduce((a, b) => a + b, 0);
    out.set(f.name, kind === 'counter' ? { kind, value } : { kind, value });
  }
  for (const [name, parts] of hists) {
    const v = foldHistogram(parts);
    if (v) out.set(name, v);
  }
  return { ok: true, metrics: out };
}

function baseOf(name: string, types: ReadonlyMap<string, string>, rule: KeepRule): { name: string; suffix: (typeof SUFFIXES)[number] } | undefined {
  for (const s of SUFFIXES) {
    if (!name.endsWith(s)) continue;
    const base = name.slice(0, -s.length);
    const t = types.get(base);
    if (t === 'histogram' || t === 'summary' || (t === undefined && rule.kindOf(base) === 'histogram')) return { name: base, suffix: s };
  }
  return undefined;
}

function addHistogramSamples(parts: HistParts, suffix: (typeof SUFFIXES)[number], metrics: LibMetric[]): void {
  for (const m of metrics) {
    const v = sampleValue(m.value ?? '');
    if (v === undefined || Number.isNaN(v)) continue;
    if (suffix === '_bucket') {
      const le = sampleValue(m.labels?.le ?? '');
      if (le === undefined) continue;
      const key = labelKey(m.labels, 'le');
      const b = parts.buckets.get(key) ?? new Map<number, number>();
      b.set(le, v);
      parts.buckets.set(key, b);
    } else {
      (suffix === '_count' ? parts.count : parts.sum).set(labelKey(m.labels), v);
    }
  }
}

/** Sums label sets bucket by bucket; count falls back to the +Inf bucket. */
function foldHistogram(parts: HistParts): MetricValue | undefined {
  const buckets = new Map<number, number>();
  for (const b of parts.buckets.values()) for (const [le, n] of b) buckets.set(le, (buckets.get(le) ?? 0) + n);
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const sumOf = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  const inf = sorted.find(([le]) => le === Number.POSITIVE_INFINITY)?.[1];
  const count = parts.count.size > 0 ? sumOf(parts.count) : inf;
  if (count === undefined) return undefined;
  return { kind: 'histogram', buckets: sorted, count, sum: sumOf(parts.sum) };
}
