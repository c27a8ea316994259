import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FallbackRule, TimingRules } from '../../src/core/profile-types.js';
import { compileTimings, headerMap, parseServerTiming, type RawHeaders } from '../../src/core/timing.js';

const ST_ONLY: TimingRules = { serverTiming: true, headers: {} };
const TGI: TimingRules = {
  serverTiming: false,
  headers: { 'x-queue-time': 'queue', 'x-inference-time': 'inference' },
};

function stagesOf(rules: TimingRules, raw: RawHeaders, extra: string[] = []) {
  const r = compileTimings(rules, undefined, extra).extract(raw);
  return { stages: Object.fromEntries(r.stages), unmeasured: r.unmeasured };
}

describe('headerMap', () => {
  it('happy: lower-cases names and keeps values', () => {
    expect([...headerMap(['Content-Type', 'a/b', 'X-Queue-Time', '12'])]).toEqual([
      ['content-type', 'a/b'],
      ['x-queue-time', '12'],
    ]);
  });
  it('happy: repeats combine with ", " in arrival order, across casings', () => {
    expect(headerMap(['Server-Timing', 'a;dur=1', 'x', 'y', 'server-timing', 'b;dur=2']).get('server-timing')).toBe(
      'a;dur=1, b;dur=2',
    );
  });
  it('sad: a dangling name without a value is dropped', () => {
    expect([...headerMap(['a', '1', 'b'])]).toEqual([['a', '1']]);
  });
  it('sad: empty input', () => {
    expect(headerMap([]).size).toBe(0);
  });
});

describe('re-export', () => {
  it('happy: parseServerTiming is reachable from timing.ts', () => {
    expect(parseServerTiming('a;dur=1')).toEqual([{ name: 'a', dur: 1, desc: '' }]);
  });
});

type ExtractRow = [
  label: string,
  rules: TimingRules,
  raw: string[],
  extra: string[],
  stages: Record<string, number>,
  unmeasured: string[],
];

const extractCases: ExtractRow[] = [
  ['happy: Server-Timing metrics with dur become stages', ST_ONLY, ['Server-Timing', 'queue;dur=12.5;desc="wait", infer;dur=80, cache'], [], { queue: 12.5, infer: 80 }, []],
  ['happy: several Server-Timing lines combine', ST_ONLY, ['server-timing', 'a;dur=1', 'SERVER-TIMING', 'b;dur=2'], ['a', 'b'], { a: 1, b: 2 }, []],
  ['happy: a repeated metric is the sum of its durations', ST_ONLY, ['Server-Timing', 'q;dur=1.5, q;dur=2', 'Server-Timing', 'q;dur=0.5'], ['q'], { q: 4 }, []],
  ['happy: serverTiming false ignores the header', { serverTiming: false, headers: {} }, ['Server-Timing', 'a;dur=1'], [], {}, []],
  ['happy: header stages, case-insensitive names, whitespace and exponents', TGI, ['X-Queue-Time', ' 1.5e2 ', 'x-inference-time', '40.25'], [], { queue: 150, inference: 40.25 }, []],
  ['happy: header stage takes precedence over a same-named metric', { serverTiming: true, headers: { 'x-q': 'q' } }, ['Server-Timing', 'q;dur=1', 'x-q', '9'], [], { q: 9 }, []],
  ['happy: same-named metric stands when the header is absent', { serverTiming: true, headers: { 'x-q': 'q' } }, ['Server-Timing', 'q;dur=1'], [], { q: 1 }, []],
  ['sad: garbled dur is unmeasured, not 0', ST_ONLY, ['Server-Timing', 'a;dur=abc, b;dur=-3, c;dur=2'], ['a', 'b', 'c'], { c: 2 }, ['a', 'b']],
  ['sad: one garbled occurrence spoils the sum', ST_ONLY, ['Server-Timing', 'q;dur=1, q;dur=x'], ['q'], {}, ['q']],
  ['sad: garbled unexpected metric is dropped silently', ST_ONLY, ['Server-Timing', 'z;dur=oops'], [], {}, []],
  ['sad: metric without dur is not a stage', ST_ONLY, ['Server-Timing', 'a;desc=x'], ['a'], {}, ['a']],
  ['sad: missing expected stages are unmeasured, in expected order', TGI, [], ['ttft'], {}, ['queue', 'inference', 'ttft']],
  ['sad: negative header value', TGI, ['x-queue-time', '-1'], [], {}, ['queue', 'inference']],
  ['sad: header value with a unit', TGI, ['x-queue-time', '12ms', 'x-inference-time', '3'], [], { inference: 3 }, ['queue']],
  ['sad: empty and NaN header values', TGI, ['x-queue-time', '', 'x-inference-time', 'NaN'], [], {}, ['queue', 'inference']],
  ['sad: Infinity and overflow header values', TGI, ['x-queue-time', 'Infinity', 'x-inference-time', '1e400'], [], {}, ['queue', 'inference']],
  ['sad: a repeated stage header is ambiguous', TGI, ['x-queue-time', '1', 'X-Queue-Time', '2', 'x-inference-time', '3'], [], { inference: 3 }, ['queue']],
  ['sad: a garbled header stage overrides a same-named metric', { serverTiming: true, headers: { 'x-q': 'q' } }, ['Server-Timing', 'q;dur=1', 'x-q', 'bad'], [], {}, ['q']],
];

describe('compileTimings().extract stages', () => {
  it.each(extractCases)('%s', (_label, rules, raw, extra, stages, unmeasured) => {
    expect(stagesOf(rules, raw, extra)).toEqual({ stages, unmeasured });
  });

  it('happy: expected is header stages then extras, without duplicates', () => {
    expect(compileTimings(TGI, undefined, ['ttft', 'queue', 'ttft']).expected).toEqual(['queue', 'inference', 'ttft']);
  });
});

type FallbackRow = [label: string, rule: FallbackRule | undefined, raw: string[], path: 'primary' | 'fallback'];

const LITELLM: FallbackRule = { header: 'X-LiteLLM-Attempted-Fallbacks', matches: '^[1-9]\\d*$' };
const ROUTE: FallbackRule = { header: 'x-route', equals: 'backup' };

const fallbackCases: FallbackRow[] = [
  ['happy: equals matches, trimmed, name case-insensitive', ROUTE, ['X-Route', ' backup '], 'fallback'],
  ['happy: equals: any repeated occurrence counts', ROUTE, ['x-route', 'main', 'x-route', 'backup'], 'fallback'],
  ['happy: matches', LITELLM, ['x-litellm-attempted-fallbacks', '2'], 'fallback'],
  ['sad: equals is case-sensitive on the value', ROUTE, ['x-route', 'Backup'], 'primary'],
  ['sad: equals is exact, not a substring', ROUTE, ['x-route', 'backup-2'], 'primary'],
  ['sad: matches fails', LITELLM, ['x-litellm-attempted-fallbacks', '0'], 'primary'],
  ['sad: header absent', ROUTE, ['x-other', 'backup'], 'primary'],
  ['sad: no rule', undefined, ['x-route', 'backup'], 'primary'],
];

describe('compileTimings().extract path', () => {
  it.each(fallbackCases)('%s', (_label, rule, raw, path) => {
    expect(compileTimings(ST_ONLY, rule).extract(raw).path).toBe(path);
  });

  it('happy: a compiled regex is reused across responses', () => {
    const ex = compileTimings(ST_ONLY, { header: 'x', matches: 'b' });
    expect([ex.extract(['x', 'b']).path, ex.extract(['x', 'a']).path, ex.extract(['x', 'b']).path]).toEqual([
      'fallback',
      'primary',
      'fallback',
    ]);
  });

  it('sad: an invalid regex throws a plain Error at compile time', () => {
    expect(() => compileTimings(ST_ONLY, { header: 'x', matches: '(' })).toThrow(/fallback\.matches/);
  });
});

describe('extract properties', () => {
  const alphabet = fc.constantFrom(...'aq;dur=,"\\ 1.5e-x');
  const headerArb = fc.tuple(
    fc.constantFrom('Server-Timing', 'server-timing', 'x-q', 'X-Q', 'x-route', 'other'),
    fc.string({ unit: alphabet, maxLength: 24 }),
  );
  it('stages are finite and non-negative; unmeasured = expected minus stages', () => {
    const ex = compileTimings({ serverTiming: true, headers: { 'x-q': 'q' } }, { header: 'x-route', matches: 'a' }, [
      'a',
      'q',
    ]);
    fc.assert(
      fc.property(fc.array(headerArb, { maxLength: 4 }), (pairs) => {
        const r = ex.extract(pairs.flat());
        const missing = ex.expected.filter((s) => !r.stages.has(s));
        return (
          [...r.stages.values()].every((ms) => Number.isFinite(ms) && ms >= 0) &&
          r.unmeasured.length === missing.length &&
          r.unmeasured.every((s, i) => s === missing[i])
        );
      }),
      { numRuns: 2_000 },
    );
  });
});
