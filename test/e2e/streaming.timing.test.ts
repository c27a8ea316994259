/**
 * A streamed run against the simulated endpoint (in this process; the CLI is its own process): the
 * client-measured ttft, itl and tpot must match the server's token pacing within 1 ms at p50 (ttft within 1 ms of the server's first token).
 * Deterministic sim: no jitter, 2 ms per token, 32 tokens, fallback off, so
 *   itl = tpot = 2 ms, and ttft = the sim's measured time to its first token (Server-Timing trailer
 *   `first_token`: queue + prefill + one token interval, plus its own timers' overshoot).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SeriesReport } from '../../src/core/report.js';
import { startSim, type SimServer } from '../../src/sim/index.js';
import { readReport, runCli, tempDir, writeProfile } from './cli.js';

let sim: SimServer | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const p50 = (ss: SeriesReport[], stage: string): number => ss.filter((s) => s.stage === stage && s.phase === 'steady').map((s) => s.p50 ?? Number.NaN)[0] ?? Number.NaN;

describe('streaming', { retry: 2 }, () => {
  it('happy: ttft, itl and tpot match the sim\'s token pacing within 1 ms at p50 (ttft within 1 ms of the server\'s first token)', async () => {
    sim = await startSim({ workers: 64, jitter: 0, decodeMsPerToken: 2, fallbackOff: true, seed: 3 });
    const dir = tempDir();
    const profile = writeProfile(dir, {
      name: 'stream',
      target: { url: `${sim.url}/v1/chat/completions`, body: { model: 'sim', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 32, stream: true } },
      phases: [
        { name: 'warmup', duration: '1s', rate: 20, warmup: true },
        { name: 'steady', duration: '3s', rate: 40 },
      ],
      budgets: [{ stage: 'ttft', p50: '1s' }, { stage: 'itl', p50: '1s' }, { stage: 'tpot', p50: '1s' }],
    });
    const out = join(dir, 'out');
    const r = await runCli(['run', profile, '--out', out, '--quiet']);
    expect(r.stderr).not.toMatch(/internal error/);
    const { series, totals, lateness } = readReport(out);
    expect(totals.completed).toBe(totals.sent);
    const itl = p50(series, 'itl');
    const tpot = p50(series, 'tpot');
    const ttft = p50(series, 'ttft');
    // the sim's own measurement: arrival → first content token written (Server-Timing trailer)
    const server = p50(series, 'first_token');
    expect(Math.abs(itl - 2), `itl p50 ${itl}`).toBeLessThanOrEqual(1);
    expect(Math.abs(tpot - 2), `tpot p50 ${tpot}`).toBeLessThanOrEqual(1);
    const late = lateness.p50 ?? Number.NaN;
    console.log(`ttft p50 ${ttft} − send lateness p50 ${late} − server first_token p50 ${server} = ${(ttft - late - server).toFixed(3)} ms`);
    // client ttft − send lateness − the server's first_token = loopback + both sides' parsing. Measured
    // on a quiet 2-core machine: 0.59–0.77 ms, and 0.61–0.70 ms again after the sender changes of
    // issue 13 (the 1.02–1.21 ms once seen in CI came with other test files sharing the cores). 1 ms
    // bounds it; a timer or meter fault costs whole milliseconds.
    expect(Math.abs(ttft - late - server), `ttft p50 ${ttft} − lateness p50 ${late} vs the server's first_token p50 ${server}`).toBeLessThanOrEqual(1);
    // and the server's pacing itself: queue + prefill + one token interval, plus its timers' overshoot
    expect(server).toBeGreaterThanOrEqual(p50(series, 'queue') + p50(series, 'prefill') + 2 - 0.01);
    expect(series.find((s) => s.stage === 'tokens_per_s' && s.phase === 'steady')?.count).toBe(120);
    expect(r.stdout).toMatch(/tokens_per_s .* \d+(\.\d)?\/s/);
  });
});
