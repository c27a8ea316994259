/** The saved-report commands end to end through the real CLI: report, check, compare, run --format/--baseline. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseReport, serializeReport, type RunResult } from '../../src/core/report.js';
import { syntheticReport } from '../report/synthetic.js';
import { readReport, runCli, tempDir, writeProfile } from './cli.js';

const SMALL = join(import.meta.dirname, '../fixtures/reports/small.json');

function saved(dir: string, name: string, r: RunResult): string {
  const path = join(dir, name);
  writeFileSync(path, serializeReport(r));
  return path;
}

const PROFILE = {
  name: 'e2e-gate',
  // closed (2 users, ~90 req/s on the embedded endpoint, a few hundred samples): what these tests
  // judge is the saved report, check and compare; an open phase adds the load-delivered verdict, which
  // a starved machine fails (16 of 300 sends > 10 ms late) and which check and compare then inherit
  phases: [{ name: 'steady', duration: '3s', concurrency: 2 }],
  budgets: [{ stage: 'total', p50: '2s', p90: '5s' }, { errorRate: '5%' }],
};

describe('budgetgate run --format and check on the saved report', () => {
  it('happy: run writes json+junit+md+html; check re-evaluates to the same verdicts; a changed budget changes the verdict offline', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const profile = writeProfile(dir, PROFILE);
    const summary = join(dir, 'summary.md');
    const run = await runCli(['run', profile, '--out', out, '--format', 'json,junit,md,html', '--quiet'], { env: { GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'true' } });
    expect(run.stderr).not.toContain('internal error');
    expect(run.code).toBe(0);
    for (const f of ['report.json', 'report.xml', 'report.md', 'report.html']) expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(summary, 'utf8')).toContain('## budgetgate ✅ PASS');
    expect(run.stdout).not.toContain('::error');
    const report = readReport(out);
    expect(report.budgets.find((b) => b.id.includes('p50'))?.interval).not.toBeNull();

    const recheck = join(dir, 'recheck');
    const check = await runCli(['check', join(out, 'report.json'), '--profile', profile, '--out', recheck]);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('PASS all 4 budgets hold');
    expect(readReport(recheck).budgets).toEqual(report.budgets);

    const stricter = writeProfile(dir, { ...PROFILE, budgets: [{ stage: 'total', p50: '1us' }, { errorRate: '5%' }] }, 'stricter.yaml');
    const failing = await runCli(['check', join(out, 'report.json'), '--profile', stricter], { env: { GITHUB_ACTIONS: 'true' } });
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/FAIL\s+total p50/);
    expect(failing.stdout).toMatch(/^::error title=budget total p50 fail::p50 of total ≤ .* was \d+(\.\d+)?ms > /m);
  });
});

describe('budgetgate check on a report written before per-window histograms', () => {
  it('sad: it loads and re-checks, and says its intervals assume independent requests', async () => {
    const dir = tempDir();
    const r = await runCli(['check', SMALL, '--profile', writeProfile(dir, PROFILE)]);
    expect(r.stderr).toMatch(/small\.json: no per-window histograms .*intervals assume independent requests/);
    expect(r.stdout).toMatch(/Budgets/);
    expect([0, 1]).toContain(r.code);
  });
});

describe('budgetgate report', () => {
  it('happy: re-renders a saved report in every format beside it', async () => {
    const dir = tempDir();
    const path = saved(dir, 'report.json', parseReport(readFileSync(SMALL, 'utf8'), SMALL));
    const r = await runCli(['report', path, '--format', 'junit,md,html', '--out', join(dir, 'r')]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'r', 'report.xml'), 'utf8')).toContain('<testsuite name="budgetgate.small" tests="7" failures="3"');
    expect(readFileSync(join(dir, 'r', 'report.md'), 'utf8')).toContain('❌ FAIL');
    expect(readFileSync(join(dir, 'r', 'report.html'), 'utf8')).toContain('uPlot');
  });

  it.each([
    ['sad: unknown format', ['--format', 'pdf'], /unknown format "pdf"/],
    ['sad: missing report file', [], /cannot read report/],
  ])('%s → exit 2', async (_name, extra, msg) => {
    const dir = tempDir();
    const path = extra.length === 0 ? join(dir, 'nope.json') : saved(dir, 'report.json', syntheticReport({ rate: 20, seconds: 1 }));
    const r = await runCli(['report', path, ...(extra.length ? extra : ['--format', 'md'])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
  });

  it('sad: a report with a corrupt histogram is a bad input (exit 2), not a crash', async () => {
    const dir = tempDir();
    const r0 = syntheticReport({ rate: 20, seconds: 1 });
    const path = saved(dir, 'report.json', { ...r0, series: r0.series.map((s) => ({ ...s, hdr: 'not-base64!' })) });
    const r = await runCli(['report', path, '--format', 'html', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot decode a histogram/);
  });
});

describe('budgetgate compare', () => {
  it('happy: noise is not a regression (exit 0); ×1.3 is (exit 1) with Markdown and annotations', async () => {
    const dir = tempDir();
    const base = saved(dir, 'base.json', syntheticReport({ seed: 1 }));
    const same = saved(dir, 'same.json', syntheticReport({ seed: 2 }));
    const slow = saved(dir, 'slow.json', syntheticReport({ seed: 2, scale: 1.3 }));
    const ok = await runCli(['compare', base, same]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('NO REGRESSION');
    const bad = await runCli(['compare', base, slow, '--tolerance', '10%', '--format', 'md'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('## budgetgate compare: ❌');
    expect(bad.stdout).toMatch(/^::error title=regression total primary steady p50::p50 \+\d+\.\d%25 \(tolerance 10%25, floor 1 ms\)/m);
    const tolerant = await runCli(['compare', base, slow, '--tolerance', '50%']);
    expect(tolerant.code).toBe(0);
    const p99only = await runCli(['compare', base, slow, '--tolerance', '50%', '--tolerance-p99', '5%']);
    expect(p99only.code).toBe(1);
    expect(p99only.stdout).toMatch(/total\s+primary\s+steady\s+p99.*REGRESSION/);
  });

  it.each([
    ['sad: a tolerance without %', ['--tolerance', '0.1'], /expected a percentage like 10%/],
    ['sad: an unknown output format', ['--format', 'html'], /expected terminal or md/],
  ])('%s → exit 2', async (_name, extra, msg) => {
    const dir = tempDir();
    const base = saved(dir, 'base.json', syntheticReport({ rate: 20, seconds: 1 }));
    const r = await runCli(['compare', base, base, ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
  });

  it('sad: run --baseline fails the run on a regression even when every budget holds', async () => {
    const dir = tempDir();
    // a baseline 50× faster than anything the simulated endpoint can do
    const fast = syntheticReport({ seed: 1, rate: 100, seconds: 3, medianMs: 0.05, sigma: 0.1, profile: 'e2e-gate' });
    const base = saved(dir, 'base.json', fast);
    const profile = writeProfile(dir, PROFILE);
    const r = await runCli(['run', profile, '--out', join(dir, 'out'), '--baseline', base, '--quiet']);
    expect(r.stdout).toContain('PASS all 4 budgets hold');
    expect(r.stdout).toContain('REGRESSION');
    expect(r.code).toBe(1);
  });

  it.each([
    ['happy: a folder of baselines (history) and no regression → exit 0', 'history', 0, /NO REGRESSION/, /^$/],
    ['sad: a baseline of another profile → cannot compare, exit 5', 'other', 5, /CANNOT COMPARE/, /no usable baseline of the same profile/],
    ['sad: too few samples → cannot compare, exit 5', 'few', 5, /CANNOT COMPARE/, /too few samples/],
    ['sad: an empty baseline folder → no baseline yet, exit 6', 'empty', 6, /NO BASELINE YET/, /no baseline report there yet/],
    ['sad: a baseline folder that does not exist yet → no baseline yet, exit 6', 'absent', 6, /NO BASELINE YET/, /no baseline report there yet/],
  ] as const)('%s', async (_name, kind, code, out, err) => {
    const dir = tempDir();
    const hist = join(dir, 'history');
    mkdirSync(hist);
    const cur = saved(dir, 'cur.json', syntheticReport({ seed: 9, rate: kind === 'few' ? 5 : 200, seconds: 3 }));
    if (kind === 'history') for (const s of [1, 2, 3]) {
      mkdirSync(join(hist, `night-${s}`));
      saved(join(hist, `night-${s}`), 'report.json', syntheticReport({ seed: s, rate: 200, seconds: 3 }));
    }
    if (kind === 'other') saved(hist, 'a.json', syntheticReport({ seed: 1, rate: 200, seconds: 3, profile: 'other' }));
    if (kind === 'few') saved(hist, 'a.json', syntheticReport({ seed: 1, rate: 5, seconds: 3 }));
    const r = await runCli(['compare', kind === 'absent' ? join(dir, 'nope') : hist, cur]);
    expect(r.code).toBe(code);
    expect(r.stdout).toMatch(out);
    if (kind === 'history') expect(r.stdout).toContain('3 baselines of');
    else expect(r.stderr).toMatch(err);
  });

  it('happy: run --baseline with an empty folder is the first night: judged on budgets alone (exit 0)', async () => {
    const dir = tempDir();
    const hist = join(dir, 'history');
    mkdirSync(hist);
    // one user: no send can be late (an open phase of 40 failed load delivered on 3 late sends)
    const light = { ...PROFILE, phases: [{ name: 'steady', duration: '2s', concurrency: 1 }], budgets: [{ stage: 'total', p50: '2s' }] };
    const r = await runCli(['run', writeProfile(dir, light), '--out', join(dir, 'out'), '--baseline', hist, '--quiet']);
    expect(r.stderr).toContain('no baseline yet');
    expect(r.stdout).toContain('NO BASELINE YET');
    expect(r.stdout, r.stdout).toContain('PASS all 2 budgets hold');
    expect(r.code).toBe(0);
  });

  it('sad: run --baseline with a missing file is a usage error before any load (exit 2)', async () => {
    const dir = tempDir();
    const r = await runCli(['run', writeProfile(dir, PROFILE), '--out', join(dir, 'out'), '--baseline', join(dir, 'missing.json'), '--quiet']);
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});
