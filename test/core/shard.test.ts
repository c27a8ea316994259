import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Arrivals, Phase } from '../../src/core/profile-types.js';
import { arrivals, planSchedule, type Arrival } from '../../src/core/schedule.js';
import { countInClass, fnv1a64, parseShard, scheduleId, shardArrivals, shardPlan, shardUsers, type Shard } from '../../src/core/shard.js';

const open = (name: string, durationMs: number, rate: number, to = rate): Phase => ({ name, durationMs, model: 'open', rate, to, concurrency: 0, concurrencyTo: 0, warmup: false });
const closed = (name: string, durationMs: number, c: number, cTo = c): Phase => ({ name, durationMs, model: 'closed', rate: 0, to: 0, concurrency: c, concurrencyTo: cTo, warmup: false });

function drain(s: { next(): Arrival | undefined }): Arrival[] {
  const out: Arrival[] = [];
  for (let a = s.next(); a; a = s.next()) out.push(a);
  return out;
}

describe('parseShard', () => {
  it.each([
    ['0/3', undefined, { index: 0, count: 3 }],
    ['2/3', undefined, { index: 2, count: 3 }],
    [' 1 / 1 ', undefined, null],
    ['auto/4', '3', { index: 3, count: 4 }],
    ['0/1', undefined, { index: 0, count: 1 }],
  ] as const)('happy: %s (JOB_COMPLETION_INDEX=%s)', (text, env, want) => {
    if (want === null) expect(() => parseShard(text, env)).toThrow(/index must be from 0 to 0/);
    else expect(parseShard(text, env)).toEqual(want);
  });

  it.each([
    ['3/3', undefined, /index must be from 0 to 2/],
    ['1/0', undefined, /N must be an integer from 1/],
    ['-1/3', undefined, /expected I\/N/],
    ['1', undefined, /expected I\/N/],
    ['a/3', undefined, /expected I\/N/],
    ['auto/3', undefined, /JOB_COMPLETION_INDEX is not set/],
    ['auto/3', 'x', /whole number/],
    ['auto/3', '3', /index must be from 0 to 2/],
  ] as const)('sad: %s (JOB_COMPLETION_INDEX=%s) is a usage error', (text, env, re) => {
    expect(() => parseShard(text, env)).toThrow(re);
  });
});

describe('countInClass and shardUsers', () => {
  it.each([
    [0, 10, { index: 0, count: 3 }, 4], // 0 3 6 9
    [0, 10, { index: 1, count: 3 }, 3], // 1 4 7
    [0, 10, { index: 2, count: 3 }, 3], // 2 5 8
    [10, 12, { index: 2, count: 3 }, 1], // 11
    [10, 10, { index: 1, count: 3 }, 0],
    [0, 1, { index: 2, count: 3 }, 0],
  ])('[%i, %i) in class %o has %i members', (a, b, s, n) => {
    expect(countInClass(a, b, s)).toBe(n);
  });

  it('property: the closed form equals counting, and the classes partition [a, b)', () => {
    fc.assert(
      fc.property(fc.nat(500), fc.nat(500), fc.integer({ min: 1, max: 12 }), (a, len, n) => {
        let sum = 0;
        for (let i = 0; i < n; i++) {
          let brute = 0;
          for (let k = a; k < a + len; k++) if (k % n === i) brute++;
          expect(countInClass(a, a + len, { index: i, count: n })).toBe(brute);
          sum += brute;
        }
        expect(sum).toBe(len);
      }),
    );
  });

  it.each([
    [7, 3, [3, 2, 2]],
    [2, 3, [1, 1, 0]],
    [3, 3, [1, 1, 1]],
    [1, 4, [1, 0, 0, 0]],
  ])('%i users over %i shards: %o', (c, n, want) => {
    expect(want.map((_, i) => shardUsers(c, { index: i, count: n }))).toEqual(want);
  });

  it('property: users sum to c and differ by at most one', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.integer({ min: 1, max: 50 }), (c, n) => {
        const us = Array.from({ length: n }, (_, i) => shardUsers(c, { index: i, count: n }));
        expect(us.reduce((a, b) => a + b, 0)).toBe(c);
        expect(Math.max(...us) - Math.min(...us)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('shardPlan and shardArrivals', () => {
  const phases = [open('warm', 1000, 7), closed('users', 2000, 5, 8), open('ramp', 3000, 10, 40), open('odd', 700, 3.3)];

  it('happy: phase counts per shard match the stream and sum to the whole', () => {
    const whole = planSchedule(phases);
    const n = 3;
    const plans = Array.from({ length: n }, (_, i) => shardPlan(whole, { index: i, count: n }));
    whole.phases.forEach((p, j) => {
      expect(plans.reduce((s, sp) => s + (sp.phases[j]?.requests ?? 0), 0)).toBe(p.requests);
      // times and shapes are the whole's: only counts change
      for (const sp of plans) expect(sp.phases[j]).toMatchObject({ startMs: p.startMs, endMs: p.endMs, rate: p.rate, to: p.to });
    });
    expect(plans.reduce((s, sp) => s + sp.requests, 0)).toBe(whole.requests);
    // closed phase: 5 → 8 users split as 2,2,1 → 3,3,2
    expect(plans.map((sp) => [sp.phases[1]?.concurrency, sp.phases[1]?.concurrencyTo])).toEqual([[2, 3], [2, 3], [1, 2]]);
  });

  it('sad: a shard given 0 users of a closed phase sends nothing in it', () => {
    const whole = planSchedule([closed('one', 1000, 1)]);
    const s1 = shardPlan(whole, { index: 1, count: 2 });
    expect(s1.phases[0]).toMatchObject({ concurrency: 0, concurrencyTo: 0, requests: 0 });
  });

  it('sad: more shards than requests leaves the extra shards empty', () => {
    const whole = planSchedule([open('tiny', 1000, 2)]);
    const counts = Array.from({ length: 5 }, (_, i) => shardPlan(whole, { index: i, count: 5 }).requests);
    expect(counts).toEqual([1, 1, 0, 0, 0]);
    expect(drain(shardArrivals(arrivals(whole, 'uniform', 1), { index: 4, count: 5 }))).toEqual([]);
  });

  it('peekTime does not consume, and agrees with next', () => {
    const whole = planSchedule([open('a', 2000, 10)]);
    const s = shardArrivals(arrivals(whole, 'uniform', 1), { index: 1, count: 4 });
    const t = s.peekTime();
    expect(s.peekTime()).toBe(t);
    expect(s.next()?.t).toBe(t);
    expect(s.next()?.index).toBe(5);
  });

  it('property: for every arrival kind, the shards are disjoint, their union is the unsharded stream, counts match shardPlan', () => {
    const phase = fc.oneof(
      fc.record({ d: fc.integer({ min: 0, max: 3000 }), r: fc.double({ min: 0, max: 60, noNaN: true }), t: fc.double({ min: 0, max: 60, noNaN: true }) }).map((x) => open('o', x.d, x.r < 0.01 ? 0 : x.r, x.t < 0.01 ? 0 : x.t)),
      fc.record({ d: fc.integer({ min: 0, max: 2000 }), c: fc.integer({ min: 1, max: 9 }) }).map((x) => closed('c', x.d, x.c)),
    );
    fc.assert(
      fc.property(
        fc.array(phase, { minLength: 1, maxLength: 4 }).map((ps) => ps.map((p, i) => ({ ...p, name: `${p.name}${i}` }))),
        fc.constantFrom<Arrivals>('uniform', 'poisson', 'gamma'),
        fc.integer({ min: 1, max: 7 }),
        fc.nat(1000),
        (ps, kind, n, seed) => {
          const whole = planSchedule(ps);
          const all = drain(arrivals(whole, kind, seed, 0.5));
          const shards: Shard[] = Array.from({ length: n }, (_, i) => ({ index: i, count: n }));
          const parts = shards.map((s) => drain(shardArrivals(arrivals(whole, kind, seed, 0.5), s)));
          const union = parts.flat().sort((a, b) => a.index - b.index);
          expect(union).toEqual(all);
          expect(new Set(union.map((a) => a.index)).size).toBe(union.length);
          shards.forEach((s, i) => {
            const part = parts[i] as Arrival[];
            for (const a of part) expect(a.index % n).toBe(i);
            const plan = shardPlan(whole, s);
            expect(part.length).toBe(plan.requests);
            plan.phases.forEach((p, j) => expect(part.filter((a) => a.phase === j).length).toBe(p.requests));
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('scheduleId', () => {
  const base = { name: 'p', phases: [open('a', 1000, 10)], arrivals: 'uniform' as Arrivals, seed: 1, burstiness: 1 };

  it('is stable and a 64-bit FNV-1a hex string', () => {
    expect(scheduleId(base)).toBe(scheduleId({ ...base, phases: [{ ...open('a', 1000, 10) }] }));
    expect(scheduleId(base)).toMatch(/^fnv1a64:[0-9a-f]{16}$/);
    // the published FNV-1a 64 test vectors
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });

  it.each([
    ['name', { name: 'q' }],
    ['rate', { phases: [open('a', 1000, 11)] }],
    ['duration', { phases: [open('a', 1001, 10)] }],
    ['arrivals', { arrivals: 'poisson' as Arrivals }],
    ['seed', { seed: 2 }],
    ['burstiness (gamma)', { arrivals: 'gamma' as Arrivals, burstiness: 0.5 }],
  ])('changes with the %s', (_what, change) => {
    expect(scheduleId({ ...base, ...change })).not.toBe(scheduleId(base));
  });

  it('happy: a profile without trace phases keeps the id it had (baselines and shards of older runs still match)', () => {
    // the id of `base` before trace phases were part of it
    expect(scheduleId(base)).toBe(`fnv1a64:${fnv1a64(JSON.stringify(['p', [['a', 1000, 'open', 10, 10, 0, 0, false]], 'uniform', 1, 1]))}`);
  });

  it.each([
    ['another replayed offset', { offsetsMs: [0, 5, 11] }, {}],
    ['another speed', {}, { speed: 2 }],
    ['a window', {}, { fromMs: 100 }],
    ['a limit', {}, { limit: 2 }],
    ['another format', {}, { format: 'bailian' as const }],
  ])('sad: a trace phase with %s is another schedule, with the same duration', (_what, replay, spec) => {
    const trace = (r: object, t: object) => ({ name: 'p', phases: [{ ...open('t', 1000, 0), trace: { file: 'a.jsonl', format: 'mooncake' as const, speed: 1, exactOutput: false, replay: { offsetsMs: [0, 5, 10], requests: [], blockTokens: 512, ...r }, ...t } }], arrivals: 'uniform' as Arrivals, seed: 1, burstiness: 1 });
    expect(scheduleId(trace(replay, spec))).not.toBe(scheduleId(trace({}, {})));
    expect(scheduleId(trace({}, {}))).toBe(scheduleId(trace({}, {})));
  });

  it('ignores burstiness unless arrivals are gamma (it changes no send time)', () => {
    expect(scheduleId({ ...base, burstiness: 3 })).toBe(scheduleId(base));
  });
});
