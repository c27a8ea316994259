/**
 * scrapeOnce against a fake endpoint in each of its modes: values, the deadline, garbage, refusal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { keepRule, scrapeOnce } from '../../src/engine/scraper.js';
import { fakeMetrics, type FakeMetrics } from './metrics-servers.js';

// the happy scrapes' deadline is far past a starved machine's stalls; the deadline test passes its own 200 ms
const source = (url: string) => ({ name: 'fake', url, intervalMs: 250, timeoutMs: 5000, keep: ['fake_queue', 'fake_tokens_total', 'fake_latency_seconds'] });
let open: FakeMetrics[] = [];
afterEach(async () => {
  await Promise.all(open.map((f) => f.close()));
  open = [];
});
async function fake(mode: Parameters<typeof fakeMetrics>[0]): Promise<FakeMetrics> {
  const f = await fakeMetrics(mode);
  open.push(f);
  return f;
}

describe('scrapeOnce', () => {
  it('happy: gauge, counter and a labelled histogram (label sets summed)', async () => {
    const f = await fake('ok');
    const s = source(f.url);
    const r = await scrapeOnce(s.url, s.timeoutMs, keepRule(s, []));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.metrics.get('fake_queue')).toEqual({ kind: 'gauge', value: 1 });
    expect(r.metrics.get('fake_tokens_total')).toEqual({ kind: 'counter', value: 10 });
    expect(r.metrics.get('fake_latency_seconds')).toEqual({ kind: 'histogram', buckets: [[0.1, 2], [1, 2], [Infinity, 2]], count: 2, sum: 0.1 });
  });

  it('happy: only kept metrics are returned', async () => {
    const f = await fake('ok');
    const s = { ...source(f.url), keep: ['fake_queue'] };
    const r = await scrapeOnce(s.url, s.timeoutMs, keepRule(s, []));
    expect(r.ok && [...r.metrics.keys()]).toEqual(['fake_queue']);
  });

  it('sad: a hanging endpoint ends at the deadline', async () => {
    const f = await fake('hang');
    const t = performance.now();
    const r = await scrapeOnce(f.url, 200, keepRule(source(f.url), []));
    expect(r).toEqual({ ok: false, error: 'timeout after 200ms' });
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('sad: garbage is not exposition text', async () => {
    const f = await fake('garbage');
    const r = await scrapeOnce(f.url, 500, keepRule(source(f.url), []));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^not Prometheus text exposition \(first line: "<html>/);
  });

  it('sad: a closed endpoint is refused', async () => {
    const f = await fake('ok');
    await f.close();
    const r = await scrapeOnce(f.url, 500, keepRule(source(f.url), []));
    expect(r).toEqual({ ok: false, error: 'ECONNREFUSED' });
  });

  it('sad: a body over the size limit is refused', async () => {
    const f = await fake('ok');
    const r = await scrapeOnce(f.url, 500, keepRule(source(f.url), []), 100);
    expect(r).toEqual({ ok: false, error: 'response larger than 0 MiB' });
  });
});
