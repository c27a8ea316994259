import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProfileProblem } from '../../src/core/errors.js';
import {
  describeBudget,
  describeGoodput,
  describeTarget,
  parseGoodputLimit,
  parseProfile,
  parseProfileText,
  type EnvLookup,
  type ProfileResult,
} from '../../src/core/profile/index.js';
import type { Budget, Profile } from '../../src/core/profile-types.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/profiles/${name}`, import.meta.url), 'utf8');

const noEnv: EnvLookup = () => undefined;
const envOf =
  (vars: Record<string, string>): EnvLookup =>
  (name) =>
    Object.hasOwn(vars, name) ? vars[name] : undefined;

function ok(r: ProfileResult): Profile {
  if (!r.ok) throw new Error(`expected a profile, got problems:\n${r.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  return r.profile;
}
function problems(r: ProfileResult): ProfileProblem[] {
  if (r.ok) throw new Error('expected problems, got a profile');
  return r.problems;
}

/** The smallest valid document; each case below changes one thing. */
const minimal = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'p',
  phases: [{ name: 'steady', duration: '10s', rate: 5 }],
  ...extra,
});

describe('parseProfile: the full example', () => {
  const profile = ok(parseProfileText(fixture('valid-full.yaml'), envOf({ TOKEN: 'sekret' })));

  it('normalises durations to ms and defaults `to` to `rate`', () => {
    expect(profile.target.timeoutMs).toBe(30_000);
    expect(profile.phases.every((p) => p.model === 'open' && p.concurrency === 0 && p.concurrencyTo === 0)).toBe(true);
    expect(profile.phases.map((p) => [p.name, p.durationMs, p.rate, p.to, p.warmup])).toEqual([
      ['warmup', 10_000, 20, 20, true],
      ['ramp', 60_000, 20, 200, false],
      ['spike', 5_000, 800, 800, false],
      ['recover', 30_000, 100, 100, false],
    ]);
  });

  it('substitutes ${TOKEN} and keeps the rest of the target', () => {
    expect(profile.target).toMatchObject({
      url: 'http://127.0.0.1:8080/v1/chat/completions',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sekret' },
      body: { model: 'demo', max_tokens: 64 },
    });
  });

  it('lower-cases timing header names and reads the scalars', () => {
    expect(profile.timings).toEqual({ serverTiming: true, headers: { 'x-queue-time': { stage: 'queue', unit: 'ms' } }, body: {} });
    expect(profile.fallback).toEqual([{ kind: 'equals', header: 'x-route', value: 'fallback', id: 'x-route=fallback' }]);
    expect([profile.arrivals, profile.seed, profile.maxInFlight]).toEqual(['poisson', 7, 500]);
  });

  it('expands budgets into 7 atomic budgets with readable ids', () => {
    expect(profile.budgets.map((b) => b.id)).toEqual([
      'total p50',
      'total p99',
      'queue p99',
      'total{path=fallback} p99',
      'total{phase=spike} p99',
      'errorRate',
      'fallbackRate',
    ]);
    expect(profile.budgets[3]).toEqual({
      kind: 'latency',
      id: 'total{path=fallback} p99',
      stage: 'total',
      key: 'p99',
      limitMs: 2_000,
      path: 'fallback',
    });
    expect(profile.budgets[5]).toEqual({ kind: 'errorRate', id: 'errorRate', max: 0.01 });
  });

  it('describes budgets in words', () => {
    expect(profile.budgets.map(describeBudget)).toEqual([
      'p50 of total ≤ 250ms',
      'p99 of total ≤ 800ms',
      'p99 of queue ≤ 150ms',
      'p99 of total (fallback path) ≤ 2s',
      'p99 of total (phase spike) ≤ 3s',
      'error rate ≤ 1%',
      'fallback rate ≤ 5%',
    ]);
    const both: Budget = { kind: 'latency', id: 'x', stage: 'total', key: 'p99', limitMs: 2_000, path: 'fallback', phase: 'spike' };
    expect(describeBudget(both)).toBe('p99 of total (fallback path, phase spike) ≤ 2s');
  });
});

describe('parseProfile: defaults', () => {
  it('happy: no target means the embedded simulator with a chat body', () => {
    const p = ok(parseProfile(minimal(), noEnv));
    expect(p.target).toEqual({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: { model: 'sim', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 64 },
      timeoutMs: 30_000,
      stream: false,
    });
    expect(p.timings).toEqual({ serverTiming: true, headers: {}, body: {} });
    expect([p.arrivals, p.burstiness, p.seed, p.maxInFlight, p.fallback, p.goodput, p.budgets]).toEqual(['uniform', 1, 1, 1000, [], {}, []]);
  });

  it.each([
    ['happy', { url: 'https://x.test/' }, 'GET'],
    ['happy', { url: 'https://x.test/', body: 'hi' }, 'POST'],
    ['happy', { method: 'put' }, 'PUT'],
  ])('%s: target %j → method %s', (_label, target, method) => {
    expect(ok(parseProfile(minimal({ target }), noEnv)).target.method).toBe(method);
  });
});

describe('parseProfile: one problem each', () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['sad', { name: '' }, 'name', /expected a name/],
    ['sad', { name: 'a/b' }, 'name', /got "a\/b"/],
    ['sad', { target: { url: 'file:///etc/passwd' } }, 'target.url', /http/],
    ['sad', { target: { timeout: '0s' } }, 'target.timeout', /expected a duration like "30s", got "0s"/],
    ['sad', { target: { headers: { a: [1] } } }, 'target.headers.a', /expected a string, got \[1\]/],
    ['sad', { timings: { headers: { 'x-t': 'total' } } }, 'timings.headers.x-t', /reserved/],
    ['sad', { fallback: { header: 'x-route', matches: '(' } }, 'fallback.matches', /expected a regular expression, got "\("/],
    ['sad', { fallback: { header: 'x-route' } }, 'fallback', /got neither/],
    ['sad', { arrivals: 'poison' }, 'arrivals', /did you mean 'poisson'/],
    ['sad', { seed: 1.5 }, 'seed', /integer/],
    ['sad', { maxInFlight: 0 }, 'maxInFlight', /integer from 1 to 100000/],
    ['sad', { phases: [] }, 'phases', /non-empty list/],
    ['sad', { phases: [{ name: 'a', duration: 30, rate: 1 }] }, 'phases[0].duration', /expected a duration like "30s", got 30/],
    ['sad', { phases: [{ name: 'a', duration: '1s', rat: 1 }] }, 'phases[0]', /unknown key 'rat' — did you mean 'rate'\?/],
    ['sad', { phase: [] }, '', /unknown key 'phase' — did you mean 'phases'\?/],
    ['sad', { budgets: [{ stage: 'total' }] }, 'budgets[0]', /at least one of p50/],
    ['sad', { budgets: [{ stage: 'total', p99: 5 }] }, 'budgets[0].p99', /expected a duration/],
    ['sad', { budgets: [{ stage: 'total', p99: '1s', phase: 'stedy' }] }, 'budgets[0].phase', /no phase named 'stedy' \(phases: steady\) — did you mean 'steady'\?/],
    ['sad', { budgets: [{ errorRate: '1%', stage: 'total' }] }, 'budgets[0]', /exactly one budget/],
    ['sad', { budgets: [{ errorRate: 5 }] }, 'budgets[0].errorRate', /percentage/],
    ['sad', { budgets: [{ fallbackRate: '5%' }] }, 'budgets[0].fallbackRate', /no 'fallback' rule/],
    ['sad', { budgets: [{ fallbackRate: '5%', path: 'primary' }], fallback: { header: 'x', equals: 'y' } }, 'budgets[0]', /unknown key 'path'/],
    ['sad', { budgets: [{ stage: 'total', p99: '1s', path: 'backup' }] }, 'budgets[0].path', /no request can take the 'backup' path: the profile's paths are primary/],
  ])('%s: %j → %s', (_label, extra, path, message) => {
    const found = problems(parseProfile(minimal(extra), noEnv));
    expect(found).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('sad: a budget on a warmup phase is refused', () => {
    const doc = minimal({
      phases: [{ name: 'w', duration: '1s', rate: 1, warmup: true }, { name: 's', duration: '1s', rate: 1 }],
      budgets: [{ stage: 'total', phase: 'w', p50: '1s' }],
    });
    expect(problems(parseProfile(doc, noEnv))).toEqual([{ path: 'budgets[0].phase', message: expect.stringMatching(/warmup/) }]);
  });

  it('sad: a duplicate phase name is refused with both positions', () => {
    const doc = minimal({ phases: [{ name: 'a', duration: '1s', rate: 1 }, { name: 'a', duration: '1s', rate: 1 }] });
    expect(problems(parseProfile(doc, noEnv))).toEqual([
      { path: 'phases[1].name', message: "duplicate phase name 'a' (also phases[0])" },
    ]);
  });

  it('happy: colliding budget ids get #2, #3', () => {
    const doc = minimal({ budgets: [{ stage: 'total', p99: '1s' }, { stage: 'total', p99: '2s' }, { stage: 'total', p99: '3s' }] });
    expect(ok(parseProfile(doc, noEnv)).budgets.map((b) => b.id)).toEqual(['total p99', 'total p99#2', 'total p99#3']);
  });

  it('happy: fallback.matches keeps a valid regex; header is lower-cased', () => {
    const doc = minimal({ fallback: { header: 'X-Route', matches: '^fall(back)?$' } });
    expect(ok(parseProfile(doc, noEnv)).fallback).toEqual([{ kind: 'matches', header: 'x-route', pattern: '^fall(back)?$', id: 'x-route~^fall(back)?$' }]);
  });
});

describe('parseProfile: many problems at once', () => {
  it('sad: bad-many.yaml reports every wrong field with its path', () => {
    const found = problems(parseProfileText(fixture('bad-many.yaml'), noEnv));
    const paths = found.map((p) => p.path);
    expect(found.length).toBeGreaterThanOrEqual(4);
    for (const path of [
      '',
      'name',
      'target.url',
      'target.timeout',
      'arrivals',
      'fallback',
      'phases[1]',
      'phases[1].duration',
      'phases[2].name',
      'phases[2].rate',
      'phases[3]',
      'phases[4].concurrency',
      'budgets[0]',
      'budgets[1].phase',
      'budgets[2].errorRate',
    ]) {
      expect(paths).toContain(path);
    }
  });
});

describe('${VAR} substitution', () => {
  const doc = minimal({
    target: { url: 'http://${HOST}:8080/x', headers: { authorization: 'Bearer ${TOKEN}' }, body: { m: ['${MODEL}', 'keep $${LITERAL}'] } },
  });

  it('happy: substitutes in every string, and $${ escapes', () => {
    const p = ok(parseProfile(doc, envOf({ HOST: 'h.test', TOKEN: 't0k', MODEL: 'llama' })));
    expect(p.target.url).toBe('http://h.test:8080/x');
    expect(p.target.headers).toEqual({ authorization: 'Bearer t0k' });
    expect(p.target.body).toEqual({ m: ['llama', 'keep ${LITERAL}'] });
  });

  it('sad: each missing variable is named with its path, with no follow-on noise at that path', () => {
    expect(problems(parseProfile(doc, envOf({ MODEL: 'm' })))).toEqual([
      { path: 'target.url', message: 'environment variable HOST is not set' },
      { path: 'target.headers.authorization', message: 'environment variable TOKEN is not set' },
    ]);
  });

  it('happy: an empty value is a value, not a missing variable', () => {
    const p = ok(parseProfile(minimal({ target: { headers: { x: 'a${E}b' } } }), envOf({ E: '' })));
    expect(p.target.headers).toEqual({ x: 'ab' });
  });
});

describe('parseProfileText', () => {
  it('sad: a YAML syntax error names its line', () => {
    const found = problems(parseProfileText('name: x\nphases:\n  - { name: a, duration: 1s\n', noEnv));
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+/);
  });

  it('sad: a duplicate key is a syntax error', () => {
    const found = problems(parseProfileText('name: a\nname: b\nphases: []\n', noEnv));
    expect(found[0]?.message).toMatch(/line 2/);
  });

  it('happy: JSON text works', () => {
    const json = JSON.stringify(minimal({ budgets: [{ errorRate: 0.02 }] }));
    expect(ok(parseProfileText(json, noEnv)).budgets).toEqual([{ kind: 'errorRate', id: 'errorRate', max: 0.02 }]);
  });

  it('sad: an empty document is a problem, not a crash', () => {
    expect(problems(parseProfileText('', noEnv))).toEqual([
      { path: '', message: expect.stringMatching(/expected a mapping at the top level/) },
    ]);
  });

  it('happy: the demo profile parses', () => {
    const demo = readFileSync(new URL('../../profiles/demo.yaml', import.meta.url), 'utf8');
    const p = ok(parseProfileText(demo, noEnv));
    expect(p.target.url).toBeUndefined();
    expect(p.phases.every((ph) => ph.durationMs > 0)).toBe(true);
  });
});

describe('properties', () => {
  it('parseProfile never throws on arbitrary values; a failure always carries problems', () => {
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        const r = parseProfile(raw, noEnv);
        if (!r.ok) expect(r.problems.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it('parseProfile never throws on profile-shaped documents with random leaves', () => {
    const leaf = fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom('1s', '5%', 'total', 'spike', '${X}', 'p99'));
    const budget = fc.dictionary(fc.constantFrom('stage', 'p99', 'p50', 'max', 'errorRate', 'fallbackRate', 'goodput', 'path', 'phase', 'x'), leaf);
    const plain = fc.dictionary(fc.constantFrom('name', 'duration', 'rate', 'concurrency', 'to', 'warmup', 'rat'), leaf);
    const sugarBody = fc.dictionary(fc.constantFrom('name', 'base', 'peak', 'at', 'hold', 'duration', 'from', 'to', 'step', 'warmup'), leaf);
    const sugar = fc.record({ kind: fc.constantFrom('spike', 'steps'), body: fc.oneof(sugarBody, leaf) }).map(({ kind, body }) => ({ [kind]: body }));
    const phase = fc.oneof(plain, sugar);
    const doc = fc.record(
      {
        name: leaf,
        target: fc.dictionary(fc.constantFrom('url', 'method', 'headers', 'body', 'timeout', 'stream', 'dataset', 'prompts'), leaf),
        timings: fc.dictionary(fc.constantFrom('serverTiming', 'preset', 'headers', 'body'), fc.oneof(leaf, fc.constantFrom('tgi', 'litellm'), fc.dictionary(fc.constantFrom('x-a', 'm.q', 'x b'), fc.oneof(leaf, fc.dictionary(fc.constantFrom('stage', 'unit'), fc.oneof(leaf, fc.constantFrom('s', 'q'))))))),
        fallback: fc.oneof(
          fc.dictionary(fc.constantFrom('header', 'equals', 'matches', 'greaterThan', 'modelDiffers'), leaf),
          fc.array(fc.dictionary(fc.constantFrom('header', 'equals', 'matches', 'greaterThan', 'modelDiffers'), leaf), { maxLength: 3 }),
        ),
        goodput: fc.dictionary(fc.constantFrom('ttft', 'tpot', 'total', 'tokens_per_s'), leaf),
        arrivals: fc.constantFrom('uniform', 'poisson', 'gamma'),
        burstiness: leaf,
        maxInFlight: fc.oneof(leaf, fc.integer({ min: 1, max: 64 })),
        phases: fc.array(phase, { maxLength: 4 }),
        budgets: fc.array(budget, { maxLength: 4 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(doc, (raw) => {
        const r = parseProfile(raw, envOf({ X: 'x' }));
        if (r.ok) {
          const ids = r.profile.budgets.map((b) => b.id);
          expect(new Set(ids).size).toBe(ids.length);
          const signalIds = r.profile.fallback.map((f) => f.id);
          expect(new Set(signalIds).size).toBe(signalIds.length);
          const names = r.profile.phases.map((ph) => ph.name);
          expect(new Set(names).size).toBe(names.length);
          for (const ph of r.profile.phases) {
            if (ph.model === 'closed') expect(Math.max(ph.concurrency, ph.concurrencyTo)).toBeLessThanOrEqual(r.profile.maxInFlight);
            else expect([ph.concurrency, ph.concurrencyTo]).toEqual([0, 0]);
          }
        } else {
          expect(r.problems.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('parseProfileText never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        expect(() => parseProfileText(text, noEnv)).not.toThrow();
      }),
      { numRuns: 200 },
    );
  });
});

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Compact view of phases for table cases: [name, durationMs, model, rate, to, concurrency, concurrencyTo, warmup]. */
const rows = (p: Profile): unknown[][] =>
  p.phases.map((ph) => [ph.name, ph.durationMs, ph.model, ph.rate, ph.to, ph.concurrency, ph.concurrencyTo, ph.warmup]);

describe('parseProfile: closed-model phases', () => {
  it('happy: constant and ramped users, between open phases', () => {
    const doc = minimal({
      phases: [
        { name: 'open1', duration: '5s', rate: 10 },
        { name: 'users', duration: '10s', concurrency: 32 },
        { name: 'users-ramp', duration: '20s', concurrency: 8, to: 64, warmup: true },
        { name: 'open2', duration: '5s', rate: 10, to: 20 },
      ],
    });
    expect(rows(ok(parseProfile(doc, noEnv)))).toEqual([
      ['open1', 5_000, 'open', 10, 10, 0, 0, false],
      ['users', 10_000, 'closed', 0, 0, 32, 32, false],
      ['users-ramp', 20_000, 'closed', 0, 0, 8, 64, true],
      ['open2', 5_000, 'open', 10, 20, 0, 0, false],
    ]);
  });

  it('happy: concurrency equal to maxInFlight is allowed', () => {
    const doc = minimal({ maxInFlight: 16, phases: [{ name: 'c', duration: '1s', concurrency: 16, to: 1 }] });
    expect(rows(ok(parseProfile(doc, noEnv)))).toEqual([['c', 1_000, 'closed', 0, 0, 16, 1, false]]);
  });

  const either = 'expected either rate (open model) or concurrency (closed model)';
  it.each<[string, Record<string, unknown>, Record<string, unknown>, string, string | RegExp]>([
    ['sad', {}, { name: 'a', duration: '1s' }, 'phases[0]', either],
    ['sad', {}, { name: 'a', duration: '1s', to: 5 }, 'phases[0]', either],
    ['sad', {}, { name: 'a', duration: '1s', rate: 5, concurrency: 2 }, 'phases[0]', `${either}, not both`],
    ['sad', {}, { name: 'a', duration: '1s', concurrency: 0 }, 'phases[0].concurrency', 'expected a whole number of virtual users, 1 or more, got 0'],
    ['sad', {}, { name: 'a', duration: '1s', concurrency: 2.5 }, 'phases[0].concurrency', /whole number/],
    ['sad', {}, { name: 'a', duration: '1s', concurrency: '8' }, 'phases[0].concurrency', /got "8"/],
    ['sad', {}, { name: 'a', duration: '1s', concurrency: 8, to: 0.5 }, 'phases[0].to', /whole number of virtual users/],
    ['sad', {}, { name: 'a', duration: '1s', concurrency: 1001 }, 'phases[0].concurrency', 'concurrency 1001 is more than maxInFlight 1000: raise maxInFlight or lower the concurrency'],
    ['sad', { maxInFlight: 50 }, { name: 'a', duration: '1s', concurrency: 8, to: 64 }, 'phases[0].to', /concurrency 64 is more than maxInFlight 50/],
    ['sad', {}, { name: 'a', duration: '1s', concurency: 8 }, 'phases[0]', /unknown key 'concurency' — did you mean 'concurrency'\?/],
  ])('%s: %j %j → %s', (_label, extra, ph, path, message) => {
    const found = problems(parseProfile(minimal({ ...extra, phases: [ph] }), noEnv));
    expect(found).toContainEqual({ path, message: typeof message === 'string' ? message : expect.stringMatching(message) });
  });

  it('sad: an invalid maxInFlight is reported once, not again by every closed phase', () => {
    const doc = minimal({ maxInFlight: 0, phases: [{ name: 'a', duration: '1s', concurrency: 5000 }] });
    expect(problems(parseProfile(doc, noEnv))).toEqual([{ path: 'maxInFlight', message: expect.stringMatching(/integer/) }]);
  });
});

describe('parseProfile: spike and steps sugar', () => {
  const spike = { base: 100, peak: 1000, at: '30s', hold: '5s', duration: '60s' };

  it.each<[string, unknown, unknown[][]]>([
    [
      'happy: base, peak, recover',
      { spike },
      [
        ['spike-base', 30_000, 'open', 100, 100, 0, 0, false],
        ['spike-peak', 5_000, 'open', 1000, 1000, 0, 0, false],
        ['spike-recover', 25_000, 'open', 100, 100, 0, 0, false],
      ],
    ],
    [
      'happy: a name prefix and warmup apply to every part',
      { spike: { ...spike, name: 'burst', warmup: true } },
      [
        ['burst-base', 30_000, 'open', 100, 100, 0, 0, true],
        ['burst-peak', 5_000, 'open', 1000, 1000, 0, 0, true],
        ['burst-recover', 25_000, 'open', 100, 100, 0, 0, true],
      ],
    ],
    [
      'happy: at 0s leaves out the base part',
      { spike: { ...spike, at: '0s' } },
      [
        ['spike-peak', 5_000, 'open', 1000, 1000, 0, 0, false],
        ['spike-recover', 55_000, 'open', 100, 100, 0, 0, false],
      ],
    ],
    [
      // in float 0.103 − 0.1 − 0.003 is −1.1e-17 (ms), which must still count as "equal", not "longer"
      'happy: at + hold = duration leaves out the recovery, float noise and all',
      { spike: { ...spike, at: '0.1ms', hold: '3us', duration: '0.103ms' } },
      [
        ['spike-base', 0.1, 'open', 100, 100, 0, 0, false],
        ['spike-peak', 0.003, 'open', 1000, 1000, 0, 0, false],
      ],
    ],
    [
      'happy: steps 50 → 400 by 50',
      { steps: { from: 50, to: 400, step: 50, hold: '20s' } },
      [50, 100, 150, 200, 250, 300, 350, 400].map((r) => [`step-${r}`, 20_000, 'open', r, r, 0, 0, false]),
    ],
    [
      'happy: the last step is `to` even when not a multiple',
      { steps: { name: 'rung', from: 50, to: 180, step: 50, hold: '1s', warmup: true } },
      [50, 100, 150, 180].map((r) => [`rung-${r}`, 1_000, 'open', r, r, 0, 0, true]),
    ],
    [
      'happy: fractional steps carry no float noise into rates or names',
      { steps: { from: 0.1, to: 0.3, step: 0.1, hold: '1s' } },
      [0.1, 0.2, 0.3].map((r) => [`step-${r}`, 1_000, 'open', r, r, 0, 0, false]),
    ],
    ['happy: from = to is one step', { steps: { from: 5, to: 5, step: 1, hold: '1s' } }, [['step-5', 1_000, 'open', 5, 5, 0, 0, false]]],
  ])('%s', (_label, entry, expected) => {
    expect(rows(ok(parseProfile(minimal({ phases: [entry] }), noEnv)))).toEqual(expected);
  });

  it('happy: sugar mixes with plain phases, and budgets may name expanded phases', () => {
    const doc = minimal({
      phases: [{ name: 'warm', duration: '5s', rate: 10, warmup: true }, { spike }, { steps: { from: 10, to: 20, step: 10, hold: '5s' } }],
      budgets: [{ stage: 'total', phase: 'spike-peak', p99: '2s' }, { errorRate: '1%', phase: 'step-20' }],
    });
    const p = ok(parseProfile(doc, noEnv));
    expect(p.phases.map((ph) => ph.name)).toEqual(['warm', 'spike-base', 'spike-peak', 'spike-recover', 'step-10', 'step-20']);
    expect(p.budgets.map((b) => b.phase)).toEqual(['spike-peak', 'step-20']);
  });

  it.each<[string, unknown[], string, string | RegExp]>([
    ['sad', [{ spike: { ...spike, hold: '31s' } }], 'phases[0].spike.hold', 'at (30s) + hold (31s) is longer than duration (1m)'],
    ['sad', [{ spike: { ...spike, peak: undefined } }], 'phases[0].spike.peak', /requests per second/],
    ['sad', [{ spike: { ...spike, hold: '0s' } }], 'phases[0].spike.hold', /expected a duration like "30s", got "0s"/],
    ['sad', [{ spike: { ...spike, at: 30 } }], 'phases[0].spike.at', /expected a duration/],
    ['sad', [{ spike: { ...spike, pek: 1 } }], 'phases[0].spike', /unknown key 'pek' — did you mean 'peak'\?/],
    ['sad', [{ spike: { ...spike, name: '' } }], 'phases[0].spike.name', /non-empty string/],
    ['sad', [{ spike: { ...spike, warmup: 'yes' } }], 'phases[0].spike.warmup', /true or false/],
    ['sad', [{ spike, name: 'x' }], 'phases[0]', /unknown key 'name'/],
    ['sad', [{ spike: 'big' }], 'phases[0].spike', /expected a mapping like \{ base: 100/],
    ['sad', [{ steps: { from: 50, to: 10, step: 10, hold: '5s' } }], 'phases[0].steps.to', 'expected at least from (50), got 10: steps go up'],
    ['sad', [{ steps: { from: 10, to: 50, step: 0, hold: '5s' } }], 'phases[0].steps.step', /greater than 0, got 0/],
    ['sad', [{ steps: { from: 10, to: 50, step: -10, hold: '5s' } }], 'phases[0].steps.step', /greater than 0/],
    ['sad', [{ steps: { from: 0, to: 5000, step: 1, hold: '1s' } }], 'phases[0].steps.step', '0 to 5000 by 1 makes 5001 steps; at most 1000'],
    ['sad', [{ steps: { from: 0, to: 0.001, step: 0.0005, hold: '1s' } }], 'phases[0].steps.step', /makes a rate of 0.0005/],
    ['sad', [{ steps: { from: 10, to: 50, step: 10 } }], 'phases[0].steps.hold', /expected a duration/],
    ['sad', [{ spike }, { spike }], 'phases[1].spike', "duplicate phase name 'spike-base' (also phases[0])"],
    ['sad', [{ name: 'step-10', duration: '1s', rate: 1 }, { steps: { name: 'step', from: 10, to: 10, step: 1, hold: '1s' } }], 'phases[1].steps.name', "duplicate phase name 'step-10' (also phases[0])"],
    ['sad', [{ spike }, { name: 'spike-peak', duration: '1s', rate: 1 }], 'phases[1].name', "duplicate phase name 'spike-peak' (also phases[0])"],
  ])('%s: %j → %s', (_label, phases, path, message) => {
    const found = problems(parseProfile(minimal({ phases }), noEnv));
    expect(found).toContainEqual({ path, message: typeof message === 'string' ? message : expect.stringMatching(message) });
  });

  it('sad: a broken sugar entry does not add "no phase named" noise to budgets', () => {
    const doc = minimal({ phases: [{ spike: { ...spike, hold: '31s' } }], budgets: [{ stage: 'total', phase: 'spike-peak', p99: '1s' }] });
    expect(problems(parseProfile(doc, noEnv)).map((p) => p.path)).toEqual(['phases[0].spike.hold']);
  });

  it('sad: a budget on a warmup spike part is refused', () => {
    const doc = minimal({ phases: [{ spike: { ...spike, warmup: true } }, { name: 's', duration: '1s', rate: 1 }], budgets: [{ errorRate: '1%', phase: 'spike-peak' }] });
    expect(problems(parseProfile(doc, noEnv))).toEqual([{ path: 'budgets[0].phase', message: expect.stringMatching(/warmup/) }]);
  });

  it('spike: the parts are base/peak/base, in order, and add up to the duration', () => {
    const secs = fc.integer({ min: 0, max: 120 });
    fc.assert(
      fc.property(secs, secs, secs, fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 5000 }), (at, hold, extra, base, peak) => {
        fc.pre(hold > 0 && at + hold + extra > 0);
        const duration = at + hold + extra;
        const p = ok(parseProfile(minimal({ phases: [{ spike: { base, peak, at: `${at}s`, hold: `${hold}s`, duration: `${duration}s` } }] }), noEnv));
        expect(sum(p.phases.map((ph) => ph.durationMs))).toBe(duration * 1000);
        expect(p.phases.every((ph) => ph.durationMs > 0)).toBe(true);
        const expected = [
          ['spike-base', at, base],
          ['spike-peak', hold, peak],
          ['spike-recover', extra, base],
        ].filter(([, s]) => (s as number) > 0);
        expect(p.phases.map((ph) => [ph.name, ph.durationMs / 1000, ph.rate])).toEqual(expected);
      }),
    );
  });

  it('steps: rungs start at from, end at to, rise by step (the last by at most step), each hold long', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.oneof(fc.integer({ min: 1, max: 200 }), fc.double({ min: 1, max: 200, noNaN: true })),
        (a, b, step) => {
          const [from, to] = a <= b ? [a, b] : [b, a];
          const p = ok(parseProfile(minimal({ phases: [{ steps: { from, to, step, hold: '2s' } }] }), noEnv));
          const rates = p.phases.map((ph) => ph.rate);
          expect(rates[0]).toBe(from);
          expect(rates.at(-1)).toBe(to);
          // the rungs below `to` are from + i·step for i < (to − from)/step, then `to` itself
          expect(rates.length).toBe(Math.ceil((to - from) / step - 1e-9) + 1);
          rates.slice(1).forEach((r, i) => {
            const d = r - rates[i]!;
            expect(d > 0 && d <= step + 1e-8).toBe(true);
          });
          expect(p.phases.every((ph) => ph.durationMs === 2000 && ph.name === `step-${ph.rate}`)).toBe(true);
        },
      ),
    );
  });
});

describe('parseProfile: gamma arrivals and burstiness', () => {
  it.each<[string, Record<string, unknown>, string, number]>([
    ['happy', { arrivals: 'gamma', burstiness: 0.5 }, 'gamma', 0.5],
    ['happy', { arrivals: 'gamma' }, 'gamma', 1],
    ['happy', { arrivals: 'gamma', burstiness: 20 }, 'gamma', 20],
    ['happy: burstiness is accepted, unused, with other arrivals', { arrivals: 'poisson', burstiness: 3 }, 'poisson', 3],
  ])('%s: %j', (_label, extra, arrivals, burstiness) => {
    const p = ok(parseProfile(minimal(extra), noEnv));
    expect([p.arrivals, p.burstiness]).toEqual([arrivals, burstiness]);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['sad', { arrivals: 'gama' }, 'arrivals', /expected uniform, poisson or gamma, got "gama" — did you mean 'gamma'\?/],
    ['sad', { burstiness: 0 }, 'burstiness', /expected a number from 0.01 to 100 \(1 is poisson, below 1 burstier\), got 0/],
    ['sad', { burstiness: -1 }, 'burstiness', /got -1/],
    ['sad', { burstiness: 1000 }, 'burstiness', /got 1000/],
    ['sad', { burstiness: '0.5' }, 'burstiness', /got "0.5"/],
    ['sad', { burstiness: Number.NaN }, 'burstiness', /got NaN/],
  ])('%s: %j → %s', (_label, extra, path, message) => {
    expect(problems(parseProfile(minimal(extra), noEnv))).toContainEqual({ path, message: expect.stringMatching(message) });
  });
});

describe('example profiles', () => {
  it.each(['demo.yaml', 'spike.yaml', 'closed.yaml'])('happy: profiles/%s validates against the embedded endpoint', (file) => {
    const text = readFileSync(new URL(`../../profiles/${file}`, import.meta.url), 'utf8');
    const p = ok(parseProfileText(text, noEnv));
    expect(p.target.url).toBeUndefined();
    expect(p.phases.every((ph) => ph.durationMs > 0)).toBe(true);
    expect(sum(p.phases.map((ph) => ph.durationMs))).toBeLessThanOrEqual(40_000);
  });

  it('happy: closed.yaml has a closed ramp then an open phase; spike.yaml expands its spike', () => {
    const read = (f: string): Profile => ok(parseProfileText(readFileSync(new URL(`../../profiles/${f}`, import.meta.url), 'utf8'), noEnv));
    expect(read('closed.yaml').phases.map((ph) => ph.model)).toContain('closed');
    expect(read('closed.yaml').phases.at(-1)?.model).toBe('open');
    expect(read('spike.yaml').phases.map((ph) => ph.name)).toContain('spike-peak');
  });
});

describe('parseProfile: inference realism (issue 4)', () => {
  const stream = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
    minimal({ target: { body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, stream: true }, ...extra });

  it('happy: the new-syntax fixture parses', () => {
    const p = ok(parseProfileText(fixture('valid-inference.yaml'), noEnv));
    expect(p.target).toMatchObject({ stream: true, body: { stream: true, stream_options: { include_usage: true } } });
    expect(p.target.prompts).toEqual({ kind: 'file', file: 'data/prompts.jsonl', order: 'random' });
    expect(p.timings).toEqual({
      serverTiming: true,
      preset: 'vllm',
      headers: { 'x-compute-time': { stage: 'compute', unit: 's' }, 'x-queue-time': { stage: 'gateway_queue', unit: 'ms' } },
      body: {
        'metrics.queue_time_ms': { stage: 'queue', unit: 'ms' },
        'metrics.time_to_first_token_ms': { stage: 'server_ttft', unit: 'ms' },
        'metrics.generation_time_ms': { stage: 'generation', unit: 'ms' },
        'metrics.mean_itl_ms': { stage: 'server_itl', unit: 'ms' },
        'usage.extra_us': { stage: 'extra', unit: 'us' },
      },
    });
    expect(p.fallback.map((f) => f.id)).toEqual(['x-route=fallback', 'x-upstream~,', 'x-litellm-attempted-fallbacks>0', 'model differs']);
    expect(p.goodput).toEqual({ ttft: 500, tpot: 50, total: 5_000 });
    expect(p.budgets.filter((b) => b.kind === 'goodput')).toEqual([
      { kind: 'goodput', id: 'goodput', min: 0.95 },
      { kind: 'goodput', id: 'goodput{path=primary,phase=steady}', min: 0.9, path: 'primary', phase: 'steady' },
    ]);
  });

  it.each<[string, Record<string, unknown>, Partial<Profile['target']>]>([
    ['happy: target.stream puts stream: true in the body', { stream: true, body: { model: 'm' } }, { stream: true, body: { model: 'm', stream: true } }],
    ['happy: body.stream alone means streaming', { body: { model: 'm', stream: true } }, { stream: true }],
    ['happy: a string body is sent as is', { stream: true, body: '{"stream":true}' }, { stream: true, body: '{"stream":true}' }],
    ['happy: dataset short form, round-robin by default', { body: {}, dataset: 'p.jsonl' }, { prompts: { kind: 'file', file: 'p.jsonl', order: 'round-robin' } }],
    ['happy: synthetic prompts with defaults', { body: {}, prompts: { tokens: { mean: 100, stddev: 10 } } }, { prompts: { kind: 'synthetic', tokens: { mean: 100, stddev: 10, min: 1, max: 140 } } }],
  ])('%s', (_l, target, want) => {
    expect(ok(parseProfile(minimal({ target }), noEnv)).target).toMatchObject(want);
  });

  it.each<[string, Record<string, unknown>, Record<string, string>, boolean]>([
    ['happy: short form is ms', { 'x-a': 'a' }, { stage: 'a', unit: 'ms' } as never, true],
    ['happy: µs is us', { 'x-a': { stage: 'a', unit: 'µs' } }, { stage: 'a', unit: 'us' } as never, true],
  ])('%s', (_l, headers, want) => {
    expect(ok(parseProfile(minimal({ timings: { headers } }), noEnv)).timings.headers['x-a']).toEqual(want);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['sad', { target: { stream: 'yes' } }, 'target.stream', /true or false/],
    ['sad', { target: { stream: true } }, 'target.stream', /needs a target.body/],
    ['sad', { target: { stream: false, body: { stream: true } } }, 'target.stream', /target.body.stream is true/],
    ['sad', { target: { body: {}, dataset: 5 } }, 'target.dataset', /JSONL file path/],
    ['sad', { target: { body: {}, dataset: { file: 'a', order: 'shuffle' } } }, 'target.dataset.order', /round-robin or random/],
    ['sad', { target: { body: {}, dataset: { file: '' } } }, 'target.dataset.file', /JSONL file path/],
    ['sad', { target: { body: {}, dataset: { fil: 'a' } } }, 'target.dataset', /unknown key 'fil' — did you mean 'file'/],
    ['sad', { target: { dataset: 'a.jsonl' } }, 'target.dataset', /need a target.body mapping/],
    ['sad', { target: { body: {}, dataset: 'a', prompts: { tokens: { mean: 1 } } } }, 'target', /not both/],
    ['sad', { target: { body: {}, prompts: { tokens: { stddev: 1 } } } }, 'target.prompts.tokens.mean', /number of tokens/],
    ['sad', { target: { body: {}, prompts: { tokens: { mean: 10, min: 20, max: 30 } } } }, 'target.prompts.tokens', /min ≤ mean ≤ max/],
    ['sad', { target: { body: {}, prompts: { tokens: { mean: 10, min: 1.5 } } } }, 'target.prompts.tokens.min', /whole number/],
    ['sad', { target: { body: {}, prompts: 'long' } }, 'target.prompts', /tokens: \{ mean/],
    ['sad', { timings: { preset: 'tgii' } }, 'timings.preset', /did you mean 'tgi'/],
    ['sad', { timings: { headers: { 'x-a': { stage: 'a', unit: 'min' } } } }, 'timings.headers.x-a.unit', /us, ms or s/],
    ['sad', { timings: { headers: { 'x-a': { stage: 'ttft' } } } }, 'timings.headers.x-a.stage', /reserved for the client-measured stream timing/],
    ['sad', { timings: { headers: { 'x-a': { stag: 'a' } } } }, 'timings.headers.x-a', /unknown key 'stag'/],
    ['sad', { timings: { headers: { 'x a': 'a' } } }, 'timings.headers["x a"]', /not a header name/],
    ['sad', { timings: { body: { 'metrics..q': 'q' } } }, 'timings.body["metrics..q"]', /dotted path/],
    ['sad', { timings: { body: { 'metrics.q': 'total' } } }, 'timings.body["metrics.q"]', /reserved/],
    ['sad', { fallback: [{ header: 'x', equals: 'a' }, { header: 'X', equals: 'a' }] }, 'fallback[1]', /same signal as fallback\[0\] \('x=a'\)/],
    ['sad', { fallback: [{ header: 'x', greaterThan: '0' }] }, 'fallback[0].greaterThan', /a number/],
    ['sad', { fallback: { modelDiffers: false } }, 'fallback.modelDiffers', /expected true/],
    ['sad', { fallback: { modelDiffers: true, header: 'x' } }, 'fallback.header', /reads no header/],
    ['sad', { fallback: { header: 'x', equals: 'a', greaterThan: 1 } }, 'fallback', /got equals and greaterThan/],
    ['sad', { fallback: [5] }, 'fallback[0]', /a mapping like/],
    ['sad', { goodput: { ttft: '500ms' } }, 'goodput.ttft', /only on streamed responses/],
    ['sad', { goodput: { total: 5 } }, 'goodput.total', /duration/],
    ['sad', { goodput: { tokens_per_s: '1s' } }, 'goodput.tokens_per_s', /not a stage with a duration/],
    ['sad', { goodput: {} }, 'goodput', /at least one/],
    ['sad', { goodput: 'fast' }, 'goodput', /mapping of stages/],
    ['sad', { budgets: [{ goodput: '95%' }] }, 'budgets[0].goodput', /no 'goodput' section/],
    ['sad', { goodput: { total: '1s' }, budgets: [{ goodput: '<= 95%' }] }, 'budgets[0].goodput', /floor like/],
    ['sad', { goodput: { total: '1s' }, budgets: [{ goodput: '95%', stage: 'total' }] }, 'budgets[0]', /got stage and goodput/],
    ['sad', { goodput: { total: '1s' }, budgets: [{ goodput: '95%', p99: '1s' }] }, 'budgets[0]', /unknown key 'p99'/],
    ['sad', { budgets: [{ stage: 'ttft', p99: '1s' }] }, 'budgets[0].stage', /only on streamed responses/],
  ])('%s: %j → %s', (_l, extra, path, message) => {
    expect(problems(parseProfile(minimal(extra), noEnv))).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it.each<[string, unknown, number | undefined]>([
    ['happy', '>= 95%', 0.95],
    ['happy', '≥95%', 0.95],
    ['happy', '95%', 0.95],
    ['happy', 0.5, 0.5],
    ['sad', '> 95%', undefined],
    ['sad', '95', undefined],
    ['sad', 95, undefined],
  ])('%s: goodput limit %j → %s', (_l, v, want) => {
    expect(parseGoodputLimit(v)).toBe(want);
  });

  it('happy: stream stages are allowed in budgets and goodput when streaming', () => {
    const p = ok(parseProfile(stream({ goodput: { ttft: '1s', itl: '50ms' }, budgets: [{ stage: 'tpot', p99: '50ms' }, { goodput: 0.9 }] }), noEnv));
    expect(p.goodput).toEqual({ ttft: 1000, itl: 50 });
    expect(p.budgets.map((b) => b.id)).toEqual(['tpot p99', 'goodput']);
  });

  it('happy: describeBudget, describeGoodput, describeTarget', () => {
    expect(describeBudget({ kind: 'goodput', id: 'g', min: 0.95, phase: 'steady' })).toBe('goodput (phase steady) ≥ 95%');
    expect(describeGoodput({ ttft: 500, total: 5000 })).toBe('ttft ≤ 500ms, total ≤ 5s');
    const p = ok(parseProfileText(fixture('valid-inference.yaml'), noEnv));
    expect(describeTarget(p.target, p.timings)).toBe(
      'POST the embedded simulator, streamed (ttft, tpot, itl, tokens_per_s measured), prompts from data/prompts.jsonl (random), timings preset vllm',
    );
  });

  it('happy: a single signal and a one-element list give the same rules', () => {
    const one = ok(parseProfile(minimal({ fallback: { header: 'x', greaterThan: 0 } }), noEnv)).fallback;
    expect(ok(parseProfile(minimal({ fallback: [{ header: 'x', greaterThan: 0 }] }), noEnv)).fallback).toEqual(one);
    expect(one).toEqual([{ kind: 'greaterThan', header: 'x', than: 0, id: 'x>0' }]);
  });

  it('sad: a fallback-path budget with `fallback: []` has no rule to take that path', () => {
    const doc = minimal({ fallback: [], budgets: [{ fallbackRate: '5%' }] });
    expect(problems(parseProfile(doc, noEnv))).toContainEqual({ path: 'budgets[0].fallbackRate', message: expect.stringMatching(/no 'fallback' rule/) });
  });

  it('happy: the streaming example profile parses and budgets ttft, tpot and goodput', () => {
    const text = readFileSync(new URL('../../profiles/streaming.yaml', import.meta.url), 'utf8');
    const p = ok(parseProfileText(text, noEnv));
    expect(p.target.stream).toBe(true);
    expect(p.budgets.map((b) => b.kind === 'latency' ? b.stage : b.kind)).toEqual(expect.arrayContaining(['ttft', 'tpot', 'goodput']));
  });
});

describe('parseProfile: maxRate', () => {
  it.each<[string, Record<string, unknown>, number]>([
    ['happy: default 5000', {}, 5_000],
    ['happy: raised', { maxRate: 20_000, phases: [{ name: 's', duration: '1s', rate: 10_000 }] }, 20_000],
  ])('%s', (_l, extra, want) => {
    expect(ok(parseProfile(minimal(extra), noEnv)).maxRate).toBe(want);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['sad', { phases: [{ name: 's', duration: '1s', rate: 1, to: 6_000 }] }, 'phases[0]', /up to 6000 requests\/s, above maxRate 5000/],
    ['sad', { phases: [{ spike: { base: 1, peak: 9_000, at: '1s', hold: '1s', duration: '3s' } }] }, 'phases[0]', /above maxRate/],
    ['sad', { maxRate: 0 }, 'maxRate', /requests per second/],
  ])('%s: %j → %s', (_l, extra, path, message) => {
    expect(problems(parseProfile(minimal(extra), noEnv))).toContainEqual({ path, message: expect.stringMatching(message) });
  });
});
