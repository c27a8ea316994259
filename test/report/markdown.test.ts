import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareReports } from '../../src/core/compare.js';
import { type RunResult, type Verdict, parseReport } from '../../src/core/report.js';
import { renderCompareMarkdown, renderMarkdown } from '../../src/report/markdown.js';
import { gateReport, syntheticReport } from './synthetic.js';

const SMALL = fileURLToPath(new URL('../fixtures/reports/small.json', import.meta.url));
const golden = (name: string): string => fileURLToPath(new URL(`../fixtures/golden/${name}`, import.meta.url));
const small = (): RunResult => parseReport(readFileSync(SMALL, 'utf8'), 'small.json');

function matchGolden(out: string, name: string): void {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden(name), out);
  expect(out).toBe(readFileSync(golden(name), 'utf8'));
}

describe('renderMarkdown', () => {
  it('happy: the small fixture matches report-small.md (UPDATE_GOLDEN=1 rewrites it)', () => {
    matchGolden(renderMarkdown(small()), 'report-small.md');
  });

  it('happy: a report with intervals and a borderline pass matches report-gate.md', async () => {
    const out = renderMarkdown(await gateReport());
    expect(out).toContain('(borderline)');
    expect(out).toContain('*borderline*');
    matchGolden(out, 'report-gate.md');
  });

  it('happy: verdict, every budget and every series get a line', () => {
    const r = small();
    const out = renderMarkdown(r);
    expect(out.split('\n')[0]).toBe('## budgetgate ❌ FAIL: 3 of 7 budgets not passed');
    for (const b of r.budgets) expect(out).toContain(`| ${b.description.replace(/\|/g, '\\|')} |`);
    const seriesRows = out.split('\n').filter((l) => /^\| (total|gen|queue) \|/.test(l));
    expect(seriesRows).toHaveLength(r.series.length);
  });

  it('sad: a pipe or newline in a cell cannot break the table', () => {
    const r = small();
    const out = renderMarkdown({ ...r, budgets: r.budgets.map((b) => ({ ...b, reason: 'a | b\nc' })) });
    const rows = out.split('\n').filter((l) => l.includes('a \\| b c'));
    expect(rows).toHaveLength(r.budgets.length);
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length - 2).toBe(7);
  });
});

describe('renderCompareMarkdown', () => {
  it('happy: a regression is listed with its change and intervals (compare-regression.md)', () => {
    const c = compareReports(syntheticReport({ seed: 1, rate: 300, seconds: 5 }), syntheticReport({ seed: 2, rate: 300, seconds: 5, scale: 1.3 }), { tolerance: 0.1, perKey: { p99: 0.05 } });
    const out = renderCompareMarkdown(c);
    expect(out.split('\n')[0]).toMatch(/^## budgetgate compare: ❌ \d+ regressions$/);
    matchGolden(out, 'compare-regression.md');
  });

  it('happy: no regression says so', () => {
    const c = compareReports(syntheticReport({ seed: 1, rate: 300, seconds: 5 }), syntheticReport({ seed: 2, rate: 300, seconds: 5 }), { tolerance: 0.1 });
    expect(renderCompareMarkdown(c).split('\n')[0]).toBe('## budgetgate compare: ✅ no regression');
  });
});

describe('renderMarkdown: a run stopped early', () => {
  it('sad: an aborted run heads the report with the abort reason, not a budget count', () => {
    const r = small();
    const aborted = { ...r, verdict: 'fail' as const, budgets: r.budgets.map((b) => ({ ...b, status: 'pass' as const })), aborted: { ...(r.budgets[0] as Verdict), status: 'fail' as const }, reason: 'aborted at 4.1s: p90 over the last 1s' };
    const out = renderMarkdown(aborted);
    expect(out.split('\n')[0]).toBe('## budgetgate ❌ FAIL: aborted at 4.1s: p90 over the last 1s');
    // said once, in the heading
    expect(out.match(/aborted at 4\.1s/g)).toHaveLength(1);
  });
});
