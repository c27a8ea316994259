/**
 * Each preset against a small loopback server that imitates that server's headers or body, through
 * the whole engine (programmatic run): the recorded stages equal what the server sent, in ms.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import type { SeriesReport } from '../../src/core/report.js';
import { listen, type TestServer } from './servers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type Respond = (req: IncomingMessage, res: ServerResponse, n: number) => void;
const json = (headers: Record<string, string>, body: unknown): Respond => (_q, res) => {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
};

const CHAT = { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 };

async function runPreset(preset: string, respond: Respond, extra: object = {}): Promise<{ series: SeriesReport[]; fallback: number; signals: Record<string, number> }> {
  server = await listen(respond);
  const r = await run(
    { name: `preset-${preset}`, target: { url: server.url, body: CHAT }, timings: { preset }, phases: [{ name: 'p', duration: '1s', rate: 40 }], ...extra },
    {},
  );
  const phase = r.phases[0];
  return { series: r.series, fallback: phase?.fallback ?? 0, signals: phase?.fallbackSignals ?? {} };
}

const p50 = (ss: SeriesReport[], stage: string): number | null | undefined => ss.find((s) => s.stage === stage)?.p50;
const close = (got: number | null | undefined, want: number): boolean => typeof got === 'number' && Math.abs(got - want) <= want * 1e-3 + 1e-3;

describe('presets against imitation servers', () => {
  it('happy: tgi headers in ms, x-compute-time in seconds', async () => {
    const { series } = await runPreset('tgi', json({ 'x-total-time': '120', 'x-validation-time': '2', 'x-queue-time': '30', 'x-inference-time': '88', 'x-time-per-token': '11', 'x-compute-time': '0.088' }, { ok: 1 }));
    for (const [stage, ms] of [['server_total', 120], ['validation', 2], ['queue', 30], ['inference', 88], ['time_per_token', 11], ['compute', 88]] as const) {
      expect(close(p50(series, stage), ms), `${stage}: ${p50(series, stage)}`).toBe(true);
    }
  });

  it('happy: envoy and openai headers', async () => {
    const envoy = await runPreset('envoy', json({ 'x-envoy-upstream-service-time': '42' }, {}));
    expect(close(p50(envoy.series, 'upstream'), 42)).toBe(true);
    await server?.close();
    const openai = await runPreset('openai', json({ 'openai-processing-ms': '317' }, {}));
    expect(close(p50(openai.series, 'processing'), 317)).toBe(true);
  });

  it('happy: litellm durations, and attempted fallbacks > 0 marks every other response as fallback', async () => {
    const { series, fallback, signals } = await runPreset('litellm', (_q, res, n) =>
      json({ 'x-litellm-response-duration-ms': '250', 'x-litellm-overhead-duration-ms': '7', 'x-litellm-attempted-fallbacks': n % 2 === 0 ? '1' : '0' }, {})(_q, res, n),
    );
    expect(close(p50(series, 'litellm_response'), 250)).toBe(true);
    expect(close(p50(series, 'litellm_overhead'), 7)).toBe(true);
    expect(fallback).toBe(20);
    expect(Object.values(signals)).toEqual([20]);
  });

  it('happy: vllm per-request metrics and llama.cpp timings come from the JSON body', async () => {
    const vllm = await runPreset('vllm', json({}, { model: 'm', metrics: { queue_time_ms: 3.5, time_to_first_token_ms: 45, generation_time_ms: 200, mean_itl_ms: 9.5 } }));
    for (const [stage, ms] of [['queue', 3.5], ['server_ttft', 45], ['generation', 200], ['server_itl', 9.5]] as const) expect(close(p50(vllm.series, stage), ms)).toBe(true);
    await server?.close();
    const llama = await runPreset('llamacpp', json({}, { timings: { prompt_ms: 12.25, predicted_ms: 140, predicted_per_token_ms: 17.5 } }));
    for (const [stage, ms] of [['prompt', 12.25], ['predicted', 140], ['per_token', 17.5]] as const) expect(close(p50(llama.series, stage), ms)).toBe(true);
  });

  it('happy: a gateway that falls back only in the body `model` is caught by modelDiffers', async () => {
    const { fallback, signals } = await runPreset('openai', (_q, res, n) => json({ 'openai-processing-ms': '5' }, { model: n % 4 === 0 ? 'm-small' : 'm' })(_q, res, n), {
      fallback: [{ header: 'x-route', equals: 'fallback' }, { modelDiffers: true }],
    });
    expect(fallback).toBe(10);
    expect(signals).toEqual({ 'model differs': 10 });
  });
});
