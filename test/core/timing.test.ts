import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FallbackRule, TimingRules } from '../../src/core/profile-types.js';
import { compileTimings, headerMap, parseServerTiming, readPath, sameModel, type RawHeaders } from '../../src/core/timing.js';

const ms = (stage: string) => ({ stage, unit: 'ms' as const });
const ST_ONLY: TimingRules = { serverTiming: true, headers: {}, body: {} };
const TGI: TimingRules = {
  serverTiming: false,
  headers: { 'x-queue-time': ms('queue'), 'x-inference-time': ms('inference') },
  body: {},
};
const XQ: TimingRules = { serverTiming: true, headers: { 'x-q': ms('q') }, body: {} };

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
  ['happy: serverTiming false ignores the header', { serverTiming: false, headers: {}, body: {} }, ['Server-Timing', 'a;dur=1'], [], {}, []],
  ['happy: header stages, case-insensitive names, whitespace and exponents', TGI, ['X-Queue-Time', ' 1.5e2 ', 'x-inference-time', '40.25'], [], { queue: 150, inference: 40.25 }, []],
  ['happy: header stage takes precedence over a same-named metric', XQ, ['Server-Timing', 'q;dur=1', 'x-q', '9'], [], { q: 9 }, []],
  ['happy: same-named metric stands when the header is absent', XQ, ['Server-Timing', 'q;dur=1'], [], { q: 1 }, []],
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
  ['sad: a garbled header stage overrides a same-named metric', XQ, ['Server-Timing', 'q;dur=1', 'x-q', 'bad'], [], {}, ['q']],
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

const LITELLM: FallbackRule = { kind: 'matches', id: 'l', header: 'X-LiteLLM-Attempted-Fallbacks', pattern: '^[1-9]\\d*$' };
const ROUTE: FallbackRule = { kind: 'equals', id: 'r', header: 'x-route', value: 'backup' };

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
    expect(compileTimings(ST_ONLY, rule === undefined ? [] : [rule]).extract(raw).path).toBe(path);
  });

  it('happy: a compiled regex is reused across responses', () => {
    const ex = compileTimings(ST_ONLY, [{ kind: 'matches', id: 'x~b', header: 'x', pattern: 'b' }]);
    expect([ex.extract(['x', 'b']).path, ex.extract(['x', 'a']).path, ex.extract(['x', 'b']).path]).toEqual([
      'fallback',
      'primary',
      'fallback',
    ]);
  });

  it('sad: an invalid regex throws a plain Error at compile time', () => {
    expect(() => compileTimings(ST_ONLY, [{ kind: 'matches', id: 'x~(', header: 'x', pattern: '(' }])).toThrow(/'x~\(': not a valid regular expression/);
  });
});

describe('extract properties', () => {
  const alphabet = fc.constantFrom(...'aq;dur=,"\\ 1.5e-x');
  const headerArb = fc.tuple(
    fc.constantFrom('Server-Timing', 'server-timing', 'x-q', 'X-Q', 'x-route', 'other'),
    fc.string({ unit: alphabet, maxLength: 24 }),
  );
  it('stages are finite and non-negative; unmeasured = expected minus stages', () => {
    const ex = compileTimings(XQ, [{ kind: 'matches', id: 'm', header: 'x-route', pattern: 'a' }], [
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

describe('units, body stages and trailers', () => {
  const rules: TimingRules = {
    serverTiming: true,
    headers: { 'x-compute-time': { stage: 'compute', unit: 's' }, 'x-us': { stage: 'micro', unit: 'us' }, 'x-q': ms('q') },
    body: { 'metrics.queue_time_ms': ms('queue'), 'timings.total_s': { stage: 'tot', unit: 's' }, 'a.0.b': ms('arr') },
  };
  const ex = compileTimings(rules, [], []);
  type Row = [label: string, raw: string[], trailers: string[] | undefined, json: unknown, stages: Record<string, number>];
  const rows: Row[] = [
    ['happy: seconds and microseconds convert to ms', ['x-compute-time', '0.25', 'x-us', '1500'], undefined, undefined, { compute: 250, micro: 1.5 }],
    ['happy: body paths, arrays by index, units', [], undefined, { metrics: { queue_time_ms: 12 }, timings: { total_s: 2 }, a: [{ b: 3 }] }, { queue: 12, tot: 2000, arr: 3 }],
    ['happy: a numeric string in the body is read', [], undefined, { metrics: { queue_time_ms: ' 7.5 ' } }, { queue: 7.5 }],
    ['happy: Server-Timing in a trailer', [], ['Server-Timing', 'decode;dur=40'], undefined, { decode: 40 }],
    ['happy: header and trailer Server-Timing add up', ['Server-Timing', 'queue;dur=1'], ['server-timing', 'queue;dur=2, decode;dur=3'], undefined, { queue: 3, decode: 3 }],
    ['happy: a named header in a trailer counts', [], ['X-Q', '9'], undefined, { q: 9 }],
    ['sad: a named header in both headers and trailers is a repeat', ['x-q', '1'], ['x-q', '2'], undefined, {}],
    ['sad: negative, boolean and object body values are garbled', [], undefined, { metrics: { queue_time_ms: -1 }, timings: { total_s: true }, a: [{ b: {} }] }, {}],
    ['sad: a body that is not an object gives nothing', [], undefined, 'text', {}],
    ['sad: an inherited property is not a path', [], undefined, { metrics: Object.create({ queue_time_ms: 5 }) }, {}],
  ];
  it.each(rows)('%s', (_l, raw, trailers, json, stages) => {
    expect(Object.fromEntries(ex.extract(raw, trailers, { json }).stages)).toEqual(stages);
  });

  it('happy: a header stage wins over a body field wins over Server-Timing', () => {
    const both: TimingRules = { serverTiming: true, headers: { 'x-queue': ms('queue') }, body: { q: ms('queue') } };
    const e = compileTimings(both, []);
    expect(e.extract(['x-queue', '1', 'server-timing', 'queue;dur=3'], undefined, { json: { q: 2 } }).stages.get('queue')).toBe(1);
    expect(e.extract(['server-timing', 'queue;dur=3'], undefined, { json: { q: 2 } }).stages.get('queue')).toBe(2);
    expect(e.extract(['server-timing', 'queue;dur=3'], undefined, { json: {} }).stages.get('queue')).toBe(3);
    // present but garbled: unmeasured, Server-Timing does not stand in
    expect(e.extract(['server-timing', 'queue;dur=3'], undefined, { json: { q: 'x' } }).unmeasured).toEqual(['queue']);
  });

  it('happy: expected lists header stages, body stages, extras', () => {
    expect(ex.expected).toEqual(['compute', 'micro', 'q', 'queue', 'tot', 'arr']);
  });

  it.each<[string, unknown, string[], unknown]>([
    ['happy', { a: { b: [1, { c: 2 }] } }, ['a', 'b', '1', 'c'], 2],
    ['sad', { a: [1] }, ['a', 'x'], undefined],
    ['sad', null, ['a'], undefined],
    ['sad', { a: 1 }, ['a', 'b'], undefined],
  ])('%s: readPath(%j, %j)', (_l, json, segs, want) => {
    expect(readPath(json, segs)).toEqual(want);
  });
});

describe('fallback signals', () => {
  const signals: FallbackRule[] = [
    { kind: 'equals', id: 'x-route=fallback', header: 'x-route', value: 'fallback' },
    { kind: 'matches', id: 'x-upstream~,', header: 'x-upstream', pattern: ',' },
    { kind: 'greaterThan', id: 'x-litellm-attempted-fallbacks>0', header: 'x-litellm-attempted-fallbacks', than: 0 },
    { kind: 'modelDiffers', id: 'model differs' },
  ];
  const ex = compileTimings(ST_ONLY, signals);
  type Row = [label: string, raw: string[], trailers: string[] | undefined, json: unknown, requested: string | undefined, fired: string[]];
  const rows: Row[] = [
    ['happy: equals', ['X-Route', 'fallback'], undefined, undefined, undefined, ['x-route=fallback']],
    ['happy: matches (nginx lists every upstream tried)', ['x-upstream', '10.0.0.1:80, 10.0.0.2:80'], undefined, undefined, undefined, ['x-upstream~,']],
    ['happy: greaterThan', ['x-litellm-attempted-fallbacks', ' 2 '], undefined, undefined, undefined, ['x-litellm-attempted-fallbacks>0']],
    ['happy: greaterThan in a trailer', [], ['x-litellm-attempted-fallbacks', '1'], undefined, undefined, ['x-litellm-attempted-fallbacks>0']],
    ['happy: modelDiffers', [], undefined, { model: 'gpt-4o-mini' }, 'gpt-4o', ['model differs']],
    ['happy: several fire, listed in rule order', ['x-litellm-attempted-fallbacks', '1', 'x-route', 'fallback'], undefined, { model: 'b' }, 'a', ['x-route=fallback', 'x-litellm-attempted-fallbacks>0', 'model differs']],
    ['sad: greaterThan not greater', ['x-litellm-attempted-fallbacks', '0'], undefined, undefined, undefined, []],
    ['sad: greaterThan garbled', ['x-litellm-attempted-fallbacks', 'two'], undefined, undefined, undefined, []],
    ['sad: a dated snapshot is the same model', [], undefined, { model: 'gpt-4o-2024-08-06' }, 'gpt-4o', []],
    ['sad: modelDiffers without a requested model', [], undefined, { model: 'b' }, undefined, []],
    ['sad: modelDiffers without a body model', [], undefined, { choices: [] }, 'a', []],
  ];
  it.each(rows)('%s', (_l, raw, trailers, json, requestedModel, fired) => {
    const r = ex.extract(raw, trailers, { json, requestedModel });
    expect(r.signals).toEqual(fired);
    expect(r.path).toBe(fired.length > 0 ? 'fallback' : 'primary');
  });

  it.each<[string, string, string, boolean]>([
    ['happy', 'gpt-4o', 'GPT-4o', true],
    ['happy', 'claude-3-5-sonnet', 'claude-3-5-sonnet-20241022', true],
    ['happy', 'gpt-4', 'gpt-4-0613', true],
    ['sad', 'gpt-4o', 'gpt-4o-mini', false],
    ['sad', 'llama-3-70b', 'llama-3-8b', false],
  ])('%s: sameModel(%s, %s) = %s', (_l, a, b, want) => {
    expect(sameModel(a, b)).toBe(want);
  });

  it('property: path is fallback exactly when some signal fired, and signals are rule ids in order', () => {
    const ids = signals.map((s) => s.id);
    const pair = fc.tuple(
      fc.constantFrom('x-route', 'X-Upstream', 'x-litellm-attempted-fallbacks', 'server-timing', 'other'),
      fc.string({ unit: fc.constantFrom(...'fallback0123 ,-.e'), maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 5 }), fc.array(pair, { maxLength: 2 }), fc.option(fc.constantFrom('a', 'b')), (h, t, model) => {
        const r = ex.extract(h.flat(), t.flat(), { json: model === null ? undefined : { model }, requestedModel: 'a' });
        const order = r.signals.map((id) => ids.indexOf(id));
        return (r.path === 'fallback') === r.signals.length > 0 && order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!));
      }),
      { numRuns: 1_000 },
    );
  });
});
