import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createStreamMeter, type StreamResult } from '../../src/core/stream.js';
import { compileTimings } from '../../src/core/timing.js';
import { startSim, type SimOptions, type SimServer } from '../../src/sim/index.js';

const open: SimServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sim(options?: SimOptions): Promise<SimServer> {
  const s = await startSim(options);
  open.push(s);
  return s;
}

interface Streamed {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  rawTrailers: string[];
  trailers: Record<string, string | undefined>;
  text: string;
  result: StreamResult;
  t0: number;
}

/** POSTs with node:http (fetch hides trailers), timing each body chunk with the stream meter. */
function post(s: SimServer, path: string, body: unknown): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const t0 = performance.now();
    const req = request(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const meter = createStreamMeter(path.includes('chat') ? 'chat' : 'completions');
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        meter.push(chunk, performance.now() - t0);
        text += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          rawTrailers: res.rawTrailers,
          trailers: res.trailers,
          text,
          result: meter.finish(performance.now() - t0),
          t0,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

// streamed responses also carry first_token: the sim's measured arrival → first content write
const ST = /^queue;dur=\d+\.\d{3}, prefill;dur=(\d+\.\d{3}), decode;dur=(\d+\.\d{3}), first_token;dur=\d+\.\d{3}$/;

describe('sim streaming', () => {
  it('happy: chat tokens arrive paced ~decodeMsPerToken apart, then [DONE], with a Server-Timing trailer', async () => {
    const s = await sim({ decodeMsPerToken: 10, jitter: 0, prefillBaseMs: 20, prefillMsPerToken: 0 });
    const once = () => post(s, '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 30, stream: true });
    // Client and sim share this worker's event loop; on a machine busy with other test files a stall
    // can shift the median, so up to three tries. A broken pacer (bursts, wrong gap) fails all three.
    let r = await once();
    for (let tries = 1; tries < 3 && Math.abs(median(r.result.itl) - 10) > 1; tries++) r = await once();
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/event-stream');
    expect(r.headers['trailer']).toBe('Server-Timing');
    expect(r.headers['x-route']).toBe('primary');
    expect(r.result).toMatchObject({ tokens: 30, contentEvents: 30, done: true, model: 'm' });
    // first token after prefill (20 ms) + one token (10 ms); loose: timers and the loopback add a little
    expect(r.result.firstTokenMs).toBeGreaterThanOrEqual(29);
    expect(r.result.itl).toHaveLength(29);
    expect(Math.abs(median(r.result.itl) - 10)).toBeLessThanOrEqual(1);
    const m = ST.exec(r.trailers['server-timing'] ?? '');
    expect(m).not.toBeNull();
    expect([Number(m?.[1]), Number(m?.[2])]).toEqual([20, 300]);
    expect(r.text).toMatch(/"delta":\{"role":"assistant","content":""\}/);
    expect(r.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(r.text).toMatch(/"finish_reason":"length"\}\]\}\n\ndata: \[DONE\]/);
  });

  it('happy: the trailer feeds the timing extractor like a header would', async () => {
    const s = await sim({ decodeMsPerToken: 0.5, jitter: 0 });
    const r = await post(s, '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, stream: true });
    const t = compileTimings({ serverTiming: true, headers: { 'x-queue-time': { stage: 'gw_queue', unit: 'ms' } }, body: {} }, []).extract(r.rawHeaders, r.rawTrailers);
    expect([...t.stages.keys()].sort()).toEqual(['decode', 'first_token', 'gw_queue', 'prefill', 'queue']);
    expect(t.stages.get('decode')).toBe(4);
  });

  it('happy: completions stream choices[0].text; include_usage adds a usage chunk; perRequestMetrics adds vLLM metrics to it', async () => {
    const s = await sim({ decodeMsPerToken: 1, jitter: 0, prefillBaseMs: 5, prefillMsPerToken: 0, perRequestMetrics: true });
    const r = await post(s, '/v1/completions', { prompt: 'x', max_tokens: 12, stream: true, stream_options: { include_usage: true } });
    expect(r.result).toMatchObject({ contentEvents: 12, tokens: 12, usage: { prompt_tokens: 1, completion_tokens: 12 }, done: true });
    const last = r.result.lastJson as { choices: unknown[]; metrics: Record<string, number> };
    expect(last.choices).toEqual([]);
    expect(last.metrics).toEqual({ queue_time_ms: expect.any(Number), time_to_first_token_ms: expect.any(Number), generation_time_ms: 12, mean_itl_ms: 1 });
    expect(last.metrics.time_to_first_token_ms).toBeCloseTo((last.metrics.queue_time_ms ?? Number.NaN) + 6, 2);
    const vllm = compileTimings(
      { serverTiming: false, headers: {}, body: { 'metrics.generation_time_ms': { stage: 'generation', unit: 'ms' } } },
      [],
    ).extract(r.rawHeaders, r.rawTrailers, { json: r.result.lastJson });
    expect(vllm.stages.get('generation')).toBe(12);
  });

  it('sad: without include_usage there is no usage chunk; tokens are the content events', async () => {
    const s = await sim({ decodeMsPerToken: 0.01, perRequestMetrics: true });
    const r = await post(s, '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, stream: true });
    expect(r.result.usage).toBeUndefined();
    expect(r.text).not.toMatch(/"metrics"/);
    expect(r.result.tokens).toBe(5);
  });

  it('happy: perRequestMetrics adds metrics to a non-streamed JSON body', async () => {
    const s = await sim({ perRequestMetrics: true, decodeMsPerToken: 0.5, jitter: 0 });
    const r = await post(s, '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
    const body = JSON.parse(r.text) as { metrics: Record<string, number> };
    expect(r.headers['content-type']).toBe('application/json');
    expect(body.metrics).toMatchObject({ generation_time_ms: 2, mean_itl_ms: 0.5 });
  });

  it('happy: a fallback-routed stream names the fallback model', async () => {
    const s = await sim({ errorRate: 1, decodeMsPerToken: 0.01 });
    const r = await post(s, '/v1/chat/completions', { model: 'big', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, stream: true });
    expect(r.headers['x-route']).toBe('fallback');
    expect(r.result.model).toBe('sim-small');
    const ex = compileTimings({ serverTiming: true, headers: {}, body: {} }, [{ kind: 'modelDiffers', id: 'model differs' }]);
    expect(ex.extract(r.rawHeaders, r.rawTrailers, { json: r.result.lastJson, requestedModel: 'big' }).signals).toEqual(['model differs']);
  });

  it.each<[string, unknown, RegExp]>([
    ['sad', { messages: [], stream: 'yes' }, /stream must be a boolean/],
    ['sad', { messages: [], stream: true, stream_options: [1] }, /stream_options must be an object/],
  ])('%s: %j → 400', async (_l, body, message) => {
    const s = await sim();
    const r = await post(s, '/v1/chat/completions', body);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(message);
  });

  it('happy: many concurrent streams each get every token', async () => {
    const s = await sim({ decodeMsPerToken: 0.25, workers: 16 });
    const rs = await Promise.all(
      Array.from({ length: 24 }, () => post(s, '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 64, stream: true })),
    );
    expect(rs.map((r) => [r.result.contentEvents, r.result.done])).toEqual(rs.map(() => [64, true]));
    expect(s.stats().served).toBe(24);
  });
});
