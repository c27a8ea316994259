/**
 * Every report format shows each named path and the prompt-cache figures: a report recorded with a
 * cache, a fallback and a primary path (cached_tokens on some responses) rendered in every format;
 * the Markdown table is a golden file (UPDATE_GOLDEN=1 rewrites it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateBudgets } from '../../src/core/budgets.js';
import { parseProfile } from '../../src/core/profile/index.js';
import { Recorder } from '../../src/core/recorder.js';
import { REPORT_SCHEMA, type RunResult } from '../../src/core/report.js';
import { chartData, renderHtml } from '../../src/report/html.js';
import { runSummary } from '../../src/report/json-summary.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { buildView } from '../../src/report/view.js';

const golden = fileURLToPath(new URL('../fixtures/golden/report-paths.md', import.meta.url));

function report(): RunResult {
  const phases = ['warm', 'steady', 'spike'].map((name, i) => ({ name, warmup: i === 0, model: 'open' as const, startMs: i * 2000, endMs: (i + 1) * 2000, rate: 10, to: 10, concurrency: 0, concurrencyTo: 0, requests: 20 }));
  const r = new Recorder(phases);
  // per phase: 8 cache hits (all 100 prompt tokens cached), 10 primary (25 cached), 2 fallback (no details)
  phases.forEach((ph, i) => {
    for (let k = 0; k < 20; k++) {
      const t = ph.startMs + k * 100;
      const path = k < 8 ? 'cache' : k < 18 ? 'primary' : 'fallback';
      const cached = path === 'cache' ? 100 : path === 'primary' ? 25 : undefined;
      r.sent(i, t, t, false);
      r.completed(i, t, t + (path === 'cache' ? 5 : 40), { stages: new Map(), unmeasured: [], path, tokens: { input: 100, output: 8, source: 'usage', ...(cached !== undefined ? { cached } : {}) } });
    }
  });
  const parsed = parseProfile({ name: 'paths', paths: [{ name: 'cache', when: { header: 'x-sim-cache', equals: 'HIT' } }], fallback: { header: 'x-route', equals: 'fallback' }, phases: [{ name: 'warm', duration: '2s', rate: 10, warmup: true }, { name: 'steady', duration: '2s', rate: 10 }, { name: 'spike', duration: '2s', rate: 10 }], budgets: [{ pathShare: 'cache', min: '30%' }, { promptCacheShare: '>= 50%' }] }, () => undefined);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const rep = r.report(6000);
  return { schema: REPORT_SCHEMA, tool: { name: 'budgetgate', version: 'test' }, profile: 'paths', target: 'http://127.0.0.1:1/', arrivals: 'uniform', startedAt: '2026-12-01T00:00:00.000Z', durationMs: 6000, verdict: 'pass', interrupted: false, budgets: evaluateBudgets(parsed.profile.budgets, r.measurements()), ...rep };
}

describe('each path in every report format', () => {
  const r = report();

  it('happy: Markdown: a Paths table per phase × path, then over the budgeted phases (golden)', () => {
    const out = renderMarkdown(r);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, out);
    expect(out).toBe(readFileSync(golden, 'utf8'));
    // 8 of 20 on cache in each phase: 40%; its responses had every prompt token cached, primary a quarter
    expect(out).toContain('| all | cache | 16 | 0 | 40% | 1600 | 1600 | 100% |');
    expect(out).toContain('| all | fallback | 4 | 0 | 10% | — | — | — |');
  });

  it('happy: terminal, JUnit, HTML and the JSON summary show each path', () => {
    const term = renderTerminal(r, { color: false });
    expect(term).toMatch(/^Paths {2}\(share: of the phase’s completed requests; cached share/m);
    expect(term).toMatch(/all\s+cache\s+16\s+0\s+40%\s+1600\s+1600\s+100%/);
    const junit = renderJunit(r);
    expect(junit).toContain('<property name="path cache (all)" value="ok 16, errors 0, share 40%, cached share of prompt tokens 100%"/>');
    expect(junit).toContain('<property name="path fallback (all)" value="ok 4, errors 0, share 10%, cached share of prompt tokens —"/>');
    const html = renderHtml(r, { chartLib: { js: '', css: '' } });
    expect(html).toContain('<h2>Paths</h2>');
    const data = chartData(buildView(r)) as { timeline: { paths?: Record<string, number[]> } };
    // per second, the cache path's completions: 8 in each of the three 2-second phases' first second
    expect(data.timeline.paths?.cache?.reduce((a, b) => a + b, 0)).toBe(24);
    expect(data.timeline.paths?.fallback).toBeUndefined(); // fallback has its own line
    const summary = runSummary('run', r, 0, {}) as { headline: { paths: Record<string, { completed: number; share: number | null; promptCacheShare: number | null }> } };
    expect(summary.headline.paths).toEqual({
      cache: { completed: 16, errors: 0, share: 0.4, promptCacheShare: 1 },
      primary: { completed: 20, errors: 0, share: 0.5, promptCacheShare: 0.25 },
      fallback: { completed: 4, errors: 0, share: 0.1, promptCacheShare: null },
    });
  });
});
