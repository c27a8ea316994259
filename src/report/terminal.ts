/** The terminal report: every series, every budget, the totals and the verdict. RunResult → string. */
import { Chalk } from 'chalk';
import type { RunResult, Verdict } from '../core/report.js';
import type { PolicyOptions } from '../core/verdict.js';
import { intervalText, limitText, ms, observedText, percent, stageValue } from './format.js';
import { table } from './table.js';
import { asView, type ReportView } from './view.js';
import { throughputText } from './throughput.js';
import { PROMPT_TOKEN_HEADERS, SESSION_HEADERS, TURN_HEADERS, promptTokenRows, sessionRows, turnRows } from './sessions.js';
import { pathTable, pathsNote } from './paths.js';
import { hookLines, recoveryLines } from './hooks-recovery.js';
import { SERVER_HEADERS, TOKEN_HEADERS, scrapeProblems, serverMetricRows, tokenCheckLines, tokenRows, tokenSummary } from './server-metrics.js';

export interface TerminalOptions {
  color: boolean;
  /** how the run is judged (default: as the report was, see view.ts) */
  policy?: Partial<PolicyOptions>;
}

export function renderTerminal(x: RunResult | ReportView, o: TerminalOptions): string {
  const view = asView(x, o.policy);
  const r = view.report;
  const d = view.decision;
  const c = new Chalk({ level: o.color ? 1 : 0 });
  const status = (v: Verdict['status']): ((s: string) => string) =>
    v === 'pass' ? c.green : v === 'fail' ? c.red.bold : c.yellow;
  const out: string[] = [];
  out.push(c.bold(`budgetgate: ${r.profile} → ${r.target}`) + c.dim(`  (${(r.durationMs / 1000).toFixed(1)}s, ${r.arrivals} arrivals)`));
  out.push('');
  out.push(c.bold('Series') + c.dim('  (ms from intended send time; stages as the server reported them)'));
  out.push(
    table(
      [
        { header: 'stage' },
        { header: 'path' },
        { header: 'phase' },
        { header: 'count', align: 'right' },
        { header: 'unmeasured', align: 'right' },
        { header: 'p50', align: 'right' },
        { header: 'p90', align: 'right' },
        { header: 'p99', align: 'right' },
        { header: 'p99.9', align: 'right' },
        { header: 'max', align: 'right' },
      ],
      r.series.map((s) => [
        s.stage,
        s.path !== 'primary' ? { text: s.path, paint: c.magenta } : s.path,
        s.phase,
        String(s.count),
        s.unmeasured > 0 ? { text: String(s.unmeasured), paint: c.yellow } : '0',
        stageValue(s.stage, s.p50),
        stageValue(s.stage, s.p90),
        stageValue(s.stage, s.p99),
        stageValue(s.stage, s.p999),
        stageValue(s.stage, s.max),
      ]),
    ),
  );
  out.push('');
  out.push(c.bold('Phases'));
  out.push(
    table(
      [
        { header: 'phase' },
        { header: 'load', align: 'right' },
        { header: 'scheduled', align: 'right' },
        { header: 'sent', align: 'right' },
        { header: 'late', align: 'right' },
        { header: 'ok', align: 'right' },
        { header: 'errors', align: 'right' },
        { header: 'fallback', align: 'right' },
        { header: 'error kinds' },
      ],
      view.phases.map((p) => [
        p.label,
        p.load,
        String(p.scheduled),
        String(p.sent),
        p.late > 0 ? { text: String(p.late), paint: c.yellow } : '0',
        String(p.completed),
        p.errors > 0 ? { text: String(p.errors), paint: c.red } : '0',
        String(p.fallback),
        p.errorKindsText,
      ]),
    ),
  );
  if (view.paths.length > 0) {
    out.push('');
    const pt = pathTable(view.paths);
    out.push(c.bold('Paths') + c.dim(`  (${pathsNote(view.paths)})`));
    out.push(table(pt.headers.map((h, i) => ({ header: h, ...(pt.numeric.has(i) ? { align: 'right' as const } : {}) })), pt.rows));
  }
  const tokens = tokenRows(r);
  if (tokens.length > 0) {
    out.push('');
    out.push(c.bold('Tokens') + c.dim('  (from each response’s usage, else its counted content events; rates over the phase, the total over the run)'));
    out.push(table(TOKEN_HEADERS.map((h, i) => ({ header: h, ...(i === 1 || i === 2 || i >= 4 ? { align: 'right' as const } : {}) })), tokens));
  }
  const prompts = promptTokenRows(r);
  if (prompts.length > 0) {
    out.push('');
    out.push(c.bold('Prompt tokens') + c.dim('  (sent, as the tokenizer counts the messages, beside the server’s usage.prompt_tokens; diff = server − sent: the chat template adds a few per request)'));
    out.push(table(PROMPT_TOKEN_HEADERS.map((h, i) => ({ header: h, ...(i >= 2 ? { align: 'right' as const } : {}) })), prompts));
  }
  const turns = turnRows(r);
  if (turns.length > 0) {
    out.push('');
    out.push(c.bold('Turns') + c.dim('  (session turns by number; ms from each turn’s intended send time: its previous reply plus the think time)'));
    out.push(table(TURN_HEADERS.map((h, i) => ({ header: h, ...(i === 1 || i >= 4 ? { align: 'right' as const } : {}) })), turns));
  }
  const sessions = sessionRows(r);
  if (sessions.length > 0) {
    out.push('');
    out.push(c.bold('Sessions') + c.dim('  (abandoned: a turn failed; cut: the run ended first; duration of completed sessions)'));
    out.push(table(SESSION_HEADERS.map((h, i) => ({ header: h, ...(i >= 1 ? { align: 'right' as const } : {}) })), sessions));
  }
  const server = serverMetricRows(r);
  if (r.serverMetrics !== undefined) {
    out.push('');
    out.push(c.bold('Server metrics') + c.dim('  (scraped; counters: increase and rate; histograms: observations added, mean and quantiles in their unit)'));
    if (server.length > 0) out.push(table(SERVER_HEADERS.map((h, i) => ({ header: h, ...(i >= 4 ? { align: 'right' as const } : {}) })), server));
    for (const line of scrapeProblems(r)) out.push(c.yellow(line));
    for (const line of tokenCheckLines(r)) out.push(c.dim(line));
  }
  out.push('');
  // a shard judged its own requests only: the whole run's verdict is budgetgate merge's
  out.push(c.bold('Budgets') + (view.shard ? c.yellow(`  partial (${view.shard}): this shard's requests only; budgetgate merge judges the whole`) : ''));
  out.push(
    table(
      [{ header: 'status' }, { header: 'budget' }, { header: 'observed', align: 'right' }, { header: '95% interval', align: 'right' }, { header: 'limit', align: 'right' }, { header: 'samples', align: 'right' }, { header: 'reason' }],
      r.budgets.map((v) => [
        { text: v.status.toUpperCase() + (v.borderline === true ? ' (borderline)' : ''), paint: status(v.status) },
        v.id,
        observedText(v),
        v.borderline === true ? { text: intervalText(v), paint: c.yellow } : intervalText(v),
        limitText(v),
        String(v.samples),
        { text: v.reason, paint: c.dim },
      ]),
    ),
  );
  const recovery = recoveryLines(r);
  if (recovery.length > 0) out.push('', c.bold('Recovery') + c.dim('  (by intended send time, from the start of the fault phase)'), ...recovery.map((l) => `  ${l}`));
  const hooks = hookLines(r);
  if (hooks.length > 0) {
    out.push('', c.bold('Hooks'));
    for (const h of hooks) out.push(`  ${h.failed ? c.red(h.text) : h.text}${h.output ? c.dim(`  output: ${h.output}`) : ''}`);
  }
  out.push('');
  const t = r.totals;
  out.push(
    c.dim(
      `sent ${t.sent}/${t.scheduled} (late ${t.late}), ok ${t.completed}, errors ${t.errors}, fallback ${t.fallback} (${percent(view.fallbackShare)}); ` +
        `send lateness p50 ${ms(r.lateness.p50)} p99 ${ms(r.lateness.p99)}` +
        (r.workers !== undefined && r.workers > 1 ? `; sent by ${r.workers} worker threads` : ''),
    ),
  );
  const tokenLine = tokenSummary(r);
  if (tokenLine !== undefined) out.push(c.dim(tokenLine));
  // the figures compared across tools, just above the verdict (which stays the last line, for CI greps)
  out.push(throughputText(view.throughput));
  const head = d.verdict === 'pass' ? c.green.bold('PASS') : c.red.bold('FAIL');
  const why = d.stopped ? ` (${d.headline})` : ` ${d.headline}`;
  out.push(`${head}${why}${view.shard ? ` — partial (${view.shard})` : ''}`);
  return `${out.join('\n')}\n`;
}
