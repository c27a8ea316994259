import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatBudgetExpr, parseBudgetExpr } from '../../src/core/budget-expr.js';
import { parseProfile } from '../../src/core/profile/index.js';

describe('parseBudgetExpr', () => {
  it.each([
    ['happy', 'total p99 < 800ms', { stage: 'total', p99: '800ms' }],
    ['happy', 'ttft p99 < 500ms', { stage: 'ttft', p99: '500ms' }],
    ['happy', 'queue p50<=20ms', { stage: 'queue', p50: '20ms' }],
    ['happy', 'total p99.9 ≤ 2s', { stage: 'total', p999: '2s' }],
    ['happy', 'total max < 1m30s', { stage: 'total', max: '1m30s' }],
    ['happy', 'total[path=fallback] p99 < 2s', { stage: 'total', p99: '2s', path: 'fallback' }],
    ['happy', 'total p99 < 3s [phase=spike]', { stage: 'total', p99: '3s', phase: 'spike' }],
    ['happy', 'total [path=primary, phase=spike-peak] p50 < 1s', { stage: 'total', p50: '1s', path: 'primary', phase: 'spike-peak' }],
    ['happy', 'total[path=primary][phase=ramp] mean < 100ms', { stage: 'total', mean: '100ms', path: 'primary', phase: 'ramp' }],
    ['happy', 'errorRate < 1%', { errorRate: '1%' }],
    ['happy', 'errorRate<0.5%', { errorRate: '0.5%' }],
    ['happy', 'errorRate < 0.01', { errorRate: '1%' }],
    ['happy', 'errorRate[path=fallback] < 2%', { errorRate: '2%', path: 'fallback' }],
    ['happy', 'fallbackRate < 5% [phase=spike]', { fallbackRate: '5%', phase: 'spike' }],
    ['happy', 'goodput >= 95%', { goodput: '>= 95%' }],
    ['happy', 'promptCacheShare >= 50% [phase=steady]', { promptCacheShare: '>= 50%', phase: 'steady' }],
    ['happy', 'goodput ≥ 90% [path=primary]', { goodput: '>= 90%', path: 'primary' }],
  ] as const)('%s: %s', (_l, text, expected) => {
    expect(parseBudgetExpr(text)).toEqual({ ok: true, budget: expected });
  });

  it.each([
    ['sad', '', /empty/],
    ['sad', 'total p99', /expected '<'.*got the end/],
    ['sad', 'total p98 < 1s', /expected one of p50, p90.*got 'p98' at column 7/],
    ['sad', 'total p99 > 1s', /expected '<' \(a latency budget is a ceiling\), got '>' at column 11/],
    ['sad', 'total p99 < 800', /expected a duration like 500ms, got '800' at column 13/],
    ['sad', 'total p99 < fast', /expected a duration/],
    ['sad', 'errorRate > 1%', /errorRate is a ceiling/],
    ['sad', 'errorRate < 200%', /expected a percentage/],
    ['sad', 'goodput < 95%', /goodput is a floor/],
    ['sad', 'promptCacheShare < 50%', /promptCacheShare is a floor/],
    ['sad', 'total[path=backup] p99 < 1s', /path must be primary or fallback, got 'backup'/],
    ['sad', 'total[path=primary p99 < 1s', /expected ',' or '\]'/],
    ['sad', 'total[zone=a] p99 < 1s', /expected path= or phase= inside/],
    ['sad', 'total[phase=a][phase=b] p99 < 1s', /phase is given twice/],
    ['sad', 'total p99 < 1s extra', /unexpected 'extra' at column 16/],
    ['sad', '<< p99', /expected a stage/],
  ] as const)('%s: %j is refused with where and why', (_l, text, re) => {
    const r = parseBudgetExpr(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(re);
  });

  it('happy: every kind it makes passes the profile validator as a budget entry', () => {
    const budgets = ['total p99 < 800ms', 'errorRate < 1%', 'fallbackRate < 5%', 'goodput >= 95%', 'promptCacheShare >= 40%', 'total[path=fallback] p99 < 2s', 'total p50 < 1s [phase=spike]'].map((t) => {
      const r = parseBudgetExpr(t);
      if (!r.ok) throw new Error(r.error);
      return r.budget;
    });
    const r = parseProfile({ name: 'x', fallback: { header: 'x-route', equals: 'fallback' }, goodput: { total: '1s' }, phases: [{ name: 'spike', duration: '1s', rate: 1 }], budgets }, () => undefined);
    expect(r.ok ? r.profile.budgets.map((b) => b.id) : r.problems).toEqual(['total p99', 'errorRate', 'fallbackRate', 'goodput', 'promptCacheShare', 'total{path=fallback} p99', 'total{phase=spike} p50']);
  });

  it('property: formatBudgetExpr then parseBudgetExpr gives the entry back (seed printed on failure)', () => {
    const scope = fc.record({ path: fc.constantFrom('primary', 'fallback'), phase: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/) }, { requiredKeys: [] });
    const latency = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), fc.constantFrom('p50', 'p90', 'p95', 'p99', 'p999', 'max', 'mean'), fc.integer({ min: 1, max: 99_999 }), scope).map(([stage, key, n, s]) => ({ stage, [key]: `${n}ms`, ...s }));
    const ratio = fc.tuple(fc.constantFrom('errorRate', 'fallbackRate'), fc.integer({ min: 0, max: 100 }), scope).map(([k, n, s]) => ({ [k]: `${n}%`, ...s }));
    const goodput = fc.tuple(fc.constantFrom('goodput', 'promptCacheShare'), fc.integer({ min: 0, max: 100 }), scope).map(([k, n, s]) => ({ [k]: `>= ${n}%`, ...s }));
    fc.assert(
      fc.property(fc.oneof(latency, ratio, goodput), (b: Record<string, string>) => {
        const r = parseBudgetExpr(formatBudgetExpr(b));
        expect(r).toEqual({ ok: true, budget: expect.objectContaining(b) });
        if (r.ok) expect(Object.keys(r.budget).sort()).toEqual(Object.keys(b).sort());
      }),
      { seed: 16, verbose: true },
    );
  });
});
