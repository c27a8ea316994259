/**
 * Multi-turn sessions against the real llama-server (random-weight model, 2 slots): every turn
 * after the first resends the conversation with the server's own reply, so the server's prompt
 * cache reuses it. Checked against the server's counters: Δ llamacpp:prompt_tokens_cached_total is
 * more than zero in a phase of 3-turn sessions and zero-ish for single-turn sessions of different
 * prompts, and no turn fails. Skipped locally when the server is not built; a failure under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import type { RunResult } from '../../src/core/report.js';
import { BYTE_TOKEN_BAN, MODEL_ALIAS, realServerAvailable, startLlama, type Llama } from './llama-server.js';

const available = realServerAvailable();

let llama: Llama;
beforeAll(async () => {
  if (available) llama = await startLlama({ slots: 2 });
}, 90_000);
afterAll(async () => {
  await llama?.stop();
});

function cached(r: RunResult, phase: string): number {
  return (r.serverMetrics ?? []).filter((m) => m.name === 'llamacpp:prompt_tokens_cached_total' && m.phase === phase).reduce((n, m) => n + (m.increase ?? 0), 0);
}

describe.runIf(available)('sessions against llama-server', () => {
  it('happy: later turns reuse the cached prefix of the conversation; every turn succeeds', async () => {
    const r = await run(
      {
        name: 'real-sessions',
        target: { url: llama.chat, body: { model: MODEL_ALIAS, messages: [{ role: 'system', content: 'Answer briefly.' }], max_tokens: 16, logit_bias: BYTE_TOKEN_BAN, stream: true, stream_options: { include_usage: true } }, timeout: '30s' },
        metrics: [{ url: llama.metrics, preset: 'llamacpp', interval: '250ms' }],
        phases: [
          { name: 'single', duration: '4s', rate: 1, sessions: { turns: 1, tokens: { mean: 96 } } },
          { name: 'gap', duration: '3s', rate: 0 },
          { name: 'multi', duration: '4s', rate: 1, sessions: { turns: 3, thinkTime: '200ms', tokens: { mean: 96 } } },
        ],
        budgets: [{ stage: 'ttft', max: '20s', turn: '2+' }],
      },
      {},
    );
    expect(r.totals.errors).toBe(0);
    expect(r.sessions?.find((s) => s.phase === 'multi')).toMatchObject({ started: 4, completed: 4, abandoned: 0 });
    expect((r.turns ?? []).filter((t) => t.phase === 'multi' && t.stage === 'ttft').map((t) => [t.turn, t.count])).toEqual([[1, 4], [2, 4], [3, 4]]);
    // turns 2 and 3 of 4 sessions: each reuses at least the previous turn's ~100-token prompt
    expect(cached(r, 'multi')).toBeGreaterThan(4 * 2 * 50);
    expect(cached(r, 'multi')).toBeGreaterThan(cached(r, 'single'));
  }, 120_000);
});
