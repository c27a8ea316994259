import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHistogram, mergeHistograms, quantileMs } from '../../src/core/histograms.js';
import { type RunResult, parseReport } from '../../src/core/report.js';
import { percentileCurves, percentileGrid, renderHtml, scriptJson } from '../../src/report/html.js';
import { gateReport } from './synthetic.js';

const SMALL = fileURLToPath(new URL('../fixtures/reports/small.json', import.meta.url));
const small = (): RunResult => parseReport(readFileSync(SMALL, 'utf8'), 'small.json');
const LIB = { js: 'window.uPlot = function () {};', css: '.u-wrap{}' };

/** the JSON the page reads, taken back out of the HTML the way the browser would */
function embedded(html: string): unknown {
  const m = /<script type="application\/json" id="budgetgate-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no data script');
  return JSON.parse(m[1] as string);
}

describe('renderHtml', () => {
  it('happy: one self-contained page: the library inlined, no external script, style or image', () => {
    const html = renderHtml(small(), { chartLib: LIB });
    expect(html).toContain(LIB.js);
    expect(html).toContain(LIB.css);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|@import|url\(\s*['"]?https?:/i);
    for (const id of ['chart-percentiles', 'chart-rate', 'chart-p99', 'chart-errors']) expect(html).toContain(`id="${id}"`);
  });

  it('sad: hostile strings cannot close the data script or open a comment, and round-trip exactly', () => {
    const nasty = '</script><!-- <script>alert(1)</script> \u2028 & "';
    const r = { ...small(), profile: nasty, phases: small().phases.map((p) => ({ ...p, name: nasty + p.name })) };
    const html = renderHtml(r, { chartLib: { js: 'var s = "</script>"; <!-- x', css: '</style><b>' } });
    const scripts = html.split('<script').length - 1;
    expect(scripts).toBe(4); // data, library, page code, per-stage page code: nothing injected
    expect(html.match(/<\/script>/g)).toHaveLength(4);
    expect(html).not.toContain('<!--');
    expect(html.match(/<\/style>/g)).toHaveLength(2);
    const data = embedded(html) as { phases: { name: string }[] };
    expect(data.phases.map((p) => p.name)).toEqual(r.phases.map((p) => p.name));
    expect(html).toContain('&lt;/script&gt;&lt;!--');
  });

  it('property: scriptJson output contains no "<", ">" or "&" and parses back to the input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const s = scriptJson(v);
        expect(s).not.toMatch(/[<>&\u2028\u2029]/);
        expect(JSON.parse(s)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it('happy: budget rows show interval and borderline', async () => {
    const html = renderHtml(await gateReport(), { chartLib: LIB });
    expect(html).toContain('PASS (borderline)');
    expect(html).toMatch(/<td class="num">\d+(\.\d+)?ms–\d+(\.\d+)?ms<\/td>/);
  });

  it('sad: timeline points without p50/p99 (older reports) are gaps, not zeros', () => {
    const r = small();
    const old = { ...r, timeline: r.timeline.map(({ p50: _a, p99: _b, ...rest }) => rest) } as unknown as RunResult;
    const data = embedded(renderHtml(old, { chartLib: LIB })) as { timeline: { p99: unknown[] } };
    expect(data.timeline.p99.every((x) => x === null)).toBe(true);
  });
});

describe('percentileGrid / percentileCurves', () => {
  it('property: the grid starts at 1, rises, and ends exactly at x = n', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (n) => {
        const g = percentileGrid(n);
        expect(g[0]).toBe(1);
        expect(g.at(-1)).toBe(n);
        for (let i = 1; i < g.length; i++) expect(g[i] as number).toBeGreaterThan(g[i - 1] as number);
        expect(g.length).toBeLessThanOrEqual(24 * Math.log10(n) + 2);
      }),
    );
  });

  it('happy: each curve is non-decreasing, reads the merged non-warmup histogram at q = 1 − 1/x, and ends at the max', async () => {
    const r = await gateReport();
    const pc = percentileCurves(r);
    expect(pc.stages[0]?.name).toBe('total');
    expect(pc.stages.map((s) => s.name)).toContain('queue');
    const h = mergeHistograms(r.series.filter((s) => s.stage === 'total' && s.phase === 'steady').map((s) => decodeHistogram(s.hdr, s.max)));
    const total = pc.stages[0];
    const ys = (total?.y ?? []).filter((y): y is number => y !== null);
    for (let i = 1; i < ys.length; i++) expect(ys[i] as number).toBeGreaterThanOrEqual(ys[i - 1] as number);
    const at10 = pc.x.findIndex((x) => Math.abs(x - 10) < 1e-9);
    expect(total?.y[at10]).toBe(quantileMs(h, 0.9));
    const maxSeries = Math.max(...r.series.filter((s) => s.stage === 'total' && s.phase === 'steady').map((s) => s.max ?? 0));
    expect(ys.at(-1)).toBe(maxSeries);
  });
});

describe('renderHtml: a run stopped early', () => {
  it('sad: an aborted run heads the page with the abort reason', () => {
    const r = small();
    const html = renderHtml({ ...r, verdict: 'fail', budgets: r.budgets.map((b) => ({ ...b, status: 'pass' as const })), aborted: { ...(r.budgets[0] as RunResult['budgets'][number]), status: 'fail' }, reason: 'aborted at 4.1s: p90 over the last 1s' }, { chartLib: LIB });
    expect(html).toContain('<header class="verdict fail">');
    expect(html).toContain('<h1>FAIL <small>aborted at 4.1s: p90 over the last 1s</small></h1>');
  });
});
