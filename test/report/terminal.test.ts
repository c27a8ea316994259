import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countOf, decodeHistogram } from '../../src/core/histograms.js';
import { type RunResult, parseReport } from '../../src/core/report.js';
import { renderTerminal } from '../../src/report/terminal.js';

// small.json was produced by driving a Recorder with a fixed script (2 phases, a warmup and a 10→40/s
// ramp; primary and fallback paths; a missing queue stage; timeouts and a 503) and evaluating budgets
// on it, so its hdr strings, summaries and verdicts are consistent with each other.
const SMALL = fileURLToPath(new URL('../fixtures/reports/small.json', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../fixtures/golden/terminal.txt', import.meta.url));

const load = (): RunResult => parseReport(readFileSync(SMALL, 'utf8'), 'small.json');
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

describe('renderTerminal', () => {
  it('happy: the fixture is self-consistent (hdr counts match the series counts, pass/fail/inconclusive all present)', () => {
    const r = load();
    for (const s of r.series) expect(countOf(decodeHistogram(s.hdr))).toBe(s.count);
    expect(new Set(r.budgets.map((b) => b.status))).toEqual(new Set(['pass', 'fail', 'inconclusive']));
    expect(r.phases).toHaveLength(2);
  });

  it('happy: matches the golden file (UPDATE_GOLDEN=1 rewrites it)', () => {
    const out = renderTerminal(load(), { color: false });
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, out);
    expect(out).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('happy: color:true paints with ANSI codes, color:false has none', () => {
    const r = load();
    const plain = renderTerminal(r, { color: false });
    const colored = renderTerminal(r, { color: true });
    expect(plain).not.toMatch(ANSI);
    expect(colored).toMatch(ANSI);
    expect(colored).toContain('\u001b[31m'); // red for FAIL / errors
    expect(colored).toContain('\u001b[32m'); // green for PASS
    expect(colored).toContain('\u001b[33m'); // yellow for INCONCLUSIVE / unmeasured
  });

  it('happy: colouring never changes the column layout (cells are padded before painting)', () => {
    const r = load();
    const strip = (s: string): string => s.replace(ANSI, '').replace(/[ ]+$/gm, '');
    expect(strip(renderTerminal(r, { color: true }))).toBe(renderTerminal(r, { color: false }));
  });


  it('happy: colour-stripped output equals the plain output exactly (no trailing padding)', () => {
    const r = load();
    expect(renderTerminal(r, { color: true }).replace(ANSI, '')).toBe(renderTerminal(r, { color: false }));
  });

  it('happy: every series, phase and budget gets a row', () => {
    const r = load();
    const lines = renderTerminal(r, { color: false }).split('\n');
    for (const b of r.budgets) expect(lines.some((l) => l.includes(b.id) && l.includes(b.status.toUpperCase()) && l.includes(b.reason))).toBe(true);
    for (const p of r.phases) expect(lines.some((l) => l.trimStart().startsWith(p.name))).toBe(true);
    const seriesRows = lines.filter((l) => /^ {2}(total|gen|queue) {2}/.test(l));
    expect(seriesRows).toHaveLength(r.series.length);
  });

  it.each([
    // the renderer lays out core/verdict.ts's decision: a passing report is one whose budgets pass
    ['happy: a passing run says every budget holds', { verdict: 'pass' as const, budgets: load().budgets.map((b) => ({ ...b, status: 'pass' as const })) }, 'PASS all 7 budgets hold'],
    ['sad: an aborted run says why, whatever its whole-run budgets say', { verdict: 'fail' as const, budgets: load().budgets.map((b) => ({ ...b, status: 'pass' as const })), aborted: { ...load().budgets[0]!, status: 'fail' as const }, reason: 'aborted at 4.1s: p90 over the last 1s' }, 'FAIL (aborted at 4.1s: p90 over the last 1s)'],
    ['sad: a failing run counts the budgets not passed (inconclusive included)', {}, 'FAIL 3 of 7 budgets not passed'],
    ['sad: an interrupted run says so', { verdict: 'fail' as const, interrupted: true }, 'FAIL (interrupted)'],
  ])('%s', (_name, over, last) => {
    const out = renderTerminal({ ...load(), ...over }, { color: false });
    const lines = out.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(last);
    expect(out.endsWith('\n')).toBe(true);
  });

  it('sad: missing values render as a dash, not NaN or null', () => {
    const r = load();
    const s0 = r.series[0];
    if (!s0) throw new Error('fixture has no series');
    const empty: RunResult = {
      ...r,
      series: [{ ...s0, count: 0, mean: null, p50: null, p90: null, p95: null, p99: null, p999: null, max: null }],
      totals: { ...r.totals, completed: 0, fallback: 0 },
      lateness: { ...r.lateness, p50: null, p99: null, max: null },
      budgets: r.budgets.map((b) => ({ ...b, observed: null })),
    };
    const out = renderTerminal(empty, { color: false });
    expect(out).not.toMatch(/NaN|null|undefined/);
    expect(out).toContain('fallback 0 (—)');
    expect(out).toContain('send lateness p50 — p99 —');
  });
});
