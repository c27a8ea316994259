/**
 * The HTML report: one self-contained file (the charting library, its CSS, the data and the drawing
 * code all inlined), so it opens from a CI artifact with no network. RunResult → string; the library's
 * source is passed in by the caller (src/cli/assets.ts reads it), keeping this renderer free of I/O.
 *
 * Latency by percentile (HdrHistogram's classic plot): x = 1 / (1 − q) on a log axis, so the tail gets
 * as much room as the body — x = 2 is the median, 10 is p90, 100 is p99, 1000 is p99.9. Points are read
 * from each stage's merged histogram (every path and non-warmup phase) at x = 10^(i/24), i.e. 24 points
 * per decade, up to x = n (q = 1 − 1/n, the largest sample); beyond n a histogram has nothing to say.
 */
import { hookLines, recoveryLines } from './hooks-recovery.js';
import { formatDuration } from '../core/units.js';
import { curveOf, percentileGrid } from './html/curves.js';
import type { RunResult } from '../core/report.js';
import type { PolicyOptions } from '../core/verdict.js';
import { intervalText, limitText, ms, observedText, stageValue } from './format.js';
import { CLIENT_JS, PAGE_CSS } from './html/client.js';
import { capacitySectionHtml } from './capacity.js';
import { asView, type ReportView } from './view.js';
import { STAGES_CSS, stageCharts, type StageChart, stagesSectionHtml, timeSplit, timeSplitSectionHtml } from './html/stages.js';
import { STAGE_CLIENT_JS } from './html/stage-client.js';
import { throughputText } from './throughput.js';
import { SERVER_HEADERS, scrapeProblems, serverMetricRows, tokenCheckLines } from './server-metrics.js';
import { pathTable, pathsNote } from './paths.js';
import { sessionTables } from './sessions.js';

export interface ChartLib {
  /** uPlot's IIFE build (defines the global `uPlot`) */
  js: string;
  css: string;
}

export interface HtmlOptions {
  chartLib: ChartLib;
  /** how the run is judged (default: as the report was, see view.ts) */
  policy?: Partial<PolicyOptions>;
}

export { percentileGrid } from './html/curves.js';

export interface PercentileCurves {
  x: number[];
  /** per stage, latency (ms) at each x, null past the stage's sample count */
  stages: { name: string; count: number; y: (number | null)[] }[];
}

/** One curve per stage of the view's merged stages, read on a shared x grid so the chart's series align. */
export function percentileCurves(x: RunResult | ReportView): PercentileCurves {
  const merged = asView(x).stages();
  const xMax = Math.max(1, ...merged.map((s) => s.count));
  const grid = percentileGrid(xMax);
  return {
    x: grid,
    stages: merged.map(({ name, hist: h, count: n }) => ({ name, count: n, y: curveOf(h, grid) })),
  };
}

/** JSON safe inside a <script> element: no "</script>", "<!--" or line separators can survive. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** library code inlined raw: only a closing tag could end the element early */
const inlineScript = (js: string): string => js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
const inlineStyle = (css: string): string => css.replace(/<\/(style)/gi, '<\\/$1');

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function htmlTable(headers: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  const th = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}
const td = (s: string, cls = ''): string => `<td${cls ? ` class="${cls}"` : ''}>${esc(s)}</td>`;

/**
 * One chart per budgeted server metric: its scraped values over time (a gauge's value, a counter's
 * rate per second, a histogram's mean since the previous scrape; see core/server-metrics.ts) on the
 * left axis, p99 of total per second on the right, on one time axis (the union of scrape times and
 * timeline seconds, each series null where it has no point), with the limit drawn when it is in the
 * plotted quantity's terms (max, mean, last, rate).
 */
export function serverCharts(r: RunResult): { title: string; unit: string; limit: number | null; t: number[]; metric: (number | null)[]; p99: (number | null)[] }[] {
  const out: ReturnType<typeof serverCharts> = [];
  const seen = new Set<string>();
  for (const v of r.budgets) {
    const m = v.metric;
    if (!m || seen.has(`${m.source}|${m.name}|${m.stat}`)) continue;
    seen.add(`${m.source}|${m.name}|${m.stat}`);
    const series = r.serverSeries?.find((s) => s.source === m.source);
    const points = (series?.points ?? []).filter((p) => p.values[m.name] !== undefined);
    const byT = new Map<number, { metric: number | null; p99: number | null }>();
    for (const p of points) byT.set(Math.max(0, p.t) / 1000, { metric: p.values[m.name] ?? null, p99: null });
    for (const p of r.timeline) {
      const e = byT.get(p.t / 1000) ?? { metric: null, p99: null };
      e.p99 = typeof p.p99 === 'number' ? p.p99 : null;
      byT.set(p.t / 1000, e);
    }
    const t = [...byT.keys()].sort((a, b) => a - b);
    const kind = r.serverMetrics?.find((x) => x.source === m.source && x.name === m.name)?.kind;
    const unit = r.serverMetrics?.find((x) => x.source === m.source && x.name === m.name)?.unit ?? '';
    const shown = kind === 'counter' ? `${unit || 'increase'} / s` : kind === 'histogram' ? `mean ${unit}` : unit;
    out.push({
      title: `${m.name} (${m.source}) — ${v.description}`,
      unit: shown,
      limit: ['max', 'mean', 'last', 'rate'].includes(m.stat) ? v.limit : null,
      t,
      metric: t.map((x) => byT.get(x)?.metric ?? null),
      p99: t.map((x) => byT.get(x)?.p99 ?? null),
    });
  }
  return out;
}

function timelinePaths(tl: RunResult['timeline']): { paths?: Record<string, number[]> } {
  const names = [...new Set(tl.flatMap((p) => Object.keys(p.paths ?? {})))].filter((n) => n !== 'fallback').sort();
  return names.length === 0 ? {} : { paths: Object.fromEntries(names.map((n) => [n, tl.map((p) => p.paths?.[n] ?? 0)])) };
}

export function chartData(view: ReportView, stages: readonly StageChart[] = stageCharts(view.report)): unknown {
  const r = view.report;
  const tl = r.timeline;
  return {
    server: serverCharts(r),
    percentiles: percentileCurves(view),
    timeline: {
      t: tl.map((p) => p.t / 1000),
      scheduled: tl.map((p) => p.scheduled),
      sent: tl.map((p) => p.sent),
      completed: tl.map((p) => p.completed),
      errors: tl.map((p) => p.errors),
      fallback: tl.map((p) => p.fallback),
      late: tl.map((p) => p.late),
      // completions per second of each named path other than fallback (which has its own line)
      ...timelinePaths(tl),
      // reports older than the per-second percentiles lack them: plotted as gaps
      p50: tl.map((p) => (typeof p.p50 === 'number' ? p.p50 : null)),
      p99: tl.map((p) => (typeof p.p99 === 'number' ? p.p99 : null)),
    },
    phases: r.phases.map((p) => ({ name: p.name, warmup: p.warmup, start: p.startMs / 1000, end: p.endMs / 1000 })),
    stageCharts: stages,
    ...(() => {
      const marks = timelineMarks(r);
      return marks.length > 0 ? { marks } : {};
    })(),
  };
}

/** Vertical marks on the time charts: each recovery budget's fault and recovery instants, each hook that ran (s). */
export function timelineMarks(r: RunResult): { t: number; label: string; kind: 'fault' | 'recovered' | 'hook' }[] {
  const out: { t: number; label: string; kind: 'fault' | 'recovered' | 'hook' }[] = [];
  for (const v of r.budgets) {
    if (!v.recovery) continue;
    out.push({ t: v.recovery.faultMs / 1000, label: `fault (${v.id})`, kind: 'fault' });
    if (v.recovery.recoveredMs !== null) out.push({ t: v.recovery.recoveredMs / 1000, label: `recovered +${formatDuration(v.recovery.timeToRecoverMs ?? 0)}`, kind: 'recovered' });
  }
  for (const h of r.hooks ?? []) if (h.startedMs !== null) out.push({ t: h.startedMs / 1000, label: `hook ${h.id}`, kind: 'hook' });
  return out;
}

function hooksRecoverySectionHtml(r: RunResult): string {
  const recovery = recoveryLines(r);
  const hooks = hookLines(r);
  if (recovery.length === 0 && hooks.length === 0) return '';
  const items = [
    ...recovery.map((l) => `<li>${esc(l)}</li>`),
    ...hooks.map((h) => `<li${h.failed ? ' class="fail"' : ''}>${esc(h.text)}${h.output ? ` <code>${esc(h.output)}</code>` : ''}</li>`),
  ];
  return `<section><h2>Recovery and hooks</h2>
<p class="note">Recovery is measured by intended send time from the start of the fault phase; the time charts mark the fault, the recovery and each hook.</p>
<ul>${items.join('')}</ul></section>
`;
}

function serverSectionHtml(r: RunResult): string {
  const charts = serverCharts(r);
  const rows = serverMetricRows(r);
  if (charts.length === 0 && rows.length === 0) return '';
  const divs = charts.map((c, i) => `<h3>${esc(c.title)}</h3>\n<div class="chart" id="chart-server-${i}"></div>`).join('\n');
  const table = rows.length > 0 ? htmlTable(SERVER_HEADERS, rows.map((row) => row.map((x, i) => td(x, i >= 4 ? 'num' : '')))) : '';
  const notes = [...scrapeProblems(r), ...tokenCheckLines(r)].map((n) => `<p class="note">${esc(n)}</p>`).join('\n');
  return `<section><h2>Server metrics</h2>
<p class="note">Each budgeted server metric as scraped (left axis) beside p99 of total per second (right axis); bands are phases.</p>
${divs}
${table}
${notes}
</section>
`;
}

export function renderHtml(x: RunResult | ReportView, o: HtmlOptions): string {
  const view = asView(x, o.policy);
  const r = view.report;
  const d = view.decision;
  const stages = stageCharts(r);
  const verdict = d.verdict === 'pass' ? 'PASS' : 'FAIL';
  const why = d.headline;
  const budgets = htmlTable(
    ['status', 'budget', 'observed', '95% interval', 'limit', 'samples', 'reason'],
    r.budgets.map((v) => [
      td(v.status.toUpperCase() + (v.borderline === true ? ' (borderline)' : ''), `status ${v.status}${v.borderline === true ? ' borderline' : ''}`),
      td(v.description),
      td(observedText(v), 'num'),
      td(intervalText(v), 'num'),
      td(limitText(v), 'num'),
      td(String(v.samples), 'num'),
      td(v.reason, 'reason'),
    ]),
    'budgets',
  );
  const series = htmlTable(
    ['stage', 'path', 'phase', 'count', 'unmeasured', 'p50', 'p90', 'p99', 'p99.9', 'max'],
    r.series.map((s) => [td(s.stage), td(s.path), td(s.phase), td(String(s.count), 'num'), td(String(s.unmeasured), 'num'), td(stageValue(s.stage, s.p50), 'num'), td(stageValue(s.stage, s.p90), 'num'), td(stageValue(s.stage, s.p99), 'num'), td(stageValue(s.stage, s.p999), 'num'), td(stageValue(s.stage, s.max), 'num')]),
  );
  const phases = htmlTable(
    ['phase', 'load', 'start', 'end', 'scheduled', 'sent', 'late', 'ok', 'errors', 'fallback'],
    view.phases.map((p) => [td(p.label), td(p.load, 'num'), td(`${(p.startMs / 1000).toFixed(1)}s`, 'num'), td(`${(p.endMs / 1000).toFixed(1)}s`, 'num'), td(String(p.scheduled), 'num'), td(String(p.sent), 'num'), td(String(p.late), 'num'), td(String(p.completed), 'num'), td(String(p.errors), 'num'), td(String(p.fallback), 'num')]),
  );
  const pt = pathTable(view.paths);
  const note = pathsNote(view.paths);
  const paths =
    view.paths.length === 0
      ? ''
      : `<section><h2>Paths</h2>
<p class="note">${esc(`${note[0]?.toUpperCase() ?? ''}${note.slice(1)}.`)}</p>
${htmlTable(pt.headers, pt.rows.map((row) => row.map((x, i) => td(x, pt.numeric.has(i) ? 'num' : ''))))}
</section>
`;
  const sessions = sessionTables(r)
    .map(
      (t) => `<section><h2>${esc(t.title)}</h2>
<p class="note">${esc(t.note)}</p>
${htmlTable(t.headers, t.rows.map((row) => row.map((x, i) => td(x, t.numeric.has(i) ? 'num' : ''))))}
</section>
`,
    )
    .join('');
  const title = `budgetgate ${verdict}: ${r.profile}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${inlineStyle(o.chartLib.css)}</style>
<style>${PAGE_CSS}${STAGES_CSS}</style>
</head>
<body>
<header class="verdict ${d.verdict}">
<h1>${esc(verdict)} <small>${esc(why)}</small></h1>
<p>Profile <code>${esc(r.profile)}</code> → <code>${esc(r.target)}</code>, started ${esc(r.startedAt)}, ${(r.durationMs / 1000).toFixed(1)} s, ${esc(r.arrivals)} arrivals${r.reason !== undefined && r.reason !== d.headline ? ` — <strong>${esc(r.reason)}</strong>` : ''}.</p>
<p class="throughput">${esc(throughputText(view.throughput))}</p>
</header>
${capacitySectionHtml(r.capacity)}<section><h2>Budgets</h2>
${budgets}
</section>
${hooksRecoverySectionHtml(r)}${stagesSectionHtml(stages)}${timeSplitSectionHtml(timeSplit(r))}<section><h2>Latency by percentile</h2>
<p class="note">Each stage over every path and non-warmup phase; the x axis stretches the tail (log of 1/(1−q)).</p>
<div class="chart" id="chart-percentiles"></div></section>
<section><h2>Target vs achieved rate</h2>
<p class="note">Requests per second: scheduled (by intended second) and sent (by send second); bands are phases.</p>
<div class="chart" id="chart-rate"></div></section>
<section><h2>Latency over time</h2>
<p class="note">p50 and p99 of total over the requests that completed in each second.</p>
<div class="chart" id="chart-p99"></div></section>
${serverSectionHtml(r)}<section><h2>Errors and fallbacks over time</h2>
<p class="note">Per second: errors, fallback responses and late sends, and the completions of each other named path.</p>
<div class="chart" id="chart-errors"></div></section>
<section><h2>Series</h2>
${series}
</section>
<section><h2>Phases</h2>
${phases}
</section>
${paths}${sessions}<footer>${esc(r.tool.name)} ${esc(r.tool.version)} · charts by uPlot (MIT)</footer>
<script type="application/json" id="budgetgate-data">${scriptJson(chartData(view, stages))}</script>
<script>${inlineScript(o.chartLib.js)}</script>
<script>${inlineScript(CLIENT_JS)}</script>
<script>${inlineScript(STAGE_CLIENT_JS)}</script>
</body>
</html>
`;
}
