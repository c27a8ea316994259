import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { simCapacity, startSim, type SimOptions, type SimServer } from '../../src/sim/index.js';
import { resolveOptions, sampleService, stallRemaining } from '../../src/sim/model.js';
import { mulberry32 } from '../../src/sim/prng.js';

const TIMING = /^queue;dur=(\d+\.\d{3}), prefill;dur=(\d+\.\d{3}), decode;dur=(\d+\.\d{3})$/;

const open: SimServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sim(options?: SimOptions): Promise<SimServer> {
  const s = await startSim(options);
  open.push(s);
  return s;
}

function chat(s: SimServer, body: unknown = { messages: [{ role: 'user', content: 'hello there' }], max_tokens: 8 }) {
  return fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
}

function timing(res: Response): { queue: number; prefill: number; decode: number; raw: string } {
  const raw = res.headers.get('server-timing') ?? '';
  const m = TIMING.exec(raw);
  if (!m) throw new Error(`unparseable Server-Timing: ${JSON.stringify(raw)}`);
  return { queue: Number(m[1]), prefill: Number(m[2]), decode: Number(m[3]), raw };
}

describe('sim endpoint', () => {
  it('serves a chat completion with timings, route and usage', async () => {
    const s = await sim();
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    const res = await chat(s, { model: 'my-model', messages: [{ role: 'user', content: 'x'.repeat(40) }], max_tokens: 16 });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-route')).toBe('primary');
    const t = timing(res);
    expect(res.headers.get('x-queue-time')).toBe(t.queue.toFixed(3));
    // 5 ms + 10 tokens · 0.05, and 16 · 0.25, each within the default ±20% jitter.
    expect(t.prefill).toBeGreaterThanOrEqual(5.5 * 0.8);
    expect(t.prefill).toBeLessThanOrEqual(5.5 * 1.2);
    expect(t.decode).toBeGreaterThanOrEqual(4 * 0.8);
    expect(t.decode).toBeLessThanOrEqual(4 * 1.2);
    const body = (await res.json()) as Record<string, any>;
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe('my-model');
    expect(typeof body.id).toBe('string');
    expect(body.choices[0].message.role).toBe('assistant');
    expect(body.usage).toEqual({ prompt_tokens: 10, completion_tokens: 16, total_tokens: 26 });
    expect(s.stats()).toMatchObject({ served: 1, fallback: 0, errors: 0 });
  });

  it('serves /v1/completions, defaults and clamps max_tokens', async () => {
    const s = await sim({ decodeMsPerToken: 0.001 });
    const post = (body: unknown) =>
      fetch(`${s.url}/v1/completions`, { method: 'POST', body: JSON.stringify(body) });
    const a = await post({ prompt: 'abcde' });
    expect(a.status).toBe(200);
    const body = (await a.json()) as Record<string, any>;
    expect(body.object).toBe('text_completion');
    expect(body.model).toBe('sim');
    expect(typeof body.choices[0].text).toBe('string');
    expect(body.usage).toEqual({ prompt_tokens: 2, completion_tokens: 64, total_tokens: 66 });
    const big = (await (await post({ prompt: '', max_tokens: 1e9 })).json()) as Record<string, any>;
    expect(big.usage.completion_tokens).toBe(4096);
    const small = (await (await post({ prompt: ['ab', 'cd'], max_tokens: 0 })).json()) as Record<string, any>;
    expect(small.usage).toEqual({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
  });

  it('answers healthz, 404 and 400', async () => {
    const s = await sim();
    const h = await fetch(`${s.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.text()).toBe('ok');
    const nf = await fetch(`${s.url}/v2/nope`, { method: 'POST', body: '{}' });
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as any).error.type).toBe('not_found');
    const bad = await chat(s, '{"messages": [');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toMatch(/JSON/);
    expect((await chat(s, '[1]')).status).toBe(400);
    expect((await chat(s, { messages: [], max_tokens: 'lots' })).status).toBe(400);
    expect((await fetch(`${s.url}/v1/chat/completions`)).status).toBe(405);
    expect(s.stats().served).toBe(0);
  });

  it('queues FIFO behind busy workers: waits grow with load', async () => {
    // 2 workers × 20 ms each: 60 simultaneous requests need ~600 ms, the last waiting ~580 ms.
    const s = await sim({ workers: 2, prefillBaseMs: 0, prefillMsPerToken: 0, decodeMsPerToken: 2, jitter: 0, fallbackOff: true });
    const responses = await Promise.all(Array.from({ length: 60 }, () => chat(s, { messages: [], max_tokens: 10 })));
    const queues = responses.map((r) => {
      expect(r.status).toBe(200);
      expect(r.headers.get('x-route')).toBe('primary');
      return timing(r).queue;
    });
    queues.sort((a, b) => a - b);
    expect(queues[0]).toBeLessThan(30);
    expect(queues[59]).toBeGreaterThan(400);
    // FIFO with 2 workers: the k-th shortest wait is at least (k/2 − arrival spread) services.
    expect(queues[40]).toBeGreaterThan(queues[10]! + 150);
    expect(s.stats().maxQueue).toBeGreaterThanOrEqual(30);
    expect(s.stats()).toMatchObject({ served: 60, fallback: 0 });
  });

  it('routes to the fallback model when the predicted wait breaks the deadline', async () => {
    const s = await sim({ workers: 1, fallbackWorkers: 4, fallbackDeadlineMs: 5, prefillBaseMs: 0, decodeMsPerToken: 2, jitter: 0 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => chat(s, { messages: [], max_tokens: 10 })));
    const routes = await Promise.all(
      responses.map(async (r) => {
        expect(r.status).toBe(200);
        const body = (await r.json()) as Record<string, any>;
        const route = r.headers.get('x-route');
        expect(body.model).toBe(route === 'fallback' ? 'sim-small' : 'sim');
        // 20 ms on the primary, a quarter of that on the fallback.
        expect(timing(r).decode).toBe(route === 'fallback' ? 5 : 20);
        return route;
      }),
    );
    const fb = routes.filter((r) => r === 'fallback').length;
    expect(fb).toBeGreaterThan(0);
    expect(routes).toContain('primary');
    expect(s.stats()).toMatchObject({ served: 20, fallback: fb });
  });

  it('surfaces injected 500s when fallbackOnError is off', async () => {
    const s = await sim({ errorRate: 1, errorKinds: ['500'], fallbackOnError: false });
    const statuses = await Promise.all(Array.from({ length: 10 }, async () => (await chat(s)).status));
    expect(statuses).toEqual(Array(10).fill(500));
    expect(s.stats()).toMatchObject({ served: 0, errors: 10 });
  });

  it('hides primary faults behind the fallback by default', async () => {
    const s = await sim({ errorRate: 1, errorKinds: ['500', '503', '429', 'reset'] });
    for (let i = 0; i < 5; i++) {
      const r = await chat(s);
      expect(r.status).toBe(200);
      expect(r.headers.get('x-route')).toBe('fallback');
    }
    expect(s.stats()).toMatchObject({ served: 5, fallback: 5, errors: 0 });
  });

  it('resets the connection for the reset fault', async () => {
    const s = await sim({ errorRate: 1, errorKinds: ['reset'], fallbackOff: true });
    await expect(chat(s)).rejects.toThrow();
    expect(s.stats().errors).toBe(1);
  });

  it('holds requests arriving during a stall until it ends', async () => {
    // a 1 s stall: the margins (200 ms and more) exceed a starved test process's own stalls
    const s = await sim({ stalls: [{ atMs: 0, forMs: 1000 }], fallbackOff: true, jitter: 0 });
    const t = performance.now();
    const stalled = await chat(s);
    const stalledMs = performance.now() - t;
    expect(stalled.status).toBe(200);
    expect(timing(stalled).queue).toBeGreaterThanOrEqual(800);
    const t2 = performance.now();
    const normal = await chat(s);
    const normalMs = performance.now() - t2;
    expect(timing(normal).queue).toBeLessThan(50);
    expect(stalledMs - normalMs).toBeGreaterThanOrEqual(700);
  });

  it('drops queued requests whose client has gone instead of serving them', async () => {
    // The abandoned request would hold the only worker for ~1 s (4096 tokens · 0.25 ms).
    const s = await sim({ workers: 1, stalls: [{ atMs: 0, forMs: 200 }], fallbackOff: true, jitter: 0 });
    const gone = fetch(`${s.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ max_tokens: 4096 }),
      signal: AbortSignal.timeout(50),
    });
    await expect(gone).rejects.toThrow();
    const after = await chat(s);
    expect(after.status).toBe(200);
    expect(timing(after).queue).toBeLessThan(400);
    expect(s.stats().served).toBe(1);
  });

  it('replays the same service times for the same seed', async () => {
    const run = async (seed: number) => {
      const s = await sim({ seed, jitter: 0.5, decodeMsPerToken: 0.5 });
      const out: string[] = [];
      for (let i = 0; i < 5; i++) {
        const t = timing(await chat(s));
        out.push(`${t.prefill.toFixed(3)}/${t.decode.toFixed(3)}`);
      }
      return out;
    };
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(await run(43)).not.toEqual(a);
    expect(new Set(a).size).toBe(5);
  });

  it('rejects invalid options', async () => {
    await expect(startSim({ workers: 0 })).rejects.toThrow(RangeError);
    await expect(startSim({ jitter: 2 })).rejects.toThrow(/jitter/);
    await expect(startSim({ errorKinds: ['418' as '500'] })).rejects.toThrow(/errorKinds/);
  });
});

describe('sim model', () => {
  it('capacity is workers over mean service time', () => {
    // 8 / (5 + 0.5 + 16) ms ≈ 372 req/s
    expect(simCapacity({}, 10, 64)).toBeCloseTo(8000 / 21.5, 6);
    expect(simCapacity({ workers: 2, prefillBaseMs: 0, prefillMsPerToken: 0, decodeMsPerToken: 2 }, 0, 10)).toBeCloseTo(100, 6);
  });

  it('jitter stays within ±jitter of the mean', () => {
    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(10_000), fc.integer({ min: 1, max: 4096 }), (seed, jitter, p, d) => {
        const o = resolveOptions({ jitter });
        const s = sampleService(o, mulberry32(seed), p, d);
        const pm = o.prefillBaseMs + o.prefillMsPerToken * p;
        const dm = o.decodeMsPerToken * d;
        const eps = 1e-9;
        return (
          s.prefillMs >= pm * (1 - jitter) - eps && s.prefillMs <= pm * (1 + jitter) + eps &&
          s.decodeMs >= dm * (1 - jitter) - eps && s.decodeMs <= dm * (1 + jitter) + eps
        );
      }),
    );
  });

  it('stall windows chain when they overlap', () => {
    const stalls = [{ atMs: 100, forMs: 50 }, { atMs: 140, forMs: 60 }, { atMs: 200, forMs: 10 }];
    expect(stallRemaining(stalls, 99)).toBe(0);
    expect(stallRemaining(stalls, 100)).toBe(110);
    expect(stallRemaining(stalls, 205)).toBe(5);
    expect(stallRemaining(stalls, 210)).toBe(0);
  });
});
