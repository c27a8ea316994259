/**
 * Every report format shows each named path and the prompt-cache figures: a report recorded with a
 * cache, a fallback and a primary path (cached_tokens on some responses) rendered in every format;
 * the Markdown table is a golden file (UPDATE_GOLDEN=1 rewrites it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pathsReport as report } from './paths-fixture.js';
import { chartData, renderHtml } from '../../src/report/html.js';
import { stageCharts } from '../../src/report/html/stages.js';
import { runSummary } from '../../src/report/json-summary.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { buildView } from '../../src/report/view.js';

const golden = fileURLToPath(new URL('../fixtures/golden/report-paths.md', import.meta.url));

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
    // total's stage plot (a budget names it): one curve per path, primary first
    expect(stageCharts(r)[0]?.paths.map((p) => p.path)).toEqual(['primary', 'cache', 'fallback']);
    const summary = runSummary('run', r, 0, {}) as { headline: { paths: Record<string, { completed: number; share: number | null; promptCacheShare: number | null }> } };
    expect(summary.headline.paths).toEqual({
      cache: { completed: 16, errors: 0, share: 0.4, promptCacheShare: 1 },
      primary: { completed: 20, errors: 0, share: 0.5, promptCacheShare: 0.25 },
      fallback: { completed: 4, errors: 0, share: 0.1, promptCacheShare: null },
    });
  });
});
