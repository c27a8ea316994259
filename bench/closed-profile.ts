/**
 * One closed-model run of bench (b) (budgetgate's driver, concurrency 50) or (a) (bare autocannon)
 * against the sim in its own process, for profiling one side alone:
 *
 *   node --import tsx --cpu-prof bench/closed-profile.ts budgetgate 10s
 *   node --import tsx --cpu-prof bench/closed-profile.ts autocannon 10s
 *
 * Prints the CPU µs per completed request of this process over the run.
 */
import { parseDuration } from '../src/core/units.js';
import { bareAutocannon, budgetgateClosed } from './closed.js';
import { spawnSim } from './sim-child.js';

const tool = process.argv[2] ?? 'budgetgate';
const durationMs = parseDuration(process.argv[3] ?? '10s') ?? 10_000;
const sim = await spawnSim({ workers: 2000, prefillBaseMs: 1, prefillMsPerToken: 0, decodeMsPerToken: 0, jitter: 0, fallbackOff: true });
try {
  const o = { url: sim.url, body: JSON.stringify({ model: 'sim', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }), connections: 50, durationMs, timeoutMs: 10_000, simPid: sim.pid };
  const row = tool === 'autocannon' ? await bareAutocannon(o) : await budgetgateClosed(o);
  console.log(JSON.stringify(row));
} finally {
  await sim.stop();
}
