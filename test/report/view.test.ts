/** The view model every renderer lays out (src/report/view.ts): built once, judged by core/verdict.ts. */
import { describe, expect, it } from 'vitest';
import { countOf } from '../../src/core/histograms.js';
import { buildView, loadText } from '../../src/report/view.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { gateReport, syntheticReport } from './synthetic.js';

describe('buildView', () => {
  it('happy: a report judged under --strict reads as failed without being told (the options that reproduce its verdict)', async () => {
    // the gate report's failing budgets dropped: only its borderline pass of total.p50 is left to fail it
    const g = await gateReport();
    const r = { ...g, budgets: g.budgets.filter((b) => b.status === 'pass'), verdict: 'fail' as const };
    expect(buildView(r, { strict: false }).decision.verdict).toBe('pass');
    const v = buildView(r);
    expect(v.policy.strict).toBe(true);
    expect(v.decision.verdict).toBe('fail');
    expect(v.decision.headline).toMatch(/borderline under --strict/);
    expect(renderMarkdown(r).split('\n')[0]).toMatch(/^## budgetgate ❌ FAIL: /);
    expect(renderTerminal(r, { color: false }).trimEnd().split('\n').at(-1)).toMatch(/^FAIL /);
  });

  it('happy: stages are merged over non-warmup phases, every path, once', () => {
    const r = syntheticReport({ seed: 3, rate: 50, seconds: 2 });
    const v = buildView(r);
    const stages = v.stages();
    expect(v.stages()).toBe(stages);
    const steady = (stage: string): number => r.series.filter((s) => s.stage === stage && s.phase === 'steady').reduce((n, s) => n + s.count, 0);
    for (const s of stages) {
      expect(s.count).toBe(steady(s.name));
      expect(countOf(s.hist)).toBe(s.count);
    }
    expect(stages.map((s) => s.name).sort()).toEqual([...new Set(r.series.map((s) => s.stage))].sort());
  });

  it('happy: phases carry their label, load text and error kinds', () => {
    const r = syntheticReport({ seed: 3, rate: 50, seconds: 2 });
    const v = buildView({ ...r, phases: r.phases.map((p, i) => (i === 1 ? { ...p, errorKinds: { 'http 503': 2, timeout: 1 } } : p)) });
    expect(v.phases.map((p) => [p.label, p.load])).toEqual([['warmup (warmup)', '50/s'], ['steady', '50/s']]);
    expect(v.phases[1]?.errorKindsText).toBe('http 503×2, timeout×1');
  });
});

describe('loadText', () => {
  it.each([
    ['happy: a steady open phase', { model: 'open' as const, rate: 20, to: 20 }, '20/s'],
    ['happy: an open ramp', { model: 'open' as const, rate: 20, to: 200 }, '20→200/s'],
    ['happy: closed users', { model: 'closed' as const, rate: 0, to: 0, concurrency: 8, concurrencyTo: 8 }, '8 users'],
    ['happy: a closed ramp', { model: 'closed' as const, rate: 0, to: 0, concurrency: 8, concurrencyTo: 64 }, '8→64 users'],
  ])('%s', (_label, p, want) => {
    expect(loadText(p)).toBe(want);
  });
});
