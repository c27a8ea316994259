/**
 * The simulator's caches (src/sim/cache.ts) against a real loopback sim: exact-match response hits
 * marked x-sim-cache, prefix caching reported as cached_tokens in whole 16-token blocks with less
 * prefill, both off unless asked for.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { startSim, type SimOptions, type SimServer } from '../../src/sim/index.js';
import { PrefixCache } from '../../src/sim/cache.js';

/** a sim on 127.0.0.1 that closes when the test ends */
async function sim(options?: SimOptions): Promise<SimServer> {
  const s = await startSim(options);
  onTestFinished(() => s.close());
  return s;
}

const SYSTEM = 'You are a terse assistant for a load test. '.repeat(20); // 860 characters: 215 tokens

async function chat(s: SimServer, user: string, headers: Record<string, string> = {}, stream = false): Promise<{ res: Response; body: any; text: string }> {
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: user }], max_tokens: 8, ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) }),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  return { res, body: stream ? undefined : JSON.parse(text), text };
}

const prefillOf = (res: Response): number => Number(/prefill;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1]);

describe('sim caches', () => {
  it('happy: off by default: no x-sim-cache header, no prompt_tokens_details, every request served by the model', async () => {
    const s = await sim();
    for (let i = 0; i < 2; i++) {
      const { res, body } = await chat(s, 'same question');
      expect(res.headers.get('x-sim-cache')).toBeNull();
      expect(body.usage.prompt_tokens_details).toBeUndefined();
    }
    expect(s.stats().cacheHits).toBe(0);
  });

  it('happy: a repeated identical request is a HIT with the stored usage; a different one a MISS', async () => {
    const s = await sim({ responseCache: true, decodeMsPerToken: 5 });
    const first = await chat(s, 'what is a cache?');
    expect(first.res.headers.get('x-sim-cache')).toBe('MISS');
    const again = await chat(s, 'what is a cache?');
    expect(again.res.headers.get('x-sim-cache')).toBe('HIT');
    expect(again.body.usage).toEqual(first.body.usage);
    // the model is skipped: no prefill, and the decode is the hit's 1 ms instead of 8 × 5 ms
    expect(prefillOf(again.res)).toBe(0);
    expect(Number(/decode;dur=([\d.]+)/.exec(again.res.headers.get('server-timing') ?? '')?.[1])).toBe(1);
    expect((await chat(s, 'something else')).res.headers.get('x-sim-cache')).toBe('MISS');
    expect(s.stats()).toMatchObject({ served: 3, cacheHits: 1 });
  });

  it('happy: a request turns both caches on for itself with x-sim-cache-enabled: true; streams replay with usage', async () => {
    const s = await sim();
    const on = { 'x-sim-cache-enabled': 'true' };
    const a = await chat(s, 'first user turn', on, true);
    expect(a.res.headers.get('x-sim-cache')).toBe('MISS');
    const b = await chat(s, 'first user turn', on, true);
    expect(b.res.headers.get('x-sim-cache')).toBe('HIT');
    expect(b.text).toContain('"prompt_tokens_details":{"cached_tokens":0}');
    expect(b.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('happy: the shared system prompt is reported cached in whole 16-token blocks, and prefill shrinks with it', async () => {
    const s = await sim({ prefixCache: true, jitter: 0, prefillMsPerToken: 1 });
    const cold = await chat(s, 'question one');
    const warm = await chat(s, 'question two');
    // "SYSTEM\nquestion " is shared: 860 + 1 + 9 = 870 characters → 217 whole tokens → 13 blocks of 16
    expect(cold.body.usage.prompt_tokens_details).toEqual({ cached_tokens: 0 });
    expect(warm.body.usage.prompt_tokens_details).toEqual({ cached_tokens: 208 });
    expect(warm.body.usage.prompt_tokens).toBe(cold.body.usage.prompt_tokens);
    // prefill = 5 ms + 1 ms per uncached token, jitter off
    expect(prefillOf(cold.res)).toBeCloseTo(5 + cold.body.usage.prompt_tokens, 3);
    expect(prefillOf(warm.res)).toBeCloseTo(5 + warm.body.usage.prompt_tokens - 208, 3);
  });

  it.each([
    ['happy', 'no shared text', ['abc'], 'xyz', 100, 0],
    ['happy', 'exactly two blocks shared', ['a'.repeat(128) + 'X'], 'a'.repeat(128) + 'Y', 100, 32],
    ['happy', 'a block not yet whole is not cached', ['a'.repeat(127)], 'a'.repeat(200), 100, 16],
    ['sad', 'never the whole prompt: the last token is computed', ['a'.repeat(64)], 'a'.repeat(64), 16, 15],
    ['sad', 'a one-token prompt caches nothing', ['abcd'], 'abcd', 1, 0],
  ] as const)('%s: PrefixCache: %s', (_l, _what, seen, text, tokens, cached) => {
    const c = new PrefixCache(4);
    for (const t of seen) c.lookup(t, Math.ceil(t.length / 4));
    expect(c.lookup(text, tokens)).toBe(cached);
  });

  it('sad: the least recently used prompt is forgotten once the cache is full', () => {
    const c = new PrefixCache(2);
    c.lookup('a'.repeat(64), 16);
    c.lookup('b'.repeat(64), 16);
    c.lookup('c'.repeat(64), 16); // evicts the a's
    expect(c.lookup('a'.repeat(128), 32)).toBe(0);
    expect(c.lookup('c'.repeat(128), 32)).toBe(16);
  });
});
