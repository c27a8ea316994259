import { describe, expect, it } from 'vitest';
import { parseProfileText } from '../../src/core/profile/index.js';
import { ProfileError } from '../../src/core/errors.js';
import { loadOneLine, oneLineProfile, parseFallbackFlag, printedProfile } from '../../src/cli/oneline.js';

const env = (): undefined => undefined;

describe('one-line flags → profile', () => {
  it('happy: the flags make an ordinary profile (open ramp, budgets, preset, headers, chat body)', () => {
    const line = oneLineProfile({ url: 'http://127.0.0.1:8000/v1/chat/completions', rate: '50', to: '200', duration: '30s', budget: ['ttft p99 < 500ms', 'errorRate < 1%'], stream: true, preset: 'vllm', prompt: 'Hi', model: 'm', header: ['authorization: Bearer t', 'x-a:1'] });
    expect(line.raw).toEqual({
      name: 'adhoc',
      target: { url: 'http://127.0.0.1:8000/v1/chat/completions', headers: { authorization: 'Bearer t', 'x-a': '1', 'content-type': 'application/json' }, body: { model: 'm', messages: [{ role: 'user', content: 'Hi' }] }, stream: true },
      timings: { preset: 'vllm' },
      phases: [{ name: 'load', duration: '30s', rate: 50, to: 200 }],
      budgets: [{ stage: 'ttft', p99: '500ms' }, { errorRate: '1%' }],
    });
    const p = loadOneLine(line, env);
    expect(p.target.body).toMatchObject({ stream: true });
    expect(p.budgets.map((b) => b.id)).toEqual(['ttft p99', 'errorRate']);
  });

  it('happy: --concurrency alone is closed (k6 --vus); with --rate it caps maxInFlight; --warmup adds a warmup phase', () => {
    expect(oneLineProfile({ concurrency: '8', to: '16', duration: '10s' }).raw.phases).toEqual([{ name: 'load', duration: '10s', concurrency: 8, to: 16 }]);
    const capped = oneLineProfile({ rate: '20', concurrency: '4', duration: '10s', warmup: '2s' }).raw;
    expect(capped.maxInFlight).toBe(4);
    expect(capped.phases).toEqual([
      { name: 'warmup', duration: '2s', rate: 20, warmup: true },
      { name: 'load', duration: '10s', rate: 20 },
    ]);
  });

  it('happy: a bare --url with no body is a GET, as hey and vegeta send', () => {
    const p = loadOneLine(oneLineProfile({ url: 'http://127.0.0.1:1/health', rate: '1', duration: '1s' }), env);
    expect(p.target.method).toBe('GET');
    expect(p.target.body).toBeUndefined();
  });

  it('sad: validator problems are named by the flag that made the field, every one at once', () => {
    const line = oneLineProfile({ rate: 'fast', duration: '30', budget: ['tpot p99 < 50ms', 'total p99 < 1s [phase=spkie]'], preset: 'vlm' });
    let err: unknown;
    try {
      loadOneLine(line, env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProfileError);
    const lines = (err as Error).message.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^command line: --preset: expected one of .* — did you mean 'vllm'\?$/),
        expect.stringMatching(/^command line: --duration: expected a duration like "30s", got "30"$/),
        expect.stringMatching(/^command line: --rate: expected a number of requests per second/),
        expect.stringMatching(/^command line: --budget "tpot p99 < 50ms": tpot is measured only on streamed responses/),
        expect.stringMatching(/^command line: --budget "total p99 < 1s \[phase=spkie\]": no phase named 'spkie'/),
      ]),
    );
  });

  it.each([
    ['happy', 'x-route=fallback', { header: 'x-route', equals: 'fallback' }],
    ['happy', 'x-upstream~,', { header: 'x-upstream', matches: ',' }],
    ['happy', 'x-litellm-attempted-fallbacks>0', { header: 'x-litellm-attempted-fallbacks', greaterThan: 0 }],
    ['happy', 'model-differs', { modelDiffers: true }],
  ] as const)('%s: --fallback %s', (_l, v, expected) => {
    expect(parseFallbackFlag(v)).toEqual(expected);
  });

  it.each([
    ['sad', { budget: ['total p99 <'] }, /^--budget "total p99 <": expected a duration/],
    ['sad', { header: ['no colon'] }, /^--header "no colon": expected "name: value"/],
    ['sad', { body: '{nope' }, /^--body: expected JSON/],
    ['sad', { body: '{}', prompt: 'x' }, /--body and --prompt/],
    ['sad', { fallback: '=x' }, /^--fallback "=x": expected HEADER=VALUE/],
    ['sad', { goodput: 'ttft' }, /^--goodput "ttft": expected STAGE:DURATION/],
  ] as const)('%s: malformed flag %j is a usage error naming it', (_l, flags, re) => {
    expect(() => oneLineProfile({ rate: '1', duration: '1s', ...flags })).toThrow(re);
    try {
      oneLineProfile({ rate: '1', duration: '1s', ...flags });
    } catch (e) {
      expect((e as { kind?: string }).kind).toBe('usage');
    }
  });

  it('sad: every malformed flag is reported at once, one line each', () => {
    expect(() => oneLineProfile({ rate: '1', duration: '1s', budget: ['total p99 <', 'errorRate > 1%'], header: ['bad'], goodput: 'x' })).toThrow(
      /^--budget "total p99 <": expected a duration.*\n--budget "errorRate > 1%": expected '<'.*\n--header "bad": expected "name: value"\n--goodput "x": expected STAGE:DURATION/,
    );
  });

  it('happy: --print-profile output is a profile file that validates to the same profile', () => {
    const line = oneLineProfile({ rate: '20', to: '40', duration: '5s', budget: ['total p99 < 1s', 'fallbackRate < 5%'], fallback: 'x-route=fallback', goodput: 'total:2s', arrivals: 'poisson' });
    const text = printedProfile(line);
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=/);
    const fromFile = parseProfileText(text, env);
    expect(fromFile).toEqual({ ok: true, profile: loadOneLine(line, env) });
  });
});
