import { describe, expect, it } from 'vitest';
import type { FallbackRule, TimingRules } from '../../src/core/profile-types.js';
import { interpretResponse, unfinishedPath, type ResponseFacts, type ResponseRules } from '../../src/core/response.js';
import { createStreamMeter } from '../../src/core/stream.js';
import { compileTimings } from '../../src/core/timing.js';

const ms = (stage: string) => ({ stage, unit: 'ms' as const });
const RULES: TimingRules = { serverTiming: true, headers: { 'x-queue-time': ms('queue') }, body: { 'metrics.prefill_ms': ms('prefill') } };
const ROUTE: FallbackRule[] = [{ kind: 'equals', header: 'x-route', value: 'fallback', id: 'x-route=fallback' }];
const rules = (timings: TimingRules = RULES, fallback: FallbackRule[] = ROUTE): ResponseRules => ({ extractor: compileTimings(timings, fallback), requestedModel: 'm' });

const chat = (content: string): string => `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content } }] })}\n\n`;

/** A stream whose pieces arrive at the given run times (intended send at 100). */
function streamed(pieces: [number, string][]): ResponseFacts {
  const meter = createStreamMeter('chat');
  for (const [t, piece] of pieces) meter.push(piece, t);
  return { arrival: { t: 100 }, headers: ['content-type', 'text/event-stream'], meter };
}

const plain = (headers: string[]): ResponseFacts => ({ arrival: { t: 100 }, headers });

describe('interpretResponse: what a finished response means', () => {
  const cases: [string, ResponseFacts, number, string | undefined, Record<string, unknown>][] = [
    ['happy: a 200 with Server-Timing and a named header: server stages, primary, no error', plain(['Server-Timing', 'gpu;dur=12.5', 'x-queue-time', '3']), 200, undefined, { stages: { gpu: 12.5, queue: 3 }, path: 'primary', error: undefined, streamTokens: 0 }],
    ['happy: a 204 is a success too', plain([]), 204, undefined, { error: undefined }],
    ['sad: a 503 is an error named by its status, and its path is still read', plain(['x-route', 'fallback']), 503, undefined, { error: 'http 503', path: 'fallback', signals: ['x-route=fallback'] }],
    ['sad: a 302 is not a success', plain([]), 302, undefined, { error: 'http 302' }],
    ['happy: a fallback header sends the response down the fallback path', plain(['x-route', 'fallback', 'x-queue-time', '1']), 200, undefined, { path: 'fallback', signals: ['x-route=fallback'] }],
    ['happy: a JSON body field becomes a stage', plain(['x-queue-time', '1']), 200, '{"metrics":{"prefill_ms":40}}', { stages: { queue: 1, prefill: 40 }, unmeasured: [] }],
    ['sad: a body that is not JSON leaves its body stage unmeasured, never 0', plain(['x-queue-time', '1']), 200, 'not json', { stages: { queue: 1 }, unmeasured: ['prefill'] }],
    ['sad: a missing named header is unmeasured', plain([]), 200, undefined, { stages: {}, unmeasured: ['queue', 'prefill'] }],
  ];
  it.each(cases)('%s', (_label, facts, status, body, want) => {
    const m = interpretResponse(facts, status, 150, body, rules());
    const got = { ...m, stages: Object.fromEntries(m.stages) };
    expect(got).toMatchObject(want);
    expect(m.client).toBeUndefined();
  });

  it('happy: a stream gives ttft, tpot, tokens_per_s from the intended send, and every itl gap', () => {
    // sent (intended) at 100; tokens at 130, 140, 160; done at 200
    const f = streamed([[130, chat('a')], [140, chat('b')], [160, chat('c')]]);
    const m = interpretResponse(f, 200, 200, undefined, rules({ serverTiming: true, headers: {}, body: {} }));
    expect(Object.fromEntries(m.client ?? [])).toEqual({ ttft: 30, tpot: (100 - 30) / 2, tokens_per_s: 3 / 0.1 });
    expect(Object.fromEntries(m.samples ?? [])).toEqual({ itl: [10, 20] });
    expect(m.streamTokens).toBe(3);
    expect(m.error).toBeUndefined();
  });

  it('sad: a stream without a content token has no stream stages (unmeasured, not 0)', () => {
    const f = streamed([[130, 'data: [DONE]\n\n']]);
    const m = interpretResponse(f, 200, 200, undefined, rules({ serverTiming: true, headers: {}, body: {} }));
    expect(m.client).toBeUndefined();
    expect(m.samples).toBeUndefined();
    expect(m.streamTokens).toBe(0);
  });

  it('happy: one token: ttft and tokens_per_s, but no tpot (no second token to time)', () => {
    const m = interpretResponse(streamed([[120, chat('x')]]), 200, 200, undefined, rules({ serverTiming: true, headers: {}, body: {} }));
    expect([...(m.client?.keys() ?? [])]).toEqual(['ttft', 'tokens_per_s']);
  });

  it("happy: a stream's last JSON event feeds the body rules", () => {
    const last = `data: ${JSON.stringify({ model: 'm', choices: [], metrics: { prefill_ms: 7 } })}\n\n`;
    const f = streamed([[130, chat('a')], [150, last]]);
    const m = interpretResponse(f, 200, 200, undefined, rules({ serverTiming: false, headers: {}, body: { 'metrics.prefill_ms': ms('prefill') } }));
    expect(Object.fromEntries(m.stages)).toEqual({ prefill: 7 });
  });
});

describe('unfinishedPath: a request that ended without a response', () => {
  it('happy: with headers received, their fallback signal decides', () => {
    expect(unfinishedPath(plain(['x-route', 'fallback']), rules())).toBe('fallback');
  });
  it('sad: without headers it is primary', () => {
    expect(unfinishedPath({ arrival: { t: 0 }, headers: undefined }, rules())).toBe('primary');
  });
});
