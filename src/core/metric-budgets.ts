/**
 * Metric budgets → ordinary verdicts. One statistic of one scraped metric over the budget's phases,
 * bounded from above. Fail-safe, with the reason in words:
 * - the source was never scraped, or no scrape of it succeeded, in scope → inconclusive;
 * - more than MAX_FAILED_SCRAPES of its scrapes in scope failed → inconclusive, unless what was
 *   seen already breaks the limit for a statistic that can only grow with more data (max,
 *   increase): then it fails, since the missing scrapes cannot undo a breach;
 * - the metric was in none of the successful scrapes → inconclusive;
 * - the statistic does not apply to the metric's kind (a gauge has no increase) → inconclusive;
 * - a counter or histogram with fewer than two scrapes has no delta → inconclusive;
 * - a histogram quantile over fewer observations than a latency percentile needs (minSamples:
 *   p99 → 1,000) → inconclusive.
 */
import { inScope, minSamples, scopeWords, type Measurements } from './budgets.js';
import type { MetricBudget, MetricStat } from './profile/metrics.js';
import { STATS_OF } from './profile/metrics.js';
import { describeBudget } from './profile-types.js';
import type { Verdict } from './report.js';
import { combineReports, type ScrapeReport, type ServerMetricReport } from './server-metrics.js';

/** the share of a scope's scrapes that may fail before a budget that passed cannot tell */
export const MAX_FAILED_SCRAPES = 0.1;

const num = (x: number): string => String(Number(x.toPrecision(6)));
const pct = (x: number): string => `${Number((x * 100).toFixed(1))}%`;

function verdict(b: MetricBudget, status: Verdict['status'], observed: number | null, samples: number, reason: string): Verdict {
  return { id: b.id, description: describeBudget(b), status, observed, limit: b.limit, unit: 'number', samples, reason, interval: null, borderline: false, metric: { source: b.source, name: b.metric, stat: b.stat } };
}

function failureWords(scrapes: readonly ScrapeReport[]): string {
  const reasons = new Map<string, number>();
  for (const s of scrapes) for (const [r, n] of Object.entries(s.failures)) reasons.set(r, (reasons.get(r) ?? 0) + n);
  return [...reasons.entries()].map(([r, n]) => `${r} ×${n}`).join(', ');
}

function statOf(r: ServerMetricReport, stat: MetricStat): number | null {
  switch (stat) {
    case 'increase':
      return r.increase ?? null;
    case 'rate':
      return r.rate ?? null;
    default:
      return r[stat] ?? null;
  }
}

export function evaluateMetricBudget(b: MetricBudget, m: Measurements): Verdict {
  const where = scopeWords(b);
  const server = m.server;
  if (!server) return verdict(b, 'inconclusive', null, 0, `no server metrics were scraped, so ${b.metric} is unknown in ${where}`);
  const phases = m.phases.filter((p) => inScope(b, p)).map((p) => p.name);
  const scrapes = server.scrapes.filter((s) => s.source === b.source && phases.includes(s.phase));
  const attempts = scrapes.reduce((n, s) => n + s.attempts, 0);
  const ok = scrapes.reduce((n, s) => n + s.ok, 0);
  const url = scrapes[0]?.url;
  const src = `metrics source ${b.source}${url ? ` (${url})` : ''}`;
  if (attempts === 0) return verdict(b, 'inconclusive', null, 0, `${src} was not scraped in ${where}`);
  if (ok === 0) return verdict(b, 'inconclusive', null, 0, `${src} could not be scraped in ${where}: all ${attempts} scrapes failed (${failureWords(scrapes)})`);
  const reports = server.metrics.filter((r) => r.source === b.source && r.name === b.metric && phases.includes(r.phase));
  const r = combineReports(reports, b.phase ?? 'non-warmup phases');
  if (!r || r.samples === 0) return verdict(b, 'inconclusive', null, 0, `${b.metric} was absent from all ${ok} successful scrapes of ${src} in ${where}`);
  const applies = STATS_OF[r.kind] as readonly string[];
  if (!applies.includes(b.stat)) {
    return verdict(b, 'inconclusive', null, r.samples, `${b.metric} is a ${r.kind}, and ${b.stat} applies only to ${Object.entries(STATS_OF).filter(([, s]) => (s as readonly string[]).includes(b.stat)).map(([k]) => `${k}s`).join(' and ')} (a ${r.kind} is bounded by ${applies.join(', ')})`);
  }
  const observed = statOf(r, b.stat);
  const failed = attempts - ok;
  const seen = `over ${r.samples} scrapes in ${where}`;
  const noDelta = r.kind !== 'gauge' && b.stat !== 'last' && (r.seconds ?? 0) === 0;
  if (observed === null || noDelta) {
    const why = noDelta ? 'needs two scrapes to measure a change' : 'had no observations';
    return verdict(b, 'inconclusive', null, r.samples, `${b.stat} of ${b.metric} ${why} (${r.samples} scrapes in ${where})`);
  }
  const breach = observed > b.limit;
  const words = `${b.stat} of ${b.metric} was ${num(observed)} ${breach ? '>' : '≤'} ${num(b.limit)} ${seen}`;
  if (failed / attempts > MAX_FAILED_SCRAPES) {
    const partial = `${failed} of ${attempts} scrapes of ${src} failed in ${where} (${pct(failed / attempts)} > ${pct(MAX_FAILED_SCRAPES)}: ${failureWords(scrapes)})`;
    if (breach && (b.stat === 'max' || b.stat === 'increase')) return verdict(b, 'fail', observed, r.samples, `${words}; ${partial}, which cannot undo the breach`);
    return verdict(b, 'inconclusive', observed, r.samples, `${partial}: ${b.stat} of ${b.metric} cannot be told (${num(observed)} over the scrapes that succeeded)`);
  }
  if (b.stat.startsWith('p')) {
    const need = minSamples(b.stat as 'p50' | 'p90' | 'p95' | 'p99');
    const n = r.increase ?? 0;
    if (n < need) return verdict(b, 'inconclusive', observed, n, `${n} observations of ${b.metric} in ${where}, ${b.stat} needs at least ${need} to be conclusive (estimated ${num(observed)})`);
  }
  return verdict(b, breach ? 'fail' : 'pass', observed, r.samples, words);
}
