import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/core/report.js';
import { headroomText, parseLatencyId, stageCharts, stagesSectionHtml, timeSplit, timeSplitSectionHtml } from '../../src/report/html/stages.js';
import { stagedReport, syntheticReport } from './synthetic.js';

describe('per-stage plots with budget lines', () => {
  it.each([
    ['happy', 'total p99', { stage: 'total', scope: '', key: 'p99' }],
    ['happy', 'total{path=fallback,phase=spike} max#2', { stage: 'total', scope: 'path=fallback,phase=spike', key: 'max' }],
    ['happy', 'server_ttft p999', { stage: 'server_ttft', scope: '', key: 'p999' }],
    ['sad', 'errorRate', undefined],
    ['sad', 'total p98', undefined],
  ] as const)('%s: latency id %s', (_l, id, expected) => {
    expect(parseLatencyId(id)).toEqual(expected);
  });

  it.each([
    ['happy', { status: 'pass', observed: 612, limit: 800, reason: '' }, 'p99 612ms: 188ms (24%) under the 800ms limit'],
    ['sad', { status: 'fail', observed: 1200, limit: 800, reason: '' }, 'p99 1.20s: 400ms (50%) over the 800ms limit'],
    ['sad', { status: 'inconclusive', observed: 700, limit: 800, reason: 'only 120 samples; p99 needs 1000' }, 'p99 700ms: 100ms (13%) under the 800ms limit — inconclusive: only 120 samples; p99 needs 1000'],
    ['sad', { status: 'fail', observed: null, limit: 800, reason: 'no samples' }, 'p99: not measured (no samples)'],
  ] as const)('%s: headroom in words %j', (_l, v, text) => {
    expect(headroomText(v, 'p99')).toBe(text);
  });

  it('happy: one chart per budgeted stage, total first; primary and fallback curves apart; each latency budget a mark at its percentile', async () => {
    const r = await stagedReport();
    const charts = stageCharts(r);
    expect(charts.map((c) => c.stage)).toEqual(['total', 'queue']);
    const total = charts[0];
    expect(total?.paths.map((p) => p.path)).toEqual(['primary', 'fallback']);
    const steady = r.series.filter((s) => s.stage === 'total' && s.phase === 'steady');
    expect(total?.paths.map((p) => p.count)).toEqual(['primary', 'fallback'].map((path) => steady.find((s) => s.path === path)?.count));
    expect(total?.budgets.map((b) => [b.id, b.key, b.x])).toEqual([
      ['total p50', 'p50', 2],
      ['total p99', 'p99', 100],
      ['total{path=fallback} max', 'max', total?.x.at(-1)],
      ['total mean', 'mean', null],
    ]);
    const v = r.budgets.find((b) => b.id === 'total p99');
    expect(total?.budgets[1]?.headroom).toBe(headroomText(v as NonNullable<typeof v>, 'p99'));
    const html = stagesSectionHtml(charts);
    expect(html).toContain('id="chart-stage-0"');
    expect(html).toContain('id="chart-stage-1"');
    expect(html.match(/<li class="(pass|fail|inconclusive)">/g)).toHaveLength(5);
  });
});

describe('where the time went', () => {
  it('happy: per phase and path, server stages then unattributed, against total p50', async () => {
    const r = await stagedReport();
    const rows = timeSplit(r);
    expect(rows.map((x) => x.label)).toEqual(['steady · primary', 'steady · fallback']);
    const primary = rows[0];
    expect(primary?.parts.map((p) => p.stage)).toEqual(['queue', 'unattributed']);
    const totalP50 = r.series.find((s) => s.stage === 'total' && s.phase === 'steady' && s.path === 'primary')?.p50;
    expect(primary?.total).toBe(totalP50);
    // queue is 10% of total in the synthetic run: its median is a tenth of total's, and the rest is unattributed
    expect(primary?.parts[0]?.ms).toBeCloseTo((totalP50 ?? 0) / 10, 0);
    const svg = timeSplitSectionHtml(rows);
    expect(svg.match(/<rect class="seg"/g)).toHaveLength(4);
    expect(svg.match(/<line class="total"/g)).toHaveLength(2);
  });

  it('sad: with no server stages it says so instead of drawing an empty chart', () => {
    const r = syntheticReport({ rate: 50, seconds: 2 });
    const bare: RunResult = { ...r, series: r.series.filter((s) => s.stage === 'total') };
    const html = timeSplitSectionHtml(timeSplit(bare));
    expect(html).toMatch(/No server stages were reported/);
    expect(html).not.toContain('<svg');
  });
});
