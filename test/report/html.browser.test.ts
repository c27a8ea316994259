/**
 * The HTML report in a real headless Chromium (Debian's package, driven by playwright-core): every chart
 * must draw a non-empty canvas with no console error, offline. The slow test file of this folder.
 * A screenshot goes to test-artifacts/report.png. Without Chromium (see chromium.ts): skipped with the
 * reason printed on a developer's machine, a failure when CI is set.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RunResult } from '../../src/core/report.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadChartLib } from '../../src/cli/assets.js';
import { renderHtml } from '../../src/report/html.js';
import { findChromium } from './chromium.js';
import { gateReport, serverReport, stagedReport } from './synthetic.js';
import { pathsReport } from './paths-fixture.js';

const LOOKUP = findChromium(process.env);
const SKIP = LOOKUP.kind === 'skip';
// printed when the file is collected, so a skipped browser test is never silent
if (LOOKUP.kind === 'skip') console.warn(`html.browser.test.ts skipped: ${LOOKUP.reason}`);
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(SKIP)(`HTML report in headless Chromium${LOOKUP.kind === 'skip' ? ` (skipped: ${LOOKUP.reason})` : ''}`, () => {
  let ctx: BrowserContext | undefined;
  let profileDir = '';
  let missing: Error | undefined;

  beforeAll(async () => {
    if (LOOKUP.kind !== 'found') {
      // recorded, then thrown by each test: the run counts them as failed, not as skipped
      missing = new Error(LOOKUP.reason);
      return;
    }
    profileDir = mkdtempSync(join(tmpdir(), 'budgetgate-chromium-'));
    ctx = await chromium.launchPersistentContext(profileDir, { executablePath: LOOKUP.path, headless: true, args: ARGS, viewport: { width: 1200, height: 900 }, offline: true });
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  /** writes the report's page to ARTIFACTS/name, opens it, and waits for `charts` charts to be drawn */
  async function open(name: string, r: RunResult, charts: number): Promise<{ page: Page; errors: string[]; requests: string[] }> {
    if (missing) throw missing;
    if (!ctx) throw new Error('no browser');
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, name);
    writeFileSync(file, renderHtml(r, { chartLib: await loadChartLib() }));
    const page = await ctx.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (q) => {
      if (!q.url().startsWith('file:')) requests.push(q.url());
    });
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    // page code as strings: this project compiles without the DOM library
    await page.waitForFunction(`window.__chartsRendered === ${charts}`, undefined, { timeout: 10_000 }).catch(() => {});
    return { page, errors, requests };
  }

  it('happy: all charts render (the four over the run and total\'s stage plot; non-empty canvases, no console errors); screenshot saved', async () => {
    const { page, errors, requests } = await open('report.html', await gateReport(), 5);
    const state = (await page.evaluate(`({
      rendered: window.__chartsRendered,
      chartErrors: window.__chartErrors,
      canvases: [...document.querySelectorAll('.chart')].map((el) => {
        const c = el.querySelector('canvas');
        return { id: el.id, w: c ? c.width : 0, h: c ? c.height : 0 };
      }),
      borderline: document.querySelectorAll('td.borderline').length,
    })`)) as { rendered?: number; chartErrors?: string[]; canvases: { id: string; w: number; h: number }[]; borderline: number };
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
    expect(state.chartErrors).toEqual([]);
    expect(state.rendered).toBe(5);
    expect(state.canvases.map((c) => c.id)).toEqual(['chart-stage-0', 'chart-percentiles', 'chart-rate', 'chart-p99', 'chart-errors']);
    for (const c of state.canvases) expect(c.w * c.h).toBeGreaterThan(0);
    expect(state.borderline).toBeGreaterThan(0);
    expect(requests).toEqual([]);
    expect(existsSync(join(ARTIFACTS, 'report.png'))).toBe(true);
  });

  it('happy: each budgeted server metric gets its own chart beside p99, drawn with no error', async () => {
    // the four run charts, total's stage plot and one chart per budgeted server metric (two)
    const { page, errors } = await open('report-server.html', await serverReport(), 7);
    const state = (await page.evaluate(`({ rendered: window.__chartsRendered, chartErrors: window.__chartErrors, charts: document.querySelectorAll('.chart').length, ids: [...document.querySelectorAll('.chart canvas')].map((c) => c.closest('.chart').id) })`)) as { rendered: number; chartErrors: string[]; charts: number; ids: string[] };
    await page.screenshot({ path: join(ARTIFACTS, 'report-server.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
    expect(state.chartErrors).toEqual([]);
    expect(state.charts).toBe(7);
    expect(state.rendered).toBe(7);
    expect(state.ids).toContain('chart-server-0');
    expect(state.ids).toContain('chart-server-1');
  });

  it('happy: named paths: the stage plot and the errors-over-time chart (a line for the cache path) draw with no error', async () => {
    const { page, errors } = await open('report-paths.html', pathsReport(), 5);
    const state = (await page.evaluate(`({ rendered: window.__chartsRendered, chartErrors: window.__chartErrors, legend: document.querySelector('#chart-errors').textContent})`)) as { rendered: number; chartErrors: string[]; legend: string };
    await page.close();
    expect(errors).toEqual([]);
    expect(state.chartErrors).toEqual([]);
    expect(state.rendered).toBe(5);
    expect(state.legend).toContain('cache');
  });

  it('sad: a broken charting library is caught by the page and reported, not silently blank', async () => {
    if (missing) throw missing;
    if (!ctx) throw new Error('no browser');
    const file = join(mkdtempSync(join(tmpdir(), 'budgetgate-html-')), 'broken.html');
    writeFileSync(file, renderHtml(await gateReport(), { chartLib: { js: 'window.uPlot = function () { throw new Error("boom"); };', css: '' } }));
    const page = await ctx.newPage();
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    const state = await page.evaluate('({ rendered: window.__chartsRendered, errors: window.__chartErrors.length })');
    await page.close();
    expect(state).toEqual({ rendered: 0, errors: 5 });
  });

  it('happy: budget limits are drawn on their stages\' plots, the time split renders, and the page fits a phone and prints', async () => {
    const { page, errors } = await open('report-stages.html', await stagedReport(), 6);
    // every budget line: its row on the canvas carries the status colour (pass green, fail red, inconclusive amber)
    const stages = (await page.evaluate(`[...document.querySelectorAll('.stage-chart')].map((el) => {
      const c = el.querySelector('canvas');
      const g = c.getContext('2d');
      const ys = (el.getAttribute('data-budget-ys') || '').split(',').filter((y) => y !== '').map(Number);
      const coloured = ys.map((y) => {
        const row = g.getImageData(0, y, c.width, 1).data;
        let n = 0;
        for (let i = 0; i < row.length; i += 4) {
          const [r, gr, b, a] = [row[i], row[i + 1], row[i + 2], row[i + 3]];
          if (a > 200 && ((gr > 100 && r < 60 && b < 90) || (r > 180 && gr < 60 && b < 70) || (r > 130 && gr > 80 && gr < 130 && b < 30))) n++;
        }
        return n;
      });
      return { id: el.id, lines: Number(el.getAttribute('data-budget-lines')), coloured, items: el.parentElement.querySelectorAll('ul.headroom li').length };
    })`)) as { id: string; lines: number; coloured: number[]; items: number }[];
    const split = (await page.evaluate(`[...document.querySelectorAll('svg.time-split rect.seg')].map((r) => r.getBoundingClientRect().width)`)) as number[];
    const totals = (await page.evaluate(`document.querySelectorAll('svg.time-split line.total').length`)) as number;
    await page.screenshot({ path: join(ARTIFACTS, 'report-stages.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(stages.map((x) => [x.id, x.lines, x.items])).toEqual([
      ['chart-stage-0', 4, 4],
      ['chart-stage-1', 1, 1],
    ]);
    // a dashed line across the plot: hundreds of its pixels on its row are the status colour
    for (const x of stages) for (const n of x.coloured) expect(n, x.id).toBeGreaterThan(100);
    expect(split.length).toBe(4);
    for (const w of split) expect(w).toBeGreaterThan(0);
    expect(totals).toBe(2);

    // a phone: nothing wider than the screen (tables scroll inside themselves), charts redrawn to fit
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(400);
    const phone = (await page.evaluate(`({ page: document.documentElement.scrollWidth, screen: window.innerWidth, charts: [...document.querySelectorAll('.chart canvas')].map((c) => c.getBoundingClientRect().right) })`)) as { page: number; screen: number; charts: number[] };
    await page.screenshot({ path: join(ARTIFACTS, 'report-phone.png'), fullPage: true });
    expect(phone.page).toBeLessThanOrEqual(phone.screen);
    for (const right of phone.charts) expect(right).toBeLessThanOrEqual(phone.screen);

    // print: the print styles apply and a PDF comes out
    await page.emulateMedia({ media: 'print' });
    const printed = (await page.evaluate(`getComputedStyle(document.body).maxWidth`)) as string;
    expect(printed).toBe('none');
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
    await page.close();
  }, 60_000);
});
