/**
 * A metrics endpoint that hangs, returns garbage or disappears mid-run leaves sending untouched
 * (sent, late and lateness as in a run with a healthy endpoint) and makes its metric budgets
 * inconclusive with the documented reasons. Load goes to the embedded simulator; both servers
 * listen on 127.0.0.1. Wall-clock sensitive (it compares send lateness), hence *.timing.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import type { RunResult } from '../../src/core/report.js';
import { fakeMetrics, type FakeMetrics, type FakeMode } from './metrics-servers.js';

const profile = (url: string) => ({
  name: 'metrics-faults',
  target: { body: { model: 'sim', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 } },
  phases: [{ name: 'steady', duration: '3s', rate: 40 }],
  metrics: [{ url, name: 'fake', interval: '200ms', timeout: '150ms', keep: ['fake_tokens_total'] }],
  budgets: [
    { metric: 'fake_queue', max: 10 },
    { metric: 'fake_tokens_total', increase: 1_000_000 },
  ],
});

async function runWith(mode: FakeMode, goneAfterMs?: number): Promise<{ r: RunResult; f: FakeMetrics }> {
  const f = await fakeMetrics(mode);
  const timer = goneAfterMs === undefined ? undefined : setTimeout(() => f.setMode('gone'), goneAfterMs);
  try {
    const r = await run(profile(f.url), {});
    return { r, f };
  } finally {
    clearTimeout(timer);
    await f.close();
  }
}

let healthy: RunResult;
beforeAll(async () => {
  healthy = (await runWith('ok')).r;
});
afterAll(() => undefined);

/**
 * Sending as in the healthy run: everything sent, and lateness within the noise of a shared machine:
 * p50 within 5ms, p99 within twice the healthy one plus 50ms, late sends (> 10ms) within a quarter of
 * the requests. A scrape on the sender's path would hold sends for up to its 150ms deadline three
 * quarters of the time (150 of every 200ms), moving the median by tens of ms and making most sends late.
 */
function sendingUntouched(r: RunResult): void {
  expect(r.totals.sent).toBe(healthy.totals.sent);
  expect(r.lateness.p50 ?? 0).toBeLessThanOrEqual((healthy.lateness.p50 ?? 0) + 5);
  expect(r.lateness.p99 ?? 0).toBeLessThanOrEqual((healthy.lateness.p99 ?? 0) * 2 + 50);
  expect(r.totals.late).toBeLessThanOrEqual(healthy.totals.late + r.totals.sent / 4);
  expect(r.durationMs).toBeLessThan(healthy.durationMs + 1000);
}

describe('scraping during a run', () => {
  it('happy: a healthy endpoint is scraped on its timer and both budgets pass', () => {
    expect(healthy.totals.sent).toBe(120);
    const scrapes = healthy.scrapes ?? [];
    const attempts = scrapes.reduce((n, s) => n + s.attempts, 0);
    // baseline + one every 200ms over 3s + the final one
    expect(attempts).toBeGreaterThanOrEqual(14);
    expect(scrapes.every((s) => s.attempts === s.ok)).toBe(true);
    const tokens = healthy.serverMetrics?.find((m) => m.name === 'fake_tokens_total');
    // the counter grows by 10 per scrape: increase = 10 × (scrapes − 1)
    expect(tokens?.increase).toBe(10 * (attempts - 1));
    expect(healthy.budgets.filter((b) => b.id.startsWith('fake')).map((b) => b.status)).toEqual(['pass', 'pass']);
  });

  it('sad: a hanging endpoint leaves sending untouched; its budgets are inconclusive (timeouts)', async () => {
    const { r, f } = await runWith('hang');
    sendingUntouched(r);
    expect(f.requests).toBeGreaterThanOrEqual(10);
    const v = r.budgets.find((b) => b.id.startsWith('fake_queue'));
    expect(v?.status).toBe('inconclusive');
    expect(v?.reason).toMatch(/^metrics source fake \(http:\/\/127\.0\.0\.1:\d+\/metrics\) could not be scraped in non-warmup phases: all \d+ scrapes failed \(timeout after 150ms ×\d+(, skipped: the previous scrape was still in flight ×\d+)?\)$/);
    expect(r.verdict).toBe('fail');
  });

  it('sad: garbage leaves sending untouched; its budgets are inconclusive (not exposition text)', async () => {
    const { r } = await runWith('garbage');
    sendingUntouched(r);
    const v = r.budgets.find((b) => b.id.startsWith('fake_queue'));
    expect(v?.status).toBe('inconclusive');
    expect(v?.reason).toMatch(/could not be scraped in non-warmup phases: all \d+ scrapes failed \(not Prometheus text exposition \(first line: "<html>/);
  });

  it('sad: an endpoint that disappears mid-run: sending untouched; budgets inconclusive with the share that failed', async () => {
    const { r } = await runWith('ok', 1500);
    sendingUntouched(r);
    const v = r.budgets.find((b) => b.id.startsWith('fake_queue'));
    expect(v?.status).toBe('inconclusive');
    expect(v?.reason).toMatch(/^\d+ of \d+ scrapes of metrics source fake \(.*\) failed in non-warmup phases \(\d+(\.\d)?% > 10%: ECONNREFUSED ×\d+\): max of fake_queue cannot be told/);
  });
});
