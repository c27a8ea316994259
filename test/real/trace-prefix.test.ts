/**
 * Trace replay against llama-server's prefix cache: two mooncake traces with the same times and
 * lengths, one whose requests share their first 512-token block (two groups), one where no block is
 * shared, each replayed at a fresh server (one slot, prompt cache on). The server's own counters
 * say what the cache saw: Δ llamacpp:prompt_tokens_cached_total is large for the shared trace and
 * only the chat template's few leading tokens per request for the unshared one, and the prompt
 * tokens it processed (Δ prompt_tokens_total) drop by about as much. Skipped locally when the
 * server is not built; a failure under CI=true.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { BYTE_TOKEN_BAN, MODEL_ALIAS, metricValue, realServerAvailable, startLlama } from './llama-server.js';

const available = realServerAvailable();
const dir = mkdtempSync(join(tmpdir(), 'budgetgate-trace-real-'));
const N = 10;
// 2 blocks of 512 chars4 tokens each, ~700 tokens in all; the first shared by groups of 5 (shared) or not (unshared)
const lines = (shared: boolean): string =>
  Array.from({ length: N }, (_, i) => JSON.stringify({ timestamp: i * 400, input_length: 700 + 7 * i, output_length: 3, hash_ids: shared ? [1 + Math.floor(i / 5), 100 + i] : [1 + 2 * i, 2 + 2 * i] })).join('\n');
writeFileSync(join(dir, 'shared.jsonl'), lines(true));
writeFileSync(join(dir, 'unshared.jsonl'), lines(false));

async function replay(file: string): Promise<{ prompt: number; cached: number; errors: number }> {
  const llama = await startLlama({ slots: 1, ctx: 4096 });
  try {
    const before = { prompt: await metricValue(llama.metrics, 'llamacpp:prompt_tokens_total'), cached: await metricValue(llama.metrics, 'llamacpp:prompt_tokens_cached_total') };
    const r = await run(
      { name: 'prefix', target: { url: llama.chat, body: { model: MODEL_ALIAS, messages: [{ role: 'user', content: '' }], max_tokens: 1, cache_prompt: true, logit_bias: BYTE_TOKEN_BAN }, timeout: '60s' }, phases: [{ name: 'replay', trace: { file, format: 'mooncake', exactOutput: true } }] },
      { baseDir: dir },
    );
    return {
      prompt: (await metricValue(llama.metrics, 'llamacpp:prompt_tokens_total')) - before.prompt,
      cached: (await metricValue(llama.metrics, 'llamacpp:prompt_tokens_cached_total')) - before.cached,
      errors: r.totals.errors,
    };
  } finally {
    await llama.stop();
  }
}

describe.runIf(available)('trace replay at llama-server: the prefix cache sees the trace\'s sharing', () => {
  it('happy: shared leading blocks are cached, unshared ones are not', async () => {
    const shared = await replay('shared.jsonl');
    const unshared = await replay('unshared.jsonl');
    console.log(`prefix cache: shared Δprompt_tokens_total ${shared.prompt}, Δprompt_tokens_cached_total ${shared.cached}; unshared ${unshared.prompt}, ${unshared.cached}`);
    expect([shared.errors, unshared.errors]).toEqual([0, 0]);
    // 8 of 10 requests follow one of their group: each reuses at least its first block (512 chars4 tokens)
    expect(shared.cached).toBeGreaterThan(8 * 512);
    // no block shared: at most the chat template's leading tokens match the slot's previous prompt
    expect(unshared.cached).toBeLessThan(N * 32);
    // the same lengths: the prompts in all (processed + cached) agree to within the tokenizer's word-to-token noise
    expect(Math.abs(shared.prompt + shared.cached - (unshared.prompt + unshared.cached)) / (unshared.prompt + unshared.cached)).toBeLessThan(0.1);
  }, 180_000);
});
