/**
 * Every format shows the fault hooks and the recovery figures of a report that has them
 * (report/hooks-recovery.ts), and a failed hook fails the run through the one verdict policy.
 */
import { describe, expect, it } from 'vitest';
import type { HookReport } from '../../src/core/hooks.js';
import type { RunResult, Verdict } from '../../src/core/report.js';
import { decideReport } from '../../src/core/verdict.js';
import { renderHtml, timelineMarks } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { syntheticReport } from './synthetic.js';

const hook = (o: Partial<HookReport> = {}): HookReport => ({
  id: 'outage.onStart', phase: 'outage', when: 'start', kind: 'exec', what: 'exec kill -STOP 4242', scheduledMs: 5000, startedMs: 5003, durationMs: 4, status: 'ok', exitCode: 0, output: 'stopped', optional: false, ...o,
});
const recovery: Verdict = {
  id: 'recovery{after=outage} total', description: 'recovers within 5s of phase outage', status: 'pass', observed: 1500, limit: 5000, unit: 'ms', samples: 450,
  reason: 'recovered 1.5s after the fault at 5s (at 6.5s) ≤ 5s; 450 requests affected', interval: null, borderline: false,
  recovery: { faultMs: 5000, recoveredMs: 6500, timeToRecoverMs: 1500, affected: 450, windowMs: 1000, holdMs: 3000, worst: { startMs: 5000, completed: 270, errors: 30, values: { p95: 1500 }, errorRate: 0.1, thin: false } },
};
function report(hooks: HookReport[]): RunResult {
  const r = syntheticReport({ seed: 3, rate: 50, seconds: 4 });
  return { ...r, budgets: [recovery, ...r.budgets], hooks, verdict: decideReport({ ...r, budgets: [recovery, ...r.budgets], hooks }, { allowInconclusive: false }).verdict };
}

describe('hooks and recovery in every format', () => {
  it('happy: terminal, markdown, JUnit and HTML carry the time-to-recover, the affected requests and each hook', () => {
    const r = report([hook(), hook({ id: 'outage.onEnd', when: 'end', what: 'exec kill -CONT 4242', scheduledMs: 15_000, startedMs: 15_001 })]);
    const term = renderTerminal(r, { color: false });
    expect(term).toMatch(/Recovery .*\n {2}recovery\{after=outage\} total: fault at 5s, recovered at 6\.5s: time-to-recover 1\.5s \(within 5s; 1s windows held 3s\); 450 requests affected; worst window before it: p95 1\.5s, error rate 10% over 300 requests from 5s/);
    expect(term).toMatch(/Hooks\n {2}outage\.onStart at 5s \(\+3ms\): exec kill -STOP 4242 → exit 0 in 4ms {2}output: stopped\n {2}outage\.onEnd at 15s/);
    const md = renderMarkdown(r);
    expect(md).toContain('### Recovery');
    expect(md).toMatch(/- outage\.onStart at 5s \(\+3ms\): exec kill -STOP 4242 → exit 0 in 4ms — output: `stopped`/);
    const xml = renderJunit(r);
    expect(xml).toMatch(/<testcase name="hook outage\.onStart: exec kill -STOP 4242"/);
    expect(xml).toContain('450 requests affected');
    const html = renderHtml(r, { chartLib: { js: '', css: '' } });
    expect(html).toContain('<h2>Recovery and hooks</h2>');
    expect(timelineMarks(r)).toEqual([
      { t: 5, label: 'fault (recovery{after=outage} total)', kind: 'fault' },
      { t: 6.5, label: 'recovered +1.5s', kind: 'recovered' },
      { t: 5.003, label: 'hook outage.onStart', kind: 'hook' },
      { t: 15.001, label: 'hook outage.onEnd', kind: 'hook' },
    ]);
  });

  it('sad: a failed hook fails the run (headline names it) and is a JUnit failure; an optional one does not fail it', () => {
    const failed = report([hook({ status: 'failed', exitCode: 1, error: 'exit 1' })]);
    const d = decideReport(failed, { allowInconclusive: false });
    expect(d.verdict).toBe('fail');
    expect(d.reason).toBe('hook outage.onStart failed (exit 1)');
    expect(renderJunit(failed)).toMatch(/<failure message="exit 1" type="hook failed">/);
    expect(renderTerminal(failed, { color: false })).toMatch(/FAIL .*hook outage\.onStart failed \(exit 1\)/);
    const optional = report([hook({ status: 'failed', exitCode: 1, error: 'exit 1', optional: true })]);
    expect(decideReport(optional, { allowInconclusive: false }).reason).toBeUndefined();
    expect(renderJunit(optional)).not.toContain('type="hook failed"');
  });
});
