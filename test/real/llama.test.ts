/**
 * budgetgate against a real inference server: llama.cpp's llama-server (random-weight model, 2
 * slots), started on 127.0.0.1 by this file. Checks the llamacpp timings and metrics presets
 * against what the server itself counts:
 * - the stages read from each response's `timings` body are the server's numbers: a recording proxy
 *   keeps every response's `timings`, and budgetgate's prompt, predicted and per_token series have
 *   the same count, sum and maximum;
 * - the output tokens counted from each response's usage equal Δ llamacpp:tokens_predicted_total;
 * - streamed: one content event per token (itl gaps = output tokens − requests);
 * - a requests_deferred budget passes at light load and, with early abort, stops an overloaded run;
 * - every run's errors are explained: there are none. The `connection closed` once seen in a 1→6
 *   req/s ramp was llama-server closing the connection after every streamed response while its
 *   headers said `Keep-Alive: timeout=5, max=100`: a request written on it right after a stream ended
 *   (a queued one, under load) was never read. The driver now sends such a request again on a fresh
 *   connection, once, as curl does (test/engine/keepalive.test.ts reproduces it on loopback).
 * Skipped locally when the server is not built (the reason is printed); a failure under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import type { RunResult, SeriesReport } from '../../src/core/report.js';
import { BYTE_TOKEN_BAN, MODEL_ALIAS, realServerAvailable, recordingProxy, startLlama, type Llama } from './llama-server.js';

const available = realServerAvailable();

let llama: Llama;
beforeAll(async () => {
  if (available) llama = await startLlama({ slots: 2 });
}, 90_000);
afterAll(async () => {
  await llama?.stop();
});

const body = (maxTokens: number, stream: boolean) => ({
  model: MODEL_ALIAS,
  messages: [{ role: 'user', content: 'Tell me about load tests.' }],
  max_tokens: maxTokens,
  logit_bias: BYTE_TOKEN_BAN,
  ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
});

function profile(o: { stream: boolean; maxTokens: number; phases: object[]; budgets?: object[]; url?: string }) {
  return {
    name: `real-llama-${o.stream ? 'stream' : 'plain'}`,
    target: { url: o.url ?? llama.chat, body: body(o.maxTokens, o.stream), timeout: '30s' },
    timings: { preset: 'llamacpp' },
    metrics: [{ url: llama.metrics, preset: 'llamacpp', interval: '250ms' }],
    phases: o.phases,
    budgets: o.budgets ?? [],
  };
}

/** A counter's increase over the whole run, summed over phases. */
function increase(r: RunResult, name: string): number {
  const rs = (r.serverMetrics ?? []).filter((m) => m.name === name);
  expect(rs.length).toBeGreaterThan(0);
  return rs.reduce((n, m) => n + (m.increase ?? 0), 0);
}

/** Σ of a stage over every response: mean × count of each series (HDR keeps 3 significant digits). */
function stageSum(r: RunResult, stage: string): number {
  return r.series.filter((s: SeriesReport) => s.stage === stage).reduce((n, s) => n + (s.mean ?? 0) * s.count, 0);
}

function seriesCount(r: RunResult, stage: string): number {
  return r.series.filter((s) => s.stage === stage).reduce((n, s) => n + s.count, 0);
}

/** No request failed; and, unless the server is overloaded on purpose, every scrape succeeded. */
function explained(r: RunResult, o: { scrapes: boolean } = { scrapes: true }): void {
  const kinds = r.phases.map((p) => p.errorKinds);
  expect(kinds.every((k) => Object.keys(k).length === 0), `errors: ${JSON.stringify(kinds)}\n${llama.log().slice(-3000)}`).toBe(true);
  if (o.scrapes) expect(r.scrapes?.every((s) => s.ok === s.attempts), JSON.stringify(r.scrapes)).toBe(true);
}

describe.skipIf(!available)('llama-server (real)', () => {
  for (const stream of [false, true]) {
    it(`happy: ${stream ? 'streamed' : 'plain'}: stages equal the responses' timings bodies; output tokens equal the tokens_predicted_total increase`, async () => {
      const proxy = await recordingProxy(llama.chat);
      let r: RunResult;
      try {
        r = await run(profile({ stream, maxTokens: 16, phases: [{ name: 'steady', duration: '3s', rate: 4 }], url: proxy.url }), {});
      } finally {
        await proxy.close();
      }
      explained(r);
      const n = r.totals.completed;
      expect(n).toBe(12);
      // the probe's response went through the proxy too
      const bodies = proxy.timings.slice(-n);
      expect(bodies).toHaveLength(n);
      for (const [stage, field] of [['prompt', 'prompt_ms'], ['predicted', 'predicted_ms'], ['per_token', 'predicted_per_token_ms']] as const) {
        expect(seriesCount(r, stage), stage).toBe(n);
        expect(r.series.filter((s) => s.stage === stage).every((s) => s.unmeasured === 0)).toBe(true);
        const values = bodies.map((t) => t[field]);
        const sum = values.reduce((a, b) => a + b, 0);
        // HDR histograms keep three significant digits; the maximum is kept exactly
        expect(Math.abs(stageSum(r, stage) / sum - 1), `${stage}: Σ ${stageSum(r, stage)} vs ${sum}`).toBeLessThan(0.002);
        expect(Math.max(...r.series.filter((s) => s.stage === stage).map((s) => s.max ?? 0))).toBeCloseTo(Math.max(...values), 3);
      }
      // tokens: every count from usage, and the same total as the server's own counter
      expect(r.totals.tokenSources).toEqual({ usage: n, events: 0, none: 0 });
      expect(r.totals.outputTokens).toBe(increase(r, 'llamacpp:tokens_predicted_total'));
      expect(r.tokenChecks).toEqual([expect.objectContaining({ metric: 'llamacpp:tokens_predicted_total', difference: 0, exact: true })]);
      expect(r.totals.outputTokensPerS).toBeGreaterThan(0);
      if (stream) {
        expect(seriesCount(r, 'ttft')).toBe(n);
        // one content event per generated token: n − 1 gaps per response
        expect(seriesCount(r, 'itl')).toBe((r.totals.outputTokens ?? 0) - n);
      }
    }, 60_000);
  }

  it('happy: a requests_deferred budget passes at light load', async () => {
    const r = await run(profile({ stream: false, maxTokens: 8, phases: [{ name: 'light', duration: '2s', rate: 2 }], budgets: [{ metric: 'llamacpp:requests_deferred', max: 0 }] }), {});
    explained(r);
    const v = r.budgets.find((b) => b.id.startsWith('llamacpp:requests_deferred'));
    expect(v?.status, v?.reason).toBe('pass');
    expect(r.verdict).toBe('pass');
  }, 60_000);

  // 256 tokens a request: at 64, a fast CPU (AMD EPYC, 2026-12-04) kept up with 40 req/s on 2 slots
  // (80 of 80 completed at 39.7/s, requests_deferred 1 at 2 of 10 scrapes, and in a CI run at none:
  // the run passed); at 256 the queue held 33 and the run stopped at 1.0 s
  it('sad: overloaded (2 slots, 40 req/s of 256 tokens), the requests_deferred budget fails and aborts the run early', async () => {
    const r = await run(
      profile({
        stream: true,
        maxTokens: 256,
        phases: [{ name: 'overload', duration: '10s', rate: 40 }],
        budgets: [{ metric: 'llamacpp:requests_deferred', max: 0, abortOnFail: true, window: '1s', after: '0s' }],
      }),
      {},
    );
    explained(r, { scrapes: false });
    expect(r.verdict).toBe('fail');
    expect(r.aborted?.id).toBe('llamacpp:requests_deferred max');
    expect(r.aborted?.reason).toMatch(/^aborted at \d+\.\ds: over the last 1s, max of llamacpp:requests_deferred was \d+ > 0 over \d+ scrapes in non-warmup phases$/);
    // stopped well before its 400 scheduled requests
    expect(r.totals.sent).toBeLessThan(200);
    const deferred = r.serverMetrics?.find((m) => m.name === 'llamacpp:requests_deferred');
    expect(deferred?.max).toBeGreaterThan(0);
  }, 120_000);
});
