/** The terminal view of a capacity search: every step, then the answer. CapacityReport → string. */
import { Chalk } from 'chalk';
import type { CapacityReport, CapacityStep, Verdict } from '../core/report.js';
import { limitText, observedText } from './format.js';
import { table, type Cell } from './table.js';

export interface CapacityTextOptions {
  color: boolean;
}

/** req/s with at most 3 significant figures beyond the integer part ("212", "7.07") */
export function rateText(r: number): string {
  return r >= 100 ? r.toFixed(0) : String(Number(r.toPrecision(3)));
}

/** every budget id in the order the steps report them */
function budgetIds(steps: readonly CapacityStep[]): string[] {
  const ids: string[] = [];
  for (const s of steps) for (const v of s.verdicts) if (!ids.includes(v.id)) ids.push(v.id);
  return ids;
}

export function renderCapacity(c: CapacityReport, o: CapacityTextOptions): string {
  const ch = new Chalk({ level: o.color ? 1 : 0 });
  const mark = (v: Verdict | undefined): Cell => {
    if (v === undefined) return { text: '—' };
    const text = `${observedText(v)}${v.status === 'fail' ? ' ✗' : v.status === 'inconclusive' ? ' ?' : ''}`;
    return { text, paint: v.status === 'fail' ? ch.red : v.status === 'inconclusive' ? ch.yellow : (s: string) => s };
  };
  const ids = budgetIds(c.steps);
  const limits = new Map<string, Verdict>();
  for (const s of c.steps) for (const v of s.verdicts) if (!limits.has(v.id)) limits.set(v.id, v);
  const out: string[] = [];
  out.push(ch.bold('Capacity steps') + ch.dim(`  (steady open-model steps; precision ${Number((c.precision * 100).toFixed(2))}%; ✗ broke, ? inconclusive)`));
  out.push(
    table(
      [
        { header: '#', align: 'right' },
        { header: 'rate/s', align: 'right' },
        { header: 'achieved/s', align: 'right' },
        { header: 'secs', align: 'right' },
        ...ids.map((id) => {
          const v = limits.get(id);
          // goodput and load delivered are lower limits; every other budget an upper one
          const bound = id === 'load delivered' || /goodput/.test(id) ? '≥' : '≤';
          return { header: v !== undefined ? `${id} ${bound}${limitText(v)}` : id, align: 'right' as const };
        }),
        { header: 'verdict' },
      ],
      c.steps.map((s, i) => [
        String(i + 1),
        rateText(s.rate),
        rateText(s.achieved),
        (s.durationMs / 1000).toFixed(1),
        ...ids.map((id) => mark(s.verdicts.find((v) => v.id === id))),
        { text: `${s.held ? 'held' : 'BROKEN'}${s.confirmation === true ? ' (confirmation)' : ''}`, paint: s.held ? ch.green : ch.red.bold },
      ]),
    ),
  );
  out.push('');
  out.push(capacitySummary(c, ch));
  return `${out.join('\n')}\n`;
}

/** The answer in words: the rate, what broke above it, whether it was confirmed, the gate. */
export function capacitySummary(c: CapacityReport, ch: InstanceType<typeof Chalk> = new Chalk({ level: 0 })): string {
  const lines: string[] = [];
  const conf = c.steps.find((s) => s.confirmation === true);
  // after a failed confirmation the answer is a lower held rate, which the search's ending no longer describes
  const unconfirmed = conf !== undefined && !c.confirmed;
  const head = c.rps > 0 ? ch.bold(`Capacity: ${rateText(c.rps)} req/s`) : ch.red.bold('Capacity: 0 req/s (no rate tried held every budget)');
  const why = unconfirmed
    ? ''
    : c.outcome === 'ceiling'
      ? ` (at least: --to ${rateText(c.to)} held; raise --to and the profile's maxRate to search higher)`
      : c.outcome === 'interrupted'
        ? ' (interrupted: the search did not finish)'
        : c.outcome === 'bracketed' && c.firstBroken !== null
          ? ` (every budget held; ${rateText(c.firstBroken.rate)} req/s broke)`
          : '';
  lines.push(head + why);
  const fb = c.firstBroken;
  if (fb !== null) {
    const v = { observed: fb.observed, limit: fb.limit, unit: fb.unit };
    lines.push(`first broken above it: ${fb.id} at ${rateText(fb.rate)} req/s — observed ${observedText(v)}, limit ${limitText(v)} (${fb.description})`);
  }
  if (conf !== undefined) {
    lines.push(
      c.confirmed
        ? ch.green(`confirmed: a second step at ${rateText(conf.rate)} req/s held again`)
        : ch.yellow(`NOT confirmed: the second step at ${rateText(conf.rate)} req/s broke; the last rate that held below it is ${rateText(c.rps)} req/s`),
    );
  }
  if (c.require !== undefined) {
    const ok = c.rps >= c.require;
    lines.push(ok ? ch.green.bold(`PASS capacity ${rateText(c.rps)} ≥ required ${rateText(c.require)} req/s`) : ch.red.bold(`FAIL capacity ${rateText(c.rps)} < required ${rateText(c.require)} req/s`));
  }
  return lines.join('\n');
}

function escHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

/**
 * Each stage's p99 against offered rate, as an inline SVG (no script needed): x linear in req/s,
 * y on a log scale in ms, since p99 jumps by orders of magnitude once a step passes capacity. The
 * found capacity is a dashed vertical line.
 */
export function capacityChartSvg(c: CapacityReport): string {
  const steps = [...c.steps].sort((a, b) => a.rate - b.rate);
  const stages = [...new Set(steps.flatMap((s) => Object.keys(s.p99)))];
  const ys = steps.flatMap((s) => Object.values(s.p99)).filter((y): y is number => y !== null && y > 0);
  if (steps.length === 0 || ys.length === 0) return '';
  const W = 720;
  const H = 300;
  const L = 60;
  const B = 30;
  const xMax = Math.max(...steps.map((s) => s.rate)) * 1.05;
  const lyMin = Math.floor(Math.log10(Math.min(...ys)));
  const lyMax = Math.ceil(Math.log10(Math.max(...ys)) + 1e-9);
  const span = Math.max(1, lyMax - lyMin);
  const x = (r: number): number => L + (r / xMax) * (W - L - 10);
  const y = (ms: number): number => H - B - ((Math.log10(ms) - lyMin) / span) * (H - B - 10);
  const parts: string[] = [];
  for (let d = lyMin; d <= lyMin + span; d++) {
    parts.push(`<line x1="${L}" x2="${W - 10}" y1="${y(10 ** d)}" y2="${y(10 ** d)}" stroke="#ddd"/><text x="${L - 6}" y="${y(10 ** d) + 4}" text-anchor="end" font-size="11">${escHtml(limitText({ limit: 10 ** d, unit: 'ms' }))}</text>`);
  }
  for (const s of steps) parts.push(`<text x="${x(s.rate)}" y="${H - 10}" text-anchor="middle" font-size="10">${escHtml(rateText(s.rate))}</text>`);
  if (c.rps > 0) parts.push(`<line x1="${x(c.rps)}" x2="${x(c.rps)}" y1="10" y2="${H - B}" stroke="#2ca02c" stroke-dasharray="4 3"/>`);
  stages.forEach((stage, i) => {
    const colour = PALETTE[i % PALETTE.length] ?? '#000';
    const pts = steps.filter((s) => (s.p99[stage] ?? 0) > 0).map((s) => `${x(s.rate).toFixed(1)},${y(s.p99[stage] as number).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.join(' ')}"/>`);
    parts.push(`<text x="${W - 10}" y="${20 + 14 * i}" text-anchor="end" font-size="11" fill="${colour}">${escHtml(stage)} p99</text>`);
  });
  return `<svg class="capacity-chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="p99 of each stage against offered rate">${parts.join('')}</svg>`;
}

/** The HTML report's capacity section: the answer, the chart and a table of every step. */
export function capacitySectionHtml(c: CapacityReport | undefined): string {
  if (c === undefined) return '';
  const stages = [...new Set(c.steps.flatMap((s) => Object.keys(s.p99)))];
  const hasGoodput = c.steps.some((s) => s.goodput !== undefined);
  const head = ['#', 'rate/s', 'achieved/s', ...stages.map((s) => `${s} p99`), ...(hasGoodput ? ['goodput'] : []), 'verdict', 'broken by'];
  const rows = c.steps.map((s, i) => {
    const broken = s.verdicts.filter((v) => v.status !== 'pass').map((v) => `${v.id} ${observedText(v)} (${v.status})`).join(', ');
    const cells = [String(i + 1), rateText(s.rate), rateText(s.achieved), ...stages.map((st) => limitText({ limit: s.p99[st] ?? Number.NaN, unit: 'ms' })), ...(hasGoodput ? [observedText({ observed: s.goodput ?? null, unit: 'ratio' })] : []), `${s.held ? 'held' : 'BROKEN'}${s.confirmation === true ? ' (confirmation)' : ''}`, broken];
    return `<tr>${cells.map((t, j) => `<td${j >= 1 && j < cells.length - 2 ? ' class="num"' : ''}>${escHtml(t)}</td>`).join('')}</tr>`;
  });
  const summary = capacitySummary(c).split('\n').map((l) => `<p>${escHtml(l)}</p>`).join('\n');
  return `<section><h2>Capacity under budget</h2>
${summary}
<p class="note">p99 of each stage against the offered rate (log scale); the dashed line is the capacity found. The report's other sections are the confirmation step's.</p>
${capacityChartSvg(c)}
<table class="capacity"><thead><tr>${head.map((h) => `<th>${escHtml(h)}</th>`).join('')}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
</section>
`;
}
