/**
 * The HTML report in a real headless Chromium (Debian's package, driven by playwright-core): every chart
 * must draw a non-empty canvas with no console error, offline. The slow test file of this folder.
 * A screenshot goes to test-artifacts/report.png. With no Chromium this FAILS, naming the fix; set
 * BUDGETGATE_SKIP_BROWSER=1 to skip it on a machine that cannot have one.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RunResult } from '../../src/core/report.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadChartLib } from '../../src/cli/assets.js';
import { renderHtml } from '../../src/report/html.js';
import { gateReport, serverReport } from './synthetic.js';

const CHROMIUM = process.env.BUDGETGATE_CHROMIUM ?? '/usr/bin/chromium';
const SKIP = process.env.BUDGETGATE_SKIP_BROWSER === '1';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(SKIP)('HTML report in headless Chromium', () => {
  let ctx: BrowserContext | undefined;
  let profileDir = '';
  let missing: Error | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      // recorded, then thrown by each test: the run counts them as failed, not as skipped
      missing = new Error(`Chromium not found at ${CHROMIUM}: install it (Debian: apt-get install -y chromium; .ci/run does this), point BUDGETGATE_CHROMIUM at one, or set BUDGETGATE_SKIP_BROWSER=1 to skip this test`);
      return;
    }
    profileDir = mkdtempSync(join(tmpdir(), 'budgetgate-chromium-'));
    ctx = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1200, height: 900 }, offline: true });
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  /** The report rendered into test-artifacts/NAME, and a page of the browser to open it in. */
  async function rendered(name: string, r: Promise<RunResult>): Promise<{ file: string; page: Page }> {
    if (missing) throw missing;
    if (!ctx) throw new Error('no browser');
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, name);
    writeFileSync(file, renderHtml(await r, { chartLib: await loadChartLib() }));
    return { file, page: await ctx.newPage() };
  }

  it('happy: all four charts render (non-empty canvases, __chartsRendered = 4, no console errors); screenshot saved', async () => {
    const { file, page } = await rendered('report.html', gateReport());
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    // page code as strings: this project compiles without the DOM library
    await page.waitForFunction('window.__chartsRendered === 4', undefined, { timeout: 10_000 }).catch(() => {});
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
    expect(state.rendered).toBe(4);
    expect(state.canvases.map((c) => c.id)).toEqual(['chart-percentiles', 'chart-rate', 'chart-p99', 'chart-errors']);
    for (const c of state.canvases) expect(c.w * c.h).toBeGreaterThan(0);
    expect(state.borderline).toBeGreaterThan(0);
    expect(requests).toEqual([]);
    expect(existsSync(join(ARTIFACTS, 'report.png'))).toBe(true);
  });

  it('happy: each budgeted server metric gets its own chart beside p99, drawn with no error', async () => {
    const { file, page } = await rendered('report-server.html', serverReport());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    await page.waitForFunction('window.__chartsRendered === 6', undefined, { timeout: 10_000 }).catch(() => {});
    const state = (await page.evaluate(`({ rendered: window.__chartsRendered, chartErrors: window.__chartErrors, ids: [...document.querySelectorAll('.chart canvas')].map((c) => c.closest('.chart').id) })`)) as { rendered: number; chartErrors: string[]; ids: string[] };
    await page.screenshot({ path: join(ARTIFACTS, 'report-server.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
    expect(state.chartErrors).toEqual([]);
    expect(state.rendered).toBe(6);
    expect(state.ids).toContain('chart-server-0');
    expect(state.ids).toContain('chart-server-1');
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
    expect(state).toEqual({ rendered: 0, errors: 4 });
  });
});
