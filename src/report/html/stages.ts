/**
 * The HTML report's per-stage view: for every stage a latency budget names (and `total`), its
 * percentile curve per path, primary and fallback apart, with each budget's limit drawn across it and
 * its headroom in words; and "where the time went": per phase and path, the p50 of each server stage
 * stacked, plus `unattributed`, against the p50 of `total`. Plain data and markup; the page's code
 * (stage-client.ts) draws the curves.
 *
 * Budget x position on the percentile axis x = 1/(1−q): p50 → 2, p90 → 10, p95 → 20, p99 → 100,
 * p999 → 1000, max → the last point (the largest sample); mean has no percentile and gets only its line.
 *
 * Headroom: h = (limit − observed) / limit. "188ms (24%) under the limit" when h ≥ 0, "… over" when not.
 */
import { countOf, decodeHistogram, mergeHistograms, quantileMs, type Histogram } from '../../core/histograms.js';
import { curveOf, percentileGrid } from './curves.js';
import { CLIENT_STAGES } from '../../core/stages.js';
import type { RunResult, Verdict } from '../../core/report.js';
import { ms } from '../format.js';
import { orderPaths } from '../../core/paths.js';

export interface StageBudgetMark {
  id: string;
  description: string;
  status: Verdict['status'];
  key: string;
  /** "path=fallback,phase=spike" from the id; '' for both paths over every budgeted phase */
  scope: string;
  /** x on the percentile axis, null for mean (drawn as a line only) */
  x: number | null;
  limit: number;
  observed: number | null;
  headroom: string;
}

export interface StageChart {
  stage: string;
  x: number[];
  paths: { path: string; count: number; y: (number | null)[] }[];
  budgets: StageBudgetMark[];
}

const KEY_X: Record<string, number> = { p50: 2, p90: 10, p95: 20, p99: 100, p999: 1000 };
const ID = /^(\S+?)(?:\{([^}]*)\})? (p50|p90|p95|p99|p999|max|mean)(?:#\d+)?$/;

/** A latency verdict's stage, scope and key, read back from its id ("total{path=fallback} p99"). */
export function parseLatencyId(id: string): { stage: string; scope: string; key: string } | undefined {
  const m = ID.exec(id);
  return m ? { stage: m[1] as string, scope: m[2] ?? '', key: m[3] as string } : undefined;
}

/** "p99 612ms: 188ms (24%) under the 800ms limit" — or over it, or why there is no value. */
export function headroomText(v: Pick<Verdict, 'status' | 'observed' | 'limit' | 'reason'>, key: string): string {
  if (v.observed === null) return `${key}: not measured (${v.reason})`;
  const left = v.limit - v.observed;
  const pct = v.limit > 0 ? Math.abs(left / v.limit) * 100 : 0;
  const share = `${ms(Math.abs(left))} (${pct >= 10 ? pct.toFixed(0) : pct.toFixed(1)}%)`;
  const where = left >= 0 ? `${share} under the ${ms(v.limit)} limit` : `${share} over the ${ms(v.limit)} limit`;
  const unsure = v.status === 'inconclusive' ? ` — inconclusive: ${v.reason}` : '';
  return `${key} ${ms(v.observed)}: ${where}${unsure}`;
}

function budgetedSeries(r: RunResult): RunResult['series'] {
  const warm = new Set(r.phases.filter((p) => p.warmup).map((p) => p.name));
  const budgeted = r.series.filter((s) => !warm.has(s.phase));
  return budgeted.some((s) => s.count > 0) ? budgeted : r.series;
}

/** One chart per stage with a latency budget, `total` first; each path its own curve. */
export function stageCharts(r: RunResult): StageChart[] {
  const marks = new Map<string, StageBudgetMark[]>();
  for (const v of r.budgets) {
    const p = v.unit === 'ms' ? parseLatencyId(v.id) : undefined;
    if (p === undefined) continue;
    const list = marks.get(p.stage) ?? [];
    list.push({ id: v.id, description: v.description, status: v.status, key: p.key, scope: p.scope, x: KEY_X[p.key] ?? (p.key === 'max' ? -1 : null), limit: v.limit, observed: v.observed, headroom: headroomText(v, p.key) });
    marks.set(p.stage, list);
  }
  const stages = ['total', ...[...marks.keys()].filter((s) => s !== 'total')];
  const series = budgetedSeries(r);
  return stages.flatMap((stage) => {
    const byPath = new Map<string, Histogram[]>();
    for (const s of series) if (s.stage === stage && s.count > 0) byPath.set(s.path, [...(byPath.get(s.path) ?? []), decodeHistogram(s.hdr, s.max)]);
    const hists = [...byPath].sort(([a], [b]) => (a === 'primary' ? -1 : b === 'primary' ? 1 : a.localeCompare(b))).map(([path, hs]) => ({ path, h: hs.length === 1 ? (hs[0] as Histogram) : mergeHistograms(hs) }));
    const budgets = marks.get(stage) ?? [];
    if (hists.length === 0 && budgets.length === 0) return [];
    const x = percentileGrid(Math.max(1, ...hists.map(({ h }) => countOf(h))));
    const last = x[x.length - 1] ?? 1;
    return [{ stage, x, paths: hists.map(({ path, h }) => ({ path, count: countOf(h), y: curveOf(h, x) })), budgets: budgets.map((b) => (b.x === -1 ? { ...b, x: last } : b)) }];
  });
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function stagesSectionHtml(charts: readonly StageChart[]): string {
  const blocks = charts.map((c, i) => {
    const items = c.budgets.map((b) => `<li class="${b.status}"><strong>${esc(b.status.toUpperCase())}</strong> ${esc(b.description)} — ${esc(b.headroom)}</li>`).join('');
    const list = items === '' ? '<p class="note">No budget on this stage.</p>' : `<ul class="headroom">${items}</ul>`;
    const paths = c.paths.map((p) => `${p.path} n=${p.count}`).join(', ');
    return `<div class="stage-block"><h3>${esc(c.stage)} <small>${esc(paths || 'no samples')}</small></h3>\n<div class="chart stage-chart" id="chart-stage-${i}"></div>\n${list}</div>`;
  });
  return `<section><h2>Budgets on their stages</h2>
<p class="note">Each stage by percentile, primary (solid) and fallback (dashed) apart, over the budgeted phases; a budget's limit is the dashed level line, its dot at the budget's percentile.</p>
${blocks.join('\n')}
</section>
`;
}

// ---------------------------------------------------------------------------------------------------
// Where the time went

export interface TimeRow {
  label: string;
  /** p50 of each server stage, then unattributed, ms */
  parts: { stage: string; ms: number }[];
  /** p50 of total, ms */
  total: number;
  count: number;
}

const p50 = (hs: Histogram[]): number | undefined => {
  const h = hs.length === 1 ? (hs[0] as Histogram) : mergeHistograms(hs);
  return countOf(h) > 0 ? quantileMs(h, 0.5) : undefined;
};

/** Rows per budgeted phase × path (primary, then the other paths by name, each only where it had responses). */
export function timeSplit(r: RunResult): TimeRow[] {
  const warm = new Set(r.phases.filter((p) => p.warmup).map((p) => p.name));
  const phases = r.phases.filter((p) => !warm.has(p.name)).map((p) => p.name);
  const rows: TimeRow[] = [];
  const paths = orderPaths(['primary', ...r.series.map((s) => s.path)]);
  for (const phase of phases.length > 0 ? phases : r.phases.map((p) => p.name)) {
    for (const path of paths) {
      const here = r.series.filter((s) => s.phase === phase && s.path === path && s.count > 0);
      const total = here.find((s) => s.stage === 'total');
      if (total === undefined) continue;
      const parts: TimeRow['parts'] = [];
      const server = [...new Set(here.map((s) => s.stage))].filter((st) => !CLIENT_STAGES.includes(st) && !st.endsWith('_per_s'));
      for (const stage of [...server, 'unattributed']) {
        const v = p50(here.filter((s) => s.stage === stage).map((s) => decodeHistogram(s.hdr, s.max)));
        if (v !== undefined) parts.push({ stage, ms: v });
      }
      rows.push({ label: `${phase} · ${path}`, parts, total: p50([decodeHistogram(total.hdr, total.max)]) ?? 0, count: total.count });
    }
  }
  return inSizeOrder(rows);
}

/** The server gives no order of its stages: stack them largest first (summed over rows), unattributed last. */
function inSizeOrder(rows: TimeRow[]): TimeRow[] {
  const size = new Map<string, number>();
  for (const r of rows) for (const p of r.parts) size.set(p.stage, (size.get(p.stage) ?? 0) + p.ms);
  const rank = (st: string): number => (st === 'unattributed' ? Number.NEGATIVE_INFINITY : (size.get(st) ?? 0));
  return rows.map((r) => ({ ...r, parts: [...r.parts].sort((a, b) => rank(b.stage) - rank(a.stage) || a.stage.localeCompare(b.stage)) }));
}

const PART_COLORS = ['#0969da', '#1a7f37', '#bf8700', '#8250df', '#1b7c83', '#cf222e', '#6e7781', '#953800'];

/** Stacked horizontal bars in SVG (no script: prints and scales to any width). */
export function timeSplitSectionHtml(rows: readonly TimeRow[]): string {
  const stages = [...new Set(rows.flatMap((r) => r.parts.map((p) => p.stage)))];
  const color = (s: string): string => (s === 'unattributed' ? '#afb8c1' : (PART_COLORS[stages.indexOf(s) % PART_COLORS.length] as string));
  const maxMs = Math.max(1e-9, ...rows.map((r) => Math.max(r.total, r.parts.reduce((a, p) => a + p.ms, 0))));
  const W = 1000;
  const left = 200;
  const right = 110;
  const rowH = 30;
  const scale = (v: number): number => (v / maxMs) * (W - left - right);
  const bars = rows.map((r, i) => {
    const y = 10 + i * rowH;
    let x = left;
    const segs = r.parts.map((p) => {
      const w = scale(p.ms);
      const seg = `<rect class="seg" x="${x.toFixed(1)}" y="${y}" width="${Math.max(0, w).toFixed(1)}" height="${rowH - 10}" fill="${color(p.stage)}"><title>${esc(`${p.stage} p50 ${ms(p.ms)}`)}</title></rect>`;
      x += w;
      return seg;
    });
    const tx = left + scale(r.total);
    return `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(r.label)}</text>${segs.join('')}<line class="total" x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${y - 3}" y2="${y + rowH - 7}" stroke="#1f2328" stroke-width="3"><title>${esc(`total p50 ${ms(r.total)}`)}</title></line><text x="${(Math.max(tx, x) + 6).toFixed(1)}" y="${y + 15}">${esc(`total ${ms(r.total)}`)}</text>`;
  });
  const legend = stages.map((s) => `<span class="key"><i style="background:${color(s)}"></i>${esc(s)}</span>`).join(' ');
  const body =
    rows.length === 0 || stages.length === 0
      ? '<p class="note">No server stages were reported (no Server-Timing, headers or body timings), so only total is known.</p>'
      : `<svg class="time-split" viewBox="0 0 ${W} ${20 + rows.length * rowH}" role="img" aria-label="p50 of each stage per phase">${bars.join('')}</svg>\n<p class="legend">${legend} <span class="key"><i class="bar"></i>total p50</span></p>`;
  return `<section><h2>Where the time went</h2>
<p class="note">Per phase and path: the median (p50) of each stage the server reported, stacked largest first, then <code>unattributed</code> (total − the server's stages: network, gateways, the client), against the median of <code>total</code> (black bar). Medians do not add exactly, so the stack and the bar differ a little.</p>
${body}
</section>
`;
}

export const STAGES_CSS = `
.stage-block h3 { font-size: 15px; margin: 16px 0 4px; } .stage-block h3 small { font-weight: normal; color: #57606a; }
.stage-chart { min-height: 280px; }
ul.headroom { margin: 4px 0 12px; padding-left: 20px; } ul.headroom li.pass strong { color: #1a7f37; } ul.headroom li.fail strong { color: #cf222e; } ul.headroom li.inconclusive strong { color: #9a6700; }
svg.time-split { width: 100%; height: auto; font: 13px system-ui, sans-serif; }
.legend .key { margin-right: 12px; white-space: nowrap; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
.legend i.bar { width: 3px; background: #1f2328; }
@media (max-width: 700px) {
  body { padding: 8px 10px; font-size: 13px; }
  h1 { font-size: 22px; }
  table { display: block; overflow-x: auto; }
  th, td { padding: 3px 5px; white-space: nowrap; } td.reason { white-space: normal; min-width: 16em; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  header.verdict, td.status, td.borderline, .legend i, svg { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section { break-inside: avoid-page; } .stage-block { break-inside: avoid; }
  h2 { break-after: avoid; }
  .chart-error { display: none; }
}
`;
