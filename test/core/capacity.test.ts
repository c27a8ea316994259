/**
 * The capacity search as a pure state machine. The properties drive it with a monotone oracle
 * (held ⇔ rate ≤ C) — what an ideal server with capacity C answers — and check the module comment's
 * claims: lo ≤ C < hi, hi/lo − 1 ≤ precision, and at most maxSearchSteps steps (geometric bisection).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  brokenBy,
  capacityBudgets,
  cooldownMs,
  createSearch,
  maxSearchSteps,
  niceRate,
  roundRate,
  samplesNeeded,
  stepDuration,
  stepName,
  stepPhase,
  type SearchOptions,
  type SearchResult,
} from '../../src/core/capacity.js';
import type { Budget, LatencyKey } from '../../src/core/profile-types.js';
import type { Verdict } from '../../src/core/report.js';

/** Runs a search to its end against `held`, returning the result and every rate tried in order. */
function drive(o: SearchOptions, held: (rate: number) => boolean, limit = 500): { result: SearchResult; tried: number[] } {
  const s = createSearch(o);
  const tried: number[] = [];
  for (let r = s.next(); r !== undefined; r = s.next()) {
    tried.push(r);
    if (tried.length > limit) throw new Error(`search did not end: ${tried.slice(0, 20).join(', ')}…`);
    s.report(r, held(r));
  }
  return { result: s.result(), tried };
}

const lat = (id: string, key: LatencyKey, limitMs: number, phase?: string): Budget => ({
  kind: 'latency',
  id,
  stage: id.split(' ')[0] ?? 'total',
  key,
  limitMs,
  ...(phase !== undefined ? { phase } : {}),
});

function v(id: string, status: Verdict['status'], observed: number | null, limit: number, unit: 'ms' | 'ratio' = 'ms'): Verdict {
  return { id, description: id, status, observed, limit, unit, samples: 100, reason: '', interval: null, borderline: false };
}

describe('createSearch', () => {
  it('happy: doubles from `from` until a break, then bisects geometrically to the precision', () => {
    // C = 300: 100 ✓, 200 ✓, 400 ✗, then √(200·400) = 283 ✓, √(283·400) = 336 ✗, 308 ✗, 295 ✓, 302 ✗
    const { result, tried } = drive({ from: 100, to: 5000, precision: 0.05 }, (r) => r <= 300);
    expect(tried.slice(0, 4)).toEqual([100, 200, 400, 283]);
    expect(result.outcome).toBe('bracketed');
    expect(result.lo).toBeLessThanOrEqual(300);
    expect(result.hi).toBeGreaterThan(300);
    expect((result.hi as number) / (result.lo as number) - 1).toBeLessThanOrEqual(0.05);
    expect(result.rps).toBe(result.lo);
  });

  it('happy: next() repeats until report() and rates are rounded to 3 significant figures', () => {
    const s = createSearch({ from: 100, to: 1000, precision: 0.1 });
    expect(s.next()).toBe(100);
    expect(s.next()).toBe(100);
    s.report(100, true);
    s.report(200, false);
    expect(s.next()).toBe(141); // √20000 = 141.42…
  });

  it('happy: stops at the ceiling when `to` holds', () => {
    const { result, tried } = drive({ from: 100, to: 500, precision: 0.05 }, () => true);
    expect(tried).toEqual([100, 200, 400, 500]);
    expect(result).toMatchObject({ outcome: 'ceiling', rps: 500, hi: null });
  });

  it('sad: shrinks below `from` when it breaks, and answers 0 when even the floor breaks', () => {
    const all = drive({ from: 16, to: 100, precision: 0.1, floor: 1 }, () => false);
    expect(all.tried).toEqual([16, 8, 4, 2, 1]);
    expect(all.result).toMatchObject({ outcome: 'floor', rps: 0, lo: null, hi: 1 });
    const some = drive({ from: 100, to: 1000, precision: 0.1 }, (r) => r <= 30);
    expect(some.tried.slice(0, 3)).toEqual([100, 50, 25]);
    expect(some.result.lo).toBeLessThanOrEqual(30);
    expect(some.result.hi).toBeGreaterThan(30);
  });

  it('sad: a break at or below the answer moves the answer down (a failed confirmation)', () => {
    const s = createSearch({ from: 100, to: 1000, precision: 0.5 });
    s.report(100, true);
    s.report(200, true);
    s.report(400, false);
    s.report(283, false);
    expect(s.result()).toMatchObject({ rps: 200, hi: 283, outcome: 'bracketed' });
    s.report(200, false); // the confirmation at 200 broke: the last held rate below it is the answer
    expect(s.result()).toMatchObject({ rps: 100, lo: 100, hi: 200 });
  });

  it('sad: a held step above a broken one is ignored (fail safe)', () => {
    const s = createSearch({ from: 100, to: 1000, precision: 0.05 });
    s.report(100, true);
    s.report(200, false);
    s.report(300, true);
    expect(s.result()).toMatchObject({ rps: 100, hi: 200 });
  });

  it('sad: refuses nonsense options', () => {
    expect(() => createSearch({ from: 0, to: 10, precision: 0.05 })).toThrow(/from/);
    expect(() => createSearch({ from: 10, to: 5, precision: 0.05 })).toThrow(/to/);
    expect(() => createSearch({ from: 10, to: 50, precision: 0 })).toThrow(/precision/);
    expect(() => createSearch({ from: 10, to: 50, precision: 0.05, growth: 1 })).toThrow(/growth/);
  });

  it('property: under a monotone truth, lo ≤ C < hi, hi/lo − 1 ≤ precision, within maxSearchSteps', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1000, noNaN: true }),
        fc.double({ min: 1.01, max: 1000, noNaN: true }),
        fc.double({ min: 0.001, max: 10_000, noNaN: true }),
        fc.constantFrom(0.01, 0.05, 0.1, 0.2),
        (from, span, capacity, precision) => {
          const o = { from, to: from * span, precision };
          const C = Math.max(1, capacity);
          const { result, tried } = drive(o, (r) => r <= C);
          expect(tried.length).toBeLessThanOrEqual(maxSearchSteps(o));
          expect(tried.every((r) => r >= 1 && r <= o.to)).toBe(true);
          if (C >= o.to) {
            expect(result).toMatchObject({ outcome: 'ceiling', rps: o.to });
          } else {
            expect(result.outcome).toBe('bracketed');
            const lo = result.lo as number;
            const hi = result.hi as number;
            expect(lo).toBeLessThanOrEqual(C);
            expect(hi).toBeGreaterThan(C);
            expect(hi / lo - 1).toBeLessThanOrEqual(precision);
            expect(result.rps).toBe(lo);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: bisection halves the log-width of the bracket at every step (geometric midpoint)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 1000, noNaN: true }), fc.double({ min: 1.5, max: 100, noNaN: true }), fc.boolean(), (lo, ratio, ok) => {
        const s = createSearch({ from: lo, to: lo * ratio * 2, precision: 0.01 });
        s.report(lo, true);
        s.report(lo * ratio, false);
        const m = s.next() as number;
        // √(lo·hi), rounded by at most 1% of the log-width
        expect(Math.abs(Math.log(m / lo) - Math.log(ratio) / 2)).toBeLessThanOrEqual(0.01 * Math.log(ratio) + 1e-12);
        s.report(m, ok);
        const r = s.result();
        const width = Math.log((r.hi as number) / (r.lo as number));
        expect(width).toBeLessThanOrEqual(0.51 * Math.log(ratio) + 1e-12);
      }),
    );
  });

  it('property: an arbitrary (noisy) truth still ends, and the answer held with nothing broken at or below it', () => {
    fc.assert(
      fc.property(fc.func(fc.boolean()), fc.constantFrom(0.05, 0.1), (truth, precision) => {
        const o = { from: 50, to: 2000, precision };
        const seen: [number, boolean][] = [];
        const { result, tried } = drive(o, (r) => {
          const ok = truth(r);
          seen.push([r, ok]);
          return ok;
        });
        expect(tried.length).toBeLessThanOrEqual(maxSearchSteps(o));
        if (result.rps > 0) expect(seen.some(([r, ok]) => ok && r === result.rps)).toBe(true);
        expect(seen.some(([r, ok]) => !ok && r <= result.rps)).toBe(false);
      }),
    );
  });

  it('property: roundRate keeps 3 significant figures; niceRate stays inside, within tolerance, in its direction', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1e6, noNaN: true }), fc.double({ min: 1.001, max: 10, noNaN: true }), fc.constantFrom('near', 'up', 'down' as const), (x, spread, mode) => {
        expect(Math.abs(roundRate(x) / x - 1)).toBeLessThanOrEqual(0.005 + 1e-12);
        const lo = x / spread;
        const hi = x * spread;
        const tol = 0.01 * Math.log(spread);
        const r = niceRate(x, lo, hi, tol, mode);
        expect(r).toBeGreaterThan(lo);
        expect(r).toBeLessThan(hi);
        expect(Math.abs(Math.log(r / x))).toBeLessThanOrEqual(tol + 1e-12);
        if (mode === 'up') expect(r).toBeGreaterThanOrEqual(x);
        if (mode === 'down') expect(r).toBeLessThanOrEqual(x);
      }),
    );
  });
});

describe('stepDuration', () => {
  it('happy: N/rate times the safety factor, with the 5 s floor and 5 min cap', () => {
    // p99 needs 1,000 samples: at 100 req/s that is 10 s, doubled → 20 s
    expect(stepDuration([lat('total p99', 'p99', 500)], 100)).toBe(20_000);
    // p90 needs 100: at 200 req/s 0.5 s, doubled 1 s → the 5 s floor
    expect(stepDuration([lat('queue p90', 'p90', 20)], 200)).toBe(5000);
    expect(stepDuration([lat('queue p90', 'p90', 20)], 200, { floorMs: 2000 })).toBe(2000);
    // p999 needs 10,000: at 1 req/s 20,000 s → capped
    expect(stepDuration([lat('total p999', 'p999', 500)], 1)).toBe(300_000);
  });

  it('happy: the largest sample need among budgets decides; rate budgets need one request', () => {
    const budgets: Budget[] = [lat('total p50', 'p50', 100), lat('queue p99', 'p99', 20), { kind: 'errorRate', id: 'errors', max: 0.01 }];
    expect(samplesNeeded(budgets)).toBe(1000);
    expect(samplesNeeded([{ kind: 'errorRate', id: 'errors', max: 0.01 }])).toBe(1);
    expect(samplesNeeded([])).toBe(1);
  });

  it('property: a step is long enough for every budget to be conclusive (until the cap)', () => {
    fc.assert(
      fc.property(fc.constantFrom('p50', 'p90', 'p95', 'p99', 'p999', 'max', 'mean' as const), fc.double({ min: 0.5, max: 5000, noNaN: true }), (key, rate) => {
        const b = [lat('total x', key, 100)];
        const d = stepDuration(b, rate);
        if (d < 300_000) expect((rate * d) / 1000).toBeGreaterThanOrEqual(2 * samplesNeeded(b) - 1e-6);
        expect(d).toBeGreaterThanOrEqual(5000);
      }),
    );
  });
});

describe('steps and verdicts', () => {
  it('happy: a step is one non-warmup open phase named by its rate', () => {
    expect(stepPhase(120, 5000)).toMatchObject({ name: 'step-120rps', model: 'open', rate: 120, to: 120, warmup: false, durationMs: 5000 });
    expect(stepName(7.07)).toBe('step-7.07rps');
  });

  it('happy: cool-down is the larger of the floor and the step p99', () => {
    expect(cooldownMs(null)).toBe(2000);
    expect(cooldownMs(150)).toBe(2000);
    expect(cooldownMs(4500.2)).toBe(4501);
  });

  it('sad: phase scopes are stripped and reported', () => {
    const r = capacityBudgets([lat('total p99', 'p99', 500, 'spike'), lat('queue p90', 'p90', 20)]);
    expect(r.stripped).toEqual(['total p99']);
    expect(r.budgets.every((b) => b.phase === undefined)).toBe(true);
  });

  it('happy: the budget furthest past its limit is named; failures before inconclusive', () => {
    const budgets: Budget[] = [lat('queue p90', 'p90', 20), lat('total p90', 'p90', 400), { kind: 'goodput', id: 'goodput', min: 0.99 }];
    const verdicts = [v('total p90', 'fail', 420, 400), v('queue p90', 'fail', 200, 20), v('goodput', 'pass', 1, 0.99, 'ratio')];
    expect(brokenBy(verdicts, budgets)?.id).toBe('queue p90');
    // goodput is a lower limit: 0.5 against 0.99 is ~2× past it, more than total's 1.05×
    expect(brokenBy([v('total p90', 'fail', 420, 400), v('goodput', 'fail', 0.5, 0.99, 'ratio')], budgets)?.id).toBe('goodput');
    expect(brokenBy([v('queue p90', 'inconclusive', null, 20), v('total p90', 'fail', 401, 400)], budgets)?.id).toBe('total p90');
    expect(brokenBy([v('queue p90', 'inconclusive', null, 20)], budgets, true)).toBeUndefined();
    expect(brokenBy([v('queue p90', 'pass', 1, 20)], budgets)).toBeUndefined();
  });
});
