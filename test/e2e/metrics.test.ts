/**
 * The CLI with a `metrics:` section: the embedded simulator takes the load, a fake metrics endpoint
 * on 127.0.0.1 is scraped; report.json, the terminal, Markdown and HTML reports carry the server
 * metrics and the token figures, `validate` lists the source, and `check` re-judges a metric budget.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeMetrics, type FakeMetrics } from '../engine/metrics-servers.js';
import { readReport, runCli, tempDir, writeProfile } from './cli.js';

let fake: FakeMetrics;
beforeAll(async () => {
  fake = await fakeMetrics('ok');
});
afterAll(async () => {
  await fake.close();
});

const profile = () => ({
  name: 'e2e-metrics',
  target: { body: { model: 'sim', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 } },
  // every 500 ms (the scrape's deadline is its interval: two processes' stalls in series passed 250 ms once)
  metrics: [{ url: fake.url, name: 'fake', interval: '500ms', keep: ['fake_queue', 'fake_tokens_total', 'fake_latency_seconds'] }],
  // closed (users, not a rate): what this file tests is the metrics, and an open phase's implicit
  // load-delivered verdict belongs to the machine's run queue while two test files share two cores (CI: 35 of 40 on time)
  phases: [{ name: 'steady', duration: '5s', concurrency: 2 }],
  budgets: [{ metric: 'fake_queue', max: 10 }, { metric: 'fake_tokens_total', rate: 1000 }],
});

describe('budgetgate run with metrics: (end to end)', () => {
  it('happy: server metrics and tokens in report.json, the terminal, Markdown and HTML; exit 0', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const r = await runCli(['run', writeProfile(dir, profile()), '--out', out, '--format', 'md,html', '--quiet']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const rep = readReport(out);
    expect(rep.serverMetrics?.map((m) => m.name)).toEqual(expect.arrayContaining(['fake_queue', 'fake_tokens_total', 'fake_latency_seconds']));
    expect(rep.scrapes?.every((s) => s.ok === s.attempts && s.attempts >= 8)).toBe(true);
    expect(rep.serverSeries?.[0]?.points.length).toBeGreaterThanOrEqual(8);
    expect(rep.budgets.filter((b) => b.metric).map((b) => b.status)).toEqual(['pass', 'pass']);
    expect(rep.totals.outputTokens).toBeGreaterThan(0);
    expect(rep.totals.tokenSources?.usage).toBe(rep.totals.completed);
    expect(r.stdout).toMatch(/Server metrics/);
    expect(r.stdout).toMatch(/^tokens \d+ in \+ \d+ out \(usage \d+\); [\d.]+ req\/s, [\d.]+ output tok\/s, [\d.]+ total tok\/s$/m);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('### Server metrics');
    expect(md).toContain('### Tokens');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="chart-server-0"');
    expect(html).toContain('id="chart-server-1"');

    // check re-judges the saved report with a tighter metric budget: exit 1, from the report alone
    const tighter = { ...profile(), budgets: [{ metric: 'fake_queue', max: 1 }] };
    const c = await runCli(['check', join(out, 'report.json'), '--profile', writeProfile(dir, tighter, 'tight.yaml')]);
    expect(c.code, c.stdout + c.stderr).toBe(1);
    expect(c.stdout).toMatch(/max of fake_queue was 4 > 1/);
  }, 60_000);

  it('happy: validate lists the metrics source and words the metric budgets', async () => {
    const dir = tempDir();
    const r = await runCli(['validate', writeProfile(dir, profile())]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`fake: ${fake.url} every 500ms (timeout 500ms), keep fake_queue, fake_tokens_total, fake_latency_seconds`);
    expect(r.stdout).toMatch(/fake_queue max\s+max of fake_queue ≤ 10/);
    expect(existsSync(dir)).toBe(true);
  });
});
