import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProfileProblem } from '../../src/core/errors.js';
import { describeBudget, parseProfile, parseProfileText, type EnvLookup, type ProfileResult } from '../../src/core/profile.js';
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
    expect(profile.timings).toEqual({ serverTiming: true, headers: { 'x-queue-time': 'queue' } });
    expect(profile.fallback).toEqual({ header: 'x-route', equals: 'fallback' });
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
    });
    expect(p.timings).toEqual({ serverTiming: true, headers: {} });
    expect([p.arrivals, p.seed, p.maxInFlight, p.fallback, p.budgets]).toEqual(['uniform', 1, 1000, undefined, []]);
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
    ['sad', { budgets: [{ stage: 'total', p99: '1s', path: 'backup' }] }, 'budgets[0].path', /primary or fallback/],
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
    expect(ok(parseProfile(doc, noEnv)).fallback).toEqual({ header: 'x-route', matches: '^fall(back)?$' });
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
    const budget = fc.dictionary(fc.constantFrom('stage', 'p99', 'p50', 'max', 'errorRate', 'fallbackRate', 'path', 'phase', 'x'), leaf);
    const phase = fc.dictionary(fc.constantFrom('name', 'duration', 'rate', 'to', 'warmup', 'rat'), leaf);
    const doc = fc.record(
      {
        name: leaf,
        target: fc.dictionary(fc.constantFrom('url', 'method', 'headers', 'body', 'timeout'), leaf),
        fallback: fc.dictionary(fc.constantFrom('header', 'equals', 'matches'), leaf),
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
