/** The one verdict policy (core/verdict.ts): table cases for decide, failsRun and policyOf. */
import { describe, expect, it } from 'vitest';
import type { Counts, Verdict } from '../../src/core/report.js';
import { decide, decideReport, failsRun, INTERRUPTED_REASON, policyOf, type PolicyOptions, type RunState } from '../../src/core/verdict.js';

const v = (status: Verdict['status'], o: { id?: string; borderline?: boolean; reason?: string } = {}): Verdict => ({
  id: o.id ?? status,
  description: '',
  status,
  observed: null,
  limit: 0,
  unit: 'ms',
  samples: 0,
  reason: o.reason ?? `${status} reason`,
  interval: null,
  ...(o.borderline !== undefined ? { borderline: o.borderline } : {}),
});
const finished: RunState = { interrupted: false };
const lax: PolicyOptions = { allowInconclusive: false };
const abortVerdict = v('fail', { id: 'total p90', reason: 'aborted at 4.1s: p90 of total was 290ms > 100ms over the last 1s' });
const counts = (c: Partial<Counts>): Counts => ({ scheduled: 100, sent: 100, completed: 100, errors: 0, fallback: 0, late: 0, ...c });

describe('decide: the verdict', () => {
  it.each([
    ['happy: all pass', [v('pass'), v('pass')], finished, lax, 'pass'],
    ['happy: no verdicts', [], finished, lax, 'pass'],
    ['sad: one fail', [v('pass'), v('fail')], finished, { allowInconclusive: true }, 'fail'],
    ['sad: inconclusive fails by default', [v('pass'), v('inconclusive')], finished, lax, 'fail'],
    ['happy: inconclusive allowed', [v('pass'), v('inconclusive')], finished, { allowInconclusive: true }, 'pass'],
    ['sad: interrupted always fails', [v('pass')], { interrupted: true }, { allowInconclusive: true }, 'fail'],
    ['sad: interrupted fails even with no verdicts', [], { interrupted: true }, lax, 'fail'],
    ['happy: a borderline pass passes without strict', [v('pass', { borderline: true })], finished, lax, 'pass'],
    ['sad: a borderline pass fails under strict', [v('pass', { borderline: true })], finished, { allowInconclusive: false, strict: true }, 'fail'],
    ['happy: a clear pass passes under strict', [v('pass', { borderline: false })], finished, { allowInconclusive: false, strict: true }, 'pass'],
    ['happy: old verdicts without borderline pass under strict', [v('pass')], finished, { allowInconclusive: false, strict: true }, 'pass'],
    ['sad: aborted fails though every whole-run verdict passes', [v('pass')], { interrupted: false, aborted: abortVerdict }, lax, 'fail'],
    ['sad: aborted fails under --strict too (issue 12, defect 1)', [v('pass')], { interrupted: false, aborted: abortVerdict }, { allowInconclusive: true, strict: true }, 'fail'],
    ['sad: load not delivered (from the totals) fails', [v('pass')], { interrupted: false, totals: counts({ late: 10 }) }, lax, 'fail'],
    ['happy: load delivered (from the totals) passes', [v('pass')], { interrupted: false, totals: counts({ late: 5 }) }, lax, 'pass'],
  ] as const)('%s', (_name, vs, s, o, want) => {
    expect(decide(vs, s, o).verdict).toBe(want);
  });
});

describe('decide: verdicts, reason and headline', () => {
  it('happy: a finished run gains the load-delivered verdict from its totals, once', () => {
    const d = decide([v('pass')], { interrupted: false, totals: counts({}) }, lax);
    expect(d.verdicts.map((x) => x.id)).toEqual(['pass', 'load delivered']);
    expect(decide(d.verdicts, { interrupted: false, totals: counts({}) }, lax).verdicts).toHaveLength(2);
    expect(d.headline).toBe('all 2 budgets hold');
    expect(d.reason).toBeUndefined();
    expect(d.stopped).toBeUndefined();
  });
  it('happy: a stopped run is judged without a load-delivered verdict', () => {
    expect(decide([v('pass')], { interrupted: true, totals: counts({ late: 90 }) }, lax).verdicts).toHaveLength(1);
    expect(decide([v('pass')], { interrupted: false, aborted: abortVerdict, totals: counts({ late: 90 }) }, lax).verdicts).toHaveLength(1);
  });
  it.each([
    ['sad: aborted → the abort reason, headline and stopped', [v('pass')], { interrupted: false, aborted: abortVerdict }, lax, abortVerdict.reason, abortVerdict.reason, 'aborted'],
    ['sad: aborted with the caller\'s reason (a merged shard) keeps it', [v('pass')], { interrupted: false, aborted: abortVerdict, reason: 'a.json: x' }, lax, 'a.json: x', 'a.json: x', 'aborted'],
    ['sad: interrupted → the generic reason', [v('pass')], { interrupted: true }, lax, INTERRUPTED_REASON, 'interrupted', 'interrupted'],
    ['sad: interrupted keeps a checkpoint\'s own reason', [v('pass')], { interrupted: true, reason: 'checkpoint: still running' }, lax, 'checkpoint: still running', 'interrupted', 'interrupted'],
    ['sad: load not delivered → its reason', [v('pass')], { interrupted: false, totals: counts({ late: 10 }) }, lax, 'load not delivered: sent 90 of 100 scheduled requests on time (90% < 95%)', '1 of 2 budgets not passed', undefined],
    ['sad: --strict names the borderline passes', [v('pass', { id: 'total p50', borderline: true }), v('pass')], finished, { allowInconclusive: false, strict: true }, '--strict: borderline pass of total p50 (the 95% interval contains the limit)', '0 of 2 budgets not passed, 1 borderline under --strict', undefined],
    ['sad: failing budgets alone give no reason', [v('fail'), v('inconclusive'), v('pass')], finished, lax, undefined, '2 of 3 budgets not passed', undefined],
  ] as const)('%s', (_name, vs, s, o, reason, headline, stopped) => {
    const d = decide(vs, s, o);
    expect(d.reason).toBe(reason);
    expect(d.headline).toBe(headline);
    expect(d.stopped).toBe(stopped);
  });
});

describe('failsRun', () => {
  it.each([
    ['sad: fail', v('fail'), lax, true],
    ['sad: inconclusive by default', v('inconclusive'), lax, true],
    ['happy: inconclusive allowed', v('inconclusive'), { allowInconclusive: true }, false],
    ['happy: borderline pass without strict', v('pass', { borderline: true }), lax, false],
    ['sad: borderline pass under strict', v('pass', { borderline: true }), { allowInconclusive: false, strict: true }, true],
    ['sad: a borderline fail fails either way', v('fail', { borderline: true }), lax, true],
  ] as const)('%s', (_name, x, o, want) => {
    expect(failsRun(x, o)).toBe(want);
  });
});

describe('policyOf: the options that reproduce a saved verdict', () => {
  const report = (verdict: 'pass' | 'fail', budgets: Verdict[]) => ({ verdict, budgets, interrupted: false });
  it.each([
    ['happy: a pass with an inconclusive budget allowed it', report('pass', [v('pass'), v('inconclusive')]), { allowInconclusive: true, strict: false }],
    ['happy: a plain pass', report('pass', [v('pass')]), { allowInconclusive: false, strict: false }],
    ['sad: a fail that only a borderline pass explains was strict', report('fail', [v('pass', { borderline: true })]), { allowInconclusive: false, strict: true }],
    ['sad: a fail explained by a failed budget was not strict', report('fail', [v('pass', { borderline: true }), v('fail')]), { allowInconclusive: false, strict: false }],
  ] as const)('%s', (_name, r, want) => {
    const p = policyOf(r);
    expect(p).toEqual(want);
    expect(decideReport(r, p).verdict).toBe(r.verdict);
  });
  it('happy: what the caller knows wins', () => {
    expect(policyOf(report('pass', [v('pass', { borderline: true })]), { strict: true })).toEqual({ allowInconclusive: false, strict: true });
  });
});
