/**
 * engine/hooks.ts's runner on its own: instants fire on the clock it is given; a stop before an
 * instant skips the hook unless it is `always`; exec output keeps its tail.
 */
import { describe, expect, it } from 'vitest';
import { hookPlan } from '../../src/core/hooks.js';
import type { Hook, Phase } from '../../src/core/profile-types.js';
import { HookRunner } from '../../src/engine/hooks.js';

const node = process.execPath;
const exec = (code: string, o: Partial<Hook> = {}): Hook => ({ action: { kind: 'exec', argv: [node, '-e', code] }, timeoutMs: 5000, optional: false, always: false, ...o });
const phase = (name: string, durationMs: number, o: Partial<Phase> = {}): Phase => ({ name, durationMs, model: 'open', rate: 1, to: 1, concurrency: 0, concurrencyTo: 0, warmup: false, ...o });

describe('hookPlan', () => {
  it('happy: instants on the run clock, an onEnd before the next onStart at one instant', () => {
    const plan = hookPlan([phase('a', 1000, { onEnd: [exec('1')] }), phase('b', 2000, { onStart: [exec('2'), exec('3')], onEnd: [exec('4')] })]);
    expect(plan.map((i) => [i.id, i.atMs])).toEqual([['a.onEnd', 1000], ['b.onStart[0]', 1000], ['b.onStart[1]', 1000], ['b.onEnd', 3000]]);
  });
});

describe('HookRunner', () => {
  it('happy: a due hook runs and reports exit 0 and its output tail', async () => {
    const runner = new HookRunner(hookPlan([phase('a', 1000, { onStart: [exec('process.stdout.write("x".repeat(5000) + "END")')] })]), { targetUrl: 'http://127.0.0.1:1/', redact: (s) => s });
    const t0 = performance.now();
    runner.start(() => performance.now() - t0);
    const [r] = await runner.finish(false);
    expect(r).toMatchObject({ status: 'ok', exitCode: 0, scheduledMs: 0 });
    expect(r?.output.endsWith('END')).toBe(true);
    expect(r?.output.length).toBeLessThanOrEqual(2049);
  });

  it('sad: stopped before the instants: a plain hook is skipped, an `always` one runs at the stop', async () => {
    const runner = new HookRunner(hookPlan([phase('a', 60_000, { onEnd: [exec('process.exit(0)'), exec('process.exit(0)', { always: true })] })]), { targetUrl: 'http://127.0.0.1:1/', redact: (s) => s });
    const t0 = performance.now();
    runner.start(() => performance.now() - t0);
    const reports = await runner.finish(true);
    expect(reports.map((r) => r.status)).toEqual(['skipped', 'ok']);
    expect(reports[1]?.startedMs).toBeLessThan(60_000);
  });
});
