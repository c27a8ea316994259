/**
 * What V8 compiles and throws away while one side of bench (b) runs: the same 1 s unmeasured run and
 * then two 10 s runs as bench (b) makes, with MARK lines between them, so the optimizations and
 * deoptimizations of each run can be counted from V8's own trace:
 *
 *   node --trace-opt --trace-deopt --import tsx bench/jit-probe.ts budgetgate > /tmp/jit.txt 2>&1
 *   node --trace-opt --trace-deopt --import tsx bench/jit-probe.ts autocannon > /tmp/jit-ac.txt 2>&1
 *
 * A function deoptimized again and again after the warm-up ("wrong map" on each new second's
 * object, 2026-12-07) is CPU the measured run pays for; each MARK line also gives the run's CPU
 * µs per request.
 */
import { bareAutocannon, budgetgateClosed } from './closed.js';
import { spawnSim } from './sim-child.js';
const tool = process.argv[2] ?? 'budgetgate';
const sim = await spawnSim({ workers: 2000, prefillBaseMs: 1, prefillMsPerToken: 0, decodeMsPerToken: 0, jitter: 0, fallbackOff: true });
const o = (d: number) => ({ url: sim.url, body: JSON.stringify({ model: 'sim', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }), connections: 50, durationMs: d, timeoutMs: 10_000, simPid: sim.pid });
const run = tool === 'autocannon' ? bareAutocannon : budgetgateClosed;
await run(o(1000));
console.log('MARK warm-up done');
const r1 = await run(o(10_000));
console.log('MARK run1 done', JSON.stringify(r1.cpuUsPerReq));
const r2 = await run(o(10_000));
console.log('MARK run2 done', JSON.stringify(r2.cpuUsPerReq));
await sim.stop();
