/**
 * Markdown reports (GitHub-flavoured: pipe tables), for a job summary or a pull-request comment.
 * RunResult → string and Comparison → string; no I/O.
 */
import type { Comparison, PercentileChange } from '../core/compare.js';
import { hookLines, recoveryLines } from './hooks-recovery.js';
import type { RunResult, Verdict } from '../core/report.js';
import type { PolicyOptions } from '../core/verdict.js';
import { intervalText, limitText, ms, observedText, percent, stageValue } from './format.js';
import { asView, type ReportView } from './view.js';
import { sessionTables } from './sessions.js';
import { SERVER_HEADERS, TOKEN_HEADERS, scrapeProblems, serverMetricRows, tokenCheckLines, tokenRows, tokenSummary } from './server-metrics.js';
import { pathTable, pathsNote } from './paths.js';

/** A table cell: pipes and newlines would break the row; backslash-escaping the pipe is the GFM way. */
function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdTable(headers: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string {
  const head = `| ${headers.map(cell).join(' | ')} |`;
  const rule = `|${headers.map((_, i) => (right.has(i) ? '---:' : '---')).join('|')}|`;
  return [head, rule, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

const ICON: Record<Verdict['status'], string> = { pass: '✅ pass', fail: '❌ fail', inconclusive: '⚠️ inconclusive' };

export function statusWords(v: Pick<Verdict, 'status' | 'borderline'>): string {
  return ICON[v.status] + (v.borderline === true ? ' (borderline)' : '');
}

export function budgetTableMarkdown(budgets: readonly Verdict[]): string {
  return mdTable(
    ['status', 'budget', 'observed', '95% interval', 'limit', 'samples', 'reason'],
    budgets.map((v) => [statusWords(v), v.description, observedText(v), intervalText(v), limitText(v), String(v.samples), v.reason]),
    new Set([2, 3, 4, 5]),
  );
}

export function renderMarkdown(x: RunResult | ReportView, policy?: Partial<PolicyOptions>): string {
  const view = asView(x, policy);
  const r = view.report;
  const d = view.decision;
  const out: string[] = [];
  const borderline = view.borderline;
  const head = d.verdict === 'pass' ? '✅ PASS' : '❌ FAIL';
  out.push(`## budgetgate ${head}: ${d.headline}`);
  out.push('');
  out.push(`Profile \`${r.profile}\` → \`${r.target}\`, started ${r.startedAt}, ${(r.durationMs / 1000).toFixed(1)} s, ${r.arrivals} arrivals.`);
  if (r.reason !== undefined && r.reason !== d.headline) out.push('', `**${r.reason}**`);
  out.push('');
  out.push('### Budgets');
  out.push('');
  out.push(budgetTableMarkdown(r.budgets));
  if (borderline > 0) {
    out.push('');
    out.push(`*borderline*: the 95% interval of the observed percentile contains the limit, so the status follows the point estimate but more samples could change it (${borderline} budget${borderline === 1 ? '' : 's'}; \`--strict\` fails a borderline pass).`);
  }
  const recovery = recoveryLines(r);
  if (recovery.length > 0) out.push('', '### Recovery', '', 'By intended send time, from the start of the fault phase.', '', ...recovery.map((l) => `- ${l}`));
  const hooks = hookLines(r);
  if (hooks.length > 0) out.push('', '### Hooks', '', ...hooks.map((h) => `- ${h.failed ? '**failed**: ' : ''}${h.text}${h.output ? ` — output: \`${h.output.replace(/`/g, "'")}\`` : ''}`));
  out.push('');
  out.push('### Series');
  out.push('');
  out.push('Milliseconds from the intended send time; stages as the server reported them.');
  out.push('');
  out.push(
    mdTable(
      ['stage', 'path', 'phase', 'count', 'unmeasured', 'p50', 'p90', 'p99', 'p99.9', 'max'],
      r.series.map((s) => [s.stage, s.path, s.phase, String(s.count), String(s.unmeasured), stageValue(s.stage, s.p50), stageValue(s.stage, s.p90), stageValue(s.stage, s.p99), stageValue(s.stage, s.p999), stageValue(s.stage, s.max)]),
      new Set([3, 4, 5, 6, 7, 8, 9]),
    ),
  );
  out.push('');
  out.push('### Phases');
  out.push('');
  out.push(
    mdTable(
      ['phase', 'load', 'scheduled', 'sent', 'late', 'ok', 'errors', 'fallback', 'error kinds'],
      view.phases.map((p) => [
        p.label,
        p.load,
        String(p.scheduled),
        String(p.sent),
        String(p.late),
        String(p.completed),
        String(p.errors),
        String(p.fallback),
        p.errorKindsText,
      ]),
      new Set([1, 2, 3, 4, 5, 6, 7]),
    ),
  );
  if (view.paths.length > 0) {
    const pt = pathTable(view.paths);
    const note = pathsNote(view.paths);
    out.push('', '### Paths', '', `${note[0]?.toUpperCase() ?? ''}${note.slice(1)}.`, '');
    out.push(mdTable(pt.headers, pt.rows, pt.numeric));
  }
  const tokens = tokenRows(r);
  if (tokens.length > 0) {
    out.push('', '### Tokens', '', 'From each response’s `usage`, else its counted content events; rates over the phase, the total over the run.', '');
    out.push(mdTable(TOKEN_HEADERS, tokens, new Set([1, 2, 4, 5, 6])));
  }
  for (const t of sessionTables(r)) {
    out.push('', `### ${t.title}`, '', t.note, '');
    out.push(mdTable(t.headers, t.rows, t.numeric));
  }
  if (r.serverMetrics !== undefined) {
    out.push('', '### Server metrics', '');
    const rows = serverMetricRows(r);
    out.push(rows.length > 0 ? mdTable(SERVER_HEADERS, rows, new Set([4, 5, 6, 7, 8, 9, 10, 11, 12])) : 'No metric was scraped.');
    const notes = [...scrapeProblems(r), ...tokenCheckLines(r)];
    if (notes.length > 0) out.push('', ...notes.map((n) => `- ${n}`));
  }
  const t = r.totals;
  out.push('');
  out.push(`Sent ${t.sent}/${t.scheduled} (late ${t.late}), ok ${t.completed}, errors ${t.errors}, fallback ${t.fallback} (${percent(view.fallbackShare)}); send lateness p50 ${ms(r.lateness.p50)}, p99 ${ms(r.lateness.p99)}.`);
  const tokenLine = tokenSummary(r);
  if (tokenLine !== undefined) out.push('', `${tokenLine[0]?.toUpperCase() ?? ''}${tokenLine.slice(1)}.`);
  return `${out.join('\n')}\n`;
}

const CHANGE_WORDS: Record<PercentileChange['status'], string> = {
  regression: '❌ regression',
  slower: 'slower (within noise)',
  same: 'same',
  faster: 'faster',
  insufficient: 'too few samples',
};

export function changeText(c: PercentileChange): string {
  if (c.change === null) return '—';
  if (!Number.isFinite(c.change)) return '+∞';
  const p = Number((c.change * 100).toFixed(1));
  return `${p > 0 ? '+' : ''}${p}%`;
}

/** The rule in one sentence, shared by the terminal and Markdown views. */
export function compareRule(c: Comparison): string {
  const o = c.options;
  return `A percentile regresses when it is slower by at least ${ms(o.minChangeMs)} and by more than its tolerance, and beyond noise: ` +
    `a one-sided test with time-aware standard errors${c.baselines.length > 1 ? ` and the ${c.baselines.length} baselines' run-to-run spread` : ''}, ` +
    `Holm's rule keeping the chance of any false alarm at ${Number((o.alpha * 100).toFixed(2))}%.`;
}

/** "2026-05-01T… (3 baselines, latest …)" */
export function baselineWords(c: Comparison): string {
  const n = c.baselines.length;
  return n > 1 ? `${n} baselines of \`${c.baseline.profile}\` (${c.baselines[0]?.startedAt} … ${c.baseline.startedAt})` : `baseline \`${c.baseline.profile}\` (${c.baseline.startedAt})`;
}

/** The verdict line: what the exit code says, in words. */
export function compareHeadline(c: Comparison): string {
  switch (c.outcome) {
    case 'regression':
      return `REGRESSION: ${c.regressions} percentile${c.regressions === 1 ? '' : 's'} slower beyond the floor, tolerance and noise`;
    case 'pass':
      return 'NO REGRESSION';
    case 'incomparable':
      return `CANNOT COMPARE: ${c.reason ?? ''}`;
    case 'no-baseline':
      return `NO BASELINE YET: ${c.reason ?? ''}`;
  }
}

/** Series listed but not judged, and baselines left out. */
export function compareNotes(c: Comparison): string[] {
  const list = (xs: readonly string[]): string => xs.map((k) => `\`${k}\``).join(', ');
  const out: string[] = [];
  if (c.notJudged.length > 0) out.push(`Not judged (no budget names the stage; --all-series judges them): ${list(c.notJudged)}.`);
  if (c.onlyInBaseline.length > 0) out.push(`Only in the baseline (not compared): ${list(c.onlyInBaseline)}.`);
  if (c.onlyInCurrent.length > 0) out.push(`Only in the current run (not compared): ${list(c.onlyInCurrent)}.`);
  if (c.skipped.length > 0) out.push(`Baselines left out: ${c.skipped.join('; ')}.`);
  return out;
}

export function changeWords(c: PercentileChange): string {
  return CHANGE_WORDS[c.status];
}

function iv(i: [number, number] | null): string {
  return i === null ? '—' : `${ms(i[0])}–${ms(i[1])}`;
}

/** One row per stage × path × phase × percentile. */
export function renderCompareMarkdown(c: Comparison): string {
  const out: string[] = [];
  const head = c.outcome === 'regression' ? `❌ ${c.regressions} regression${c.regressions === 1 ? '' : 's'}` : c.outcome === 'pass' ? '✅ no regression' : `⚠️ ${compareHeadline(c).toLowerCase()}`;
  out.push(`## budgetgate compare: ${head}`);
  out.push('');
  if (c.outcome === 'no-baseline' || (c.outcome === 'incomparable' && c.series.length === 0)) {
    out.push(`Current \`${c.current.profile}\` (${c.current.startedAt}): ${c.reason ?? ''}.`);
    for (const n of compareNotes(c)) out.push('', n);
    return `${out.join('\n')}\n`;
  }
  const words = baselineWords(c);
  out.push(`${words[0]?.toUpperCase()}${words.slice(1)} → current \`${c.current.profile}\` (${c.current.startedAt}). ${compareRule(c)}`);
  out.push('');
  const rows: string[][] = [];
  for (const s of c.series) {
    for (const ch of s.changes) {
      rows.push([s.stage, s.path, s.phase, ch.key, ms(ch.baseline), ms(ch.current), changeText(ch), `${Number((ch.tolerance * 100).toFixed(2))}%`, iv(ch.baselineInterval), iv(ch.currentInterval), `${s.baselineCount} → ${s.currentCount}`, changeWords(ch)]);
    }
  }
  out.push(mdTable(['stage', 'path', 'phase', 'pct', 'baseline', 'current', 'change', 'tolerance', 'baseline 95%', 'current 95%', 'samples', 'verdict'], rows, new Set([4, 5, 6, 7, 8, 9, 10])));
  for (const n of compareNotes(c)) out.push('', n);
  return `${out.join('\n')}\n`;
}
